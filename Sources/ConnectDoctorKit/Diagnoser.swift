import Foundation
import JSON

/// Turns a snapshot into findings: workers that do not answer, failed connectors and tasks (their traces classified),
/// paused connectors, lag verdicts, restart storms from the failure history, and the rates and ratios of `/metrics`.
public struct Diagnoser: Sendable {
    public let catalogue: RuleCatalogue
    let classifier: TraceClassifier

    public init(catalogue: RuleCatalogue = .builtIn) {
        self.catalogue = catalogue
        classifier = TraceClassifier(catalogue: catalogue)
    }

    /// The window the worker's own rates cover.
    static let rateWindow = "metrics window: metrics.sample.window.ms x metrics.num.samples"

    /// Every finding of the snapshot; `connector` keeps only those about one connector (`explain`).
    public func diagnose(_ snapshot: ClusterSnapshot, connector only: String? = nil) -> Report {
        var findings: [Finding] = []
        let answered = snapshot.workers.filter { $0.error == nil }
        for w in snapshot.workers {
            if let error = w.error {
                findings.append(signal("worker_unreachable", .worker(w.url), [Evidence(.http, error)], detail: error))
            } else if let incomplete = w.incomplete, w.healthStatus == nil || w.healthStatus == 200 {
                findings.append(
                    signal(
                        "worker_unreachable", .worker(w.url), [Evidence(.http, incomplete)],
                        detail: "answers GET / but not every request: \(incomplete)"))
            } else if let status = w.healthStatus, status != 200 {
                let message = w.health?["message"]?.stringValue ?? w.health.map(JSONWriter.string) ?? ""
                var finding = signal(
                    "worker_unreachable", .worker(w.url),
                    [Evidence(.http, "GET /health answered \(status) \(message)")],
                    detail: "not ready: \(message)")
                // The message may name a cluster cause (a refused group protocol): that rule speaks.
                if let match = classifier.classify(TraceAnalysis(message)), match.rule.category == "cluster" {
                    finding.rule = match.rule
                    finding.confidence = match.confidence
                }
                findings.append(finding)
            }
        }
        // Every worker lists every connector of a distributed cluster: take each once.
        var seen = Set<String>()
        var connectors: [ClusterSnapshot.Connector] = []
        for w in answered {
            for c in w.connectors where seen.insert(c.name).inserted && (only == nil || c.name == only) {
                connectors.append(c)
            }
        }
        var taskStates: [String: String] = [:]
        var failedTasks = Set<String>()
        var taskCount = 0
        for c in connectors {
            findings += connectorFindings(c, now: snapshot.takenAtMs)
            for t in c.status["tasks"]?.arrayValue ?? [] {
                guard let id = t["id"]?.intValue else { continue }
                taskCount += 1
                let key = "\(c.name)\u{1}\(id)"
                taskStates[key] = t["state"]?.stringValue
                if t["state"]?.stringValue == "FAILED" { failedTasks.insert(key) }
            }
        }
        // CDC connectors by the server name their Debezium metrics carry (`topic.prefix`, or 1.x's
        // `database.server.name`); only Debezium's classes (a JDBC source has a `topic.prefix` too).
        var cdcServers: [String: String] = [:]
        for c in connectors {
            let config = c.info?["config"]?.objectValue
            guard config?["connector.class"]?.stringValue?.hasPrefix("io.debezium.") == true else { continue }
            if let server = config?["topic.prefix"]?.stringValue ?? config?["database.server.name"]?.stringValue {
                cdcServers[server] = c.name
            }
        }
        for w in answered {
            guard let text = w.metrics else { continue }
            findings += metricFindings(
                PrometheusSamples(text: text), worker: w.url, now: snapshot.takenAtMs, states: taskStates,
                failed: failedTasks, only: only, cdcServers: cdcServers)
        }
        if only == nil { findings = Self.clusterFindings(snapshot, findings, self) }
        if only == nil {
            findings = findings.filter { $0.subject.connector == nil || seen.contains($0.subject.connector!) }
        }
        findings = Self.mergingSymptoms(findings)
        return Report(
            target: snapshot.workers.map(\.url), findings: findings, reachable: !answered.isEmpty,
            connectors: connectors.count, tasks: taskCount)
    }

    // MARK: - Cluster (`GET /cluster`, a Swift Connect extension)

    /// Findings about the group from the workers' cluster views: work held back for the scheduled rebalance, a
    /// member that does not answer at its advertised URL (it replaces that URL's "unreachable" finding: the worker
    /// is alive, its address is wrong), a worker that still runs what the leader gave another (a zombie), and an
    /// uneven assignment.
    static func clusterFindings(_ snapshot: ClusterSnapshot, _ findings: [Finding], _ d: Diagnoser) -> [Finding] {
        var out = findings
        let answered = snapshot.workers.filter { $0.error == nil }
        let views = answered.compactMap(\.cluster).filter { $0["mode"]?.stringValue == "distributed" }
        // The leader's full view, a settled one (no rebalance under way) of the newest generation when several
        // workers forwarded it at different moments; else a partial one (the leader did not answer).
        func newest(_ a: JSONValue, _ b: JSONValue) -> Bool {
            (a["generation"]?.intValue ?? -1) < (b["generation"]?.intValue ?? -1)
        }
        let full = views.filter { $0["partial"]?.stringValue == nil }
        guard
            let view = full.filter({ $0["rebalancing"]?.boolValue != true }).max(by: newest) ?? full.max(by: newest)
                ?? views.first
        else { return out }
        let leaderURL = view["leader_url"]?.stringValue ?? ""
        let subject = Subject.worker(leaderURL.isEmpty ? (answered.first?.url ?? "") : leaderURL)
        func key(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
        func tasks(_ v: JSONValue?) -> [String] {
            (v?.arrayValue ?? []).compactMap { t in
                guard let c = t["connector"]?.stringValue, let n = t["task"]?.intValue else { return nil }
                return "\(c)-\(n)"
            }
        }

        // Work held back, or a leader that does not answer.
        let waitingTasks = tasks(view["unassigned"]?["tasks"])
        let waitingConnectors = (view["unassigned"]?["connectors"]?.arrayValue ?? []).compactMap(\.stringValue)
        if let partial = view["partial"]?.stringValue {
            out.append(
                d.signal(
                    "work_waiting", subject, [Evidence(.http, "GET /cluster: \(partial)")],
                    detail: "the leader \(leaderURL) does not answer: a rebalance elects another once its session ends")
            )
        } else if let at = view["unassigned"]?["reassign_at"]?.intValue,
            !waitingTasks.isEmpty || !waitingConnectors.isEmpty
        {
            let seconds = max(0, (at - snapshot.takenAtMs) / 1000)
            let what = (waitingConnectors.map { "connector \($0)" } + waitingTasks.map { "task \($0)" })
            out.append(
                d.signal(
                    "work_waiting", subject,
                    [Evidence(.http, "GET /cluster: unassigned \(what.joined(separator: ", ")), reassign_at \(at)")],
                    detail:
                        "\(what.count) held back for the scheduled rebalance; they move to the remaining workers in \(seconds) s (at \(isoTime(at)))"
                ))
        }

        // Members that do not answer at their advertised URL.
        let members = view["workers"]?.arrayValue ?? []
        let failed = Dictionary(
            snapshot.workers.compactMap { w in w.error.map { (key(w.url), $0) } }, uniquingKeysWith: { a, _ in a })
        var wrongURLs = Set<String>()
        let settled = view["rebalancing"]?.boolValue != true && view["partial"]?.stringValue == nil
        for m in members where settled {
            guard let url = m["url"]?.stringValue, let error = failed[key(url)] else { continue }
            wrongURLs.insert(key(url))
            out.append(
                d.signal(
                    "advertised_url_unreachable", .worker(url),
                    [
                        Evidence(
                            .http,
                            "member \(m["member_id"]?.stringValue ?? "?") of generation \(view["generation"]?.intValue ?? -1) advertises \(url)"
                        ), Evidence(.http, error),
                    ],
                    detail:
                        "a member of the group (it heartbeats) that does not answer at its advertised URL from here (or it stopped less than session.timeout.ms ago)"
                ))
        }
        out.removeAll { $0.rule.signal == "worker_unreachable" && wrongURLs.contains(key($0.subject.workerURL ?? "")) }

        // Zombies: a worker whose own view is of an older generation than the leader's and runs what the leader's
        // gives another, or is no member at all (a newer own view is a rebalance the leader's view has not caught).
        let leaderGeneration = view["generation"]?.intValue ?? -1
        if settled {
            var owner: [String: String] = [:]
            for m in members {
                for t in tasks(m["tasks"]) { owner[t] = m["member_id"]?.stringValue }
                for c in (m["connectors"]?.arrayValue ?? []).compactMap(\.stringValue) {
                    owner["connector " + c] = m["member_id"]?.stringValue
                }
            }
            let memberIds = Set(members.compactMap { $0["member_id"]?.stringValue })
            for w in answered {
                guard let own = w.ownView?["workers"]?.arrayValue?.first, let id = own["member_id"]?.stringValue,
                    (w.ownView?["generation"]?.intValue ?? -1) < leaderGeneration
                else { continue }
                let runs =
                    tasks(own["tasks"])
                    + (own["connectors"]?.arrayValue ?? []).compactMap(\.stringValue).map { "connector " + $0 }
                let elsewhere = runs.filter { owner[$0] != nil && owner[$0] != id }
                let notMember = !id.isEmpty && !memberIds.contains(id) && !runs.isEmpty
                guard !elsewhere.isEmpty || notMember else { continue }
                let generation = w.ownView?["generation"]?.intValue.map(String.init) ?? "none"
                out.append(
                    d.signal(
                        "zombie", .worker(w.url),
                        [
                            Evidence(
                                .http,
                                "GET /cluster?scope=worker: member \(id) at generation \(generation) runs \(runs.joined(separator: ", "))"
                            ),
                            Evidence(
                                .http,
                                "the leader's generation \(view["generation"]?.intValue ?? -1) "
                                    + (elsewhere.isEmpty
                                        ? "has no member \(id)"
                                        : "gives \(elsewhere.joined(separator: ", ")) to others")),
                        ],
                        detail: elsewhere.isEmpty
                            ? "runs \(runs.count) connectors and tasks without being a member of the group"
                            : "runs \(elsewhere.joined(separator: ", ")), which the leader gave to another worker"))
            }
        }

        // Workers set to different connect.protocol values: the group runs a protocol they all offer. Each worker's
        // own setting is in its own view (a follower's full view is the leader's).
        let configured = answered.compactMap { w -> (String, String)? in
            guard let p = w.ownView?["configured_protocol"]?.stringValue else { return nil }
            return (w.url, p)
        }
        let groupProtocol = view["protocol"]?.stringValue
        let protocols = Set(configured.map(\.1))
        if protocols.count > 1 || (groupProtocol == "eager" && protocols.contains { $0 != "eager" }) {
            let subjectURL = configured.first { $0.1 == groupProtocol }?.0 ?? subject.workerURL ?? ""
            out.append(
                d.signal(
                    "protocol_mismatch", .worker(subjectURL),
                    configured.map { Evidence(.http, "\($0.0) connect.protocol=\($0.1)") }
                        + [Evidence(.http, "GET /cluster: the group runs \(groupProtocol ?? "?")")],
                    detail:
                        "the workers' connect.protocol settings differ (\(protocols.sorted().joined(separator: ", "))); the group runs \(groupProtocol ?? "?"), one they all offer"
                ))
        }

        // Skew: tasks on the busiest worker against the least busy one.
        let counts = members.map { tasks($0["tasks"]).count }
        if members.count > 1, let most = counts.max(), let least = counts.min(), most - least >= 3 {
            let busiest = members[counts.firstIndex(of: most)!]["url"]?.stringValue ?? "?"
            out.append(
                d.signal(
                    "assignment_skew", .worker(busiest),
                    [
                        Evidence(
                            .http,
                            "GET /cluster: tasks per worker "
                                + members.map { "\($0["worker_id"]?.stringValue ?? "?")=\(tasks($0["tasks"]).count)" }
                                .joined(separator: ", "))
                    ],
                    detail: "runs \(most) tasks while another worker runs \(least)"))
        }
        return out
    }

    static func isoTime(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// A task whose offset commits fail also shows no commit progress; the stalled lag is that failure's symptom,
    /// so it becomes evidence of the commit finding instead of a finding of its own. Likewise a stalled sink that
    /// stopped polling is reported once.
    static func mergingSymptoms(_ findings: [Finding]) -> [Finding] {
        var out = findings
        for (i, f) in out.enumerated() where f.rule.signal == "commit_failures" {
            let symptoms = out.indices.filter { out[$0].rule.signal == "lag_stalled" && out[$0].subject == f.subject }
            out[i].evidence += symptoms.flatMap { out[$0].evidence }
            for j in symptoms.reversed() { out.remove(at: j) }
        }
        var seen = Set<String>()
        return out.filter { f in
            guard f.rule.signal == "lag_stalled" || f.rule.signal == "source_stalled" else { return true }
            return seen.insert("\(f.rule.id) \(f.subject)").inserted
        }
    }

    /// The task a client belongs to, from Connect's client ids `connector-producer-<connector>-<task>` and
    /// `connector-consumer-<connector>-<task>`.
    static func taskSubject(clientId: String) -> Subject? {
        for prefix in ["connector-producer-", "connector-consumer-"] where clientId.hasPrefix(prefix) {
            let rest = clientId.dropFirst(prefix.count)
            guard let dash = rest.lastIndex(of: "-"), let task = Int(rest[rest.index(after: dash)...]) else {
                return nil
            }
            return .task(String(rest[..<dash]), task)
        }
        return nil
    }

    func signal(_ name: String, _ subject: Subject, _ evidence: [Evidence], detail: String? = nil) -> Finding {
        let rule = catalogue.rule(signal: name)!
        return Finding(rule: rule, subject: subject, evidence: evidence, confidence: rule.confidence, detail: detail)
    }

    // MARK: - Status and history

    func connectorFindings(_ c: ClusterSnapshot.Connector, now: Int64) -> [Finding] {
        var out: [Finding] = []
        let config = c.info?["config"]?.objectValue ?? JSONObject()
        let state = c.status["connector"]?["state"]?.stringValue ?? ""
        switch state {
        case "FAILED":
            var f = classifier.finding(
                trace: c.status["connector"]?["trace"]?.stringValue ?? "", subject: .connector(c.name))
            f.evidence.insert(Evidence(.status, "connector \(c.name) is FAILED"), at: 0)
            f.evidence += configEvidence(f, config)
            out.append(f)
        case "PAUSED", "STOPPED":
            out.append(
                signal("paused", .connector(c.name), [Evidence(.status, "connector \(c.name) is \(state)")]))
            return out
        default: break
        }
        for t in c.status["tasks"]?.arrayValue ?? [] {
            guard let id = t["id"]?.intValue.map(Int.init) else { continue }
            let subject = Subject.task(c.name, id)
            let taskState = t["state"]?.stringValue ?? ""
            if taskState == "FAILED" {
                var f = classifier.finding(trace: t["trace"]?.stringValue ?? "", subject: subject)
                f.evidence.insert(
                    Evidence(.status, "task \(c.name)-\(id) is FAILED on \(t["worker_id"]?.stringValue ?? "?")"), at: 0)
                f.evidence += configEvidence(f, config)
                out.append(f)
                continue
            }
            guard taskState == "RUNNING", let lag = t["lag"], let verdict = lag["verdict"]?.stringValue else {
                continue
            }
            let lagText =
                "lag verdict \(verdict): \(lag["records"].map(JSONWriter.string) ?? "?") records, "
                + "\(lag["seconds"].map(JSONWriter.string) ?? "?") s behind"
            if verdict == "WARN" {
                out.append(signal("lag_warn", subject, [Evidence(.status, lagText)], detail: lagText))
            } else if verdict == "STALL" || verdict == "STOP" {
                out.append(signal("lag_stalled", subject, [Evidence(.status, lagText)], detail: lagText))
            }
        }
        // Restarts in the last fifteen minutes, from the failure history.
        for (task, entries) in c.history?["tasks"]?.objectValue ?? JSONObject() {
            let recent = (entries.arrayValue ?? []).filter {
                $0["kind"]?.stringValue == "restart" && ($0["last_seen_ms"]?.intValue ?? 0) >= now - 15 * 60_000
            }
            let restarts = recent.reduce(0) { $0 + Int($1["count"]?.intValue ?? 1) }
            guard restarts >= 3, let id = Int(task) else { continue }
            let reasons = Set(recent.compactMap { $0["reason"]?.stringValue }).sorted().joined(separator: ", ")
            out.append(
                signal(
                    "restart_storm", .task(c.name, id),
                    [Evidence(.history, "\(restarts) restarts (\(reasons))", window: "last 15 min")],
                    detail: "\(restarts) restarts in 15 minutes"))
        }
        return out
    }

    /// The connector's values of the keys a rule names, or that they are unset (the worker's default applies); for
    /// a converter failure, only the keys of the converter that failed (key or value).
    func configEvidence(_ f: Finding, _ config: JSONObject) -> [Evidence] {
        let stage = f.evidence.first { $0.kind == .stage }?.text
        let side = stage == "KEY_CONVERTER" ? "key." : stage == "VALUE_CONVERTER" ? "value." : nil
        return f.rule.configKeys.compactMap { key in
            if let side, key.hasPrefix("key.") || key.hasPrefix("value."), !key.hasPrefix(side) { return nil }
            if let v = config[key]?.stringValue { return Evidence(.config, "\(key)=\(v)") }
            if key.hasSuffix("converter") || key.hasSuffix("schemas.enable") {
                return Evidence(.config, "\(key) not set on the connector: the worker's default applies")
            }
            return nil
        }
    }

    // MARK: - Metrics

    /// WAL an inactive replication slot may hold back before it is a finding: eight 16 MiB segments.
    static let inactiveSlotWalBytes: Double = 128 * 1_048_576
    /// Log a source may have left to read and still count as caught up: one 16 MiB WAL segment (a slot's
    /// `restart_lsn` trails the server a little even when idle).
    static let idleSourceBytes: Double = 16 * 1_048_576

    func metricFindings(
        _ m: PrometheusSamples, worker: String, now: Int64, states: [String: String], failed: Set<String>,
        only: String?, cdcServers: [String: String] = [:]
    ) -> [Finding] {
        var out: [Finding] = []
        func subject(_ s: PrometheusSamples.Sample) -> Subject? {
            guard let c = s.labels["connector"], only == nil || c == only else { return nil }
            if let t = s.labels["task"].flatMap({ Int($0) }) { return .task(c, t) }
            return .connector(c)
        }
        func key(_ s: Subject) -> String { "\(s.connector ?? "")\u{1}\(s.task ?? -1)" }
        func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.3g", v) }

        for s in m.values("swift_connect_task_dlq_records_rate") where s.value > 0 {
            guard let subj = subject(s) else { continue }
            var evidence = [
                Evidence(.metric, "swift_connect_task_dlq_records_rate = \(number(s.value))/s", window: Self.rateWindow)
            ]
            if let total = m.value(
                "kafka_connect_task_error_metrics_deadletterqueue_produce_requests",
                s.labels.filter { $0.key == "connector" || $0.key == "task" })
            {
                evidence.append(Evidence(.metric, "deadletterqueue-produce-requests = \(number(total))"))
            }
            out.append(
                signal("dlq_rate", subj, evidence, detail: "\(number(s.value)) records/s to the dead letter queue"))
        }
        var errorRates: [String: (Subject, Double, [String])] = [:]
        for s in m.values("swift_connect_task_errors_rate") where s.value > 0 {
            guard let subj = subject(s), !failed.contains(key(subj)) else { continue }
            var e = errorRates[key(subj)] ?? (subj, 0, [])
            e.1 += s.value
            e.2.append("\(s.labels["stage"] ?? "?")/\(s.labels["error_class"] ?? "?") \(number(s.value))/s")
            errorRates[key(subj)] = e
        }
        for (_, (subj, rate, parts)) in errorRates.sorted(by: { $0.key < $1.key }) where rate > 1 {
            out.append(
                signal(
                    "error_rate", subj,
                    [
                        Evidence(
                            .metric, "swift_connect_task_errors_rate = \(parts.joined(separator: ", "))",
                            window: Self.rateWindow)
                    ],
                    detail: "\(number(rate)) failed record operations/s"))
        }
        // A sink whose destination is down retries its batch with its status RUNNING while nothing is written: its
        // writer's `retrying-for-ms` (the JDBC, Elasticsearch and Neo4j sinks' SinkWriterMetrics).
        for s in m.values("swift_connect_sink_writer_metrics_retrying_for_ms") where s.value >= 10_000 {
            guard let subj = subject(s), states[key(subj)] == "RUNNING" else { continue }
            let task = s.labels.filter { $0.key == "connector" || $0.key == "task" }
            let reasons = m.values("swift_connect_sink_writer_retry_metrics_retries_total", task)
                .sorted { $0.value > $1.value }.map { "\($0.labels["reason"] ?? "?") \(number($0.value))" }
            var evidence = [Evidence(.metric, "swift_connect_sink_writer_metrics_retrying_for_ms = \(number(s.value))")]
            if let retries = m.value("swift_connect_sink_writer_metrics_retries_total", task) {
                evidence.append(Evidence(.metric, "retries_total = \(number(retries))"))
            }
            if !reasons.isEmpty {
                evidence.append(Evidence(.metric, "retries by reason: " + reasons.joined(separator: ", ")))
            }
            out.append(
                signal(
                    "sink_retrying", subj, evidence,
                    detail: "writes have failed and been retried for \(number((s.value / 1000).rounded())) s"
                        + (reasons.first.map { " (\($0.split(separator: " ")[0]))" } ?? "")))
        }
        // A CDC task whose stream lost its database retries with its status RUNNING while nothing is captured:
        // Debezium's streaming `Connected` is 0 after it had connected (NumberOfDisconnects > 0).
        for s in m.values("debezium_metrics_Connected", ["context": "streaming"]) where s.value == 0 {
            let server = s.labels["name"] ?? ""
            guard let connector = cdcServers[server], only == nil || connector == only else { continue }
            let subj = Subject.task(connector, 0)
            let disconnects = m.value("debezium_metrics_NumberOfDisconnects", s.labels) ?? 0
            // Down for ten seconds at least: a reconnect's back-off is not a finding.
            let down = m.value("debezium_metrics_MilliSecondsDisconnected", s.labels) ?? .infinity
            guard disconnects > 0, down >= 10_000, states[key(subj)] == "RUNNING" else { continue }
            var evidence = [
                Evidence(
                    .metric,
                    "debezium_metrics_Connected{plugin=\"\(s.labels["plugin"] ?? "")\",context=\"streaming\",name=\"\(server)\"} = 0"
                ),
                Evidence(.metric, "NumberOfDisconnects = \(number(disconnects))"),
            ]
            if down.isFinite { evidence.append(Evidence(.metric, "MilliSecondsDisconnected = \(number(down))")) }
            if let since = m.value("debezium_metrics_MilliSecondsSinceLastEvent", s.labels), since >= 0 {
                evidence.append(Evidence(.metric, "MilliSecondsSinceLastEvent = \(number(since))"))
            }
            if let bytes = m.value("swift_connect_source_task_behind_source_bytes", ["connector": connector]),
                bytes.isFinite
            {
                evidence.append(Evidence(.metric, "swift_connect_source_task_behind_source_bytes = \(number(bytes))"))
            }
            out.append(
                signal(
                    "cdc_disconnected", subj, evidence,
                    detail: "the change stream of \(server) lost its database and reconnects"))
        }
        // What the PostgreSQL connector sees on its server (`swift.connect.postgres:type=replication`): a slot
        // recreated under existing offsets, captured tables the publication leaves out, WAL other slots hold back.
        func postgresSubject(_ s: PrometheusSamples.Sample) -> Subject? {
            guard let connector = cdcServers[s.labels["server"] ?? ""], only == nil || connector == only else {
                return nil
            }
            return .task(connector, 0)
        }
        for s in m.values("swift_connect_postgres_replication_SlotRecreated") where s.value == 1 {
            guard let subj = postgresSubject(s) else { continue }
            out.append(
                signal(
                    "pg_slot_recreated", subj,
                    [
                        Evidence(
                            .metric,
                            "swift_connect_postgres_replication_SlotRecreated{server=\"\(s.labels["server"] ?? "")\"} = 1"
                        )
                    ],
                    detail: "its replication slot was missing; a new one started from then"))
        }
        var unpublished: [String: (Subject, [String])] = [:]
        for s in m.values("swift_connect_postgres_replication_TablesNotInPublication") where s.value == 1 {
            guard let subj = postgresSubject(s) else { continue }
            unpublished[key(subj), default: (subj, [])].1.append(s.labels["key"] ?? "?")
        }
        for (_, (subj, tables)) in unpublished.sorted(by: { $0.key < $1.key }) {
            out.append(
                signal(
                    "pg_unpublished_tables", subj,
                    [
                        Evidence(
                            .metric,
                            "swift_connect_postgres_replication_TablesNotInPublication: \(tables.joined(separator: ", "))"
                        )
                    ],
                    detail: "\(tables.joined(separator: ", ")) not in the publication"))
        }
        for s in m.values("swift_connect_postgres_replication_InactiveSlotRetainedWalBytes")
        where s.value >= Self.inactiveSlotWalBytes {
            guard let subj = postgresSubject(s) else { continue }
            let slot = s.labels["key"] ?? "?"
            let mib = Int(s.value / 1_048_576)
            out.append(
                signal(
                    "inactive_slot_wal", subj,
                    [
                        Evidence(
                            .metric,
                            "swift_connect_postgres_replication_InactiveSlotRetainedWalBytes{slot=\"\(slot)\"} = \(number(s.value)) (\(mib) MiB)"
                        )
                    ],
                    detail: "inactive slot \(slot) holds back \(mib) MiB of WAL"))
        }
        // A source that reports having nothing left to read on its system (a CDC task caught up with the binlog or
        // the slot, a source with no record behind) is idle, not stalled, when it polls nothing.
        var caughtUp = Set<String>()
        for s in m.values("swift_connect_source_task_behind_source_bytes")
        where s.value.isFinite && s.value <= Self.idleSourceBytes {
            if let subj = subject(s) { caughtUp.insert(key(subj)) }
        }
        for s in m.values("swift_connect_source_task_behind_source_records") where s.value == 0 {
            if let subj = subject(s) { caughtUp.insert(key(subj)) }
        }
        for s in m.values("kafka_connect_source_task_metrics_source_record_poll_rate") where s.value == 0 {
            guard let subj = subject(s), states[key(subj)] == "RUNNING", !caughtUp.contains(key(subj)) else { continue }
            let total = m.value("kafka_connect_source_task_metrics_source_record_poll_total", s.labels) ?? 0
            out.append(
                signal(
                    "source_stalled", subj,
                    [
                        Evidence(.metric, "source-record-poll-rate = 0", window: Self.rateWindow),
                        Evidence(.metric, "source-record-poll-total = \(number(total))"),
                    ], detail: "no record polled in the metrics window"))
        }
        for s in m.values("kafka_connect_connector_task_metrics_offset_commit_failure_percentage")
        where s.value > 0 && s.value.isFinite {
            guard let subj = subject(s), !failed.contains(key(subj)) else { continue }
            out.append(
                signal(
                    "commit_failures", subj,
                    [
                        Evidence(
                            .metric, "offset-commit-failure-percentage = \(number(s.value))", window: Self.rateWindow)
                    ],
                    detail: "\(Int(s.value * 100)) % of offset commits fail"))
        }
        // A RUNNING task that has not polled for half a minute is stuck in put, flush or poll.
        let sinks = Set(m.values("kafka_connect_sink_task_metrics_partition_count").compactMap(subject).map(key))
        // A sink's consumer returns nothing when there is nothing to read: a sink whose partitions are all committed
        // to their end is idle, not stuck (one stuck in put has records read but not committed).
        var uncommitted: [String: Double] = [:]
        for s in m.values("swift_connect_sink_partition_lag_records") where s.value.isFinite {
            if let subj = subject(s) { uncommitted[key(subj), default: 0] += s.value }
        }
        for s in m.values("swift_connect_task_time_since_last_poll_seconds") where s.value > 30 && s.value.isFinite {
            guard let subj = subject(s), states[key(subj)] == "RUNNING" else { continue }
            if sinks.contains(key(subj)), let lag = uncommitted[key(subj)], lag <= 0 { continue }
            let evidence = [Evidence(.metric, "time-since-last-poll = \(number(s.value)) s")]
            out.append(
                signal(
                    sinks.contains(key(subj)) ? "lag_stalled" : "source_stalled", subj, evidence,
                    detail: "no poll for \(Int(s.value)) s: the task is stuck"))
        }
        // A sink consumer that has not completed its first group join (and reports no error), or rebalanced less
        // than 30 s ago, holds no partition for now: only one settled without partitions is a finding. Its last error
        // says why when it has one (a topic that does not exist).
        var settling = Set<String>()
        var lastErrors: [String: String] = [:]
        // Tasks whose consumer has published group metrics; one that has published none yet has only just started
        // (a worker's first statistics come seconds after the task), and is settling too.
        var reporting = Set<String>()
        for s in m.values("kafka_consumer_consumer_coordinator_metrics_rebalance_total") {
            let client = s.labels["client_id"] ?? ""
            guard let subj = Self.taskSubject(clientId: client) else { continue }
            reporting.insert(key(subj))
            let ago = m.value(
                "kafka_consumer_consumer_coordinator_metrics_last_rebalance_seconds_ago", ["client_id": client])
            let lastError =
                m.values("kafka_consumer_consumer_metrics_last_error_info", ["client_id": client]).first?
                .labels["last_error"] ?? ""
            if !lastError.isEmpty { lastErrors[key(subj)] = lastError }
            // NaN: the client has published no statistics yet. A consumer less than 30 s old is settling whatever
            // it reports (its topic may not be created yet by the source that writes it).
            let age = m.value("kafka_consumer_consumer_metrics_client_age_seconds", ["client_id": client])
            let joining = !(s.value > 0) && (lastError.isEmpty || (age.map { !($0 >= 30) } ?? false))
            if joining || (ago.map { $0 >= 0 && $0 < 30 } ?? false) { settling.insert(key(subj)) }
        }
        for s in m.values("kafka_connect_sink_task_metrics_partition_count") where s.value == 0 {
            guard let subj = subject(s), states[key(subj)] == "RUNNING", !settling.contains(key(subj)),
                reporting.contains(key(subj))
            else { continue }
            var evidence = [Evidence(.metric, "sink partition-count = 0")]
            if let e = lastErrors[key(subj)] { evidence.append(Evidence(.metric, "consumer last error: \(e)")) }
            out.append(signal("no_partitions", subj, evidence, detail: "the consumer holds no partition"))
        }
        if only == nil {
            for s in m.values("swift_connect_metrics_push_failures_total") where s.value > 0 {
                out.append(
                    signal(
                        "push_failures", .worker(worker),
                        [
                            Evidence(
                                .metric,
                                "swift_connect_metrics_push_failures_total{target=\"\(s.labels["target"] ?? "")\"} = \(number(s.value))"
                            )
                        ]))
            }
        }
        // A RUNNING task whose Kafka client has no connection to any broker: it retries quietly, nothing flows.
        for family in [
            "kafka_producer_producer_metrics_connection_count", "kafka_consumer_consumer_metrics_connection_count",
        ] {
            for s in m.values(family) where s.value == 0 {
                let client = s.labels["client_id"] ?? ""
                guard let subj = Self.taskSubject(clientId: client), only == nil || subj.connector == only,
                    states[key(subj)] == "RUNNING"
                else { continue }
                var finding = signal(
                    "broker_unreachable", subj, [Evidence(.metric, "\(client) connection-count = 0")],
                    detail: "the task's Kafka client is connected to no broker")
                // The client's last error says why: refused, DNS, TLS or authentication.
                let errorFamily = family.replacingOccurrences(of: "_connection_count", with: "_last_error_info")
                if let lastError = m.values(errorFamily, ["client_id": client]).first?.labels["last_error"],
                    !lastError.isEmpty
                {
                    finding.evidence.append(Evidence(.trace, "\(client) last error: \(lastError)"))
                    if let match = classifier.classify(TraceAnalysis(lastError)), match.rule.id != finding.rule.id {
                        finding.rule = match.rule
                        finding.confidence = match.confidence
                    }
                }
                out.append(finding)
            }
        }
        // Rebalances per ten minutes since the worker started.
        if let start = m.value("process_start_time_seconds") {
            let uptime = max(600, Double(now) / 1000 - start)
            for s in m.values("kafka_consumer_consumer_coordinator_metrics_rebalance_total") where s.value > 5 {
                let per10 = s.value / uptime * 600
                guard per10 > 5 else { continue }
                let client = s.labels["client_id"] ?? ""
                let subj = Self.taskSubject(clientId: client) ?? .worker(worker)
                if let only, subj.connector != only { continue }
                out.append(
                    signal(
                        "rebalance_storm", subj,
                        [
                            Evidence(
                                .metric, "\(client) rebalance-total = \(number(s.value))",
                                window: "since the worker started")
                        ],
                        detail: "\(number(per10)) rebalances per 10 minutes"))
            }
            // The workers' own group: joins, leaves and timeouts as its leader counts them, per 15 minutes (the
            // KafkaConnectWorkersFlapping alert's window and threshold).
            let churn = m.values("swift_connect_cluster_rebalances_total").filter {
                ["join", "leave", "timeout"].contains($0.labels["cause"] ?? "")
            }
            let total = churn.map(\.value).reduce(0, +)
            let per15 = total / max(900, Double(now) / 1000 - start) * 900
            if only == nil, total > 10, per15 > 10 {
                out.append(
                    signal(
                        "rebalance_storm", .worker(worker),
                        churn.map {
                            Evidence(
                                .metric,
                                "swift_connect_cluster_rebalances_total{cause=\"\($0.labels["cause"] ?? "")\"} = \(number($0.value))",
                                window: "since the worker started")
                        },
                        detail:
                            "workers joined or left the group \(number(per15)) times per 15 minutes (on average since the leader started, over at least 15 minutes): the cluster keeps rebalancing"
                    ))
            }
        }
        return out
    }
}
