import Foundation

/// Chooses the rule a failure trace matches, with the lines that made it match.
public struct TraceClassifier: Sendable {
    public let catalogue: RuleCatalogue

    public init(catalogue: RuleCatalogue = .builtIn) { self.catalogue = catalogue }

    /// The best rule for a trace, or nil when no rule recognises it. A rule matches when one of its texts is in an
    /// exception line or a frame, and the trace's stage (when it tells one) is one of the rule's stages; among
    /// matches the highest priority wins, then the one found deepest in the chain (closest to the root cause).
    public func classify(_ trace: TraceAnalysis) -> (rule: Rule, line: String, confidence: Double)? {
        let lines = trace.exceptions.map(\.line)
        // A message wrapped over several lines reads as one (`Cannot\n insert explicit value ...`).
        let lowered = lines.map { $0.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        let frames = trace.frames.map { $0.lowercased() }
        var best: (rule: Rule, line: String, depth: Int, confidence: Double)?
        for rule in catalogue.rules
        where !rule.traceAny.isEmpty || !rule.traceInStage.isEmpty || !rule.codesAny.isEmpty || !rule.rootAny.isEmpty {
            if let stage = trace.stage, !rule.stages.isEmpty, !rule.stages.contains(stage) { continue }
            var texts = rule.traceAny
            if let stage = trace.stage, rule.stages.contains(stage) { texts += rule.traceInStage }
            // A code counts as the text it was read from (`sqlstate:23505` is found where `23505` is).
            for code in trace.codes where rule.codesAny.contains(where: { Self.code(code, matches: $0) }) {
                texts.append(String(code.split(separator: ":").last ?? Substring(code)))
            }
            var found: (line: String, depth: Int)?
            if let root = lowered.last, rule.rootAny.contains(where: { Self.text(root, contains: $0) }) {
                found = (lines[lines.count - 1], lines.count - 1)
            }
            guard !texts.isEmpty || found != nil else { continue }
            for (depth, text) in lowered.enumerated().reversed()
            where found == nil && texts.contains(where: { Self.text(text, contains: $0) }) {
                found = (lines[depth], depth)
                break
            }
            if found == nil,
                let frame = trace.frames.indices.first(where: { i in
                    texts.contains(where: { Self.text(frames[i], contains: $0) })
                })
            {
                found = ("at " + trace.frames[frame], 0)
            }
            guard let found else { continue }
            // A match in the root cause is surer than one in a wrapper around it.
            let atRoot = found.depth == max(0, lines.count - 1)
            let confidence = rule.confidence * (atRoot ? 1 : 0.9)
            if let b = best, (b.rule.priority, b.depth) >= (rule.priority, found.depth) { continue }
            best = (rule, found.line, found.depth, confidence)
        }
        return best.map { ($0.rule, $0.line, $0.confidence) }
    }

    /// Whether `text` holds `pattern`, whose `*` stands for any run of characters (`replication slot "*" already
    /// exists`): its parts in order.
    static func text(_ text: String, contains pattern: String) -> Bool {
        guard pattern.contains("*") else { return text.contains(pattern) }
        var rest = text[...]
        for part in pattern.split(separator: "*", omittingEmptySubsequences: true) {
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return true
    }

    /// `pattern` is a code, or a prefix ending in `*`.
    static func code(_ code: String, matches pattern: String) -> Bool {
        pattern.hasSuffix("*") ? code.hasPrefix(pattern.dropLast()) : code == pattern
    }

    /// A finding for a failed task or connector: the matching rule, or the generic one (`CD-TASK-001`,
    /// `CD-CONN-001`) showing the root cause and stage as found.
    public func finding(trace text: String, subject: Subject) -> Finding {
        let trace = TraceAnalysis(text)
        var evidence: [Evidence] = []
        if let match = classify(trace) {
            evidence.append(Evidence(.trace, match.line))
            if let root = trace.rootCause, root.line != match.line { evidence.append(Evidence(.trace, root.line)) }
            if let stage = trace.stage { evidence.append(Evidence(.stage, stage)) }
            return Finding(
                rule: match.rule, subject: subject, evidence: evidence, confidence: match.confidence,
                detail: trace.rootCause.map { Self.shorten($0.line) })
        }
        let generic =
            catalogue.rule(signal: subject.task == nil && subject.connector != nil ? "connector_failed" : "task_failed")
            ?? Rule(
                id: "CD-TASK-001", title: "Task FAILED", severity: .critical, category: "state", traceAny: [],
                stages: [], signal: "task_failed", priority: 0, confidence: 0.3, configKeys: [], explanation: "",
                fix: "")
        if let first = trace.exceptions.first { evidence.append(Evidence(.trace, first.line)) }
        if let root = trace.rootCause, trace.exceptions.count > 1 { evidence.append(Evidence(.trace, root.line)) }
        if let thrower = trace.thrower { evidence.append(Evidence(.trace, "at " + thrower.frame)) }
        if let stage = trace.stage { evidence.append(Evidence(.stage, stage)) }
        return Finding(
            rule: generic, subject: subject, evidence: evidence, confidence: 0.3, detail: Self.unmatched(trace))
    }

    /// What the catch-all can still say (issue: "the catch-all says what it can"): the root cause, the class that
    /// threw it and the kind of component that class is, the stage, and the error codes the external system gave.
    /// `root cause java.lang.NullPointerException, thrown in a.b.ChangeCase (a transform), in stage TRANSFORMATION`.
    static func unmatched(_ trace: TraceAnalysis) -> String {
        var parts = [trace.rootCause.map { "root cause \(shorten($0.line))" } ?? "no exception in the trace"]
        if let thrower = trace.thrower {
            let method = thrower.frame.prefix { $0 != "(" }
            let className = method.split(separator: ".").dropLast().joined(separator: ".")
            let name = className.isEmpty ? String(method) : className
            parts.append("\(thrower.atRoot ? "thrown" : "caught") in \(name) (\(thrower.component.description))")
        }
        if let stage = trace.stage { parts.append("in stage \(stage)") }
        if !trace.codes.isEmpty { parts.append("error codes \(trace.codes.sorted().joined(separator: ", "))") }
        return parts.joined(separator: ", ")
    }

    /// A line cut to a readable length.
    static func shorten(_ line: String, to limit: Int = 160) -> String {
        let single = line.split(separator: "\n").first.map(String.init) ?? line
        return single.count <= limit ? single : String(single.prefix(limit - 1)) + "…"
    }
}
