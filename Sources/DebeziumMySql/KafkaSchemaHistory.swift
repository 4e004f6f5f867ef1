import ConnectAPI
import DebeziumCore
import Foundation
import JSON
import Kafka

/// The schema history (`io.debezium.storage.kafka.history.KafkaSchemaHistory`): one record per DDL statement the
/// connector read, on a one-partition topic with infinite retention, written with the connector's own producer
/// and read back from the start when the task starts, so table structures are known at the binlog position
/// streaming resumes from, not only as the server has them now.
///
/// Each record is Debezium's `HistoryRecord` JSON: `source` (`{"server": prefix}`), `position` (the offset after the
/// statement), `ts_ms`, `databaseName`, `ddl` and `tableChanges` (each table's structure after the statement). This
/// connector rebuilds structures from `tableChanges` (which Debezium's own records carry too), not by parsing DDL.
final class KafkaSchemaHistory {
    let topic: String
    private let client: [String: String]
    private let serverName: String
    private var producer: KafkaProducer?
    private var nextId: UInt64 = 0

    /// A history when `schema.history.internal.kafka.topic` and `.bootstrap.servers` are set; the
    /// `schema.history.internal.producer.*` and `.consumer.*` keys reach the clients (security settings).
    init?(props: [String: String], serverName: String) {
        guard let topic = props["schema.history.internal.kafka.topic"], !topic.isEmpty,
            let servers = props["schema.history.internal.kafka.bootstrap.servers"], !servers.isEmpty
        else { return nil }
        self.topic = topic
        self.serverName = serverName
        var client = ["bootstrap.servers": servers]
        for (k, v) in props where k.hasPrefix("schema.history.internal.producer.") {
            client[String(k.dropFirst("schema.history.internal.producer.".count))] = v
        }
        self.client = client
    }

    private func consumerProperties() -> [String: String] {
        var c = client
        c["group.id"] = "\(serverName)-schemahistory"
        c["client.id"] = "\(serverName)-schemahistory"
        c["auto.offset.reset"] = "earliest"
        c["isolation.level"] = "read_uncommitted"
        c["fetch.wait.max.ms"] = "100"
        return c
    }

    /// Every change recorded at or before `position`, in order; creates the topic (one partition, no deletion)
    /// when it does not exist.
    func recover(upTo position: (file: String, pos: UInt64)?) throws(ConnectError) -> [MySqlTableChange] {
        do {
            try ensureTopic()
            let consumer = try KafkaConsumer(config: KafkaClientConfig(consumerProperties()))
            defer { consumer.close() }
            let partition = KafkaTopicPartition(topic, 0)
            let end = try consumer.queryWatermarks(partition, timeoutMs: 10_000).high
            try consumer.assign([partition: 0])
            var changes: [MySqlTableChange] = []
            var next: Int64 = 0
            let deadline = Date().addingTimeInterval(60)
            var emptyAfterEnd = false
            // Tansu and some brokers answer the watermark late: the end is also a poll that finds nothing more.
            while !(next >= end && emptyAfterEnd) {
                guard Date() < deadline else {
                    throw ConnectError(.debezium, "Timed out reading the schema history topic \(topic)")
                }
                guard let event = consumer.poll(timeoutMs: 200) else {
                    emptyAfterEnd = next >= end
                    continue
                }
                guard case .message(let m) = event else { continue }
                next = m.offset + 1
                guard let value = m.value, let record = try? JSONParser.parse(value),
                    record["source"]?["server"]?.stringValue == serverName
                else { continue }
                if let position, let file = record["position"]?["file"]?.stringValue,
                    let pos = record["position"]?["pos"]?.intValue,
                    (file, UInt64(max(0, pos))) > (position.file, position.pos)
                {
                    continue
                }
                changes += (record["tableChanges"]?.arrayValue ?? []).compactMap(MySqlTableChange.init(json:))
            }
            return changes
        } catch let e as ConnectError {
            throw e
        } catch {
            throw ConnectError(
                .debezium, "Cannot read the schema history topic \(topic)", cause: ConnectError.wrap(error))
        }
    }

    private var topicChecked = false

    /// Creates the topic (one partition, no deletion) before the first write or read, so a broker that creates
    /// topics on first use does not give it its defaults.
    private func ensureTopic() throws {
        guard !topicChecked else { return }
        let admin = try KafkaAdmin(config: KafkaClientConfig(client))
        try admin.createTopics([
            .init(
                name: topic, partitions: 1, replicationFactor: -1,
                configs: ["cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"])
        ])
        topicChecked = true
    }

    /// Writes one statement's record and waits for the broker's acknowledgement.
    func record(
        database: String, ddl: String, changes: [MySqlTableChange], position: OffsetMap
    )
        throws(ConnectError)
    {
        var p: [(String, JSONValue)] = []
        for (k, v) in position.sorted(by: { $0.key < $1.key }) {
            switch v {
            case .string(let s): p.append((k, .string(s)))
            case .int64(let i): p.append((k, .int(i)))
            case .int32(let i): p.append((k, .int(Int64(i))))
            case .boolean(let b): p.append((k, .bool(b)))
            default: break
            }
        }
        let record = JSONValue.object(
            JSONObject([
                ("source", .object(JSONObject([("server", .string(serverName))]))),
                ("position", .object(JSONObject(p))),
                ("ts_ms", .int(Int64(Date().timeIntervalSince1970 * 1000))), ("databaseName", .string(database)),
                ("ddl", .string(ddl)), ("tableChanges", .array(changes.map(\.json))),
            ]))
        do {
            try ensureTopic()
            if producer == nil {
                var c = client
                c["acks"] = "all"
                c["client.id"] = "\(serverName)-schemahistory"
                producer = try KafkaProducer(config: KafkaClientConfig(c))
            }
            nextId += 1
            try producer!.send(
                id: nextId, topic: topic, partition: 0, key: nil, value: Array(JSONWriter.string(record).utf8))
            let reports = producer!.flush(timeoutMs: 30_000)
            guard let report = reports.first(where: { $0.id == nextId }) else {
                throw ConnectError(.debezium, "Timed out writing to the schema history topic \(topic)")
            }
            if case .failure(let e) = report.result { throw e }
        } catch let e as ConnectError {
            throw e
        } catch {
            throw ConnectError(
                .debezium, "Cannot write to the schema history topic \(topic)", cause: ConnectError.wrap(error))
        }
    }
}
