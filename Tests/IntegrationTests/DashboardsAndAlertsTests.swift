import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPServer
import JSON
import Testing

/// The shipped `dashboards/` and `alerts/` against a real Prometheus scraping a live worker on the real broker.
@Suite("Shipped dashboards and alerts against a live worker", .serialized, .timeLimit(.minutes(5)))
struct DashboardsAndAlertsTests {
    static let dashboardFiles = ["kafka-connect-overview.json", "kafka-connect-connector.json"]

    static func dashboard(_ file: String) throws -> JSONValue {
        try JSONParser.parse(
            try String(contentsOf: ProjectPaths.root.appendingPathComponent("dashboards/\(file)"), encoding: .utf8))
    }

    /// Every panel, rows' nested panels included.
    static func panels(_ dashboard: JSONValue) -> [JSONValue] {
        (dashboard["panels"]?.arrayValue ?? []).flatMap { [$0] + ($0["panels"]?.arrayValue ?? []) }
    }

    /// The PromQL of every panel target and of every query variable (`label_values(m, l)` as `count by (l) (m)`).
    static func expressions(_ dashboard: JSONValue) -> [(where: String, expr: String)] {
        var out: [(String, String)] = []
        for p in panels(dashboard) {
            for t in p["targets"]?.arrayValue ?? [] {
                out.append(
                    (
                        "panel \"\(p["title"]?.stringValue ?? "")\" \(t["refId"]?.stringValue ?? "")",
                        t["expr"]?.stringValue ?? ""
                    ))
            }
        }
        for v in dashboard["templating"]?["list"]?.arrayValue ?? [] where v["type"]?.stringValue == "query" {
            let q = v["definition"]?.stringValue ?? ""
            if q.hasPrefix("label_values("), q.hasSuffix(")"), let comma = q.lastIndex(of: ",") {
                let metric = q[q.index(q.startIndex, offsetBy: 13)..<comma]
                let label = q[q.index(after: comma)..<q.index(before: q.endIndex)].trimmingCharacters(in: .whitespaces)
                out.append(("variable \(v["name"]?.stringValue ?? "")", "count by (\(label)) (\(metric))"))
            } else {
                out.append(("variable \(v["name"]?.stringValue ?? "")", "unparsed: \(q)"))
            }
        }
        return out
    }

    @Test(
        "the dashboards are well-formed Grafana JSON: unique ids, grid positions, one datasource variable, defined variables"
    )
    func structure() throws {
        var uids = Set<String>()
        for file in Self.dashboardFiles {
            let d = try Self.dashboard(file)
            #expect(d["title"]?.stringValue?.isEmpty == false, "\(file) has a title")
            let uid = d["uid"]?.stringValue ?? ""
            #expect(!uid.isEmpty && uids.insert(uid).inserted, "\(file) has a unique uid")
            #expect((d["schemaVersion"]?.intValue ?? 0) >= 36)
            let variables = d["templating"]?["list"]?.arrayValue ?? []
            let names = variables.compactMap { $0["name"]?.stringValue }
            #expect(Set(names).count == names.count, "\(file): variable names are unique")
            #expect(
                variables.contains {
                    $0["name"] == "datasource" && $0["type"] == "datasource" && $0["query"] == "prometheus"
                },
                "\(file) selects its Prometheus data source with a datasource variable")
            let panels = Self.panels(d)
            #expect(!panels.isEmpty)
            let ids = panels.compactMap { $0["id"]?.intValue }
            #expect(ids.count == panels.count && Set(ids).count == ids.count, "\(file): every panel has a unique id")
            for p in panels {
                let title = p["title"]?.stringValue ?? ""
                let grid = p["gridPos"]
                for key in ["h", "w", "x", "y"] {
                    #expect(grid?[key]?.intValue != nil, "\(file) \(title): gridPos.\(key)")
                }
                #expect(
                    ((grid?["x"]?.intValue ?? 0) + (grid?["w"]?.intValue ?? 99)) <= 24, "\(file) \(title) fits the grid"
                )
                if p["type"] == "row" { continue }
                #expect(
                    ["stat", "timeseries", "table"].contains(p["type"]?.stringValue ?? ""), "\(file) \(title): type")
                let dataSource: JSONValue = ["type": "prometheus", "uid": "${datasource}"]
                #expect(p["datasource"] == dataSource, "\(file) \(title): panel datasource")
                let targets = p["targets"]?.arrayValue ?? []
                #expect(!targets.isEmpty, "\(file) \(title) has queries")
                let refIds = targets.compactMap { $0["refId"]?.stringValue }
                #expect(Set(refIds).count == targets.count, "\(file) \(title): unique refIds")
                for t in targets {
                    #expect(t["datasource"] == dataSource, "\(file) \(title): target datasource")
                    #expect(t["expr"]?.stringValue?.isEmpty == false)
                }
            }
            // Every variable an expression uses is defined (or is one of Grafana's own).
            for (place, expr) in Self.expressions(d) {
                #expect(!expr.hasPrefix("unparsed"), "\(file) \(place): \(expr)")
                var rest = Substring(expr)
                while let dollar = rest.firstIndex(of: "$") {
                    rest = rest[rest.index(after: dollar)...]
                    let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                    #expect(name.hasPrefix("__") || names.contains(name), "\(file) \(place) uses undefined $\(name)")
                }
            }
        }
    }

    /// Grafana's substitutions for a live check: the scrape job, every worker, a one-minute rate window.
    static func substitute(_ expr: String, connector: String) -> String {
        expr.replacingOccurrences(of: "$job", with: "kafka-connect").replacingOccurrences(of: "$instance", with: ".*")
            .replacingOccurrences(of: "$__rate_interval", with: "1m").replacingOccurrences(
                of: "$connector", with: connector)
    }

    @Test(
        "every dashboard query returns data from a live worker, and the shipped alerts fire for a failed task, a stopped sink and a dead letter queue, in time and not before"
    )
    func liveDashboardsAndAlerts() async throws {
        let dir = try ProjectPaths.temporaryDirectory("dashboards")
        let suffix = UInt32.random(in: 0...UInt32.max)
        let topic = "dash-\(suffix)"
        func sink(_ name: String, _ extra: String = "") -> String {
            #"{"name": "\#(name)", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent(name).path)"\#(extra)}}"#
        }
        let jsonKeys = #", "key.converter": "org.apache.kafka.connect.json.JsonConverter""#
        let connectors = ["dash-src", "dash-snk", "dash-lag", "dash-filter", "dash-dlq", "dash-bad"]
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "dash-src", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "max.interval": 20}}"#,
                sink("dash-snk"), sink("dash-lag"),
                sink(
                    "dash-filter",
                    #", "transforms": "drop", "transforms.drop.type": "org.apache.kafka.connect.transforms.Filter""#),
                // Datagen keys are plain text: a JSON key converter fails every record.
                sink(
                    "dash-dlq",
                    jsonKeys
                        + #", "errors.tolerance": "all", "errors.deadletterqueue.topic.name": "\#(topic)-dlq", "errors.deadletterqueue.topic.replication.factor": "1""#
                ),
                sink("dash-bad", jsonKeys),
            ], in: dir)
        defer { runtime.stop() }
        let prometheus = try PrometheusServer(
            scrapeTargets: ["127.0.0.1:\(runtime.restServer.boundListeners[0].port)"],
            ruleFiles: [ProjectPaths.root.appendingPathComponent("alerts/swift-connect.rules.yml").path])
        defer { prometheus.stop() }
        try await prometheus.waitUntilReady()
        let start = Date()
        func seen(_ expr: String) async -> Bool { ((try? await prometheus.query(expr)) ?? []).isEmpty == false }

        // Faults: dash-bad fails by itself; dash-lag is paused once it has caught up, so its lag grows with no
        // progress (verdict STALL or STOP); dash-dlq dead-letters every record. dash-snk is restarted once (restart metrics).
        #expect(
            ProjectPaths.waitUntil(60) {
                (try? runtime.herder.connectorStatus("dash-lag").tasks.first?.status.lag?.records) == 0
            }, "dash-lag catches up before it is paused")
        try runtime.herder.pauseConnector("dash-lag")
        try runtime.herder.restartTask(ConnectorTaskId("dash-snk", 0))

        var firstSeen: [String: Date] = [:]
        var firstPending: [String: Date] = [:]
        var firstFiring: [String: Date] = [:]
        var healthyAlerts: [String] = []
        let facts = [
            "failed": #"kafka_connect_connector_task_metrics_status_info{connector="dash-bad",status="failed"}"#,
            "stopped": #"swift_connect_sink_task_lag_verdict{connector="dash-lag",verdict=~"STALL|STOP"} == 1"#,
            "dlq": #"kafka_connect_task_error_metrics_deadletterqueue_produce_requests{connector="dash-dlq"} > 0"#,
        ]
        let watched = [
            "KafkaConnectTaskFailed/dash-bad", "KafkaConnectSinkStalled/dash-lag",
            "KafkaConnectDeadLetterQueueReceiving/dash-dlq",
        ]
        var dashboards: Task<Void, any Error>?
        while Date().timeIntervalSince(start) < 240 {
            let now = Date()
            for (name, expr) in facts where firstSeen[name] == nil {
                if await seen(expr) { firstSeen[name] = now }
            }
            for alert in try await prometheus.alerts() {
                let key = "\(alert.name)/\(alert.labels["connector"] ?? "")"
                if ["dash-src", "dash-snk", "dash-filter"].contains(alert.labels["connector"] ?? "") {
                    healthyAlerts.append("\(key) \(alert.state)")
                }
                if alert.state == "pending", firstPending[key] == nil { firstPending[key] = now }
                if alert.state == "firing", firstFiring[key] == nil { firstFiring[key] = now }
            }
            // The dashboards, once the worker has run long enough for every series (the restart, the drops, the DLQ).
            // Checked beside this loop, whose one-second look at the faults and alerts the many queries would delay.
            if dashboards == nil && now.timeIntervalSince(start) > 20 {
                dashboards = Task {
                    for file in Self.dashboardFiles {
                        for (place, expr) in Self.expressions(try Self.dashboard(file)) {
                            var answered: [String] = []
                            for c in expr.contains("$connector") ? connectors : ["-"] {
                                let result = try await prometheus.query(Self.substitute(expr, connector: c))
                                if !result.isEmpty { answered.append(c) }
                            }
                            #expect(!answered.isEmpty, "\(file) \(place) returns no series: \(expr)")
                        }
                    }
                }
            }
            if watched.allSatisfy({ firstFiring[$0] != nil }) && dashboards != nil { break }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(dashboards != nil)
        try await dashboards?.value
        #expect(healthyAlerts.isEmpty, "healthy connectors raised alerts: \(Set(healthyAlerts))")

        // Each alert fires after its rule's `for` once the fault is visible, give or take scrape and evaluation
        // intervals, and not before.
        for (key, fact, forSeconds) in [
            ("KafkaConnectTaskFailed/dash-bad", "failed", 60.0), ("KafkaConnectSinkStalled/dash-lag", "stopped", 120.0),
            ("KafkaConnectDeadLetterQueueReceiving/dash-dlq", "dlq", 0.0),
        ] {
            guard let visible = firstSeen[fact] else {
                Issue.record("the fault behind \(key) never showed in Prometheus")
                continue
            }
            guard let firing = firstFiring[key] else {
                Issue.record("\(key) never fired; pending since \(String(describing: firstPending[key]))")
                continue
            }
            let after = firing.timeIntervalSince(visible)
            #expect(
                after >= forSeconds - 5,
                "\(key) fired \(after) s after its fault showed, before its for: \(forSeconds) s")
            #expect(after <= forSeconds + 25, "\(key) fired \(after) s after its fault showed (for: \(forSeconds) s)")
            if forSeconds > 0 { #expect(firstPending[key] != nil, "\(key) was pending before it fired") }
        }
    }
}
