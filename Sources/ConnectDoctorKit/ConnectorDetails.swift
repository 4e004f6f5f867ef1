import JSON

/// The facts `explain` prints about one connector before its findings: state, tasks, configuration (secrets
/// redacted) and failure history.
public enum ConnectorDetails {
    public static func text(_ c: ClusterSnapshot.Connector, task only: Int? = nil) -> String {
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
        return out
    }
}
