import ConnectAPI
import ConnectTestKit
import Foundation
import JSON
import Kafka
import Logging
import Testing

@testable import ConnectRuntime

@Suite("Status and offset stores on Kafka topics, as Connect writes them", .serialized, .timeLimit(.minutes(3)))
struct KafkaStoresTests {
    let broker = TansuBroker.shared
    var clients: [String: String] { ["bootstrap.servers": broker.bootstrapServers] }

    func compactedTopic(_ base: String, partitions: Int32) throws -> String {
        let topic = "\(base)-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try KafkaAdmin(config: KafkaClientConfig(clients))
        try admin.ensureInternalTopic(
            topic, partitions: partitions, replicationFactor: 1, configs: [:], describing: "status",
            key: "status.storage.topic")
        return topic
    }

    /// Every record of the topic as the independent Python client reads it: key → value text (nil for tombstones).
    func records(_ topic: String, _ n: Int) -> [(key: String, value: String?)] {
        TopicReader.read(topic, n, waitSeconds: 10).compactMap { r in
            r["key"]?.stringValue.map { ($0, r["value"]?.stringValue) }
        }
    }

    @Test("two workers share statuses through the topic; records hold Connect's keys and JSON; stale UNASSIGNED loses")
    func statuses() throws {
        let topic = try compactedTopic("status", partitions: 5)
        let a = try KafkaStatusBackingStore(topic: topic, clients: clients, clientId: "a", logger: Logger(label: "a"))
        let b = try KafkaStatusBackingStore(topic: topic, clients: clients, clientId: "b", logger: Logger(label: "b"))
        try a.start(timeout: .seconds(20))
        try b.start(timeout: .seconds(20))
        defer {
            a.stop()
            b.stop()
        }
        let id = ConnectorTaskId("orders-sink", 0)
        a.updateConnector("orders-sink") { _ in StatusRecord(state: .running, workerId: "a:8083", generation: 3) }
        a.updateTask(id) { _ in StatusRecord(state: .running, workerId: "a:8083", generation: 3) }
        a.putTopic("orders", task: id)
        #expect(ProjectPaths.waitUntil(10) { b.task(id)?.state == .running && b.connector("orders-sink") != nil })
        #expect(b.task(id) == StatusRecord(state: .running, workerId: "a:8083", generation: 3))
        #expect(ProjectPaths.waitUntil(10) { b.topics(of: "orders-sink") == ["orders"] })

        let written = records(topic, 3)
        #expect(
            written.contains {
                $0.key == "status-task-orders-sink-0"
                    && $0.value == #"{"state":"RUNNING","trace":null,"worker_id":"a:8083","generation":3}"#
            })
        #expect(written.contains { $0.key == "status-connector-orders-sink" })
        let topicRecord = written.first { $0.key == "status-topic-orders:connector-orders-sink" }
        let topicValue = try #require(topicRecord?.value.flatMap { try? JSONParser.parse($0) })
        #expect(topicValue["topic"]?["name"] == "orders" && topicValue["topic"]?["task"] == 0)

        // A worker of an older generation says UNASSIGNED: the newer RUNNING stays.
        b.updateTask(id) { _ in StatusRecord(state: .unassigned, workerId: "b:8083", generation: 2) }
        #expect(ProjectPaths.waitUntil(5) { records(topic, 4).count == 4 })
        let c = try KafkaStatusBackingStore(topic: topic, clients: clients, clientId: "c", logger: Logger(label: "c"))
        try c.start(timeout: .seconds(20))
        defer { c.stop() }
        #expect(c.task(id)?.state == .running)
        // The worker running it stops it without a rebalance (a connector's stop): its UNASSIGNED is the latest.
        a.updateTask(id) { _ in StatusRecord(state: .unassigned, workerId: "a:8083", generation: 3) }
        #expect(ProjectPaths.waitUntil(10) { c.task(id)?.state == .unassigned })

        a.remove(connector: "orders-sink")
        #expect(ProjectPaths.waitUntil(10) { b.connector("orders-sink") == nil && b.task(id) == nil })
        #expect(b.topics(of: "orders-sink").isEmpty)
    }

    @Test("offsets written by one worker are read by the next from the topic, under Connect's key bytes")
    func offsets() throws {
        let topic = try compactedTopic("offsets", partitions: 25)
        let a = try KafkaOffsetBackingStore(topic: topic, clients: clients, clientId: "a", logger: Logger(label: "a"))
        try a.start(timeout: .seconds(20))
        let key = OffsetCodec.key(connector: "file-source", partition: ["filename": .string("/data/in.txt")])
        try a.set([key: OffsetCodec.value(["position": .int64(1234)])])
        #expect(String(decoding: key, as: UTF8.self) == #"["file-source",{"filename":"/data/in.txt"}]"#)
        a.stop()
        let b = try KafkaOffsetBackingStore(topic: topic, clients: clients, clientId: "b", logger: Logger(label: "b"))
        try b.start(timeout: .seconds(20))
        defer { b.stop() }
        #expect(b.get([key])[key].map { String(decoding: $0, as: UTF8.self) } == #"{"position":1234}"#)
        try b.set([key: nil])
        #expect(b.get([key]).isEmpty)
        let read = records(topic, 2)
        #expect(
            read.map(\.key) == [
                #"["file-source",{"filename":"/data/in.txt"}]"#, #"["file-source",{"filename":"/data/in.txt"}]"#,
            ])
        #expect(read.last?.value == nil)
    }
}
