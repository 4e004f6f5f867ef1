import ConnectAPI
import Kafka
import Logging
import Synchronization

/// Source offsets in a compacted Kafka topic (Connect's `KafkaOffsetBackingStore`, `offset.storage.topic`): keys and
/// values are the serialized JSON Connect writes (`["<connector>",{<partition>}]` → `{<offset>}`), byte for byte, so
/// Java and Swift workers find the same keys. Every worker reads the whole topic into memory; a write returns once
/// the broker acknowledged it and is visible to this worker at once.
public final class KafkaOffsetBackingStore: OffsetBackingStore {
    /// What the topic holds, by key.
    private final class Data: Sendable {
        let map = Mutex<[[UInt8]: [UInt8]]>([:])
    }

    private let data = Data()
    private let log: KafkaBasedLog

    /// `clients`: the worker's client properties (`bootstrap.servers`, security); `clientId` names the clients
    /// (`<group.id>-offsets`).
    public init(topic: String, clients: [String: String], clientId: String, logger: Logger) throws(ConnectError) {
        var props = clients
        props["client.id"] = clientId
        let data = data
        log = try KafkaBasedLog(
            topic: topic, producerProperties: props, consumerProperties: props,
            consumed: { m in
                guard let key = m.key else { return }
                data.map.withLock { $0[key] = m.value }
            }, logger: logger)
    }

    /// Reads the topic to its end; the store answers only after this.
    public func start(timeout: Duration) throws(ConnectError) { try log.start(timeout: timeout) }
    public func stop() { log.stop() }

    public func get(_ keys: [[UInt8]]) -> [[UInt8]: [UInt8]] {
        data.map.withLock { d in
            var out: [[UInt8]: [UInt8]] = [:]
            for k in keys { if let v = d[k] { out[k] = v } }
            return out
        }
    }

    public func set(_ values: [[UInt8]: [UInt8]?]) throws(ConnectError) {
        try log.send(values.map { (key: $0.key, value: $0.value) })
        data.map.withLock { d in
            for (k, v) in values { d[k] = v }
        }
    }

    public func all() -> [[UInt8]: [UInt8]] { data.map.withLock { $0 } }
}
