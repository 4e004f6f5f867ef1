import ConnectAPI
import Foundation
import Synchronization

/// One line of a connector's or task's failure history: a failure (the same failure again only bumps its count and
/// last-seen time) or a restart, with what came of it.
public struct HistoryEntry: Sendable, Equatable {
    public enum Kind: String, Sendable { case failure, restart }

    public var kind: Kind
    /// Epoch milliseconds.
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var count: Int
    /// The latest trace of a failure.
    public var trace: String?
    /// Who restarted: `rest` (the REST API) or `policy` (`errors.restart.policy`).
    public var reason: String?
    /// For a failure: `failed` (still failed), `restarted`, `running again`, or `given up` (the restart policy
    /// stopped trying). For a restart: `running again` once it ran, else absent.
    public var outcome: String?

    /// The failure's class, stage and who can fix it.
    public var failure: FailureSummary? { trace.map { FailureSummary(trace: $0) } }
}

/// Failures and restarts per connector and per task, most recent last, at most `limit` entries each. Failures are
/// grouped by their first trace line and stage, so a task failing the same way a hundred times is one entry with a
/// count.
public final class FailureHistory: Sendable {
    public enum Subject: Hashable, Sendable {
        case connector(String)
        case task(ConnectorTaskId)

        var connectorName: String {
            switch self {
            case .connector(let n): n
            case .task(let id): id.connector
            }
        }
    }

    public let limit: Int
    private let entries = Mutex<[Subject: [HistoryEntry]]>([:])
    private let now: @Sendable () -> Int64

    public init(limit: Int = 50, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) })
    {
        self.limit = limit
        self.now = now
    }

    public func entries(_ subject: Subject) -> [HistoryEntry] { entries.withLock { $0[subject] ?? [] } }

    /// Task subjects of a connector that have history, by task number.
    public func tasks(of connector: String) -> [Int] {
        entries.withLock { e in
            e.keys.compactMap { if case .task(let id) = $0, id.connector == connector { id.task } else { nil } }
                .sorted()
        }
    }

    static func signature(_ trace: String) -> String {
        let first = trace.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? trace
        return first + "\u{1}" + (FailureSummary(trace: trace).stage ?? "")
    }

    public func recordFailure(_ subject: Subject, trace: String) {
        let t = now()
        update(subject) { list in
            if let i = list.lastIndex(where: { $0.kind == .failure }),
                let previous = list[i].trace,
                Self.signature(previous) == Self.signature(trace),
                i == list.count - 1 || list[(i + 1)...].allSatisfy({ $0.kind == .restart })
            {
                list[i].count += 1
                list[i].lastSeen = t
                list[i].trace = trace
                list[i].outcome = "failed"
            } else {
                list.append(
                    HistoryEntry(
                        kind: .failure, firstSeen: t, lastSeen: t, count: 1, trace: trace, reason: nil,
                        outcome: "failed"))
            }
        }
    }

    public func recordRestart(_ subject: Subject, reason: String) {
        let t = now()
        update(subject) { list in
            if let i = list.lastIndex(where: { $0.kind == .failure }), list[i].outcome == "failed" {
                list[i].outcome = "restarted"
            }
            if var last = list.last, last.kind == .restart, last.reason == reason, last.outcome == nil {
                last.count += 1
                last.lastSeen = t
                list[list.count - 1] = last
            } else {
                list.append(
                    HistoryEntry(
                        kind: .restart, firstSeen: t, lastSeen: t, count: 1, trace: nil, reason: reason, outcome: nil))
            }
        }
    }

    /// The subject runs again: what restarted it and the failure before worked out.
    public func recordRunning(_ subject: Subject) {
        update(subject) { list in
            guard let last = list.last, last.kind == .restart, last.outcome == nil else { return }
            list[list.count - 1].outcome = "running again"
            if let i = list.lastIndex(where: { $0.kind == .failure }), list[i].outcome == "restarted" {
                list[i].outcome = "running again"
            }
        }
    }

    /// The restart policy stopped trying; the last failure says so.
    public func recordGivenUp(_ subject: Subject) {
        update(subject) { list in
            if let i = list.lastIndex(where: { $0.kind == .failure }) { list[i].outcome = "given up" }
        }
    }

    func remove(connector: String) {
        entries.withLock { e in e = e.filter { $0.key.connectorName != connector } }
    }

    private func update(_ subject: Subject, _ body: (inout [HistoryEntry]) -> Void) {
        entries.withLock { e in
            var list = e[subject] ?? []
            body(&list)
            if list.count > limit { list.removeFirst(list.count - limit) }
            e[subject] = list
        }
    }
}
