import ConnectAPI
import ConnectMetrics
import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPClient
import HTTPServer
import JSON
import Synchronization
import Testing

/// Gates a test opens by hand: a plug-in call waits at its gate until the test opens it.
enum Gates {
    private static let gates = Mutex<[String: DispatchSemaphore]>([:])

    static func gate(_ name: String) -> DispatchSemaphore {
        gates.withLock { g in
            if let s = g[name] { return s }
            let s = DispatchSemaphore(value: 0)
            g[name] = s
            return s
        }
    }

    /// Lets every waiter of `name` through, now and later.
    static func open(_ name: String) {
        let s = gate(name)
        for _ in 0..<64 { s.signal() }
    }
}

/// A source connector whose `start` waits at the gate named by its `gate` key (forever, unless the test opens it).
final class HangingSourceConnector: SourceConnector {
    static let className = "com.example.HangingSourceConnector"
    static var configDef: ConfigDef { ConfigDef() }
    var taskType: any Task.Type { IdleSourceTask.self }
    init() {}
    func start(_ props: [String: String]) throws { Gates.gate(props["gate"] ?? "").wait() }
    func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [[:]] }
    func stop() throws {}
}

final class IdleSourceTask: SourceTask {
    init() {}
    func initialize(_ context: any SourceTaskContext) {}
    func start(_ props: [String: String]) throws {}
    func poll() throws -> [SourceRecord]? {
        Thread.sleep(forTimeInterval: 0.05)
        return nil
    }
    func stop() throws {}
}

/// A transform that always fails with a retriable error, so the task retries with a growing backoff.
final class AlwaysRetriableTransform: Transformation {
    static let className = "com.example.AlwaysRetriable"
    static var configDef: ConfigDef { ConfigDef() }
    init() {}
    func configure(_ configs: [String: String]) throws {}
    func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        throw ConnectError(.retriable, "the downstream lookup service is unavailable")
    }
    func close() {}
}

/// A source whose task polls one batch, then nothing, until the test makes its incarnation stubborn: its next `poll`
/// blocks, ignoring stop, until the test opens the gate of that incarnation (`stubborn-1`, `stubborn-2`, ...); a task
/// let through afterwards returns records marked `zombie`.
final class StubbornSourceConnector: SourceConnector {
    static let className = "com.example.StubbornSourceConnector"
    static let incarnations = Mutex(0)
    static let stubborn = Mutex<Set<Int>>([])
    static var configDef: ConfigDef { ConfigDef().define("topic", .string, importance: .high, documentation: "") }
    var taskType: any Task.Type { StubbornSourceTask.self }
    private var topic = ""
    init() {}
    func start(_ props: [String: String]) throws { topic = props["topic"] ?? "" }
    func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [["topic": topic]] }
    func stop() throws {}
}

final class StubbornSourceTask: SourceTask {
    private var topic = ""
    private var incarnation = 0
    private var polls = 0
    init() {}
    func initialize(_ context: any SourceTaskContext) {}
    func start(_ props: [String: String]) throws {
        topic = props["topic"] ?? ""
        incarnation = StubbornSourceConnector.incarnations.withLock { n in
            n += 1
            return n
        }
    }
    func poll() throws -> [SourceRecord]? {
        polls += 1
        let (from, marker): (Int64, String)
        if polls == 1 {
            (from, marker) = (1, "incarnation-\(incarnation)")
        } else if !StubbornSourceConnector.stubborn.withLock({ $0.contains(incarnation) }) {
            Thread.sleep(forTimeInterval: 0.05)
            return nil
        } else {
            // Ignores stop: only the test lets it go on.
            Gates.gate("stubborn-\(incarnation)").wait()
            (from, marker) = (1_000_000, "zombie")
        }
        return (from..<from + 5).map { pos in
            SourceRecord(
                sourcePartition: ["p": .string("x")], sourceOffset: ["pos": .int64(pos)], topic: topic,
                valueSchema: .string, value: .string("\(marker) \(pos)"))
        }
    }
    func stop() throws {}
}

@Suite("A worker that stays responsive and stops on time", .serialized, .timeLimit(.minutes(3)))
struct RuntimeLifecycleTests {
    init() { LogCapture.install() }

    var plugins: PluginRegistry {
        var p = PluginRegistry.builtIn
        p.register(connector: HangingSourceConnector.self, className: HangingSourceConnector.className, type: .source)
        p.register(connector: StubbornSourceConnector.self, className: StubbornSourceConnector.className, type: .source)
        p.register(transformation: AlwaysRetriableTransform.self, className: AlwaysRetriableTransform.className)
        return p
    }

    func unique(_ base: String) -> String { "\(base)-\(UInt32.random(in: 0...UInt32.max))" }

    func datagen(_ name: String, topic: String, extra: String = "") -> String {
        """
        {"name": "\(name)", "config": {"connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
         "kafka.topic": "\(topic)", "quickstart": "orders", "max.interval": "50", "tasks.max": "1"\(extra)}}
        """
    }

    @Test("a connector whose start blocks forever leaves every other REST endpoint answering within a second")
    func hungStartDoesNotFreezeREST() throws {
        let gate = unique("hung")
        let runtime = try WorkerFixture.start([datagen("healthy", topic: unique("healthy"))], plugins: plugins)
        defer { runtime.stop() }
        let base = "http://127.0.0.1:\(runtime.restServer.boundListeners[0].port)"
        let client = HTTPClient()
        let json = [("Content-Type", "application/json")]

        // The create waits for the connector's start, which hangs; it goes on in the background.
        let createAnswer = Mutex<Int?>(nil)
        let created = DispatchSemaphore(value: 0)
        Thread {
            let body = #"{"name": "hung", "config": {"connector.class": "HangingSourceConnector", "gate": "\#(gate)"}}"#
            let answer = try? client.execute(
                HTTPClientRequest(method: "POST", url: "\(base)/connectors", headers: json, body: Array(body.utf8)),
                timeout: .seconds(120))
            createAnswer.withLock { $0 = answer?.status }
            created.signal()
        }.start()
        #expect(
            ProjectPaths.waitUntil(10) {
                ((try? client.get("\(base)/connectors").text) ?? "").contains("\"hung\"")
            })

        let other = unique("other")
        let requests: [(String, String, String?)] = [
            ("GET", "/", nil), ("GET", "/health", nil), ("GET", "/connectors", nil),
            ("GET", "/connectors?expand=status&expand=info", nil), ("GET", "/connectors/healthy/status", nil),
            ("GET", "/connectors/hung", nil), ("GET", "/connectors/hung/config", nil),
            ("GET", "/connectors/healthy/tasks", nil), ("PUT", "/connectors/healthy/pause", nil),
            ("PUT", "/connectors/healthy/resume", nil), ("POST", "/connectors/healthy/restart", nil),
            ("POST", "/connectors", datagen(other, topic: other)), ("DELETE", "/connectors/\(other)", nil),
            ("GET", "/connector-plugins", nil), ("GET", "/metrics", nil),
        ]
        for (method, path, body) in requests {
            let started = ContinuousClock.now
            let answer = try client.execute(
                HTTPClientRequest(
                    method: method, url: base + path, headers: body == nil ? [] : json,
                    body: body.map { Array($0.utf8) }
                ), timeout: .seconds(30))
            let took = ContinuousClock.now - started
            #expect(took < .seconds(1), "\(method) \(path) took \(took)")
            #expect(answer.status < 500, "\(method) \(path) answered \(answer.status): \(answer.text)")
        }
        #expect(createAnswer.withLock { $0 } == nil, "the create of the hung connector is still waiting")

        Gates.open(gate)
        #expect(created.wait(timeout: .now() + 30) == .success)
        #expect(createAnswer.withLock { $0 } == 201)
        #expect(
            ProjectPaths.waitUntil(10) {
                (try? runtime.herder.connectorStatus("hung").connector.state) == .running
            })
    }

    @Test("a task in a long retry backoff stops within task.shutdown.graceful.timeout.ms plus a second, uncancelled")
    func stopDuringRetryBackoff() throws {
        let name = unique("backoff")
        let runtime = try WorkerFixture.start(
            [
                datagen(
                    name, topic: name,
                    extra:
                        #", "transforms": "lookup", "transforms.lookup.type": "com.example.AlwaysRetriable", "errors.retry.timeout": "600000", "errors.retry.delay.max.ms": "60000""#
                )
            ], extra: ["task.shutdown.graceful.timeout.ms": "3000"], plugins: plugins)
        // Backoffs double from 300 ms: after four retries (4.5 s) the task waits 4.8 s, then 9.6 s.
        let retries = "kafka_connect_task_error_metrics_total_retries{connector=\"\(name)\",task=\"0\"}"
        #expect(
            ProjectPaths.waitUntil(30) {
                PrometheusExposition.render(runtime.metrics, process: nil).split(separator: "\n").contains {
                    $0.hasPrefix(retries + " ") && (Double($0.split(separator: " ").last ?? "") ?? 0) >= 4
                }
            })
        let started = ContinuousClock.now
        runtime.stop()
        let took = ContinuousClock.now - started
        // Within the graceful timeout (3 s): the task stopped rather than being cancelled when the timeout ran out.
        #expect(took < .seconds(2), "stopping took \(took)")
        #expect(!LogCapture.lines(containing: "Kafka Connect stopped").isEmpty)
        #expect(LogCapture.lines(containing: "Graceful stop of task \(name)-0 failed").isEmpty)
    }

    @Test(
        "a task that ignores stop is cancelled: its status and the log say so, and it sends and commits nothing after")
    func cancelledTaskCommitsNothing() throws {
        let name = unique("stubborn")
        StubbornSourceConnector.incarnations.withLock { $0 = 0 }
        StubbornSourceConnector.stubborn.withLock { $0 = [] }
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "\#(name)", "config": {"connector.class": "\#(StubbornSourceConnector.className)", "topic": "\#(name)", "value.converter": "org.apache.kafka.connect.storage.StringConverter"}}"#
            ],
            extra: ["task.shutdown.graceful.timeout.ms": "1000", "offset.flush.interval.ms": "200"], plugins: plugins)
        defer { runtime.stop() }
        let id = ConnectorTaskId(name, 0)
        func committedPositions() throws -> [Int64] {
            try runtime.herder.connectorOffsets(name).compactMap {
                if case .int64(let p)? = $0.offset?["pos"] { return p }
                return nil
            }
        }
        #expect(try ProjectPaths.waitUntil(30) { try committedPositions() == [5] })
        StubbornSourceConnector.stubborn.withLock { _ = $0.insert(1) }
        Thread.sleep(forTimeInterval: 0.2)

        let started = ContinuousClock.now
        try runtime.herder.restartTask(id)
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(!LogCapture.lines(containing: "Graceful stop of task \(name)-0 failed").isEmpty)
        #expect(!LogCapture.lines(containing: "Task \(name)-0 did not stop within").isEmpty)
        let history = try runtime.herder.taskHistory(id)
        #expect(history.contains { $0.kind == .failure && ($0.trace ?? "").contains("was cancelled") })
        #expect(WorkerFixture.waitForTask(runtime, name, "RUNNING")?.state == .running)

        // The cancelled incarnation comes back from poll: nothing it polled is sent, nothing is committed, and its
        // stop does not overwrite the status of the task that replaced it.
        Gates.open("stubborn-1")
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try committedPositions() == [5])
        #expect(try runtime.herder.taskStatus(id).status.state == .running)
        let values = TopicReader.read(name, 10, waitSeconds: 5).compactMap { $0["value"]?.stringValue }
        #expect(values.filter { $0.hasPrefix("incarnation-") }.count == 10)
        #expect(!values.contains { $0.hasPrefix("zombie") })
    }
}
