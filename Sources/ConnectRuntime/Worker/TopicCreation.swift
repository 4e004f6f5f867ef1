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

    /// Nil when topic creation is off for this connector (worker setting, or no `topic.creation.*` key); throws
    /// for a group without its required settings, naming the key.
    init?(connectorConfig: [String: String], workerEnabled: Bool) throws(ConnectError) {
        guard workerEnabled,
            connectorConfig.keys.contains(where: { $0.hasPrefix(Self.prefix) && $0 != "topic.creation.groups" })
        else { return nil }
        let names = (connectorConfig["topic.creation.groups"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "default" }
        var groups: [Group] = []
        for name in names + ["default"] {
            groups.append(try Self.group(name, connectorConfig, isDefault: name == "default"))
        }
        // `default` inherits nothing; the named groups take `default`'s factor and partitions when they set none.
        let defaults = groups.removeLast()
        self.groups =
            groups.map { g in
                var g = g
                if g.replicationFactor == 0 { g.replicationFactor = defaults.replicationFactor }
                if g.partitions == 0 { g.partitions = defaults.partitions }
                return g
            } + [defaults]
    }

    private static func group(_ name: String, _ props: [String: String], isDefault: Bool) throws(ConnectError) -> Group
    {
        let p = prefix + name + "."
        func number(_ key: String) throws(ConnectError) -> Int32 {
            guard let raw = props[p + key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
                if isDefault {
                    throw ConnectError.config(
                        "Missing required configuration \"\(p + key)\" which has no default value.")
                }
                return 0
            }
            guard let v = Int32(raw), v == -1 || v >= 1 else {
                throw ConnectError.invalidConfig(
                    p + key, raw,
                    "Number of \(key == "partitions" ? "partitions" : "replicas") must be positive, or -1 to use the broker's default"
                )
            }
            return v
        }
        func regexes(_ key: String, _ fallback: String) throws(ConnectError) -> [JavaRegex] {
            var out: [JavaRegex] = []
            for pattern in (props[p + key] ?? fallback).split(separator: ",") {
                let t = pattern.trimmingCharacters(in: .whitespaces)
                guard !t.isEmpty else { continue }
                do { out.append(try JavaRegex(t)) } catch {
                    throw ConnectError.invalidConfig(p + key, t, error.message)
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
            name: name, include: try regexes("include", isDefault ? ".*" : ""), exclude: try regexes("exclude", ""),
            replicationFactor: try number("replication.factor"), partitions: try number("partitions"), configs: configs)
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

    /// `makeAdmin` gives an admin client when a topic is not known yet; it is closed again once the topic is found
    /// or created, so a task whose topics are all known holds none.
    init(creation: TopicCreation, makeAdmin: @escaping () throws -> KafkaAdmin, logger: Logger) {
        self.creation = creation
        self.makeAdmin = makeAdmin
        self.logger = logger
    }

    /// Makes sure `topic` exists before a record is sent to it; throws when it can be neither found nor created.
    func ensure(_ topic: String) throws {
        guard !known.contains(topic) else { return }
        let g = creation.group(for: topic)
        do {
            let admin = try makeAdmin()
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
            throw ConnectError.connect(
                "Unable to create topic '\(topic)' (creation group \(g.name): replication factor \(g.replicationFactor), partitions \(g.partitions))",
                cause: ConnectError.wrap(error))
        }
        known.insert(topic)
    }
}
