import Foundation
import JSON

/// The facts `explain` prints about one connector before its findings: state, tasks, configuration (secrets
/// redacted), failure history, and the rates its tasks report over the worker's metrics window.
public enum ConnectorDetails {
    public static func text(
        _ c: ClusterSnapshot.Connector, task only: Int? = nil, metrics: [PrometheusSamples] = []
    ) -> String {
        var out = "Connector \(c.name)"
        if let type = c.status["type"]?.stringValue ?? c.info?["type"]?.stringValue { out += " (\(type))" }
        out += ": \(c.status["connector"]?["state"]?.stringValue ?? "?")"
        out += " on \(c.status["connector"]?["worker_id"]?.stringValue ?? "?")\n"
        for t in c.status["tasks"]?.arrayValue ?? [] {
            guard let id = t["id"]?.intValue, only == nil || Int(id) == only else { continue }
            out += "  task \(id): \(t["state"]?.stringValue ?? "?") on \(t["worker_id"]?.stringValue ?? "?")"
            if let lag = t["lag"], let verdict = lag["verdict"]?.stringValue {
                out += ", lag \(verdict) (\(lag["records"].map(JSONWriter.string) ?? "?") records)"
            }
            if let error = t["error"], let cls = error["class"]?.stringValue {
                out += ", error \(cls)" + (error["stage"]?.stringValue.map { " in \($0)" } ?? "")
            }
            out += "\n"
        }
        if let config = c.info?["config"]?.objectValue {
            out += "Configuration:\n"
            for (k, v) in config.sorted(by: { $0.key < $1.key }) {
                out += "  \(k)=\(v.stringValue ?? JSONWriter.string(v))\n"
            }
        }
        if let history = c.history {
            var lines: [String] = []
            func add(_ who: String, _ entries: JSONValue?) {
                for e in entries?.arrayValue ?? [] {
                    var line = "  \(who): \(e["kind"]?.stringValue ?? "?") x\(e["count"]?.intValue ?? 1)"
                    line += ", last \(e["last_seen"]?.stringValue ?? "?")"
                    if let reason = e["reason"]?.stringValue { line += " (\(reason))" }
                    if let cls = e["error"]?["class"]?.stringValue { line += ": \(cls)" }
                    lines.append(line)
                }
            }
            add("connector", history["connector"])
            for (task, entries) in history["tasks"]?.objectValue ?? JSONObject()
            where only == nil || Int(task) == only {
                add("task \(task)", entries)
            }
            if !lines.isEmpty { out += "History:\n" + lines.joined(separator: "\n") + "\n" }
        }
        let rates = metrics.flatMap { rateLines($0, connector: c.name, task: only) }
        if !rates.isEmpty { out += "Rates over the metrics window:\n" + rates.joined(separator: "\n") + "\n" }
        return out
    }

    /// Per task: records per second through each stage, failed operations and dead-lettered records per second,
    /// seconds since the last poll and commit.
    static func rateLines(_ m: PrometheusSamples, connector: String, task only: Int?) -> [String] {
        func fmt(_ v: Double) -> String { v.isFinite ? String(format: "%.1f", v) : "-" }
        let tasks = Set(
            m.values("swift_connect_task_funnel_records_rate", ["connector": connector]).compactMap {
                $0.labels["task"]
            }
        ).sorted()
        return tasks.filter { only == nil || Int($0) == only }.map { t in
            let labels = ["connector": connector, "task": t]
            let stages = m.values("swift_connect_task_funnel_records_rate", labels).map {
                "\($0.labels["stage"] ?? "?") \(fmt($0.value))"
            }
            let errors = m.values("swift_connect_task_errors_rate", labels).reduce(0) { $0 + $1.value }
            var line = "  task \(t): records/s " + stages.joined(separator: ", ")
            line +=
                "; errors/s \(fmt(errors)); dead-lettered/s \(fmt(m.value("swift_connect_task_dlq_records_rate", labels) ?? 0))"
            if let poll = m.value("swift_connect_task_time_since_last_poll_seconds", labels) {
                line += "; last poll \(fmt(poll)) s ago"
            }
            if let commit = m.value("swift_connect_task_time_since_last_commit_seconds", labels) {
                line += ", last commit \(fmt(commit)) s ago"
            }
            return line
        }
    }
}
