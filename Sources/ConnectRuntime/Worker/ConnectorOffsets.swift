import ConnectAPI
import Foundation
import Kafka
import Logging

/// One partition's offset as `GET /connectors/{name}/offsets` shows it: a source connector's own maps, or for a sink
/// `{"kafka_topic", "kafka_partition"}` → `{"kafka_offset"}` (KIP-875). A nil offset resets the partition.
public struct ConnectorOffset: Sendable, Equatable {
    public var partition: OffsetMap
    public var offset: OffsetMap?

    public init(partition: OffsetMap, offset: OffsetMap?) {
        self.partition = partition
        self.offset = offset
    }
}

extension Worker {
    static let sinkTopicKey = "kafka_topic"
    static let sinkPartitionKey = "kafka_partition"
    static let sinkOffsetKey = "kafka_offset"

    /// A connector's offsets: source offsets from the offset store, sink offsets committed by its consumer group.
    public func connectorOffsets(_ name: String, config: [String: String]) throws(ConnectError) -> [ConnectorOffset] {
        if try isSink(config) {
            let (group, admin, consumer) = try sinkClients(name, config)
            defer { consumer.close() }
            let partitions = try sinkPartitions(config, admin: admin)
            let committed: [KafkaTopicPartition: Int64]
            do { committed = try consumer.committed(partitions) } catch {
                throw ConnectError.connect("Failed to read the offsets of consumer group \(group)", cause: error)
            }
            return committed.filter { $0.value >= 0 }.sorted {
                ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition)
            }
            .map {
                ConnectorOffset(
                    partition: [
                        Self.sinkTopicKey: .string($0.key.topic), Self.sinkPartitionKey: .int32($0.key.partition),
                    ],
                    offset: [Self.sinkOffsetKey: .int64($0.value)])
            }
        }
        var out: [ConnectorOffset] = []
        for (k, v) in offsetStore.all() {
            guard let key = OffsetCodec.decodeKey(k), key.connector == name else { continue }
            out.append(ConnectorOffset(partition: key.partition, offset: OffsetCodec.decodeValue(v)))
        }
        return out.sorted {
            OffsetCodec.key(connector: name, partition: $0.partition).lexicographicallyPrecedes(
                OffsetCodec.key(connector: name, partition: $1.partition))
        }
    }

    /// Alters (or, with `reset`, removes) a STOPPED connector's offsets. Returns whether the connector said the
    /// framework's change is the whole change (the success message depends on it).
    public func alterConnectorOffsets(
        _ name: String, config: [String: String], offsets: [ConnectorOffset]?
    ) throws(ConnectError) -> Bool {
        let sink = try isSink(config)
        let given: [ConnectorOffset]
        if let offsets {
            given = offsets
        } else {
            given = try connectorOffsets(name, config: config).map {
                ConnectorOffset(partition: $0.partition, offset: nil)
            }
        }
        let offsets = given
        if sink { try Self.validateSinkOffsets(offsets) }
        let (_, connector) = try plugins.newConnector(config["connector.class"] ?? "")
        let complete: Bool
        do {
            complete = try connector.alterOffsets(config, offsets.map { ($0.partition, $0.offset) })
        } catch {
            throw ConnectError(
                .badRequest,
                "Failed to alter offsets for connector \(name) because it threw an exception: \(ConnectError.wrap(error).message)"
            )
        }
        if sink {
            try alterSinkOffsets(name, config, offsets)
        } else {
            var values: [[UInt8]: [UInt8]?] = [:]
            for o in offsets {
                values[OffsetCodec.key(connector: name, partition: o.partition)] = OffsetCodec.value(o.offset)
            }
            try offsetStore.set(values)
        }
        return complete
    }

    private func isSink(_ config: [String: String]) throws(ConnectError) -> Bool {
        guard let desc = plugins.find(config["connector.class"] ?? "", types: [.source, .sink]) else {
            throw plugins.connectorNotFound(config["connector.class"] ?? "")
        }
        return desc.type == .sink
    }

    /// Checks sink partitions and offsets with Connect's messages (`SinkUtils`).
    static func validateSinkOffsets(_ offsets: [ConnectorOffset]) throws(ConnectError) {
        for o in offsets {
            guard let topic = o.partition[sinkTopicKey], let partition = o.partition[sinkPartitionKey] else {
                throw ConnectError(
                    .badRequest,
                    "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'"
                )
            }
            guard case .string = topic else {
                throw ConnectError(
                    .badRequest, "Kafka topic names must be valid strings, but found '\(ValueFormatter.string(topic))'")
            }
            guard sinkInteger(partition) != nil else {
                throw ConnectError(
                    .badRequest,
                    "Failed to parse the following Kafka partition value in the provided offsets: '\(ValueFormatter.string(partition))'. Partition values for sink connectors need to be integers."
                )
            }
            guard let offset = o.offset else { continue }
            guard let value = offset[sinkOffsetKey] else {
                throw ConnectError(
                    .badRequest,
                    "The offset for a sink connector should either be null or contain the key 'kafka_offset'")
            }
            guard let n = sinkInteger(value), n >= 0 else {
                throw ConnectError(
                    .badRequest,
                    "Failed to parse the following Kafka offset value in the provided offsets: '\(ValueFormatter.string(value))'. Offset values for sink connectors need to be integers."
                )
            }
        }
    }

    /// A number, or a numeric string, as Connect accepts for sink partitions and offsets.
    static func sinkInteger(_ v: Value) -> Int64? {
        if let n = v.int64Value { return n }
        if case .string(let s) = v { return Int64(s.trimmingSpaces) }
        return nil
    }

    private func sinkClients(
        _ name: String, _ config: [String: String]
    ) throws(ConnectError) -> (String, KafkaAdmin, KafkaConsumer) {
        var (props, _) = try consumerConfig(ConnectorTaskId(name, 0), config)
        let group = props["group.id"] ?? "connect-\(name)"
        props["client.id"] = "connector-offsets-\(name)"
        props["statistics.interval.ms"] = "0"
        do {
            let admin = try KafkaAdmin(
                config: KafkaClientConfig(self.config.adminClientProperties),
                logger: Logger(label: "org.apache.kafka.clients.admin"))
            let consumer = try KafkaConsumer(config: props, logger: Logger(label: "org.apache.kafka.clients.consumer"))
            return (group, admin, consumer)
        } catch {
            throw ConnectError.connect("Could not create the clients for the offsets of \(name)", cause: error)
        }
    }

    /// The partitions of the sink's topics (`topics`, or those matching `topics.regex`).
    private func sinkPartitions(
        _ config: [String: String], admin: KafkaAdmin
    ) throws(ConnectError) -> [KafkaTopicPartition] {
        let p = try ConnectorConfig.parse(config, keysStartingWith: "topics", isSink: true)
        let regex = (p.string("topics.regex") ?? "").trimmingSpaces
        let named = ConnectorConfig.list("topics", in: p)
        let topics: [KafkaTopicDescription]
        do {
            topics = try regex.isEmpty ? admin.describeTopics(named) : admin.describeTopics(nil)
        } catch {
            throw ConnectError.connect("Could not describe the topics of the connector", cause: error)
        }
        let pattern = regex.isEmpty ? nil : try? NSRegularExpression(pattern: "^(?:" + regex + ")$")
        return topics.filter { t in
            guard let pattern else { return true }
            return pattern.firstMatch(in: t.name, range: NSRange(t.name.startIndex..., in: t.name)) != nil
        }.flatMap { t in (0..<t.partitions).map { KafkaTopicPartition(t.name, Int32($0)) } }
    }

    /// Commits the new offsets for the sink's group. A reset commits the partition's log start offset, where a sink
    /// with no offset starts anyway (`auto.offset.reset=earliest`): deleting group offsets needs the OffsetDelete
    /// API, which not every broker has, and librdkafka aborts the process when the broker lacks it.
    private func alterSinkOffsets(
        _ name: String, _ config: [String: String], _ offsets: [ConnectorOffset]
    ) throws(ConnectError) {
        let (group, _, consumer) = try sinkClients(name, config)
        defer { consumer.close() }
        var commits: [KafkaTopicPartition: Int64] = [:]
        var resets: [KafkaTopicPartition] = []
        for o in offsets {
            guard case .string(let topic)? = o.partition[Self.sinkTopicKey],
                let p = o.partition[Self.sinkPartitionKey].flatMap(Self.sinkInteger)
            else { continue }
            let tp = KafkaTopicPartition(topic, Int32(truncatingIfNeeded: p))
            if let offset = o.offset?[Self.sinkOffsetKey].flatMap(Self.sinkInteger) {
                commits[tp] = offset
            } else {
                resets.append(tp)
            }
        }
        do {
            for tp in resets { commits[tp] = try consumer.queryWatermarks(tp).low }
            try consumer.commit(commits)
        } catch {
            throw ConnectError.connect("Failed to alter the offsets of consumer group \(group)", cause: error)
        }
    }
}
