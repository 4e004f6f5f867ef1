/// What a finding is about.
public enum Subject: Sendable, Equatable, CustomStringConvertible {
    /// A trace given on its own (`connect-doctor trace`).
    case trace
    case cluster
    case worker(String)
    case connector(String)
    case task(String, Int)

    /// The worker's URL of a `.worker` subject.
    public var workerURL: String? {
        if case .worker(let url) = self { return url }
        return nil
    }

    public var connector: String? {
        switch self {
        case .connector(let c), .task(let c, _): c
        default: nil
        }
    }

    public var task: Int? {
        if case .task(_, let t) = self { return t }
        return nil
    }

    public var description: String {
        switch self {
        case .trace: "trace"
        case .cluster: "cluster"
        case .worker(let url): "worker \(url)"
        case .connector(let c): "connector \(c)"
        case .task(let c, let t): "\(c) task \(t)"
        }
    }
}

/// One piece of what a finding rests on.
public struct Evidence: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case trace, stage, status, config, metric, history, dlq, http
    }

    public var kind: Kind
    public var text: String
    /// For metrics: the window the value covers (`2 x 30 s`, `last 15 min`).
    public var window: String?

    public init(_ kind: Kind, _ text: String, window: String? = nil) {
        self.kind = kind
        self.text = text
        self.window = window
    }
}

/// A diagnosis: the rule that matched, about what, on what evidence, how sure.
public struct Finding: Sendable, Equatable {
    public var rule: Rule
    public var subject: Subject
    public var evidence: [Evidence]
    public var confidence: Double
    /// One line of detail after the title (the root cause, a metric value).
    public var detail: String?

    public init(rule: Rule, subject: Subject, evidence: [Evidence], confidence: Double, detail: String? = nil) {
        self.rule = rule
        self.subject = subject
        self.evidence = evidence
        self.confidence = confidence
        self.detail = detail
    }

    public var severity: Severity { rule.severity }
}

/// Every finding of one run, worst first, and what the exit code should be.
public struct Report: Sendable {
    /// What was examined: worker URLs, or a bundle file.
    public var target: [String]
    public var findings: [Finding]
    /// False when no worker answered at all.
    public var reachable: Bool
    /// Connectors and tasks examined.
    public var connectors: Int
    public var tasks: Int

    public init(target: [String], findings: [Finding], reachable: Bool = true, connectors: Int = 0, tasks: Int = 0) {
        self.target = target
        self.findings = findings.sorted { a, b in
            if a.severity != b.severity { return a.severity > b.severity }
            if a.confidence != b.confidence { return a.confidence > b.confidence }
            return a.rule.id < b.rule.id
        }
        self.reachable = reachable
        self.connectors = connectors
        self.tasks = tasks
    }

    /// 0 healthy, 1 warnings, 2 failures, 3 cannot reach the cluster.
    public var exitCode: Int32 {
        if !reachable { return 3 }
        if findings.contains(where: { $0.severity == .critical }) { return 2 }
        if findings.contains(where: { $0.severity == .warning }) { return 1 }
        return 0
    }

    public var status: String { ["healthy", "warnings", "failures", "unreachable"][Int(exitCode)] }
}
