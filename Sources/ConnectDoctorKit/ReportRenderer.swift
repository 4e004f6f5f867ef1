import Foundation
import JSON

/// Writes a report for people (one line per finding, then the details) or for programs (`--json`, the schema in
/// `docs/doctor/findings.schema.json`).
public enum ReportRenderer {
    /// The version of the `--json` document; bumped only when a field changes meaning or goes away.
    public static let schemaVersion: Int64 = 1

    /// Text for a person at 3 a.m.: the verdict, one line per finding worst first, then each finding's evidence,
    /// explanation, fix and page. `colors` adds ANSI colours (only when writing to a terminal).
    public static func text(_ report: Report, colors: Bool = false) -> String {
        func paint(_ s: String, _ code: String) -> String { colors ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        func label(_ s: Severity) -> String {
            let padded = s.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)
            switch s {
            case .critical: return paint(padded, "1;31")
            case .warning: return paint(padded, "1;33")
            case .info: return paint(padded, "36")
            }
        }
        var out = ""
        let counts = Severity.allCases.reversed().compactMap { s -> String? in
            let n = report.findings.filter { $0.severity == s }.count
            return n == 0 ? nil : "\(n) \(s.rawValue)"
        }
        let verdict: String
        switch report.exitCode {
        case 3: verdict = paint("cannot reach the cluster", "1;31")
        case 0: verdict = paint("healthy", "1;32")
        default: verdict = counts.joined(separator: ", ")
        }
        out += "connect-doctor: \(verdict)"
        if report.reachable && (report.connectors > 0 || report.tasks > 0) {
            out += " (\(report.connectors) connectors, \(report.tasks) tasks"
            out += report.target.isEmpty ? ")" : " on \(report.target.joined(separator: ", ")))"
        } else if !report.target.isEmpty {
            out += " (\(report.target.joined(separator: ", ")))"
        }
        out += "\n"
        guard !report.findings.isEmpty else { return out }
        out += "\n"
        for f in report.findings {
            out += "\(label(f.severity)) \(f.rule.id.padding(toLength: 14, withPad: " ", startingAt: 0)) "
            out += "\(f.subject): \(f.rule.title)\n"
        }
        for f in report.findings {
            out += "\n" + paint("── \(f.rule.id) · \(f.subject) · \(f.severity.rawValue)", "1")
            out += String(format: " · confidence %.2f", f.confidence) + "\n"
            out += "   \(f.rule.title)\n"
            if let detail = f.detail { out += "   \(detail)\n" }
            if !f.evidence.isEmpty {
                out += "   Evidence:\n"
                for e in f.evidence {
                    out += "     \(e.kind.rawValue): \(TraceClassifier.shorten(e.text, to: 200))"
                    out += (e.window.map { " (\($0))" } ?? "") + "\n"
                }
            }
            if !f.rule.explanation.isEmpty { out += "   Why: \(f.rule.explanation)\n" }
            if !f.rule.fix.isEmpty { out += "   Fix: \(paint(f.rule.fix, "1"))\n" }
            out += "   See: \(f.rule.doc)\n"
        }
        return out
    }

    /// The `--json` document.
    public static func json(_ report: Report, generatedAt: Date = Date()) -> String {
        var o = JSONObject()
        o["schema_version"] = .int(schemaVersion)
        o["tool"] = "connect-doctor"
        o["generated_at"] = .string(ISO8601DateFormatter().string(from: generatedAt))
        o["targets"] = .array(report.target.map { .string($0) })
        o["status"] = .string(report.status)
        o["exit_code"] = .int(Int64(report.exitCode))
        o["connectors"] = .int(Int64(report.connectors))
        o["tasks"] = .int(Int64(report.tasks))
        o["findings"] = .array(report.findings.map { .object(finding($0)) })
        return JSONWriter.string(.object(o))
    }

    static func finding(_ f: Finding) -> JSONObject {
        var o = JSONObject()
        o["rule"] = .string(f.rule.id)
        o["title"] = .string(f.rule.title)
        o["severity"] = .string(f.severity.rawValue)
        o["category"] = .string(f.rule.category)
        var subject = JSONObject()
        switch f.subject {
        case .trace: subject["kind"] = "trace"
        case .cluster: subject["kind"] = "cluster"
        case .worker(let url):
            subject["kind"] = "worker"
            subject["worker"] = .string(url)
        case .connector(let c):
            subject["kind"] = "connector"
            subject["connector"] = .string(c)
        case .task(let c, let t):
            subject["kind"] = "task"
            subject["connector"] = .string(c)
            subject["task"] = .int(Int64(t))
        }
        o["subject"] = .object(subject)
        o["confidence"] = .double((f.confidence * 100).rounded() / 100)
        if let detail = f.detail { o["detail"] = .string(detail) }
        o["evidence"] = .array(
            f.evidence.map { e in
                var x: JSONObject = ["kind": .string(e.kind.rawValue), "text": .string(e.text)]
                if let w = e.window { x["window"] = .string(w) }
                return .object(x)
            })
        o["explanation"] = .string(f.rule.explanation)
        o["fix"] = .string(f.rule.fix)
        o["config_keys"] = .array(f.rule.configKeys.map { .string($0) })
        o["doc"] = .string(f.rule.doc)
        return o
    }
}
