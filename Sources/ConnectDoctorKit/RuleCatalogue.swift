import Foundation
import JSON

/// How bad a finding is; exit codes follow it (`critical` 2, `warning` 1, `info` 0).
public enum Severity: String, Sendable, Comparable, CaseIterable {
    case info, warning, critical

    var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// One diagnosis rule of the catalogue (`rules.json`): what it matches, what it means, how to fix it.
public struct Rule: Sendable, Equatable {
    public var id: String
    public var title: String
    public var severity: Severity
    public var category: String
    /// Texts (lower case) any of which, found in an exception line or a frame of a trace, makes the rule match.
    public var traceAny: [String]
    /// Stages the trace must be in when it tells one (empty: any).
    public var stages: [String]
    /// Texts (lower case) that make the rule match only when the trace tells a stage and it is one of `stages`:
    /// generic exceptions (`nullpointerexception`) that mean this rule's cause only there.
    public var traceInStage: [String] = []
    /// Error codes (`TraceAnalysis.codes`) any of which makes the rule match; a trailing `*` matches a prefix.
    public var codesAny: [String] = []
    /// Texts (lower case) that count only in the root cause, the innermost exception: an exception class that means
    /// this rule's cause only when nothing deeper explains it (`nullpointerexception` as a plug-in's bug).
    public var rootAny: [String] = []
    /// A condition the diagnoser computes from status, metrics or history (`task_failed`, `dlq_rate`, ...).
    public var signal: String?
    /// Among rules matching one trace, the highest priority wins.
    public var priority: Int
    public var confidence: Double
    public var configKeys: [String]
    public var explanation: String
    public var fix: String

    /// The runbook page, the one the alerts' `runbook_url` names.
    public var doc: String { "docs/doctor/\(id).md" }
}

/// The rules, loaded from the catalogue shipped with the library.
public struct RuleCatalogue: Sendable {
    public let rules: [Rule]

    public init(rules: [Rule]) { self.rules = rules }

    /// Parses a catalogue document (`{"version": 1, "rules": [...]}`).
    public init(json: String) throws {
        let root = try JSONParser.parse(json)
        guard let list = root["rules"]?.arrayValue else {
            throw DoctorError("the rule catalogue has no \"rules\" list")
        }
        rules = try list.map { r in
            guard let id = r["id"]?.stringValue, let title = r["title"]?.stringValue,
                let severity = r["severity"]?.stringValue.flatMap(Severity.init(rawValue:))
            else { throw DoctorError("a rule lacks its id, title or a valid severity: \(JSONWriter.string(r))") }
            let match = r["match"]
            func strings(_ v: JSONValue?) -> [String] { v?.arrayValue?.compactMap(\.stringValue) ?? [] }
            var rule = Rule(
                id: id, title: title, severity: severity, category: r["category"]?.stringValue ?? "",
                traceAny: strings(match?["trace_any"]).map { $0.lowercased() }, stages: strings(match?["stages"]),
                signal: match?["signal"]?.stringValue, priority: Int(r["priority"]?.intValue ?? 0),
                confidence: r["confidence"]?.doubleValue ?? 0.5, configKeys: strings(r["config_keys"]),
                explanation: r["explanation"]?.stringValue ?? "", fix: r["fix"]?.stringValue ?? "")
            rule.traceInStage = strings(match?["trace_in_stage"]).map { $0.lowercased() }
            rule.codesAny = strings(match?["codes_any"]).map { $0.lowercased() }
            rule.rootAny = strings(match?["root_any"]).map { $0.lowercased() }
            return rule
        }
    }

    /// The catalogue shipped in the library's resources.
    public static let builtIn: RuleCatalogue = {
        guard let url = Bundle.module.url(forResource: "rules", withExtension: "json"),
            let text = try? String(contentsOf: url, encoding: .utf8), let catalogue = try? RuleCatalogue(json: text)
        else { fatalError("the built-in rule catalogue rules.json is missing or invalid") }
        return catalogue
    }()

    public func rule(_ id: String) -> Rule? { rules.first { $0.id == id } }

    /// The rule that speaks for a signal the diagnoser computed.
    public func rule(signal: String) -> Rule? { rules.first { $0.signal == signal } }
}

/// An error of the doctor itself (a bad catalogue, a bundle it cannot read).
public struct DoctorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
