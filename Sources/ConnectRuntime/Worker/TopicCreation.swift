import ConnectAPI
import ConnectTransforms
import Foundation
import Kafka
import Logging

/// Topic creation for source connectors (KIP-158, Connect's `TopicCreationConfig` and `TopicCreation`): with the
/// worker's `topic.creation.enable` (default true) and any `topic.creation.*` key in the connector's config, a topic a
/// source task writes to that does not exist is created before its first record, with the settings of the first group
/// of `topic.creation.groups` whose `include` matches the topic and whose `exclude` does not, else of `default`.
/// A group's `replication.factor` and `partitions` are -1 (the broker's default) or at least 1; its other keys are
/// topic configs (`cleanup.policy`, `retention.ms`, ...). `default` must set both.
struct TopicCreation: Sendable {
    struct Group: Sendable {
        var name: String
        var include: [JavaRegex]
        var exclude: [JavaRegex]
        var replicationFactor: Int32
        var partitions: Int32
        var configs: [String: String]

        func matches(_ topic: String) -> Bool {
            include.contains { $0.matches(topic) } && !exclude.contains { $0.matches(topic) }
        }
    }

    /// The groups in the order they are tried, `default` last.
    let groups: [Group]

    static let prefix = "topic.creation."

    /// Nil when topic creation is off for this connector (the worker's `topic.creation.enable`, or no
    /// `topic.creation.*` key, `topic.creation.groups` included, as Connect's `SourceConnectorConfig` decides);
    /// throws the first error `errors(_:)` finds.
    init?(connectorConfig: [String: String], workerEnabled: Bool) throws(ConnectError) {
        guard Self.isEnabled(connectorConfig, workerEnabled: workerEnabled) else { return nil }
        var errors: [(key: String, message: String)] = []
        let groups = Self.groups(connectorConfig, errors: &errors)
        if let first = errors.first { throw ConnectError.config(first.message) }
        self.groups = groups
    }

    /// Whether a connector with these keys, on a worker with this `topic.creation.enable`, creates its topics.
    static func isEnabled(_ connectorConfig: [String: String], workerEnabled: Bool) -> Bool {
        workerEnabled && connectorConfig.keys.contains { $0.hasPrefix(prefix) }
    }

    /// Every error in the `topic.creation.*` keys, each with its key, as Connect's validation lists them: duplicate
    /// group names, the default group's missing settings, bad numbers and regular expressions.
    /// Duplicate group names are refused whatever the worker says (`topic.creation.groups` is in Connect's
    /// `SourceConnectorConfig` definition with its own validator).
    static func errors(_ connectorConfig: [String: String], workerEnabled: Bool) -> [(key: String, message: String)] {
        var errors: [(key: String, message: String)] = []
        guard isEnabled(connectorConfig, workerEnabled: workerEnabled) else {
            if let duplicate = duplicateGroups(connectorConfig) { errors.append(duplicate) }
            return errors
        }
        _ = groups(connectorConfig, errors: &errors)
        return errors
    }

    private static func groupNames(_ props: [String: String]) -> [String] {
        (props["topic.creation.groups"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func duplicateGroups(_ props: [String: String]) -> (key: String, message: String)? {
        let raw = groupNames(props)
        guard Set(raw).count < raw.count else { return nil }
        return (
            "topic.creation.groups",
            "Invalid value [\(raw.joined(separator: ", "))] for configuration topic.creation.groups: Duplicate alias provided."
        )
    }

    /// The groups in the order they are tried, `default` last; the named groups take `default`'s factor and
    /// partitions when they set none.
    private static func groups(
        _ props: [String: String], errors: inout [(key: String, message: String)]
    ) -> [Group] {
        let raw = groupNames(props)
        if let duplicate = duplicateGroups(props) { errors.append(duplicate) }
        var names: [String] = []
        for name in raw where name != "default" && !names.contains(name) { names.append(name) }
        var groups = (names + ["default"]).map { group($0, props, isDefault: $0 == "default", errors: &errors) }
        let defaults = groups.removeLast()
        return groups.map { g in
            var g = g
            if g.replicationFactor == 0 { g.replicationFactor = defaults.replicationFactor }
            if g.partitions == 0 { g.partitions = defaults.partitions }
            return g
        } + [defaults]
    }

    private static func group(
        _ name: String, _ props: [String: String], isDefault: Bool, errors: inout [(key: String, message: String)]
    ) -> Group {
        let p = prefix + name + "."
        func number(_ key: String) -> Int32 {
            guard let raw = props[p + key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
                if isDefault {
                    errors.append(
                        (p + key, "Missing required configuration \"\(p + key)\" which has no default value."))
                }
                return 0
            }
            guard let v = Int32(raw), v == -1 || v >= 1 else {
                errors.append(
                    (
                        p + key,
                        "Invalid value \(raw) for configuration \(p + key): Number of \(key == "partitions" ? "partitions" : "replicas") must be positive, or -1 to use the broker's default"
                    ))
                return 0
            }
            return v
        }
        func regexes(_ key: String, _ fallback: String) -> [JavaRegex] {
            var out: [JavaRegex] = []
            for pattern in (props[p + key] ?? fallback).split(separator: ",") {
                let t = pattern.trimmingCharacters(in: .whitespaces)
                guard !t.isEmpty else { continue }
                do { out.append(try JavaRegex(t)) } catch {
                    errors.append((p + key, "Invalid value \(t) for configuration \(p + key): \(error.message)"))
                }
            }
            return out
        }
        var configs: [String: String] = [:]
        for (k, v) in props where k.hasPrefix(p) {
            let key = String(k.dropFirst(p.count))
            if !["include", "exclude", "replication.factor", "partitions"].contains(key) { configs[key] = v }
        }
        return Group(
            name: name, include: regexes("include", isDefault ? ".*" : ""), exclude: regexes("exclude", ""),
            replicationFactor: number("replication.factor"), partitions: number("partitions"), configs: configs)
    }

    /// The settings a new `topic` gets.
    func group(for topic: String) -> Group { groups.first { $0.matches(topic) } ?? groups.last! }
}

/// Creates the topics a source task writes to, once each, as `TopicCreation` says (`TopicAdmin.createOrFindTopics`).
final class SourceTopicCreator: @unchecked Sendable {
    private let creation: TopicCreation
    private let makeAdmin: () throws -> KafkaAdmin
    private let logger: Logger
    /// Topics found or created; the task thread's alone.
    private var known: Set<String> = []
    /// The admin client of a topic not found or created yet, kept across retries and closed once it is.
    private var admin: KafkaAdmin?

    /// `makeAdmin` gives an admin client when a topic is not known yet; it is closed again once the topic is found
    /// or created, so a task whose topics are all known holds none.
    init(creation: TopicCreation, makeAdmin: @escaping () throws -> KafkaAdmin, logger: Logger) {
        self.creation = creation
        self.makeAdmin = makeAdmin
        self.logger = logger
    }

    /// Makes sure `topic` exists before a record is sent to it; throws when it can be neither found nor created: a
    /// retriable `ConnectError` when the broker timed out or answered with a retriable error, else a ConnectException.
    func ensure(_ topic: String) throws {
        guard !known.contains(topic) else { return }
        let g = creation.group(for: topic)
        do {
            let admin = try self.admin ?? makeAdmin()
            self.admin = admin
            if try admin.describeTopics([topic]).isEmpty {
                let created = try admin.createTopics([
                    .init(
                        name: topic, partitions: g.partitions, replicationFactor: g.replicationFactor,
                        configs: g.configs)
                ])
                if created.contains(topic) {
                    logger.info(
                        "Created topic (name=\(topic), numPartitions=\(g.partitions), replicationFactor=\(g.replicationFactor), configs=\(g.configs)) using creation group \(g.name)"
                    )
                } else {
                    // Created meanwhile by someone else (another task, the broker's auto-creation).
                    logger.debug("Found existing topic '\(topic)'")
                }
            } else {
                logger.debug("Found existing topic '\(topic)'")
            }
        } catch {
            let message =
                "Unable to create topic '\(topic)' (creation group \(g.name): replication factor \(g.replicationFactor), partitions \(g.partitions))"
            // A broker that did not answer in time may answer the next try: Connect's `TopicAdmin` throws a
            // RetriableException then, and the task sends the rest of its batch again after a back-off.
            if let kafka = error as? KafkaError, kafka.isRetriable || kafka.kind == .timedOut {
                throw ConnectError(.retriable, message, cause: ConnectError.wrap(error))
            }
            admin = nil
            throw ConnectError.connect(message, cause: ConnectError.wrap(error))
        }
        known.insert(topic)
        admin = nil
    }
}
