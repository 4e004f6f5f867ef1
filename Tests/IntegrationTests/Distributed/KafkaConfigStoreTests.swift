import ConnectAPI
import ConnectTestKit
import Foundation
import JSON
import Kafka
import Logging
import Synchronization
import Testing

@testable import ConnectRuntime

/// Notes what a config store reports.
final class RecordingListener: ConfigUpdateListener {
    let events = Mutex<[String]>([])
    func note(_ e: String) { events.withLock { $0.append(e) } }
    func onConnectorConfigRemove(_ connector: String) { note("removed \(connector)") }
    func onConnectorConfigUpdate(_ connector: String) { note("config \(connector)") }
    func onTaskConfigUpdate(_ tasks: [ConnectorTaskId], removed: [ConnectorTaskId]) {
        let ended = removed.isEmpty ? "" : " removed \(removed.map(\.description).joined(separator: ","))"
        note("tasks \(tasks.map(\.description).joined(separator: ","))\(ended)")
    }
    func onConnectorTargetStateChange(_ connector: String) { note("target \(connector)") }
    func onSessionKeyUpdate(_ key: SessionKey) { note("session key \(key.key.count)") }
    func onRestartRequest(_ connector: String, _ request: RestartRequest) {
        note("restart \(connector) \(request.includeTasks) \(request.onlyFailed)")
    }
    func onLoggingLevelUpdate(_ namespace: String, _ level: String) { note("logger \(namespace) \(level)") }
}

@Suite("The config topic as Connect writes and replays it", .serialized, .timeLimit(.minutes(3)))
struct KafkaConfigStoreTests {
    let broker = TansuBroker.shared
    var clients: [String: String] { ["bootstrap.servers": broker.bootstrapServers] }

    func store(_ topic: String, _ id: String) throws -> KafkaConfigBackingStore {
        try KafkaConfigBackingStore(topic: topic, clients: clients, clientId: id, logger: Logger(label: id))
    }

    @Test("records hold Connect's keys and JSON, a second worker replays them to the same state and offset")
    func writeAndReplay() throws {
        let topic = "configs-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try KafkaAdmin(config: KafkaClientConfig(clients))
        try admin.ensureInternalTopic(
            topic, partitions: 1, replicationFactor: 1, configs: [:], exactPartitions: 1,
            describing: "connector configuration",
            key: "config.storage.topic")
        let leader = try store(topic, "leader")
        try leader.start(timeout: .seconds(20))
        defer { leader.stop() }
        let config = ["name": "orders", "connector.class": "DatagenConnector", "tasks.max": "2"]
        try leader.putConnectorConfig("orders", config, targetState: .stopped)
        try leader.putTaskConfigs("orders", [["task.id": "0"], ["task.id": "1"]])
        try leader.putSessionKey(
            SessionKey(
                key: Array(repeating: 7, count: 32), algorithm: "HmacSHA256", creationTimestamp: 1_700_000_000_000))

        let written = TopicReader.read(topic, 6, waitSeconds: 10).compactMap { r in
            r["key"]?.stringValue.map { ($0, r["value"]?.stringValue ?? "null") }
        }
        #expect(
            written.map(\.0) == [
                "target-state-orders", "connector-orders", "task-orders-0", "task-orders-1", "commit-orders",
                "session-key",
            ])
        #expect(written[0].1 == #"{"state":"PAUSED","state.v2":"STOPPED"}"#)
        #expect(
            written[1].1 == #"{"properties":{"connector.class":"DatagenConnector","name":"orders","tasks.max":"2"}}"#)
        #expect(written[2].1 == #"{"properties":{"task.id":"0"}}"#)
        #expect(written[4].1 == #"{"tasks":2}"#)
        #expect(
            written[5].1
                == #"{"key":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=","algorithm":"HmacSHA256","creation-timestamp":1700000000000}"#
        )

        let follower = try store(topic, "follower")
        let listener = RecordingListener()
        follower.setUpdateListener(listener)
        try follower.start(timeout: .seconds(20))
        defer { follower.stop() }
        let s = follower.snapshot()
        #expect(s == leader.snapshot())
        #expect(s.offset == 6)
        #expect(s.connectorConfig("orders") == config && s.targetState("orders") == .stopped)
        #expect(s.taskConfigs["orders"] == [["task.id": "0"], ["task.id": "1"]])
        #expect(follower.sessionKey?.key.count == 32)

        // After start-up: changes, restart requests and log levels reach the listener; a deletion removes all.
        try leader.putTargetState("orders", .started)
        try leader.putRestartRequest("orders", RestartRequest(includeTasks: true, onlyFailed: false))
        try leader.putLoggerLevel("org.apache.kafka.connect", "DEBUG")
        try leader.putTaskConfigs("orders", [["task.id": "0"]])
        try leader.removeConnectorConfig("orders")
        try follower.refresh(timeout: .seconds(20))
        let events = listener.events.withLock { $0 }
        #expect(
            events.suffix(5) == [
                "target orders", "restart orders true false", "logger org.apache.kafka.connect DEBUG",
                "tasks orders-0,orders-1 removed orders-1", "removed orders",
            ])
        #expect(!follower.contains("orders") && follower.snapshot().offset == 13)
    }

    @Test("a commit without every task record marks the connector inconsistent, with no tasks")
    func inconsistentCommit() throws {
        let topic = "configs-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try KafkaAdmin(config: KafkaClientConfig(clients))
        try admin.ensureInternalTopic(
            topic, partitions: 1, replicationFactor: 1, configs: [:], exactPartitions: 1,
            describing: "connector configuration",
            key: "config.storage.topic")
        let producer = try KafkaProducer(config: KafkaClientConfig(clients))
        func put(_ id: UInt64, _ key: String, _ value: String) throws {
            try producer.send(id: id, topic: topic, key: Array(key.utf8), value: Array(value.utf8))
        }
        try put(1, "connector-c", #"{"properties":{"name":"c"}}"#)
        try put(2, "task-c-0", #"{"properties":{"a":"1"}}"#)
        try put(3, "commit-c", #"{"tasks":2}"#)
        _ = producer.flush(timeoutMs: 10_000)
        let s = try store(topic, "reader")
        try s.start(timeout: .seconds(20))
        defer { s.stop() }
        #expect(s.snapshot().inconsistent == ["c"] && s.snapshot().taskCount("c") == 0)
    }
}
