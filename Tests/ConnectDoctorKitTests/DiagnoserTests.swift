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

@Suite("Diagnosing a cluster from its workers' GET /cluster")
struct ClusterDiagnosisTests {
    static let now: Int64 = 1_800_000_000_000

    static func member(_ port: Int, id: String, tasks: [(String, Int64)], leader: Bool = false) -> JSONValue {
        [
            "worker_id": .string("10.0.0.1:\(port)"), "url": .string("http://10.0.0.1:\(port)/"),
            "member_id": .string(id), "leader": .bool(leader), "connectors": [],
            "tasks": .array(tasks.map { ["connector": .string($0.0), "task": .int($0.1)] }),
        ]
    }

    static func view(
        _ members: [JSONValue], waiting: [(String, Int64)] = [], reassignAt: Int64? = nil, partial: String? = nil,
        generation: Int64 = 9
    ) -> JSONValue {
        [
            "mode": "distributed", "generation": .int(generation), "leader_url": "http://10.0.0.1:8083/",
            "workers": .array(members),
            "unassigned": [
                "connectors": [], "tasks": .array(waiting.map { ["connector": .string($0.0), "task": .int($0.1)] }),
                "reassign_at": reassignAt.map { .int($0) } ?? .null,
            ],
            "partial": partial.map { .string($0) } ?? .null,
        ]
    }

    static func worker(
        _ port: Int, cluster: JSONValue?, own: JSONValue? = nil, error: String? = nil
    )
        -> ClusterSnapshot.Worker
    {
        var w = ClusterSnapshot.Worker(
            url: "http://10.0.0.1:\(port)", error: error, root: error == nil ? ["version": "3.9.0"] : nil,
            healthStatus: error == nil ? 200 : nil, connectors: [])
        w.cluster = cluster
        w.ownView = own
        return w
    }

    func diagnose(_ workers: [ClusterSnapshot.Worker]) -> Report {
        Diagnoser().diagnose(ClusterSnapshot(takenAtMs: Self.now, workers: workers))
    }

    @Test("a healthy, balanced cluster has no findings")
    func healthy() {
        let v = Self.view([
            Self.member(8083, id: "m1", tasks: [("a", 0)], leader: true),
            Self.member(8084, id: "m2", tasks: [("a", 1)]),
        ])
        // Own views of the same generation, and one newer (a rebalance the leader's view has not caught yet).
        let own1 = Self.view([Self.member(8083, id: "m1", tasks: [("a", 0)], leader: true)])
        let own2 = Self.view([Self.member(8084, id: "m2", tasks: [("a", 0), ("a", 1)])], generation: 10)
        let r = diagnose([Self.worker(8083, cluster: v, own: own1), Self.worker(8084, cluster: v, own: own2)])
        #expect(r.findings.isEmpty)
        #expect(r.exitCode == 0)
    }

    @Test("work held back for the scheduled rebalance: CD-CLUSTER-001 with when it moves")
    func workWaiting() {
        let v = Self.view(
            [Self.member(8083, id: "m1", tasks: [("a", 0)], leader: true)], waiting: [("a", 1), ("a", 2)],
            reassignAt: Self.now + 42_000)
        let r = diagnose([Self.worker(8083, cluster: v)])
        #expect(r.findings.first?.rule.id == "CD-CLUSTER-001")
        #expect(r.findings.first?.detail?.contains("move to the remaining workers in 42 s") == true)
        #expect(r.exitCode == 1)
    }

    @Test("a member that does not answer at its advertised URL: CD-CLUSTER-003 instead of 'worker unreachable'")
    func advertisedURL() {
        let v = Self.view([
            Self.member(8083, id: "m1", tasks: [("a", 0)], leader: true),
            Self.member(8084, id: "m2", tasks: [("a", 1)]),
        ])
        let r = diagnose([
            Self.worker(8083, cluster: v), Self.worker(8084, cluster: nil, error: "Connection refused"),
        ])
        #expect(r.findings.map(\.rule.id) == ["CD-CLUSTER-003"])
        #expect(r.findings.first?.subject == .worker("http://10.0.0.1:8084/"))
        #expect(r.exitCode == 2)
    }

    @Test("a worker that runs a task the leader gave another, or is no member: CD-CLUSTER-004")
    func zombie() {
        let v = Self.view([
            Self.member(8083, id: "m1", tasks: [("a", 0)], leader: true),
            Self.member(8084, id: "m2", tasks: [("a", 1)]),
        ])
        let stale = Self.view([Self.member(8085, id: "m3", tasks: [("a", 1)])], generation: 7)
        let r = diagnose([Self.worker(8083, cluster: v), Self.worker(8085, cluster: v, own: stale)])
        #expect(r.findings.first?.rule.id == "CD-CLUSTER-004")
        #expect(r.findings.first?.subject == .worker("http://10.0.0.1:8085"))
        #expect(r.findings.first?.detail == "runs a-1, which the leader gave to another worker")
    }

    @Test("one worker with most of the tasks: CD-CLUSTER-002 (info)")
    func skew() {
        let v = Self.view([
            Self.member(8083, id: "m1", tasks: [("a", 0), ("a", 1), ("a", 2), ("a", 3)], leader: true),
            Self.member(8084, id: "m2", tasks: []),
        ])
        let r = diagnose([Self.worker(8083, cluster: v)])
        #expect(r.findings.map(\.rule.id) == ["CD-CLUSTER-002"])
        #expect(r.exitCode == 0)
    }

    static func withProtocols(_ view: JSONValue, group: String, configured: String) -> JSONValue {
        guard var o = view.objectValue else { return view }
        o["protocol"] = .string(group)
        o["configured_protocol"] = .string(configured)
        return .object(o)
    }

    @Test(
        "workers set to different connect.protocol values: CD-CLUSTER-006, from their own views (Kafka's eager fallback) and from a refused worker's /health"
    )
    func protocolMismatch() {
        let members = [
            Self.member(8083, id: "m1", tasks: [("a", 0)], leader: true),
            Self.member(8084, id: "m2", tasks: [("a", 1)]),
        ]
        // Apache Kafka runs the group on the protocol both offer: eager.
        let r = diagnose([
            Self.worker(
                8083, cluster: Self.withProtocols(Self.view(members), group: "eager", configured: "sessioned"),
                own: Self.withProtocols(Self.view([members[0]]), group: "eager", configured: "sessioned")),
            Self.worker(
                8084, cluster: Self.withProtocols(Self.view(members), group: "eager", configured: "sessioned"),
                own: Self.withProtocols(Self.view([members[1]]), group: "eager", configured: "eager")),
        ])
        #expect(r.findings.map(\.rule.id) == ["CD-CLUSTER-006"])
        #expect(r.findings.first?.subject == .worker("http://10.0.0.1:8084"))
        #expect(r.findings.first?.detail?.contains("(eager, sessioned)") == true)
        #expect(r.exitCode == 2)
        // Alike: nothing; a follower's full view carries the leader's setting, not its own: no difference made up.
        let alike = diagnose([
            Self.worker(
                8083, cluster: Self.withProtocols(Self.view(members), group: "sessioned", configured: "sessioned")),
            Self.worker(
                8084, cluster: Self.withProtocols(Self.view(members), group: "sessioned", configured: "eager")),
        ])
        #expect(alike.findings.isEmpty)
        // Compatible and sessioned workers: the group runs compatible.
        let mixed = diagnose([
            Self.worker(
                8083, cluster: Self.withProtocols(Self.view(members), group: "compatible", configured: "sessioned"),
                own: Self.withProtocols(Self.view([members[0]]), group: "compatible", configured: "sessioned")),
            Self.worker(
                8084, cluster: Self.withProtocols(Self.view(members), group: "compatible", configured: "sessioned"),
                own: Self.withProtocols(Self.view([members[1]]), group: "compatible", configured: "compatible")),
        ])
        #expect(mixed.findings.map(\.rule.id) == ["CD-CLUSTER-006"])
        #expect(mixed.findings.first?.subject == .worker("http://10.0.0.1:8084"))
        // A broker that refuses the odd worker: its /health 500 names the refused protocol.
        var refused = Self.worker(8085, cluster: nil)
        refused.healthStatus = 500
        refused.health = [
            "status": "unhealthy",
            "message":
                "Could not join group g: INCONSISTENT_GROUP_PROTOCOL. The workers of the group offer no protocol in common: this worker offers [\"default\"] (connect.protocol=eager); set connect.protocol alike on every worker",
        ]
        let r2 = diagnose([Self.worker(8083, cluster: Self.view(members)), refused])
        #expect(r2.findings.map(\.rule.id) == ["CD-CLUSTER-006"])
        #expect(r2.findings.first?.subject == .worker("http://10.0.0.1:8085"))
        // A /health message with no cluster cause stays "not ready".
        refused.health = ["status": "starting", "message": "Worker is still starting up: request timed out"]
        #expect(diagnose([refused]).findings.map(\.rule.id) == ["CD-WORKER-001"])
    }

    @Test("the workers' group keeps losing and gaining members: CD-REBAL-001 from the leader's rebalance causes")
    func workerRebalanceStorm() {
        func metrics(join: Int, leave: Int, timeout: Int, configChange: Int, startedSecondsAgo: Int64) -> String {
            """
            process_start_time_seconds \(Self.now / 1000 - startedSecondsAgo)
            swift_connect_cluster_rebalances_total{cause="join"} \(join)
            swift_connect_cluster_rebalances_total{cause="leave"} \(leave)
            swift_connect_cluster_rebalances_total{cause="timeout"} \(timeout)
            swift_connect_cluster_rebalances_total{cause="config_change"} \(configChange)

            """
        }
        func findings(_ text: String) -> [String] {
            var w = Self.worker(8083, cluster: nil)
            w.metrics = text
            return diagnose([w]).findings.map(\.rule.id)
        }
        // Eleven membership changes in five minutes: a storm.
        #expect(
            findings(metrics(join: 5, leave: 4, timeout: 2, configChange: 0, startedSecondsAgo: 300)) == [
                "CD-REBAL-001"
            ])
        // Ten, or many config changes: not one.
        #expect(findings(metrics(join: 5, leave: 3, timeout: 2, configChange: 40, startedSecondsAgo: 300)).isEmpty)
        // Eleven over a day: a trickle.
        #expect(findings(metrics(join: 5, leave: 4, timeout: 2, configChange: 0, startedSecondsAgo: 86_400)).isEmpty)
    }
}

@Suite("A sink that is idle or still joining is not a finding")
struct QuietSinkTests {
    func findings(_ metrics: String) -> [String] {
        var w = ClusterDiagnosisTests.worker(8083, cluster: nil)
        w.connectors = [
            ClusterSnapshot.Connector(
                name: "snk",
                status: [
                    "name": "snk", "connector": ["state": "RUNNING", "worker_id": "10.0.0.1:8083"],
                    "tasks": [["id": 0, "state": "RUNNING", "worker_id": "10.0.0.1:8083"]], "type": "sink",
                ], info: nil, history: nil)
        ]
        w.metrics = metrics
        return Diagnoser().diagnose(ClusterSnapshot(takenAtMs: ClusterDiagnosisTests.now, workers: [w])).findings.map(
            \.rule.id)
    }

    @Test("a sink that read nothing for a minute: stuck (CD-LAG-002) only with records not committed, or lag unknown")
    func idleSink() {
        let base = """
            kafka_connect_sink_task_metrics_partition_count{connector="snk",task="0"} 1
            swift_connect_task_time_since_last_poll_seconds{connector="snk",task="0"} 60

            """
        #expect(
            findings(
                base
                    + #"swift_connect_sink_partition_lag_records{connector="snk",task="0",topic="t",partition="0"} 0"#
            )
            .isEmpty)
        #expect(
            findings(
                base
                    + #"swift_connect_sink_partition_lag_records{connector="snk",task="0",topic="t",partition="0"} 5"#
            )
                == ["CD-LAG-002"])
        #expect(findings(base) == ["CD-LAG-002"])
    }

    @Test(
        "a sink without partitions: CD-TOPIC-002 only once its consumer reports and its last join is 30 s old (issue: 8 s after a create)"
    )
    func joiningSink() {
        func metrics(rebalances: String, ago: String) -> String {
            """
            kafka_connect_sink_task_metrics_partition_count{connector="snk",task="0"} 0
            kafka_consumer_consumer_coordinator_metrics_rebalance_total{client_id="connector-consumer-snk-0"} \(rebalances)
            kafka_consumer_consumer_coordinator_metrics_last_rebalance_seconds_ago{client_id="connector-consumer-snk-0"} \(ago)

            """
        }
        #expect(findings(metrics(rebalances: "NaN", ago: "NaN")).isEmpty)
        // A task just created: its consumer has published no group metrics yet.
        #expect(
            findings(#"kafka_connect_sink_task_metrics_partition_count{connector="snk",task="0"} 0"# + "\n").isEmpty)
        #expect(findings(metrics(rebalances: "0", ago: "NaN")).isEmpty)
        #expect(findings(metrics(rebalances: "1", ago: "4")).isEmpty)
        #expect(findings(metrics(rebalances: "1", ago: "45")) == ["CD-TOPIC-002"])
        // Never joined, because the topic does not exist: a finding once the consumer is 30 s old (a source may be
        // about to create the topic), or at once without the age (Apache Kafka Connect's metrics).
        #expect(
            findings(
                metrics(rebalances: "0", ago: "NaN")
                    + #"kafka_consumer_consumer_metrics_client_age_seconds{client_id="connector-consumer-snk-0"} 4"#
                    + "\n"
                    + #"kafka_consumer_consumer_metrics_last_error_info{client_id="connector-consumer-snk-0",last_error="UNKNOWN_TOPIC_OR_PART: Subscribed topic not available"} 1"#
            ).isEmpty)
        #expect(
            findings(
                metrics(rebalances: "0", ago: "NaN")
                    + #"kafka_consumer_consumer_metrics_last_error_info{client_id="connector-consumer-snk-0",last_error="UNKNOWN_TOPIC_OR_PART: Subscribed topic not available: nope: Broker: Unknown topic or partition"} 1"#
            ) == ["CD-TOPIC-002"])
    }
}

@Suite("connect-doctor trace: a distributed worker that refused to start")
struct ClusterTraceTests {
    @Test("a misconfigured internal topic, in the worker's log as Connect and Swift Connect word it: CD-CLUSTER-005")
    func internalTopic() {
        let classifier = TraceClassifier()
        for text in [
            "[2026-12-01 02:00:00,000] ERROR [Worker clientId=connect-1, groupId=connect-cluster] Uncaught exception in herder work thread, exiting:  (org.apache.kafka.connect.runtime.distributed.DistributedHerder:385)\norg.apache.kafka.common.config.ConfigException: Topic 'connect-offsets' supplied via the 'offset.storage.topic' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of source connector offsets, but found the topic currently has 'cleanup.policy=delete'.",
            "ERROR connect-worker: Topic 'connect-configs' supplied via the 'config.storage.topic' property is required to have a single partition in order to guarantee consistency of connector configurations, but found 3 partitions.",
        ] {
            let f = classifier.finding(trace: text, subject: .worker("http://127.0.0.1:8083"))
            #expect(f.rule.id == "CD-CLUSTER-005", "\(text)")
            #expect(f.rule.severity == .critical)
        }
    }

    @Test(
        "a sink consumer refused by its group (another partition.assignment.strategy) is not a worker protocol finding")
    func sinkInconsistentProtocol() {
        let trace = """
            org.apache.kafka.common.errors.InconsistentGroupProtocolException: The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list.
            \tat org.apache.kafka.clients.consumer.internals.AbstractCoordinator$JoinGroupResponseHandler.handle(AbstractCoordinator.java:630)
            \tat org.apache.kafka.connect.runtime.WorkerSinkTask.poll(WorkerSinkTask.java:321)
            """
        let f = TraceClassifier().finding(trace: trace, subject: .task("snk", 0))
        #expect(f.rule.id != "CD-CLUSTER-006")
    }

    @Test("a source that polls nothing is stalled unless it reports having nothing left on its system")
    func idleCaughtUpSource() {
        func findings(_ behind: String) -> Set<String> {
            let metrics = """
                kafka_connect_source_task_metrics_source_record_poll_rate{connector="cdc",task="0"} 0
                kafka_connect_source_task_metrics_source_record_poll_total{connector="cdc",task="0"} 42
                \(behind)
                """
            let snapshot = ClusterSnapshot(
                takenAtMs: DiagnoserTests.now,
                workers: [
                    .init(
                        url: "http://w:8083", root: ["version": "3.9.0"], healthStatus: 200,
                        health: ["status": "healthy"],
                        connectors: [DiagnoserTests.connector("cdc", tasks: [DiagnoserTests.task(0, "RUNNING")])],
                        metrics: metrics)
                ])
            return Set(Diagnoser().diagnose(snapshot).findings.map(\.rule.id))
        }
        #expect(
            !findings(#"swift_connect_source_task_behind_source_bytes{connector="cdc",task="0"} 240"#).contains(
                "CD-SRC-001"))
        #expect(
            findings(#"swift_connect_source_task_behind_source_bytes{connector="cdc",task="0"} 9e8"#).contains(
                "CD-SRC-001"))
        #expect(
            findings(#"swift_connect_source_task_behind_source_bytes{connector="cdc",task="0"} NaN"#).contains(
                "CD-SRC-001"))
        #expect(
            !findings(#"swift_connect_source_task_behind_source_records{connector="cdc",task="0"} 0"#).contains(
                "CD-SRC-001"))
    }
}
