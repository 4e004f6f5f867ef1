import ConnectAPI
import ConnectMetrics
import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPServer
import JSON
import Kafka
import Synchronization
import Testing

/// A sink whose downstream refuses writes (retriably) for `flaky.seconds` after its task starts, and rejects them
/// (not retriably, failing the task) for `fatal.seconds` after the connector first started; values starting with
/// `poison` are reported through the errant record reporter. What it accepted is kept per connector.
final class FlakySinkConnector: SinkConnector {
    static let className = "test.FlakySinkConnector"
    static var version: String? { "test" }
    static let configDef = ConfigDef()
    static let accepted = Mutex<[String: [String]]>([:])
    /// When each connector first started: `fatal.seconds` counts from there, across task restarts.
    static let started = Mutex<[String: Date]>([:])
    private var props: [String: String] = [:]

    init() {}
    var taskType: any Task.Type { FlakySinkTask.self }
    func start(_ props: [String: String]) throws {
        self.props = props
        Self.started.withLock { s in if s[props["name"] ?? ""] == nil { s[props["name"] ?? ""] = Date() } }
    }
    func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [props] }
    func stop() throws {}
}

final class FlakySinkTask: SinkTask {
    private var name = ""
    private var failUntil = Date()
    private var fatalUntil = Date()
    private var context: (any SinkTaskContext)?

    init() {}
    func initialize(_ context: any SinkTaskContext) { self.context = context }
    func start(_ props: [String: String]) throws {
        name = props["name"] ?? ""
        failUntil = Date().addingTimeInterval(Double(props["flaky.seconds"] ?? "0") ?? 0)
        let started = FlakySinkConnector.started.withLock { $0[name] } ?? Date()
        fatalUntil = started.addingTimeInterval(Double(props["fatal.seconds"] ?? "0") ?? 0)
    }
    func open(_ partitions: [TopicPartition]) throws {}
    func put(_ records: [SinkRecord]) throws {
        guard !records.isEmpty else { return }
        if Date() < fatalUntil { throw ConnectError.connect("downstream rejected the batch: table is read-only") }
        if Date() < failUntil { throw ConnectError(.retriable, "downstream unavailable: connection reset by peer") }
        var kept: [String] = []
        for r in records {
            let value = r.value?.stringValue ?? ""
            if value.hasPrefix("poison") {
                try context?.errantRecordReporter?.report(r, error: ConnectError.data("Cannot store \(value)"))
            } else {
                kept.append(value)
            }
        }
        FlakySinkConnector.accepted.withLock { $0[name, default: []] += kept }
    }
    func flush(_ currentOffsets: [TopicPartition: Int64]) throws {}
    func close(_ partitions: [TopicPartition]) throws {}
    func stop() throws {}
}

@Suite("Error tolerance, dead letter queue and retries on a real broker", .serialized, .timeLimit(.minutes(5)))
struct ErrorHandlingPipelineTests {
    let broker = TansuBroker.shared

    var plugins: PluginRegistry {
        var p = PluginRegistry.builtIn
        p.register(connector: FlakySinkConnector.self, className: FlakySinkConnector.className, type: .sink)
        return p
    }

    func unique(_ base: String) -> String { "\(base)-\(UInt32.random(in: 0...UInt32.max))" }

    func createTopic(_ topic: String) throws {
        let admin = try KafkaAdmin(config: KafkaClientConfig(["bootstrap.servers": broker.bootstrapServers]))
        try admin.createTopics([.init(name: topic, partitions: 1, replicationFactor: 1)])
    }

    /// Produces records (key, value bytes, timestamp) with an `origin` header, waiting for every acknowledgement.
    func produce(_ topic: String, _ records: [(key: String, value: [UInt8], timestamp: Int64)]) throws {
        try TopicWriter.produce(topic, records)
    }

    /// Records read back by the independent Python client.
    func readTopic(_ topic: String, _ n: Int, waitSeconds: Double = 60) throws -> [JSONValue] {
        TopicReader.read(topic, n, waitSeconds: waitSeconds)
    }

    func committed(_ connector: String, _ topic: String) throws -> Int64? {
        let consumer = try KafkaConsumer(
            config: KafkaClientConfig([
                "bootstrap.servers": broker.bootstrapServers, "group.id": "connect-\(connector)",
                "enable.auto.commit": "false",
            ]))
        defer { consumer.close() }
        let c = try consumer.committed([KafkaTopicPartition(topic, 0)])[KafkaTopicPartition(topic, 0)]
        return c.flatMap { $0 >= 0 ? $0 : nil }
    }

    func metric(_ runtime: Connect, _ line: String) -> Double? {
        let text = PrometheusExposition.render(runtime.metrics, process: nil)
        return text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        }
    }

    @Test("scenario 7A: plain JSON and Avro-framed bytes into schemas.enable=true fail fast with a readable trace")
    func failFast() throws {
        let plain = unique("plain-json")
        let avro = unique("avro-framed")
        try createTopic(plain)
        try createTopic(avro)
        let envelope = Array(#"{"schema":{"type":"string","optional":false},"payload":"ok"}"#.utf8)
        try produce(
            plain,
            (0..<3).map { ("k\($0)", envelope, 1_700_000_000_000) } + [
                ("k3", Array(#"{"id":1}"#.utf8), 1_700_000_000_003)
            ] + [("k4", envelope, 1_700_000_000_004)])
        try produce(avro, [("k0", [0, 0, 0, 0, 7, 2, 0x66, 0x6f], 1_700_000_000_000)])
        let dir = try ProjectPaths.temporaryDirectory("failfast")
        func sink(_ name: String, _ topic: String) -> String {
            #"{"name": "\#(name)", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent(name).path)", "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true"}}"#
        }
        let runtime = try WorkerFixture.start([sink("plain-sink", plain), sink("avro-sink", avro)], in: dir)
        defer { runtime.stop() }

        let failed = WorkerFixture.waitForTask(runtime, "plain-sink", "FAILED")
        let trace = failed?.trace ?? ""
        #expect(failed?.state == .failed)
        #expect(
            trace.hasPrefix("org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler"))
        #expect(
            trace.contains(
                "Executing stage 'VALUE_CONVERTER' with class 'org.apache.kafka.connect.json.JsonConverter', where consumed record is {topic='\(plain)', partition=0, offset=3"
            ))
        #expect(trace.contains(#"JsonConverter with schemas.enable requires "schema" and "payload" fields"#))
        #expect(trace.contains("[plain-sink-0]"))
        // Nothing at or past the bad record was committed.
        #expect((try committed("plain-sink", plain) ?? 0) <= 3)
        // The status says what kind of failure it is (an extension field).
        let port = runtime.restServer.boundListeners[0].port
        let status = try WorkerREST.call(port, "GET", "/connectors/plain-sink/status").body
        #expect(
            status.contains(
                #""error":{"class":"serialization","stage":"VALUE_CONVERTER","retriable":false,"fixable_by":"person"}"#),
            "\(status)")

        let avroFailed = WorkerFixture.waitForTask(runtime, "avro-sink", "FAILED")
        #expect(
            avroFailed?.trace?.contains(
                "Converting byte[] to Kafka Connect data failed due to serialization error") == true)
        #expect(avroFailed?.trace?.contains("offset=0") == true)
        #expect((try committed("avro-sink", avro) ?? 0) == 0)
        // As in Connect, a failed task keeps its metrics (its failed status, its error counts) until it is stopped.
        #expect(
            metric(runtime, #"kafka_connect_task_error_metrics_total_record_errors{connector="plain-sink",task="0"}"#)
                == 1)
        #expect(
            metric(
                runtime,
                #"kafka_connect_connector_task_metrics_status_info{connector="plain-sink",task="0",status="failed"}"#)
                == 1)
    }

    @Test("scenario 7B: 10,000 records with 5% malformed, tolerance all and a DLQ with context headers")
    func deadLetterQueue() throws {
        let topic = unique("orders-mixed")
        let dlqTopic = topic + "-dlq"
        try createTopic(topic)
        let n = 10_000
        func isBad(_ i: Int) -> Bool { i % 20 == 7 }
        let records = (0..<n).map { i -> (key: String, value: [UInt8], timestamp: Int64) in
            ("key-\(i)", Array((isBad(i) ? "{not json \(i)" : "\"rec-\(i)\"").utf8), 1_700_000_000_000 + Int64(i))
        }
        try produce(topic, records)
        let dir = try ProjectPaths.temporaryDirectory("dlq")
        let out = dir.appendingPathComponent("sink.txt")
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "dlq-sink", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(out.path)", "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false", "errors.tolerance": "all", "errors.log.enable": "true", "errors.deadletterqueue.topic.name": "\#(dlqTopic)", "errors.deadletterqueue.topic.replication.factor": "1", "errors.deadletterqueue.context.headers.enable": "true"}}"#
            ], in: dir)
        defer { runtime.stop() }

        let good = (0..<n).filter { !isBad($0) }
        var lines: [String] = []
        _ = ProjectPaths.waitUntil(90) {
            lines = ((try? String(contentsOf: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            return lines.count >= good.count
        }
        #expect(lines == good.map { "rec-\($0)" })

        let dead = try readTopic(dlqTopic, n / 20)
        #expect(dead.count == n / 20)
        for r in dead {
            let headers = Dictionary(
                (r["headers"]?.arrayValue ?? []).compactMap { h -> (String, String)? in
                    guard let pair = h.arrayValue, pair.count == 2, let k = pair[0].stringValue else { return nil }
                    return (k, pair[1].stringValue ?? "")
                }, uniquingKeysWith: { a, _ in a })
            guard let offset = headers["__connect.errors.offset"].flatMap(Int.init) else {
                Issue.record("no offset header in \(r)")
                continue
            }
            #expect(isBad(offset))
            #expect(r["key"]?.stringValue == "key-\(offset)")
            #expect(r["value"]?.stringValue == "{not json \(offset)")
            #expect(r["timestamp"]?.intValue == 1_700_000_000_000 + Int64(offset))
            #expect(headers["origin"] == "test")
            #expect(headers["__connect.errors.topic"] == topic)
            #expect(headers["__connect.errors.partition"] == "0")
            #expect(headers["__connect.errors.connector.name"] == "dlq-sink")
            #expect(headers["__connect.errors.task.id"] == "0")
            #expect(headers["__connect.errors.stage"] == "VALUE_CONVERTER")
            #expect(headers["__connect.errors.class.name"] == "org.apache.kafka.connect.json.JsonConverter")
            #expect(
                headers["__connect.errors.exception.class.name"] == "org.apache.kafka.connect.errors.DataException")
            #expect(
                headers["__connect.errors.exception.message"]?.hasPrefix(
                    "Converting byte[] to Kafka Connect data failed due to serialization error") == true)
            #expect(headers["__connect.errors.exception.stacktrace"]?.contains("DataException") == true)
        }
        #expect(Set(dead.compactMap { $0["key"]?.stringValue }) == Set((0..<n).filter(isBad).map { "key-\($0)" }))

        // The counts of the sink, the DLQ and task-error-metrics agree, and everything is committed.
        let task = #"{connector="dlq-sink",task="0"}"#
        _ = ProjectPaths.waitUntil(30) { (try? committed("dlq-sink", topic)) == Int64(n) }
        #expect(try committed("dlq-sink", topic) == Int64(n))
        #expect(metric(runtime, "kafka_connect_task_error_metrics_total_records_skipped" + task) == 500)
        #expect(metric(runtime, "kafka_connect_task_error_metrics_total_record_errors" + task) == 500)
        #expect(metric(runtime, "kafka_connect_task_error_metrics_total_record_failures" + task) == 500)
        #expect(metric(runtime, "kafka_connect_task_error_metrics_deadletterqueue_produce_requests" + task) == 500)
        #expect(metric(runtime, "kafka_connect_task_error_metrics_deadletterqueue_produce_failures" + task) == 0)
        #expect(metric(runtime, "kafka_connect_task_error_metrics_total_errors_logged" + task) == 500)
        #expect((metric(runtime, "kafka_connect_task_error_metrics_last_error_timestamp" + task) ?? 0) > 0)
        #expect(
            metric(
                runtime,
                #"swift_connect_task_errors_total{connector="dlq-sink",task="0",stage="VALUE_CONVERTER",error_class="serialization"}"#
            ) == 500)
        // Rates computed in the worker over the metrics window.
        #expect(
            (metric(
                runtime,
                #"swift_connect_task_errors_rate{connector="dlq-sink",task="0",stage="VALUE_CONVERTER",error_class="serialization"}"#
            ) ?? 0) > 0)
        #expect((metric(runtime, "swift_connect_task_dlq_records_rate" + task) ?? 0) > 0)
        #expect(
            (metric(runtime, #"swift_connect_task_funnel_records_rate{connector="dlq-sink",task="0",stage="put"}"#) ?? 0)
                > 0)
        #expect((try? runtime.herder.taskStatus(ConnectorTaskId("dlq-sink", 0)))?.status.state == .running)
    }

    @Test(
        "a downstream that fails retriably for a while, then recovers, gets every record; errant records go to the DLQ")
    func retriableThenRecovers() throws {
        let topic = unique("flaky")
        try createTopic(topic)
        let values = (0..<40).map { $0 % 10 == 3 ? "poison-\($0)" : "v-\($0)" }
        try produce(
            topic, values.enumerated().map { ("k\($0.offset)", Array("\"\($0.element)\"".utf8), 1_700_000_000_000) })
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "flaky-sink", "config": {"connector.class": "\#(FlakySinkConnector.className)", "topics": "\#(topic)", "flaky.seconds": "8", "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false", "errors.tolerance": "all", "errors.retry.delay.max.ms": "1000", "errors.deadletterqueue.topic.name": "\#(topic)-dlq", "errors.deadletterqueue.topic.replication.factor": "1", "errors.deadletterqueue.context.headers.enable": "true"}}"#
            ], plugins: plugins)
        defer { runtime.stop() }
        var accepted: [String] = []
        _ = ProjectPaths.waitUntil(60) {
            accepted = FlakySinkConnector.accepted.withLock { $0["flaky-sink"] ?? [] }
            return accepted.count >= 36
        }
        #expect(accepted == values.filter { !$0.hasPrefix("poison") })
        let dead = try readTopic(topic + "-dlq", 4)
        #expect(
            Set(dead.compactMap { $0["value"]?.stringValue })
                == Set(values.filter { $0.hasPrefix("poison") }.map { "\"\($0)\"" }))
        for r in dead {
            let headers = (r["headers"]?.arrayValue ?? []).compactMap { h -> (String, String)? in
                guard let pair = h.arrayValue, pair.count == 2, let k = pair[0].stringValue else { return nil }
                return (k, pair[1].stringValue ?? "")
            }
            #expect(headers.contains { $0 == ("__connect.errors.stage", "TASK_PUT") })
            #expect(
                headers.contains { $0 == ("__connect.errors.class.name", "org.apache.kafka.connect.sink.SinkTask") })
        }
        #expect((try? runtime.herder.taskStatus(ConnectorTaskId("flaky-sink", 0)))?.status.state == .running)
        #expect(
            (metric(
                runtime,
                #"swift_connect_task_errors_total{connector="flaky-sink",task="0",stage="TASK_PUT",error_class="network"}"#
            ) ?? 0) > 0)
        _ = ProjectPaths.waitUntil(30) { (try? committed("flaky-sink", topic)) == 40 }
        #expect(try committed("flaky-sink", topic) == 40)
    }

    @Test("a downstream that never recovers fails the task after errors.retry.timeout")
    func retriableNeverRecovers() throws {
        let topic = unique("down")
        try createTopic(topic)
        try produce(topic, [("k", Array("\"v\"".utf8), 1_700_000_000_000)])
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "down-sink", "config": {"connector.class": "\#(FlakySinkConnector.className)", "topics": "\#(topic)", "flaky.seconds": "3600", "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false", "errors.retry.timeout": "2000", "errors.retry.delay.max.ms": "500"}}"#
            ], plugins: plugins)
        defer { runtime.stop() }
        let failed = WorkerFixture.waitForTask(runtime, "down-sink", "FAILED", seconds: 40)
        #expect(failed?.state == .failed)
        #expect(failed?.trace?.contains("errors.retry.timeout=2000") == true, "\(failed?.trace ?? "")")
        #expect(
            failed?.trace?.contains(
                "Caused by: org.apache.kafka.connect.errors.RetriableException: downstream unavailable") == true)
        #expect((try committed("down-sink", topic) ?? 0) == 0)
    }

    @Test(
        "a source transform that fails: tolerance none fails the task, all skips with offsets advancing and the source DLQ"
    )
    func sourceTolerance() throws {
        let topic = unique("src-errors")
        let dlqTopic = topic + "-dlq"
        let dir = try ProjectPaths.temporaryDirectory("source-errors")
        func datagen(_ name: String, _ extra: String, interval: Int = 0) -> String {
            #"{"name": "\#(name)", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "orders", "max.interval": \#(interval), "iterations": 30, "random.seed": 3, "transforms": "pick", "transforms.pick.type": "org.apache.kafka.connect.transforms.ExtractField$Value", "transforms.pick.field": "no_such_field"\#(extra)}}"#
        }
        let runtime = try WorkerFixture.start(
            [
                datagen("src-strict", ""),
                datagen(
                    "src-tolerant",
                    #", "errors.tolerance": "all", "errors.deadletterqueue.source.enable": "true", "errors.deadletterqueue.topic.name": "\#(dlqTopic)", "errors.deadletterqueue.topic.replication.factor": "1", "errors.deadletterqueue.context.headers.enable": "true""#,
                    interval: 300),
            ], in: dir)
        defer { runtime.stop() }
        let strict = WorkerFixture.waitForTask(runtime, "src-strict", "FAILED")
        #expect(strict?.trace?.contains("Tolerance exceeded in error handler") == true)
        #expect(
            strict?.trace?.contains(
                "Executing stage 'TRANSFORMATION' with class 'org.apache.kafka.connect.transforms.ExtractField$Value', where source record is = SourceRecord{"
            ) == true, "\(strict?.trace ?? "")")

        let dead = try readTopic(dlqTopic, 20)
        #expect(dead.count == 20)
        let stages = Set(
            dead.flatMap { r in
                (r["headers"]?.arrayValue ?? []).compactMap { h -> String? in
                    guard let pair = h.arrayValue, pair.count == 2, pair[0].stringValue == "__connect.errors.stage"
                    else { return nil }
                    return pair[1].stringValue
                }
            })
        #expect(stages == ["TRANSFORMATION"])
        #expect(dead.first?["value"]?.stringValue?.contains("\"orderid\"") == true)
        // Read while the task still runs (it stops itself after 30 records, and its metrics go with it).
        let task = #"{connector="src-tolerant",task="0"}"#
        #expect((metric(runtime, "kafka_connect_task_error_metrics_total_records_skipped" + task) ?? 0) >= 20)
        #expect(
            (metric(runtime, "kafka_connect_task_error_metrics_deadletterqueue_produce_requests" + task) ?? 0) >= 20)
        // Skipped records still move the source offsets on.
        let offsets = dir.appendingPathComponent("connect.offsets")
        #expect(
            ProjectPaths.waitUntil(20) {
                ((try? String(contentsOf: offsets, encoding: .utf8)) ?? "").contains(
                    #"["src-tolerant",{"task.id":0}],{"current.iteration":30"#)
            })
        #expect(try readTopic(topic, 1, waitSeconds: 2).isEmpty)
    }

    func restartPolicySink(_ name: String, _ topic: String, fatalSeconds: Int, maxRestarts: Int) -> String {
        #"{"name": "\#(name)", "config": {"connector.class": "\#(FlakySinkConnector.className)", "topics": "\#(topic)", "fatal.seconds": "\#(fatalSeconds)", "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false", "errors.restart.policy": "exponential", "errors.restart.backoff.initial.ms": "500", "errors.restart.backoff.max.ms": "2000", "errors.restart.max.restarts": "\#(maxRestarts)", "errors.restart.window.ms": "60000"}}"#
    }

    @Test("the restart policy restarts a failed task with backoff until it runs, and the history tells the story")
    func restartPolicyRecovers() throws {
        let topic = unique("restarts")
        try createTopic(topic)
        try produce(topic, (0..<10).map { ("k\($0)", Array("\"v\($0)\"".utf8), 1_700_000_000_000) })
        let runtime = try WorkerFixture.start(
            [restartPolicySink("healing-sink", topic, fatalSeconds: 6, maxRestarts: 10)], plugins: plugins)
        defer { runtime.stop() }
        var accepted: [String] = []
        _ = ProjectPaths.waitUntil(60) {
            accepted = FlakySinkConnector.accepted.withLock { $0["healing-sink"] ?? [] }
            return accepted.count >= 10
        }
        #expect(accepted == (0..<10).map { "v\($0)" })
        let id = ConnectorTaskId("healing-sink", 0)
        #expect((try? runtime.herder.taskStatus(id))?.status.state == .running)
        let history = try runtime.herder.taskHistory(id)
        let failure = history.first { $0.kind == .failure }
        #expect(failure?.outcome == "running again")
        #expect(failure?.failure?.errorClass == "downstream")
        #expect(failure?.trace?.contains("downstream rejected the batch") == true)
        #expect(history.filter { $0.kind == .restart }.allSatisfy { $0.reason == "policy" })
        #expect(history.contains { $0.kind == .restart })
        #expect(
            (metric(runtime, #"swift_connect_task_restarts_total{connector="healing-sink",task="0",reason="policy"}"#)
                ?? 0) >= 1)
        let port = runtime.restServer.boundListeners[0].port
        let json = try WorkerREST.call(port, "GET", "/connectors/healing-sink/tasks/0/history").body
        #expect(json.contains(#""kind":"failure""#) && json.contains(#""reason":"policy""#), "\(json)")
    }

    @Test(
        "the restart policy gives up after errors.restart.max.restarts and leaves the task FAILED with the reason; restarts through every REST entry point are counted too"
    )
    func restartPolicyGivesUp() throws {
        let topic = unique("no-restarts")
        try createTopic(topic)
        try produce(topic, [("k", Array("\"v\"".utf8), 1_700_000_000_000)])
        let runtime = try WorkerFixture.start(
            [restartPolicySink("doomed-sink", topic, fatalSeconds: 3600, maxRestarts: 2)], plugins: plugins)
        defer { runtime.stop() }
        let id = ConnectorTaskId("doomed-sink", 0)
        var status: StatusRecord?
        _ = ProjectPaths.waitUntil(60) {
            status = try? runtime.herder.taskStatus(id).status
            return status?.trace?.contains("The restart policy gave up") == true
        }
        #expect(status?.state == .failed)
        #expect(status?.trace?.contains("errors.restart.max.restarts=2") == true)
        let history = try runtime.herder.taskHistory(id)
        #expect(history.first { $0.kind == .failure }?.outcome == "given up")
        #expect(history.first { $0.kind == .failure }?.count == 3)
        #expect(history.filter { $0.kind == .restart }.map(\.count).reduce(0, +) == 2)
        #expect(
            metric(runtime, #"swift_connect_task_restarts_total{connector="doomed-sink",task="0",reason="policy"}"#)
                == 2)

        // A restart through the connector's endpoint (includeTasks) counts as the task's own endpoint does, the
        // FAILED task whose thread has ended included.
        _ = try runtime.herder.restartConnector("doomed-sink", RestartRequest(includeTasks: true, onlyFailed: false))
        #expect(
            ProjectPaths.waitUntil(30) {
                metric(runtime, #"swift_connect_task_restarts_total{connector="doomed-sink",task="0",reason="rest"}"#)
                    == 1
            })
        _ = try runtime.herder.restartConnector("doomed-sink", RestartRequest(includeTasks: true, onlyFailed: true))
        try runtime.herder.restartTask(id)
        #expect(
            ProjectPaths.waitUntil(30) {
                (metric(
                    runtime, #"swift_connect_task_restarts_total{connector="doomed-sink",task="0",reason="rest"}"#)
                    ?? 0) >= 2
            })
    }
}
