import ConnectAPI
import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPServer
import JSON
import Synchronization
import Testing

/// A sink (and connector) that fails on purpose, by `fault`: `block` (put waits until released), `flush` (flush
/// fails `flush.failures` times, losing what it buffered, as a sink whose write failed), `config` (the connector
/// refuses its configuration at start). What it flushed (`partition-offset` of each record) is kept per connector.
final class FaultySinkConnector: SinkConnector {
    static let className = "test.FaultySinkConnector"
    static var version: String? { "test" }
    static let configDef = ConfigDef()
    static let flushed = Mutex<[String: [String]]>([:])
    static let failuresLeft = Mutex<[String: Int]>([:])
    static let released = Atomic<Bool>(false)
    private var props: [String: String] = [:]

    init() {}
    var taskType: any Task.Type { FaultySinkTask.self }
    func start(_ props: [String: String]) throws {
        if props["fault"] == "config" {
            throw ConnectError.config(
                "Invalid value -1 for configuration batch.size: Value must be at least 1")
        }
        self.props = props
        Self.failuresLeft.withLock { $0[props["name"] ?? ""] = Int(props["flush.failures"] ?? "0") ?? 0 }
    }
    func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [props] }
    func stop() throws {}
}

final class FaultySinkTask: SinkTask {
    private var name = ""
    private var fault = ""
    private var buffer: [String] = []

    init() {}
    func initialize(_ context: any SinkTaskContext) {}
    func start(_ props: [String: String]) throws {
        name = props["name"] ?? ""
        fault = props["fault"] ?? ""
    }
    func open(_ partitions: [TopicPartition]) throws {}
    func put(_ records: [SinkRecord]) throws {
        if fault == "block" && !records.isEmpty {
            let until = Date().addingTimeInterval(120)
            while !FaultySinkConnector.released.load(ordering: .acquiring) && Date() < until {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        buffer += records.map { r in "\(r.originalKafkaPartition ?? -1)-\(r.originalKafkaOffset)" }
    }
    func flush(_ currentOffsets: [TopicPartition: Int64]) throws {
        let fail = FaultySinkConnector.failuresLeft.withLock { left -> Bool in
            guard let n = left[name], n > 0 else { return false }
            left[name] = n - 1
            return true
        }
        if fail {
            buffer.removeAll()
            throw ConnectError.connect("flush failed: the destination rejected the write")
        }
        let written = buffer
        buffer.removeAll()
        FaultySinkConnector.flushed.withLock { $0[name, default: []] += written }
    }
    func close(_ partitions: [TopicPartition]) throws {}
    func stop() throws {}
}

/// Faults injected for real into a live worker on the real broker, each diagnosed by the `connect-doctor` executable:
/// its top finding must name the fault's rule and its exit code must match.
@Suite("connect-doctor check on injected faults", .serialized, .timeLimit(.minutes(5)))
struct DoctorFaultTests {
    let broker = TansuBroker.shared

    static var doctor: String { ProjectPaths.root.appendingPathComponent(".build/debug/connect-doctor").path }

    /// Runs `connect-doctor` with these arguments: its exit code and standard output.
    static func run(_ arguments: [String]) throws -> (code: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: doctor)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `connect-doctor check --json` against a URL: the exit code and the parsed report.
    static func check(_ url: String) throws -> (code: Int32, report: JSONValue) {
        let r = try run(["check", "--url", url, "--json", "--timeout", "5"])
        return (r.code, try JSONParser.parse(r.out))
    }

    static func top(_ report: JSONValue) -> String {
        report["findings"]?.arrayValue?.first?["rule"]?.stringValue ?? "none"
    }

    func unique(_ base: String) -> String { "\(base)-\(UInt32.random(in: 0...UInt32.max))" }

    @Test("a healthy cluster exits 0; each of seventeen faults is the top finding with the right exit code")
    func faults() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.doctor), "build connect-doctor first")
        let dir = try ProjectPaths.temporaryDirectory("doctor")
        let topic = unique("doctor")
        var plugins = PluginRegistry.builtIn
        plugins.register(connector: FaultySinkConnector.self, className: FaultySinkConnector.className, type: .sink)
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "dr-src", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "max.interval": 20}}"#,
                #"{"name": "dr-snk", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent("ok.txt").path)"}}"#,
            ],
            extra: ["metrics.sample.window.ms": "2000", "metrics.num.samples": "2"], in: dir, plugins: plugins)
        defer {
            FaultySinkConnector.released.store(true, ordering: .releasing)
            runtime.stop()
        }
        let url = "http://127.0.0.1:\(runtime.restServer.boundListeners[0].port)"
        let herder = runtime.herder

        func create(_ name: String, _ config: [String: String]) throws {
            var c = config
            c["name"] = name
            _ = try herder.putConnectorConfig(name, config: c, allowReplace: false, initialState: nil)
        }
        func sink(_ name: String, _ extra: [String: String] = [:], topic t: String? = nil) throws {
            var c = [
                "connector.class": "FileStreamSink", "topics": t ?? topic,
                "file": dir.appendingPathComponent(name).path,
            ]
            for (k, v) in extra { c[k] = v }
            try create(name, c)
        }
        /// Waits until `check` shows the expected top finding (or gives up after `seconds`), then checks it.
        func expectTop(
            _ rule: String, exit code: Int32, seconds: Double = 60, url u: String? = nil,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            var last: (code: Int32, report: JSONValue) = (-1, .null)
            _ = ProjectPaths.waitUntil(seconds) {
                last = (try? Self.check(u ?? url)) ?? (-1, .null)
                return Self.top(last.report) == rule && last.code == code
            }
            let findings = (last.report["findings"]?.arrayValue ?? []).map {
                "\($0["rule"]?.stringValue ?? "") \($0["subject"].map(JSONWriter.string) ?? "")"
            }
            #expect(Self.top(last.report) == rule, "top finding: \(findings)", sourceLocation: sourceLocation)
            #expect(last.code == code, "exit code \(last.code), findings \(findings)", sourceLocation: sourceLocation)
            if let first = last.report["findings"]?.arrayValue?.first {
                #expect(first["evidence"]?.arrayValue?.isEmpty == false, "\(rule) without evidence")
            }
        }
        func delete(_ names: String...) throws { for n in names { try herder.deleteConnector(n) } }

        // Healthy: exit 0 and nothing above info.
        try expectTop("none", exit: 0)

        // 1. Worker unreachable.
        try expectTop("CD-WORKER-001", exit: 3, seconds: 5, url: "http://127.0.0.1:\(try FreePort.allocate())")

        // 2. Plain JSON into a JsonConverter expecting the schema envelope.
        let plain = unique("plain")
        try create(
            "dr-plain",
            [
                "connector.class": "DatagenConnector", "kafka.topic": plain, "quickstart": "users",
                "max.interval": "50", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable": "false",
            ])
        try sink("dr-envelope", topic: plain)
        try expectTop("CD-SERDE-001", exit: 2)
        try delete("dr-plain", "dr-envelope")

        // 3. Plain-text keys into a JSON key converter.
        try sink("dr-keys", ["key.converter": "org.apache.kafka.connect.json.JsonConverter"])
        try expectTop("CD-SERDE-003", exit: 2)
        try delete("dr-keys")

        // 4. A transform naming a field the records do not have.
        try sink(
            "dr-field",
            [
                "transforms": "key", "transforms.key.type": "org.apache.kafka.connect.transforms.ValueToKey",
                "transforms.key.fields": "no_such_field",
            ])
        try expectTop("CD-SMT-001", exit: 2)
        try delete("dr-field")

        // 5. A transform given a value of the wrong type (a string where it needs a struct).
        try sink(
            "dr-type",
            [
                "value.converter": "org.apache.kafka.connect.storage.StringConverter", "transforms": "x",
                "transforms.x.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
                "transforms.x.field": "id",
            ])
        try expectTop("CD-SMT-002", exit: 2)
        try delete("dr-type")

        // 6. A configuration the connector refuses at start.
        try create("dr-config", ["connector.class": FaultySinkConnector.className, "topics": topic, "fault": "config"])
        try expectTop("CD-CONFIG-001", exit: 2)
        try delete("dr-config")

        // 7. A record larger than the producer may send.
        let big = dir.appendingPathComponent("big.txt")
        try (String(repeating: "x", count: 5000) + "\n").write(to: big, atomically: true, encoding: .utf8)
        try create(
            "dr-big",
            [
                "connector.class": "FileStreamSource", "file": big.path, "topic": unique("big"),
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                "producer.override.message.max.bytes": "1000",
            ])
        try expectTop("CD-SIZE-001", exit: 2)
        try delete("dr-big")

        // 7b-7d. A source whose producer cannot reach its broker: nobody listens there, the host name does not
        // resolve, or the broker refuses its SASL credentials. The task stays RUNNING, retrying quietly.
        for (name, rule, producer) in [
            ("dr-nobroker", "CD-NET-002", ["bootstrap.servers": "127.0.0.1:\(try FreePort.allocate())"]),
            ("dr-dns", "CD-NET-001", ["bootstrap.servers": "no-such-broker.invalid:9092"]),
            (
                "dr-sasl", "CD-AUTH-001",
                [
                    "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": "connect",
                    "sasl.password": "wrong-password",
                ]
            ),
        ] {
            var config = [
                "connector.class": "DatagenConnector", "kafka.topic": unique(name), "quickstart": "users",
                "max.interval": "100",
            ]
            for (k, v) in producer { config["producer.override." + k] = v }
            try create(name, config)
            try expectTop(rule, exit: 2)
            try delete(name)
        }

        // 8. A sink stuck in put: it stops polling.
        FaultySinkConnector.released.store(false, ordering: .releasing)
        try create("dr-stuck", ["connector.class": FaultySinkConnector.className, "topics": topic, "fault": "block"])
        try expectTop("CD-LAG-002", exit: 2, seconds: 90)
        // The worker's own lag verdict knows too, though the task's thread is stuck: the watchdog refreshes its lag.
        var verdict: LagVerdict?
        #expect(
            ProjectPaths.waitUntil(60) {
                verdict = try? herder.connectorStatus("dr-stuck").tasks.first?.status.lag?.verdict
                return verdict == .stop
            }, "the stuck sink's lag verdict is \(String(describing: verdict))")
        FaultySinkConnector.released.store(true, ordering: .releasing)
        try delete("dr-stuck")

        // 9. Records going to the dead letter queue.
        try sink(
            "dr-dlq",
            [
                "key.converter": "org.apache.kafka.connect.json.JsonConverter", "errors.tolerance": "all",
                "errors.deadletterqueue.topic.name": unique("dr-dlq"),
                "errors.deadletterqueue.topic.replication.factor": "1",
                "errors.deadletterqueue.context.headers.enable": "true",
            ])
        try expectTop("CD-DLQ-001", exit: 1)
        // A support bundle taken now diagnoses offline to the findings of the live check.
        let bundle = dir.appendingPathComponent("bundle.json").path
        #expect(try Self.run(["bundle", "--out", bundle, "--url", url]).code == 0)
        let bundleText = try String(contentsOfFile: bundle, encoding: .utf8)
        #expect(bundleText.contains("\"taken_at_ms\"") && bundleText.contains("dr-dlq"))
        let offline = try Self.run(["check", "--bundle", bundle, "--json"])
        let live = try Self.check(url)
        func findings(_ r: JSONValue) -> Set<String> {
            Set(
                (r["findings"]?.arrayValue ?? []).map {
                    "\($0["rule"]?.stringValue ?? "") \($0["subject"].map(JSONWriter.string) ?? "")"
                })
        }
        #expect(findings(try JSONParser.parse(offline.out)) == findings(live.report))
        #expect(offline.code == live.code)
        // connect-doctor dlq reads the queue, decodes the error headers and names the rule of each group.
        let dlq = try Self.run([
            "dlq", "dr-dlq", "--url", url, "--bootstrap-servers", broker.bootstrapServers, "--limit", "20", "--json",
        ])
        #expect(dlq.code == 1, "a queue holding records exits 1")
        let queue = try JSONParser.parse(dlq.out)
        let group = queue["groups"]?.arrayValue?.first
        #expect((queue["records_read"]?.intValue ?? 0) > 0)
        #expect(group?["stage"]?.stringValue == "KEY_CONVERTER")
        #expect(group?["rule"]?.stringValue == "CD-SERDE-003")
        #expect(group?["original"]?["topic"]?.stringValue == topic)
        // connect-doctor explain: the connector's facts, its rates, its queue, then its findings only.
        let explained = try Self.run([
            "explain", "dr-dlq", "--url", url, "--bootstrap-servers", broker.bootstrapServers,
        ])
        #expect(explained.code == 1)
        for part in [
            "Connector dr-dlq (sink): RUNNING", "errors.tolerance=all", "Rates over the metrics window:",
            "Dead letter queue ", "x KEY_CONVERTER", "WARNING  CD-DLQ-001",
        ] {
            #expect(explained.out.contains(part), "explain lacks \(part)")
        }
        #expect(!explained.out.contains("dr-snk"), "explain shows another connector")
        try delete("dr-dlq")

        // 10. Offset commits failing (the sink's flush fails every time).
        try create(
            "dr-commit",
            [
                "connector.class": FaultySinkConnector.className, "topics": topic, "fault": "flush",
                "flush.failures": "1000000",
            ])
        try expectTop("CD-COMMIT-001", exit: 1)
        try delete("dr-commit")

        // 11. A sink whose topic does not exist: RUNNING, no partitions.
        try sink("dr-missing", topic: unique("missing"))
        // (the finding waits until the consumer's last rebalance is 30 s old)
        try expectTop("CD-TOPIC-002", exit: 1, seconds: 100)
        try delete("dr-missing")

        // 12. A source RUNNING with nothing new to read (a file source at the end of its file).
        let lines = dir.appendingPathComponent("three-lines.txt")
        try "one\ntwo\nthree\n".write(to: lines, atomically: true, encoding: .utf8)
        try create(
            "dr-done",
            [
                "connector.class": "FileStreamSource", "file": lines.path, "topic": unique("done"),
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            ])
        try expectTop("CD-SRC-001", exit: 1)
        try delete("dr-done")

        // 13. A task restarted over and over.
        try sink("dr-restarts")
        for _ in 0..<3 {
            #expect(WorkerFixture.waitForTask(runtime, "dr-restarts", "RUNNING", seconds: 20)?.state == .running)
            try herder.restartTask(ConnectorTaskId("dr-restarts", 0))
        }
        try expectTop("CD-TASK-002", exit: 1)
        try delete("dr-restarts")

        // 14. A paused connector: no data flows, on purpose (info only).
        try herder.pauseConnector("dr-snk")
        try expectTop("CD-STATE-001", exit: 0)
        try herder.resumeConnector("dr-snk")

        // Healthy again.
        try expectTop("none", exit: 0)
    }

    @Test("--watch checks again every interval until interrupted")
    func watch() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.doctor)
        p.arguments = ["check", "--watch", "1", "--no-color", "--url", "http://127.0.0.1:\(try FreePort.allocate())"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        Thread.sleep(forTimeInterval: 3.5)
        // SIGKILL: a child of the test runner inherits its blocked signals, SIGTERM included.
        kill(p.processIdentifier, SIGKILL)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let reports = text.components(separatedBy: "connect-doctor: cannot reach the cluster").count - 1
        #expect(reports >= 3, "\(reports) reports in 3.5 s")
    }

    @Test("a sink whose flush fails is rewound to its last committed offsets, so what it lost is delivered again")
    func flushFailureRewinds() throws {
        let dir = try ProjectPaths.temporaryDirectory("rewind")
        let topic = unique("rewind")
        var plugins = PluginRegistry.builtIn
        plugins.register(connector: FaultySinkConnector.self, className: FaultySinkConnector.className, type: .sink)
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "rw-src", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "iterations": 200, "max.interval": 1, "value.converter": "org.apache.kafka.connect.storage.StringConverter"}}"#,
                #"{"name": "rw-snk", "config": {"connector.class": "\#(FaultySinkConnector.className)", "topics": "\#(topic)", "fault": "flush", "flush.failures": "3", "value.converter": "org.apache.kafka.connect.storage.StringConverter"}}"#,
            ], in: dir, plugins: plugins)
        defer { runtime.stop() }
        // Every generated record is flushed at last, though three flushes lost what they held.
        var distinct = 0
        let complete = ProjectPaths.waitUntil(60) {
            distinct = Set(FaultySinkConnector.flushed.withLock { $0["rw-snk"] ?? [] }).count
            return distinct == 200
        }
        #expect(complete, "\(distinct) of 200 records were written")
        #expect(FaultySinkConnector.failuresLeft.withLock { $0["rw-snk"] } == 0)
    }
}
