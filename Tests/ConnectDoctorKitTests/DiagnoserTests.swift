import ConnectDoctorKit
import Foundation
import JSON
import Testing

@Suite("Diagnosing a snapshot")
struct DiagnoserTests {
    static let now: Int64 = 1_800_000_000_000

    static func connector(
        _ name: String, state: String = "RUNNING", tasks: [JSONValue], config: JSONObject = [:],
        history: JSONValue? = nil
    ) -> ClusterSnapshot.Connector {
        ClusterSnapshot.Connector(
            name: name,
            status: [
                "name": .string(name), "connector": ["state": .string(state), "worker_id": "w:8083"],
                "tasks": .array(tasks), "type": "sink",
            ],
            info: ["name": .string(name), "config": .object(config), "tasks": [], "type": "sink"], history: history)
    }

    static func task(_ id: Int64, _ state: String, trace: String? = nil, lag: JSONValue? = nil) -> JSONValue {
        var o: JSONObject = ["id": .int(id), "state": .string(state), "worker_id": "w:8083"]
        if let trace { o["trace"] = .string(trace) }
        if let lag { o["lag"] = lag }
        return .object(o)
    }

    static let metrics = """
        # TYPE swift_connect_task_dlq_records_rate gauge
        swift_connect_task_dlq_records_rate{connector="dlq",task="0"} 2.5
        swift_connect_task_dlq_records_rate{connector="ok",task="0"} 0
        kafka_connect_task_error_metrics_deadletterqueue_produce_requests{connector="dlq",task="0"} 150
        swift_connect_task_errors_rate{connector="dlq",task="0",stage="VALUE_CONVERTER",error_class="serialization"} 2.5
        kafka_connect_source_task_metrics_source_record_poll_rate{connector="src",task="0"} 0
        kafka_connect_source_task_metrics_source_record_poll_total{connector="src",task="0"} 10
        kafka_connect_connector_task_metrics_offset_commit_failure_percentage{connector="ok",task="0"} NaN
        kafka_connect_sink_task_metrics_partition_count{connector="ok",task="0"} 3
        swift_connect_metrics_push_failures_total{target="pushgateway"} 0
        """

    func snapshot() -> ClusterSnapshot {
        let restart: JSONValue = [
            "kind": "restart", "count": 3, "reason": "rest", "last_seen_ms": .int(Self.now - 60_000),
        ]
        return ClusterSnapshot(
            takenAtMs: Self.now,
            workers: [
                .init(
                    url: "http://w:8083", root: ["version": "3.9.0"], healthStatus: 200, health: ["status": "healthy"],
                    connectors: [
                        Self.connector(
                            "bad",
                            tasks: [
                                Self.task(
                                    0, "FAILED",
                                    trace:
                                        "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\tat Executing stage 'VALUE_CONVERTER'\nCaused by: org.apache.kafka.connect.errors.DataException: JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields"
                                )
                            ], config: ["value.converter.schemas.enable": "true", "connection.password": "s3cret"]),
                        Self.connector("dlq", tasks: [Self.task(0, "RUNNING")]),
                        Self.connector(
                            "slow",
                            tasks: [Self.task(0, "RUNNING", lag: ["verdict": "STALL", "records": 40, "seconds": 12.5])]),
                        Self.connector("src", tasks: [Self.task(0, "RUNNING")]),
                        Self.connector("idle", state: "PAUSED", tasks: [Self.task(0, "PAUSED")]),
                        Self.connector(
                            "ok", tasks: [Self.task(0, "RUNNING", lag: ["verdict": "OK", "records": 0, "seconds": 0])],
                            history: ["connector": [], "tasks": ["0": [restart]]]),
                    ], metrics: Self.metrics),
                .init(url: "http://w2:8083", error: "Connection refused", connectors: []),
            ])
    }

    @Test("each fault gives its rule, with evidence; healthy things give nothing")
    func findings() throws {
        let report = Diagnoser().diagnose(snapshot())
        let found = Set(report.findings.map { "\($0.rule.id) \($0.subject)" })
        #expect(
            found == [
                "CD-SERDE-001 bad task 0", "CD-WORKER-001 worker http://w2:8083", "CD-LAG-002 slow task 0",
                "CD-DLQ-001 dlq task 0", "CD-ERR-001 dlq task 0", "CD-SRC-001 src task 0",
                "CD-STATE-001 connector idle",
                "CD-TASK-002 ok task 0",
            ])
        #expect(report.exitCode == 2)
        #expect(report.connectors == 6 && report.tasks == 6)
        let serde = try #require(report.findings.first { $0.rule.id == "CD-SERDE-001" })
        #expect(serde.evidence.contains(Evidence(.stage, "VALUE_CONVERTER")))
        #expect(serde.evidence.contains(Evidence(.config, "value.converter.schemas.enable=true")))
        let dlq = try #require(report.findings.first { $0.rule.id == "CD-DLQ-001" })
        #expect(dlq.evidence.map(\.text).contains("deadletterqueue-produce-requests = 150"))
        #expect(dlq.evidence.first?.window != nil, "a rate names its window")
    }

    @Test("explain keeps one connector's findings only")
    func oneConnector() {
        let report = Diagnoser().diagnose(snapshot(), connector: "dlq")
        #expect(Set(report.findings.map(\.rule.id)) == ["CD-DLQ-001", "CD-ERR-001", "CD-WORKER-001"])
        #expect(report.connectors == 1)
    }

    @Test("no worker answering is exit 3; a worker whose /health is not 200 is a finding")
    func unreachable() {
        let none = ClusterSnapshot(
            takenAtMs: Self.now, workers: [.init(url: "http://x", error: "refused", connectors: [])])
        #expect(Diagnoser().diagnose(none).exitCode == 3)
        let starting = ClusterSnapshot(
            takenAtMs: Self.now,
            workers: [
                .init(url: "http://x", root: [:], healthStatus: 503, health: ["message": "starting"], connectors: [])
            ])
        let report = Diagnoser().diagnose(starting)
        #expect(report.findings.map(\.rule.id) == ["CD-WORKER-001"])
        #expect(report.exitCode == 2)
    }

    @Test("a bundle diagnoses to the same findings as the snapshot it was written from, and carries no secret")
    func bundleRoundTrip() throws {
        var live = snapshot()
        live.workers[0].connectors[0].info = ClusterSnapshot.Connector.redacted(live.workers[0].connectors[0].info!)
        let text = live.json
        #expect(!text.contains("s3cret"))
        let offline = try ClusterSnapshot(bundle: text)
        func ids(_ r: Report) -> [String] { r.findings.map { "\($0.rule.id) \($0.subject) \($0.evidence)" } }
        #expect(ids(Diagnoser().diagnose(offline)) == ids(Diagnoser().diagnose(live)))
        #expect(throws: DoctorError.self) { try ClusterSnapshot(bundle: #"{"tool": "other"}"#) }
    }

    @Test("Prometheus text: labels with escapes, NaN, and lookups by labels")
    func prometheusText() {
        let m = PrometheusSamples(
            text: #"a_total{x="1",y="q\"uote"} 3"# + "\n# HELP b x\nb NaN\nc{connector=\"a,b\"} 1e3\n")
        #expect(m.value("a_total", ["y": "q\"uote"]) == 3)
        #expect(m.value("b")?.isNaN == true)
        #expect(m.value("c", ["connector": "a,b"]) == 1000)
        #expect(m.values("missing").isEmpty)
    }
}
