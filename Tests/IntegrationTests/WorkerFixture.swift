import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import JSON
import Kafka
import Logging

/// Starts an in-process standalone worker on the shared Tansu broker with connectors given as REST-style JSON bodies.
enum WorkerFixture {
    /// Worker properties every integration test starts from; `extra` overrides or adds.
    static func properties(_ dir: URL, extra: [String: String] = [:]) -> [String: String] {
        var p = [
            "bootstrap.servers": TansuBroker.shared.bootstrapServers,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "offset.storage.file.filename": dir.appendingPathComponent("connect.offsets").path,
            "offset.flush.interval.ms": "500", "listeners": "http://127.0.0.1:0", "consumer.session.timeout.ms": "6000",
        ]
        for (k, v) in extra { p[k] = v }
        return p
    }

    static func start(
        _ connectors: [String], extra: [String: String] = [:], in dir: URL? = nil, plugins: PluginRegistry = .builtIn
    ) throws -> Connect {
        let dir = try dir ?? ProjectPaths.temporaryDirectory("worker")
        var files: [String] = []
        for (i, body) in connectors.enumerated() {
            let file = dir.appendingPathComponent("connector\(i).json")
            try body.write(to: file, atomically: true, encoding: .utf8)
            files.append(file.path)
        }
        return try ConnectStandalone.start(
            workerProperties: nil, connectorFiles: files, extraProperties: properties(dir, extra: extra),
            logLevel: "WARN",
            environment: [:], logger: Logger(label: "test"), plugins: plugins)
    }
}

extension WorkerFixture {
    /// The status of the connector's task 0 once it is in `state`, or the last status seen after `seconds`.
    static func waitForTask(
        _ runtime: Connect, _ connector: String, _ state: String, seconds: Double = 60
    ) -> StatusRecord? {
        var status: StatusRecord?
        _ = ProjectPaths.waitUntil(seconds) {
            status = try? runtime.herder.taskStatus(ConnectorTaskId(connector, 0)).status
            return status?.state.rawValue == state
        }
        return status
    }
}

/// Writes records to a topic of the shared broker with the worker's own producer.
enum TopicWriter {
    struct Refused: Error { let errors: [String] }

    /// Produces records (key, value bytes, timestamp) with an `origin` header, waiting for every acknowledgement.
    /// - Throws: `Refused` when the broker did not acknowledge every record.
    static func produce(_ topic: String, _ records: [(key: String, value: [UInt8], timestamp: Int64)]) throws {
        var config = KafkaClientConfig(KafkaProducer.connectDefaults)
        config["bootstrap.servers"] = TansuBroker.shared.bootstrapServers
        let producer = try KafkaProducer(config: config)
        /// Enqueues one record; false when the local queue is full.
        func enqueue(_ i: Int, _ r: (key: String, value: [UInt8], timestamp: Int64)) throws -> Bool {
            do {
                try producer.send(
                    id: UInt64(i), topic: topic, partition: 0, key: Array(r.key.utf8), value: r.value,
                    headers: [KafkaHeader(key: "origin", value: Array("test".utf8))], timestamp: r.timestamp)
                return true
            } catch {
                guard error.kind == .queueFull else { throw error }
                return false
            }
        }
        var reports: [DeliveryReport] = []
        for (i, r) in records.enumerated() {
            while try !enqueue(i, r) { reports += producer.poll(timeoutMs: 50) }
        }
        reports += producer.flush(timeoutMs: 30_000)
        var failed = reports.compactMap { report -> String? in
            if case .failure(let error) = report.result { return "\(error)" }
            return nil
        }
        if reports.count < records.count { failed.append("\(records.count - reports.count) records not acknowledged") }
        guard failed.isEmpty else { throw Refused(errors: failed) }
    }

    /// Produces UTF-8 values with their keys, timestamped now.
    static func produce(_ topic: String, _ records: [(key: String, value: String)]) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try produce(topic, records.map { ($0.key, Array($0.value.utf8), now) })
    }
}

/// Reads a topic back with the independent Python client (`scripts/python/read_topic.py`).
enum TopicReader {
    /// Up to `n` records from the beginning, retried until there are `n` or `waitSeconds` pass.
    static func read(_ topic: String, _ n: Int, waitSeconds: Double = 30) -> [JSONValue] {
        var records: [JSONValue] = []
        _ = ProjectPaths.waitUntil(waitSeconds) {
            let out =
                (try? ProjectPaths.run(
                    ProjectPaths.python,
                    [
                        ProjectPaths.script("scripts/python/read_topic.py"), TansuBroker.shared.bootstrapServers, topic,
                        String(n),
                    ]))
                ?? "[]"
            records = (try? JSONParser.parse(out))?.arrayValue ?? []
            return records.count >= n
        }
        return records
    }
}
