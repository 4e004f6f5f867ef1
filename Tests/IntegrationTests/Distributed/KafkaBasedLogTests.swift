import ConnectAPI
import ConnectTestKit
import Foundation
import Kafka
import Logging
import Synchronization
import Testing

@testable import ConnectRuntime

@Suite("KafkaBasedLog on a real Tansu broker", .serialized, .timeLimit(.minutes(2)))
struct KafkaBasedLogTests {
    let broker = TansuBroker.shared

    @Test("an internal topic is created compacted; the log reads what was there, then what it writes, to the end")
    func readsAndWrites() throws {
        let topic = "log-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try KafkaAdmin(config: KafkaClientConfig(["bootstrap.servers": broker.bootstrapServers]))
        try admin.ensureInternalTopic(
            topic, partitions: 3, replicationFactor: 1, configs: [:], describing: "status", key: "status.storage.topic")
        #expect(try admin.describeTopics([topic]).first?.partitions == 3)
        // Created again: an existing topic with the right settings is accepted.
        try admin.ensureInternalTopic(
            topic, partitions: 3, replicationFactor: 1, configs: [:], describing: "status", key: "status.storage.topic")
        #expect {
            try admin.ensureInternalTopic(
                topic, partitions: 1, replicationFactor: 1, configs: [:], exactPartitions: 1, describing: "config",
                key: "config.storage.topic")
        } throws: { ($0 as? ConnectError)?.message.contains("required to have a single partition") == true }

        let clients = ["bootstrap.servers": broker.bootstrapServers]
        let seen = Mutex<[String: String]>([:])
        let writer = try KafkaBasedLog(
            topic: topic, producerProperties: clients, consumerProperties: clients, consumed: { _ in },
            logger: Logger(label: "test"))
        try writer.start(timeout: .seconds(20))
        try writer.send((0..<10).map { (Array("k\($0)".utf8), Array("v\($0)".utf8)) })
        writer.stop()

        let log = try KafkaBasedLog(
            topic: topic, producerProperties: clients, consumerProperties: clients,
            consumed: { m in
                seen.withLock {
                    $0[String(decoding: m.key ?? [], as: UTF8.self)] =
                        m.value.map { String(decoding: $0, as: UTF8.self) } ?? "<tombstone>"
                }
            }, logger: Logger(label: "test"))
        try log.start(timeout: .seconds(20))
        defer { log.stop() }
        #expect(seen.withLock { $0.count } == 10)
        try log.send([(Array("k3".utf8), Array("v3'".utf8)), (Array("k10".utf8), nil)])
        try log.readToEnd(timeout: .seconds(20))
        #expect(seen.withLock { $0["k3"] } == "v3'")
        #expect(seen.withLock { $0["k10"] } == "<tombstone>")
    }
}
