import ConnectAPI
import ConnectTransforms
import Kafka

/// The framework's connector-level keys (`ConnectorConfig`, `SinkConnectorConfig`, `SourceConnectorConfig`).
public enum ConnectorConfig {
    public static let common = ConfigDef()
        .define(
            "name", .string, default: .required, validator: .nonEmptyStringWithoutControlChars, importance: .high,
            documentation: "Globally unique name to use for this connector.", group: "Common", orderInGroup: 1,
            width: .medium, displayName: "Connector name"
        )
        .define(
            "connector.class", .string, default: .required, importance: .high,
            documentation:
                "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name, or use \"FileStreamSink\" or \"FileStreamSinkConnector\" to make the configuration a bit shorter",
            group: "Common", orderInGroup: 2, width: .long, displayName: "Connector class"
        )
        .define(
            "tasks.max", .int, default: 1, validator: .atLeast(1), importance: .high,
            documentation: "Maximum number of tasks to use for this connector.", group: "Common", orderInGroup: 3,
            width: .short, displayName: "Tasks max"
        )
        .define(
            "tasks.max.enforce", .boolean, default: true, importance: .low,
            documentation: "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector.",
            group: "Common", orderInGroup: 4, width: .short, displayName: "Enforce tasks max"
        )
        .define(
            "key.converter", .class, default: .none, importance: .low,
            documentation:
                "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the keys in messages written to or read from Kafka.",
            group: "Common", orderInGroup: 5, width: .short, displayName: "Key converter class"
        )
        .define(
            "value.converter", .class, default: .none, importance: .low,
            documentation:
                "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the values in messages written to or read from Kafka.",
            group: "Common", orderInGroup: 6, width: .short, displayName: "Value converter class"
        )
        .define(
            "header.converter", .class, default: .none, importance: .low,
            documentation:
                "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.",
            group: "Common", orderInGroup: 7, width: .short, displayName: "Header converter class"
        )
        .define(
            "config.action.reload", .string, default: "restart",
            validator: .oneOf(["none", "restart"], caseInsensitive: true), importance: .low,
            documentation:
                "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties.",
            group: "Common", orderInGroup: 8, width: .medium, displayName: "Reload Action"
        )
        .define(
            "transforms", .list, default: "", importance: .low,
            documentation: "Aliases for the transformations to be applied to records.", group: "Transforms",
            orderInGroup: 1, width: .long, displayName: "Transforms"
        )
        .define(
            "predicates", .list, default: "", importance: .low,
            documentation: "Aliases for the predicates used by transformations.", group: "Predicates", orderInGroup: 1,
            width: .long, displayName: "Predicates"
        )
        .define(
            "errors.retry.timeout", .long, default: 0, importance: .medium,
            documentation:
                "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.",
            group: "Error Handling", orderInGroup: 1, width: .medium, displayName: "Retry Timeout for Errors"
        )
        .define(
            "errors.retry.delay.max.ms", .long, default: 60000, importance: .medium,
            documentation: "The maximum duration in milliseconds between consecutive retry attempts.",
            group: "Error Handling", orderInGroup: 2, width: .medium,
            displayName: "Maximum Delay Between Retries for Errors"
        )
        .define(
            "errors.tolerance", .string, default: "none", validator: .oneOf(["none", "all"]), importance: .medium,
            documentation:
                "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.",
            group: "Error Handling", orderInGroup: 3, width: .short, displayName: "Error Tolerance"
        )
        .define(
            "errors.log.enable", .boolean, default: false, importance: .medium,
            documentation:
                "If true, write each error and the details of the failed operation and problematic record to the Connect application log.",
            group: "Error Handling", orderInGroup: 4, width: .short, displayName: "Log Errors"
        )
        .define(
            "errors.log.include.messages", .boolean, default: false, importance: .medium,
            documentation: "Whether to include in the log the Connect record that resulted in a failure.",
            group: "Error Handling", orderInGroup: 5, width: .short, displayName: "Log Error Details"
        )
        .define(
            "errors.restart.policy", .string, default: "none", validator: .oneOf(["none", "exponential"]),
            importance: .low,
            documentation:
                "Extension: 'exponential' restarts a FAILED task after a backoff that doubles from errors.restart.backoff.initial.ms to errors.restart.backoff.max.ms, at most errors.restart.max.restarts times within errors.restart.window.ms; 'none' (the default) leaves failed tasks to the operator, as Connect does.",
            group: "Error Handling", orderInGroup: 10, width: .short, displayName: "Restart Policy"
        )
        .define(
            "errors.restart.backoff.initial.ms", .long, default: 1000, validator: .atLeast(0), importance: .low,
            documentation: "Extension: the wait before the first automatic restart of a failed task.",
            group: "Error Handling", orderInGroup: 11, width: .short, displayName: "Restart Initial Backoff"
        )
        .define(
            "errors.restart.backoff.max.ms", .long, default: 60000, validator: .atLeast(0), importance: .low,
            documentation: "Extension: the longest wait between automatic restarts.", group: "Error Handling",
            orderInGroup: 12, width: .short, displayName: "Restart Maximum Backoff"
        )
        .define(
            "errors.restart.max.restarts", .int, default: 5, validator: .atLeast(0), importance: .low,
            documentation:
                "Extension: how many automatic restarts errors.restart.window.ms may hold before the policy gives up.",
            group: "Error Handling", orderInGroup: 13, width: .short, displayName: "Restart Limit"
        )
        .define(
            "errors.restart.window.ms", .long, default: 600000, validator: .atLeast(1), importance: .low,
            documentation: "Extension: the window over which errors.restart.max.restarts counts.",
            group: "Error Handling", orderInGroup: 14, width: .short, displayName: "Restart Window")

    public static let sink =
        common
        .define(
            "topics", .list, default: "", importance: .high,
            documentation: "List of topics to consume, separated by commas", group: "Common", orderInGroup: 4,
            width: .long, displayName: "Topics"
        )
        .define(
            "topics.regex", .string, default: "", validator: .regex, importance: .high,
            documentation: "Regular expression giving topics to consume.", group: "Common", orderInGroup: 4,
            width: .long, displayName: "Topics regex"
        )
        .defineDeadLetterQueue(
            importance: .medium,
            topicDoc:
                "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters."
        )

    public static let source =
        common
        .define(
            "errors.deadletterqueue.source.enable", .boolean, default: false, importance: .low,
            documentation:
                "Extension: if true, records that fail conversion or transformation in this source connector are written to errors.deadletterqueue.topic.name (key and value as schemaless JSON), with the same context headers as a sink's dead letter queue.",
            group: "Error Handling", orderInGroup: 9, width: .short, displayName: "Source Dead Letter Queue"
        )
        .defineDeadLetterQueue(
            importance: .low,
            topicDoc:
                "The dead letter queue topic for records this source connector could not convert or transform; used only with errors.deadletterqueue.source.enable=true."
        )
        .define(
            "topic.creation.groups", .list, default: "", importance: .low,
            documentation: "Groups of configurations for topics created by source connectors", group: "Topic Creation",
            orderInGroup: 1, width: .long, displayName: "Topic Creation Groups"
        )
        .define(
            "exactly.once.support", .string, default: "requested",
            validator: .oneOf(["requested", "required"], caseInsensitive: true), importance: .medium,
            documentation: "Permitted values are requested, required.", group: "Exactly Once Support", orderInGroup: 1,
            width: .short, displayName: "Exactly once support"
        )
        .define(
            "transaction.boundary", .string, default: "poll",
            validator: .oneOf(["poll", "interval", "connector"], caseInsensitive: true), importance: .medium,
            documentation: "Permitted values are: poll, interval, connector.", group: "Exactly Once Support",
            orderInGroup: 2, width: .short, displayName: "Transaction Boundary"
        )
        .define(
            "offsets.storage.topic", .string, default: .none, importance: .low,
            documentation: "The name of a separate offsets topic to use for this connector.", group: "Offsets",
            orderInGroup: 1, width: .long, displayName: "Offsets topic")

    public static func configDef(for type: PluginType) -> ConfigDef {
        type == .sink ? sink : source
    }

    /// The framework keys whose names start with `prefix`, parsed through the sink's or source's `ConfigDef` (the
    /// keys all connectors share when `isSink` is nil), where their types, defaults and validators are declared
    /// once. Throws Connect's `ConfigException` for a value that does not parse (a stored configuration was
    /// validated, so it parses).
    static func parse(
        _ props: [String: String], keysStartingWith prefix: String, isSink: Bool? = nil
    ) throws(ConnectError) -> ParsedConfig {
        let def = isSink.map { configDef(for: $0 ? .sink : .source) } ?? common
        return try def.keys(withPrefix: prefix).parse(props)
    }

    /// A list key's entries, blanks left out (`transforms=a, ,b`).
    static func list(_ key: String, in parsed: ParsedConfig) -> [String] { parsed.list(key).filter { !$0.isEmpty } }
}

/// One key's row in a validation result (`ConfigInfo`).
public struct ConfigInfo: Sendable {
    public var definition: ConfigKey?
    public var name: String
    public var value: String?
    public var errors: [String]
    public var visible = true
}

/// A whole validation result (`ConfigInfos`).
public struct ConfigInfos: Sendable {
    public var name: String
    public var groups: [String]
    public var configs: [ConfigInfo]

    public var errorCount: Int { configs.reduce(0) { $0 + $1.errors.count } }
    public var errorMessages: [String] { configs.flatMap(\.errors) }
}

/// Validates connector configurations the way Connect's `AbstractHerder.validateConnectorConfig` does: framework keys,
/// the plug-in's own keys, converters, and cross-key rules.
public struct ConnectorConfigValidator: Sendable {
    public let plugins: PluginRegistry
    /// The worker's `topic.creation.enable`: without it a source connector's `topic.creation.*` keys are not checked
    /// (nor used).
    public let topicCreationEnabled: Bool

    public init(plugins: PluginRegistry, topicCreationEnabled: Bool = true) {
        self.plugins = plugins
        self.topicCreationEnabled = topicCreationEnabled
    }

    /// Throws when there is no `connector.class` (400) or it names no known connector (500), as Connect does.
    public func validate(_ props: [String: String]) throws(ConnectError) -> ConfigInfos {
        guard let className = props["connector.class"] else {
            throw ConnectError(.badRequest, "Connector config \(Self.javaMapString(props)) contains no connector type")
        }
        let (desc, connector) = try plugins.newConnector(className)
        let framework = ConnectorConfig.configDef(for: desc.type)
        var infos: [ConfigInfo] = []
        var byName: [String: Int] = [:]
        func add(_ def: ConfigDef) {
            for r in def.validate(props) where byName[r.name] == nil {
                byName[r.name] = infos.count
                infos.append(
                    ConfigInfo(
                        definition: def.key(r.name), name: r.name,
                        value: r.value.map { def.key(r.name)?.type == .password ? "[hidden]" : $0 }, errors: r.errors))
            }
        }
        add(framework)
        add(desc.configDef)
        func addError(_ key: String, _ message: String) {
            if let i = byName[key] {
                infos[i].errors.append(message)
            } else {
                byName[key] = infos.count
                infos.append(ConfigInfo(definition: nil, name: key, value: props[key], errors: [message]))
            }
        }
        for (key, types) in [
            ("key.converter", PluginType.converter), ("value.converter", .converter),
            ("header.converter", .headerConverter),
        ] {
            if let cls = props[key], !cls.isEmpty, plugins.find(cls, types: [types]) == nil {
                addError(key, "Invalid value \(cls) for configuration \(key): Class \(cls) could not be found.")
            }
        }
        if desc.type == .sink {
            let topics = (props["topics"] ?? "").trimmingSpaces
            let regex = (props["topics.regex"] ?? "").trimmingSpaces
            if !topics.isEmpty && !regex.isEmpty {
                let m = "topics and topics.regex are mutually exclusive options, but both are set."
                addError("topics", m)
                addError("topics.regex", m)
            } else if topics.isEmpty && regex.isEmpty {
                let m = "Must configure one of topics or topics.regex"
                addError("topics", m)
                addError("topics.regex", m)
            }
            // SinkConnectorConfig.validate: the DLQ topic may not be one the connector consumes, reported under the
            // key that names it, the list as Java prints a List.
            let dlq = (props["errors.deadletterqueue.topic.name"] ?? "").trimmingSpaces
            let topicList = Self.list(props["topics"])
            if !dlq.isEmpty && !topics.isEmpty && topicList.contains(dlq) {
                addError(
                    "topics",
                    "The DLQ topic '\(dlq)' may not be included in the list of topics ('topics=[\(topicList.joined(separator: ", "))]') consumed by the connector"
                )
            }
            if !dlq.isEmpty && !regex.isEmpty, let pattern = try? JavaRegex(regex), pattern.matches(dlq) {
                addError(
                    "topics.regex",
                    "The DLQ topic '\(dlq)' may not be included in the regex matching the topics ('topics.regex=\(regex)') consumed by the connector"
                )
            }
        }
        if desc.type == .source {
            // KIP-158: on a worker that creates topics, a connector that sets topic.creation.* keys must give the
            // default group its settings; every error is listed under its key.
            for (key, message) in TopicCreation.errors(props, workerEnabled: topicCreationEnabled) {
                addError(key, message)
            }
        }
        let chain = Self.chainDefinitions(props, plugins: plugins)
        for def in chain.definitions { add(def) }
        for (key, message) in chain.errors { addError(key, message) }
        for (key, message) in Self.clientOverrideErrors(props) { addError(key, message) }
        for (key, messages) in connector.validate(props).sorted(by: { $0.key < $1.key }) {
            for m in messages { addError(key, m) }
        }
        var groups: [String] = []
        for i in infos { if let g = i.definition?.group, !groups.contains(g) { groups.append(g) } }
        return ConfigInfos(name: desc.className, groups: groups, configs: infos)
    }

    /// The keys each transform and predicate alias brings (`transforms.<a>.type`, its plug-in's own keys under the
    /// alias prefix, `predicate`, `negate`), and the chain errors: unknown types, undeclared predicates, `negate`
    /// without a predicate, duplicate aliases (as Connect's `ConnectorConfig.enrich`).
    static func chainDefinitions(
        _ props: [String: String], plugins: PluginRegistry
    ) -> (definitions: [ConfigDef], errors: [(String, String)]) {
        var definitions: [ConfigDef] = []
        var errors: [(String, String)] = []
        let predicates = list(props["predicates"])
        for (listKey, type) in [("transforms", PluginType.transformation), ("predicates", .predicate)] {
            let aliases = list(props[listKey])
            if Set(aliases).count != aliases.count {
                errors.append(
                    (
                        listKey,
                        "Invalid value \(props[listKey] ?? "") for configuration \(listKey): Duplicate alias provided."
                    ))
            }
            for alias in aliases {
                let prefix = "\(listKey).\(alias)."
                let group = type == .transformation ? "Transforms: \(alias)" : "Predicates: \(alias)"
                var base = ConfigDef().define(
                    "type", .class, default: .required, importance: .high,
                    documentation:
                        "Class for the '\(alias)' \(type == .transformation ? "transformation" : "predicate").")
                if type == .transformation {
                    base =
                        base
                        .define(
                            "predicate", .string, default: "", importance: .medium,
                            documentation:
                                "The alias of a predicate used to determine whether to apply this transformation."
                        )
                        .define(
                            "negate", .boolean, default: false, importance: .medium,
                            documentation: "Whether the configured predicate should be negated.")
                }
                definitions.append(base.embedded(prefix: prefix, group: group))
                if type == .transformation {
                    let predicate = (props[prefix + "predicate"] ?? "").trimmingSpaces
                    if !predicate.isEmpty && !predicates.contains(predicate) {
                        errors.append(
                            (
                                prefix + "predicate",
                                "Invalid value \(predicate) for configuration \(prefix)predicate: Predicate '\(predicate)' not found in predicates"
                            ))
                    }
                    if let negate = props[prefix + "negate"], predicate.isEmpty {
                        errors.append(
                            (
                                prefix + "negate",
                                "Invalid value \(negate) for configuration \(prefix)negate: 'negate' requires 'predicate' to be set"
                            ))
                    }
                }
                let typeKey = prefix + "type"
                guard let cls = props[typeKey]?.trimmingSpaces, !cls.isEmpty else { continue }
                guard let desc = plugins.find(cls, types: [type]) else {
                    errors.append(
                        (typeKey, "Invalid value \(cls) for configuration \(typeKey): Class \(cls) could not be found.")
                    )
                    continue
                }
                definitions.append(desc.configDef.embedded(prefix: prefix, group: group))
            }
        }
        return (definitions, errors)
    }

    /// Each `producer.override.*`, `consumer.override.*` and `admin.override.*` key must be one librdkafka knows.
    static func clientOverrideErrors(_ props: [String: String]) -> [(String, String)] {
        var errors: [(String, String)] = []
        for prefix in ["producer.override.", "consumer.override.", "admin.override."] {
            for (key, value) in props.strippingPrefix(prefix).sorted(by: { $0.key < $1.key })
            where !Worker.javaOnlyClientKeys.contains(key) {
                do {
                    try KafkaClientConfig([key: value]).validate()
                } catch {
                    errors.append(
                        (
                            prefix + key,
                            "Invalid value \(Redaction.displayValue(key: key, value: value)) for configuration \(prefix + key): \(error.message)"
                        ))
                }
            }
        }
        return errors
    }

    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
    }

    /// Connect's message for an invalid configuration on create or update.
    public static func invalidMessage(_ infos: ConfigInfos) -> String {
        var m = "Connector configuration is invalid and contains the following \(infos.errorCount) error(s):"
        for e in infos.errorMessages { m += "\n" + e }
        m +=
            "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
        return m
    }

    /// Java's `Map.toString()`: `{k1=v1, k2=v2}`.
    static func javaMapString(_ map: [String: String]) -> String {
        "{"
            + map.sorted { $0.key < $1.key }.map { "\($0.key)=\(Redaction.displayValue(key: $0.key, value: $0.value))" }
            .joined(separator: ", ") + "}"
    }
}

/// Keeps secrets out of output: values of keys that look like secrets are shown as `[hidden]`.
public enum Redaction {
    public static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return k.hasSuffix("password") || k.hasSuffix(".secret") || k.hasSuffix("secret")
            || k.hasSuffix("sasl.jaas.config")
            || k.hasSuffix(".key") && !k.hasSuffix("schema.key") || k.hasSuffix("api.key")
    }

    public static func displayValue(key: String, value: String) -> String {
        isSecret(key) ? "[hidden]" : value
    }
}

extension ConnectError.Kind {
    /// `BadRequestException`: a REST 400.
    public static let badRequest = ConnectError.Kind(
        className: "org.apache.kafka.connect.runtime.rest.errors.BadRequestException")
    /// A REST 403 (`ConnectRestException` with FORBIDDEN).
    public static let forbidden = ConnectError.Kind(
        className: "org.apache.kafka.connect.runtime.rest.errors.ConnectRestException", httpStatus: 403)
    /// A REST 503 (`ConnectRestException` with SERVICE_UNAVAILABLE).
    public static let serviceUnavailable = ConnectError.Kind(
        className: "org.apache.kafka.connect.runtime.rest.errors.ConnectRestException", httpStatus: 503)
    /// A REST 409 (`ConnectRestException` with CONFLICT).
    public static let conflict = ConnectError.Kind(
        className: "org.apache.kafka.connect.runtime.rest.errors.ConnectRestException", httpStatus: 409)
    /// The request must run on the leader (`NotLeaderException`); `requestTarget` is the leader's URL.
    public static let notLeader = ConnectError.Kind(
        className: "org.apache.kafka.connect.runtime.distributed.NotLeaderException")
    /// The request must run on the worker that runs the connector or task (`NotAssignedException`).
    public static let notAssigned = ConnectError.Kind(
        className: "org.apache.kafka.connect.runtime.distributed.NotAssignedException")
}

extension ConfigDef {
    /// The three dead letter queue keys (sink connectors; source connectors with the extension).
    func defineDeadLetterQueue(importance: ConfigImportance, topicDoc: String) -> ConfigDef {
        define(
            "errors.deadletterqueue.topic.name", .string, default: "", importance: importance,
            documentation: topicDoc,
            group: "Error Handling", orderInGroup: 6, width: .medium, displayName: "Dead Letter Queue Topic Name"
        )
        .define(
            "errors.deadletterqueue.topic.replication.factor", .short, default: 3, importance: importance,
            documentation:
                "Replication factor used to create the dead letter queue topic when it doesn't already exist.",
            group: "Error Handling", orderInGroup: 7, width: .medium,
            displayName: "Dead Letter Queue Topic Replication Factor"
        )
        .define(
            "errors.deadletterqueue.context.headers.enable", .boolean, default: false, importance: importance,
            documentation:
                "If true, add headers containing error context to the messages written to the dead letter queue.",
            group: "Error Handling", orderInGroup: 8, width: .medium, displayName: "Enable Error Context Headers")
    }
}
