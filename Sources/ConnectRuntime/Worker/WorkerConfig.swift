import ConnectAPI
import Kafka

#if canImport(Glibc)
    import Glibc
#endif

/// The worker's configuration: keys from a properties file, overridden by `CONNECT_*` environment variables
/// (`CONNECT_BOOTSTRAP_SERVERS` → `bootstrap.servers`, as the cp-kafka-connect image does).
public struct WorkerConfig: Sendable {
    public let originals: [String: String]

    public static let configDef = ConfigDef()
        .define(
            "bootstrap.servers", .list, default: "localhost:9092", importance: .high,
            documentation:
                "A list of host/port pairs to use for establishing the initial connection to the Kafka cluster."
        )
        .define(
            "client.dns.lookup", .string, default: "use_all_dns_ips", importance: .medium,
            documentation: "Controls how the client uses DNS lookups."
        )
        .define(
            "key.converter", .class, default: .required, importance: .high,
            documentation:
                "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."
        )
        .define(
            "value.converter", .class, default: .required, importance: .high,
            documentation:
                "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."
        )
        .define(
            "header.converter", .class, default: "org.apache.kafka.connect.storage.SimpleHeaderConverter",
            importance: .low,
            documentation:
                "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."
        )
        .define(
            "task.shutdown.graceful.timeout.ms", .long, default: 5000, importance: .low,
            documentation:
                "Amount of time to wait for tasks to shutdown gracefully. This is the total amount of time, not per task."
        )
        .define(
            "offset.flush.interval.ms", .long, default: 60000, importance: .low,
            documentation: "Interval at which to try committing offsets for tasks."
        )
        .define(
            "offset.flush.timeout.ms", .long, default: 5000, importance: .low,
            documentation:
                "Maximum number of milliseconds to wait for records to flush and partition offset data to be committed to offset storage before cancelling the process and restoring the offset data to be committed in a future attempt."
        )
        .define(
            "plugin.path", .list, default: .none, importance: .low,
            documentation:
                "List of paths separated by commas (,) that contain plugins. Plug-ins of this worker are built in; the key is accepted for compatibility."
        )
        .define(
            "listeners", .list, default: "http://:8083", importance: .low,
            documentation: "List of comma-separated URIs the REST API will listen on."
        )
        .define(
            "rest.advertised.host.name", .string, default: .none, importance: .low,
            documentation: "If this is set, this is the hostname that will be given out to other workers to connect to."
        )
        .define(
            "rest.advertised.port", .int, default: .none, importance: .low,
            documentation: "If this is set, this is the port that will be given out to other workers to connect to."
        )
        .define(
            "rest.advertised.listener", .string, default: .none, importance: .low,
            documentation: "Sets the advertised listener (HTTP or HTTPS) which will be given to other workers to use."
        )
        .define(
            "admin.listeners", .list, default: .none, importance: .low,
            documentation:
                "List of comma-separated URIs the Admin REST API (/admin/loggers) listens on. If unset, the admin endpoints are on the REST listeners; if set to an empty string, they are disabled."
        )
        .define(
            "access.control.allow.origin", .string, default: "", importance: .low,
            documentation:
                "Value to set the Access-Control-Allow-Origin header to for REST API requests. To enable cross origin access, set this to the domain of the application that should be permitted to access the API, or '*' to allow access from any domain. The default value only allows access from the domain of the REST API."
        )
        .define(
            "access.control.allow.methods", .string, default: "", importance: .low,
            documentation:
                "Sets the methods supported for cross origin requests by setting the Access-Control-Allow-Methods header. The default value of the Access-Control-Allow-Methods header allows cross origin requests for GET, POST and HEAD."
        )
        .define(
            "rest.extension.classes", .list, default: "", importance: .low,
            documentation:
                "Comma-separated names of ConnectRestExtension classes. org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension turns on HTTP Basic authentication against rest.basic.auth.credentials.file."
        )
        .define(
            "rest.basic.auth.credentials.file", .string, default: "", importance: .low,
            documentation:
                "Extension: a properties file of user=password lines that HTTP Basic authentication checks (the role of Connect's PropertyFileLoginModule file)."
        )
        .define(
            "rest.connection.idle.timeout.ms", .long, default: 30000, validator: .atLeast(1000), importance: .low,
            documentation:
                "Extension: a REST connection idle this long is closed, so a slow client cannot hold a server thread."
        )
        .define(
            "rest.max.request.body.bytes", .int, default: 16_777_216, validator: .atLeast(1), importance: .low,
            documentation: "Largest REST request body accepted; larger bodies get 413."
        )
        .define(
            "offset.storage.file.filename", .string, default: "", importance: .high,
            documentation: "File to store source connector offsets (standalone mode)."
        )
        .define(
            "topic.tracking.enable", .boolean, default: true, importance: .low,
            documentation:
                "Enable tracking the set of active topics per connector during runtime."
        )
        .define(
            "topic.tracking.allow.reset", .boolean, default: true, importance: .low,
            documentation: "If set to true, it allows user requests to reset the set of active topics per connector."
        )
        .define(
            "topic.creation.enable", .boolean, default: true, importance: .low,
            documentation: "Whether to allow automatic creation of topics used by source connectors."
        )
        .define(
            "metrics.sample.window.ms", .long, default: 30000, validator: .atLeast(1), importance: .low,
            documentation: "The window of time a metrics sample is computed over."
        )
        .define(
            "metrics.num.samples", .int, default: 2, validator: .atLeast(1), importance: .low,
            documentation: "The number of samples maintained to compute metrics."
        )
        .define(
            "metrics.recording.enabled", .boolean, default: true, importance: .low,
            documentation:
                "Whether sensors record (extension). Off, windowed and cumulative metrics stay at their initial values; for measuring the cost of recording."
        )
        .define(
            "metrics.push.url", .string, default: "", importance: .low,
            documentation:
                "Extension: a Prometheus Pushgateway (http://host:9091) the worker pushes its metrics to every metrics.push.interval.ms; its group is deleted on a clean shutdown."
        )
        .define(
            "metrics.push.interval.ms", .long, default: 30000, validator: .atLeast(100), importance: .low,
            documentation: "Extension: how often metrics are pushed (doubling while pushes fail)."
        )
        .define(
            "metrics.push.job", .string, default: "kafka-connect", importance: .low,
            documentation: "Extension: the Pushgateway job name."
        )
        .define(
            "metrics.push.grouping.labels", .list, default: "", importance: .low,
            documentation:
                "Extension: grouping labels after the job, as label=value pairs (default: instance=<worker id>)."
        )
        .define(
            "metrics.push.families", .list, default: "default", importance: .low,
            documentation:
                "Extension: what to push: 'default' (lag, errors, dead letter queue, status), 'all', or metric family name prefixes."
        )
        .define(
            "metrics.push.username", .string, default: "", importance: .low,
            documentation: "Extension: user for HTTP Basic authentication to the Pushgateway."
        )
        .define(
            "metrics.push.password", .password, default: "", importance: .low,
            documentation: "Extension: password for HTTP Basic authentication to the Pushgateway."
        )
        .define(
            "metrics.reporter.topic", .string, default: "", importance: .low,
            documentation:
                "Extension: a Kafka topic the worker writes its metrics document (every metrics.reporter.interval.ms) and lifecycle events to, as CloudEvents in JSON; created when missing."
        )
        .define(
            "metrics.reporter.interval.ms", .long, default: 30000, validator: .atLeast(100), importance: .low,
            documentation: "Extension: how often the metrics document is written to metrics.reporter.topic."
        )
        .define(
            "metrics.reporter.topic.replication.factor", .short, default: -1, importance: .low,
            documentation:
                "Extension: the replication factor of metrics.reporter.topic when the worker creates it (-1: the broker's default)."
        )
        .define(
            "metrics.listeners", .list, default: .none, importance: .low,
            documentation:
                "Extra listeners (http://host:port) that serve only GET /metrics, besides the REST listeners."
        )
        .define(
            "startup.broker.timeout.ms", .long, default: 30000, validator: .atLeast(1), importance: .low,
            documentation: "How long the worker waits at start-up for the Kafka cluster to answer before it gives up."
        )
        .define(
            "log.level", .string, default: "INFO",
            validator: .oneOf(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"], caseInsensitive: true),
            importance: .low, documentation: "Level of the worker's log.")

    /// The typed values, each key parsed once through `configDef`.
    public let bootstrapServers: String
    public let offsetFlushInterval: Duration
    public let offsetFlushTimeout: Duration
    /// `task.shutdown.graceful.timeout.ms`: how long stopping tasks may take in total before they are cancelled.
    public let taskShutdownGracefulTimeout: Duration
    public let topicTrackingEnabled: Bool
    public let topicTrackingResetAllowed: Bool
    public let topicCreationEnabled: Bool
    /// `offset.storage.file.filename`; nil when unset or empty.
    public let offsetFile: String?
    /// `header.converter` as given (class name or alias).
    public let headerConverter: String
    public let logLevel: String
    public let startupBrokerTimeout: Duration
    public let rest: Rest
    public let metrics: Metrics

    /// The REST server's keys.
    public struct Rest: Sendable {
        public let listeners: [String]
        /// `admin.listeners`: nil when unset (admin endpoints on the REST listeners), empty when switched off.
        public let adminListeners: [String]?
        public let metricsListeners: [String]
        public let advertisedHostName: String?
        public let advertisedPort: Int?
        /// `rest.advertised.listener`: `http` or `https`, when set.
        public let advertisedListener: String?
        public let maxRequestBodyBytes: Int
        public let idleTimeout: Duration
        public let extensionClasses: [String]
        /// `rest.basic.auth.credentials.file`, empty when unset.
        public let basicAuthCredentialsFile: String
        public let allowOrigin: String
        public let allowMethods: String

        /// The idle timeout in whole seconds, as the HTTP server takes it.
        public var idleTimeoutSeconds: Int { Int(idleTimeout.components.seconds) }
    }

    /// The metrics keys: windows, recording, and the push and topic reporters (nil when their URL or topic is unset).
    public struct Metrics: Sendable {
        public let sampleWindow: Duration
        public let numSamples: Int
        public let recordingEnabled: Bool
        public let push: Push?
        public let reporter: Reporter?

        public struct Push: Sendable {
            public let url: String
            public let interval: Duration
            public let job: String
            /// `label=value` pairs as given; empty for the default grouping.
            public let groupingLabels: [String]
            public let families: [String]
            public let username: String?
            public let password: String?
        }

        public struct Reporter: Sendable {
            public let topic: String
            public let interval: Duration
            public let replicationFactor: Int16
        }
    }

    public init(_ props: [String: String]) throws(ConnectError) {
        originals = props
        let p = try Self.configDef.parse(props)
        func ms(_ key: String) -> Duration { .milliseconds(p.int(key) ?? 0) }
        func nonEmpty(_ key: String) -> String? { p.string(key).flatMap { $0.trimmingSpaces.isEmpty ? nil : $0 } }
        bootstrapServers = p.list("bootstrap.servers").joined(separator: ",")
        offsetFlushInterval = ms("offset.flush.interval.ms")
        offsetFlushTimeout = ms("offset.flush.timeout.ms")
        taskShutdownGracefulTimeout = ms("task.shutdown.graceful.timeout.ms")
        topicTrackingEnabled = p.bool("topic.tracking.enable") ?? true
        topicTrackingResetAllowed = p.bool("topic.tracking.allow.reset") ?? true
        topicCreationEnabled = p.bool("topic.creation.enable") ?? true
        offsetFile = nonEmpty("offset.storage.file.filename")
        headerConverter = p.string("header.converter") ?? ""
        logLevel = p.string("log.level") ?? "INFO"
        startupBrokerTimeout = ms("startup.broker.timeout.ms")
        rest = Rest(
            listeners: p.list("listeners"),
            adminListeners: props["admin.listeners"].map { _ in p.list("admin.listeners") },
            metricsListeners: p.list("metrics.listeners"),
            advertisedHostName: nonEmpty("rest.advertised.host.name"),
            advertisedPort: p.int("rest.advertised.port").map(Int.init),
            advertisedListener: nonEmpty("rest.advertised.listener")?.lowercased(),
            maxRequestBodyBytes: Int(p.int("rest.max.request.body.bytes") ?? 0),
            idleTimeout: ms("rest.connection.idle.timeout.ms"),
            extensionClasses: p.list("rest.extension.classes"),
            basicAuthCredentialsFile: p.string("rest.basic.auth.credentials.file") ?? "",
            allowOrigin: p.string("access.control.allow.origin") ?? "",
            allowMethods: p.string("access.control.allow.methods") ?? "")
        metrics = Metrics(
            sampleWindow: ms("metrics.sample.window.ms"), numSamples: Int(p.int("metrics.num.samples") ?? 2),
            recordingEnabled: p.bool("metrics.recording.enabled") ?? true,
            push: nonEmpty("metrics.push.url").map { url in
                Metrics.Push(
                    url: url.trimmingSpaces, interval: ms("metrics.push.interval.ms"),
                    job: p.string("metrics.push.job") ?? "kafka-connect",
                    groupingLabels: p.list("metrics.push.grouping.labels"), families: p.list("metrics.push.families"),
                    username: nonEmpty("metrics.push.username"), password: p.string("metrics.push.password"))
            },
            reporter: nonEmpty("metrics.reporter.topic").map { topic in
                Metrics.Reporter(
                    topic: topic.trimmingSpaces, interval: ms("metrics.reporter.interval.ms"),
                    replicationFactor: Int16(p.int("metrics.reporter.topic.replication.factor") ?? -1))
            })
    }

    /// Reads a properties file and applies `CONNECT_*` environment overrides.
    public static func load(file: String?, environment: [String: String]) throws(ConnectError) -> WorkerConfig {
        var props: [String: String] = [:]
        if let file {
            props = try PropertiesParser.parse(try readText(file), source: file)
        }
        for (k, v) in environmentOverrides(environment) { props[k] = v }
        return try WorkerConfig(props)
    }

    /// `CONNECT_BOOTSTRAP_SERVERS` → `bootstrap.servers`, with the Confluent images' mapping: lower case, `_` → `.`,
    /// `__` → `-`, `___` → `_` (`CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR`, `CONNECT_SSL_KEY___PASSWORD`-style names).
    public static func environmentOverrides(_ environment: [String: String]) -> [String: String] {
        var out: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("CONNECT_") && name.count > "CONNECT_".count {
            var key = String(name.dropFirst("CONNECT_".count)).lowercased()
            key = key.replacing("___", with: "\u{1}").replacing("__", with: "-").replacing("_", with: ".").replacing(
                "\u{1}", with: "_")
            out[key] = value
        }
        return out
    }

    /// Client properties for task clients of one kind: `bootstrap.servers` plus the worker's `<prefix>` keys.
    /// The admin client's properties: the worker's `admin.*` keys, without Java-only client keys.
    public var adminClientProperties: [String: String] {
        clientProperties(prefix: "admin.").filter { !Worker.javaOnlyClientKeys.contains($0.key) }
    }

    /// A producer's properties before any task's own: Connect's defaults (`acks=all`, idempotence, ...) under the
    /// worker's `producer.*` keys.
    public var producerProperties: [String: String] {
        KafkaProducer.connectDefaults.merging(clientProperties(prefix: "producer.")) { _, new in new }
    }

    public func clientProperties(prefix: String) -> [String: String] {
        // `admin.listeners` and the like are the worker's own keys, not client properties.
        var props = originals.strippingPrefix(prefix).filter { Self.configDef.key(prefix + $0.key) == nil }
        props["bootstrap.servers"] = props["bootstrap.servers"] ?? bootstrapServers
        if let dns = originals["client.dns.lookup"] { props["client.dns.lookup"] = props["client.dns.lookup"] ?? dns }
        return props
    }
}

/// Reads a whole text file, with an error that names the file.
public func readText(_ path: String) throws(ConnectError) -> String {
    guard let f = fopen(path, "rb") else {
        throw ConnectError.config("Could not read file \(path): \(String(cString: strerror(errno)))")
    }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}
