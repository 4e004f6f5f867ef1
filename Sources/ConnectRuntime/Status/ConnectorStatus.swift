import ConnectAPI
import Synchronization

/// A task's identity: connector name and task number; `description` is Connect's `<connector>-<task>`.
public struct ConnectorTaskId: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var connector: String
    public var task: Int

    public init(_ connector: String, _ task: Int) {
        self.connector = connector
        self.task = task
    }

    public var description: String { "\(connector)-\(task)" }

    public static func < (a: ConnectorTaskId, b: ConnectorTaskId) -> Bool {
        (a.connector, a.task) < (b.connector, b.task)
    }
}

/// Connector and task states, as Connect's `AbstractStatus.State`.
public enum ConnectorState: String, Sendable {
    case unassigned = "UNASSIGNED"
    case running = "RUNNING"
    case paused = "PAUSED"
    case failed = "FAILED"
    case restarting = "RESTARTING"
    case stopped = "STOPPED"
    case destroyed = "DESTROYED"
}

/// What the user asked a connector to be (`TargetState`).
public enum TargetState: String, Sendable {
    case started = "STARTED"
    case paused = "PAUSED"
    case stopped = "STOPPED"
}

/// One status record (`ConnectorStatus` / `TaskStatus`).
public struct StatusRecord: Sendable, Equatable {
    public var state: ConnectorState
    public var trace: String?
    public var workerId: String
    public var generation: Int

    /// A sink task's lag (an extension shown in `/status`); ERR once the task failed.
    public var lag: LagSummary?

    public init(state: ConnectorState, trace: String? = nil, workerId: String, generation: Int = 0) {
        self.state = state
        self.trace = trace
        self.workerId = workerId
        self.generation = generation
    }

    /// For a failure: its class, stage and who can fix it, read from the trace.
    public var failure: FailureSummary? {
        guard state == .failed, let trace, !trace.isEmpty else { return nil }
        return FailureSummary(trace: trace)
    }
}

/// Receives lifecycle changes from connectors and tasks (`ConnectorStatus.Listener`, `TaskStatus.Listener`).
public protocol StatusListener: Sendable {
    func onStartup(_ id: ConnectorTaskId)
    func onPause(_ id: ConnectorTaskId)
    func onResume(_ id: ConnectorTaskId)
    func onFailure(_ id: ConnectorTaskId, _ error: ConnectError)
    func onShutdown(_ id: ConnectorTaskId)
    /// A task used a topic for the first time (KIP-558 active topics).
    func onActiveTopic(_ id: ConnectorTaskId, _ topic: String)
    /// A sink task's lag as it stands (nil: the task stopped).
    func onLag(_ id: ConnectorTaskId, _ lag: LagSummary?)
    /// A sink task's consumer was given or lost partitions (`topic-partition` names).
    func onRebalance(_ id: ConnectorTaskId, assigned: [String], revoked: [String])
}

extension StatusListener {
    public func onActiveTopic(_ id: ConnectorTaskId, _ topic: String) {}
    public func onLag(_ id: ConnectorTaskId, _ lag: LagSummary?) {}
    public func onRebalance(_ id: ConnectorTaskId, assigned: [String], revoked: [String]) {}
}

/// A change the status store saw, as its observers receive it (the metrics reporter's lifecycle events, the restart
/// policy).
public enum StatusEvent: Sendable, Equatable {
    /// A connector's new state, with the one it left (nil: it had none).
    case connector(String, state: ConnectorState, previous: ConnectorState?, trace: String?)
    /// A task's new state; `reason` says who asked for a restart (`rest`, `policy`).
    case task(ConnectorTaskId, state: ConnectorState, previous: ConnectorState?, trace: String?, reason: String?)
    /// The connector and its tasks were deleted.
    case connectorDeleted(String)
    /// A sink task's lag verdict changed.
    case lagVerdict(ConnectorTaskId, verdict: LagVerdict, previous: LagVerdict?, lag: LagSummary)
    /// A sink task's partitions changed.
    case rebalance(ConnectorTaskId, assigned: [String], revoked: [String])
}

/// Statuses in memory (`MemoryStatusBackingStore`), separate from the herder's lock so that task threads can report
/// while the herder waits for them.
public final class StatusStore: StatusListener {
    struct State {
        var connectors: [String: StatusRecord] = [:]
        var tasks: [ConnectorTaskId: StatusRecord] = [:]
        var activeTopics: [String: Set<String>] = [:]
        var lags: [ConnectorTaskId: LagSummary] = [:]
    }

    private let state = Mutex(State())
    public let workerId: String
    /// Failures and restarts of every connector and task.
    public let history: FailureHistory
    /// Called on the reporting thread, outside the store's lock, for every change; observers must not block.
    private let observers = Mutex<[@Sendable (StatusEvent) -> Void]>([])

    public init(workerId: String, history: FailureHistory = FailureHistory()) {
        self.workerId = workerId
        self.history = history
    }

    /// Every change from now on.
    public func observe(_ observer: @escaping @Sendable (StatusEvent) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Task failures only (the restart policy).
    public func observeTaskFailures(_ observer: @escaping @Sendable (ConnectorTaskId) -> Void) {
        observe { event in
            if case .task(let id, .failed, _, _, _) = event { observer(id) }
        }
    }

    private func publish(_ event: StatusEvent) {
        for observer in observers.withLock({ $0 }) { observer(event) }
    }

    /// Every connector's and task's status, for a snapshot.
    public func all() -> (connectors: [String: StatusRecord], tasks: [ConnectorTaskId: StatusRecord]) {
        state.withLock { s in
            (
                s.connectors,
                Dictionary(uniqueKeysWithValues: s.tasks.map { ($0.key, Self.withLag($0.value, s.lags[$0.key])) })
            )
        }
    }

    public func connector(_ name: String) -> StatusRecord? { state.withLock { $0.connectors[name] } }

    public func tasks(_ name: String) -> [(id: Int, status: StatusRecord)] {
        state.withLock { s in
            s.tasks.filter { $0.key.connector == name }.map { ($0.key.task, Self.withLag($0.value, s.lags[$0.key])) }
                .sorted { $0.id < $1.id }
        }
    }

    public func task(_ id: ConnectorTaskId) -> StatusRecord? {
        state.withLock { s in s.tasks[id].map { Self.withLag($0, s.lags[id]) } }
    }

    private static func withLag(_ record: StatusRecord, _ lag: LagSummary?) -> StatusRecord {
        var r = record
        if var lag {
            if r.state == .failed { lag.verdict = .err }
            r.lag = lag
        }
        return r
    }

    public func onLag(_ id: ConnectorTaskId, _ lag: LagSummary?) {
        let previous = state.withLock { s -> LagVerdict?? in
            let previous = s.lags[id]?.verdict
            if let lag {
                s.lags[id] = lag
                return previous == lag.verdict ? .none : .some(previous)
            } else if s.tasks[id]?.state != .failed {
                // A failed task keeps its last lag, shown with the verdict ERR.
                s.lags[id] = nil
            }
            return .none
        }
        if case .some(let previous) = previous, let lag {
            publish(.lagVerdict(id, verdict: lag.verdict, previous: previous, lag: lag))
        }
    }

    public func onRebalance(_ id: ConnectorTaskId, assigned: [String], revoked: [String]) {
        publish(.rebalance(id, assigned: assigned, revoked: revoked))
    }

    public func putConnector(_ name: String, _ state: ConnectorState, trace: String? = nil) {
        let trace = trace.map { SecretScrubber.shared.scrub($0) }
        let previous = self.state.withLock { s in
            let previous = s.connectors[name]
            s.connectors[name] = StatusRecord(
                state: state, trace: trace, workerId: workerId, generation: (previous?.generation ?? -1) + 1)
            return previous?.state
        }
        if state == .failed, let trace { history.recordFailure(.connector(name), trace: trace) }
        if state == .running { history.recordRunning(.connector(name)) }
        publish(.connector(name, state: state, previous: previous, trace: trace))
    }

    /// Records a task's state; `restartReason` (`rest`, `policy`) goes with RESTARTING into the history.
    public func putTask(
        _ id: ConnectorTaskId, _ state: ConnectorState, trace: String? = nil, restartReason: String? = nil
    ) {
        let trace = trace.map { SecretScrubber.shared.scrub($0) }
        let recorded = self.state.withLock { s -> ConnectorState?? in
            let previous = s.tasks[id]
            // A failure stays visible until the task is started again.
            if state == .unassigned, previous?.state == .failed { return .none }
            s.tasks[id] = StatusRecord(
                state: state, trace: trace, workerId: workerId, generation: (previous?.generation ?? -1) + 1)
            return .some(previous?.state)
        }
        guard case .some(let previous) = recorded else { return }
        switch state {
        case .failed: history.recordFailure(.task(id), trace: trace ?? "")
        case .restarting: history.recordRestart(.task(id), reason: restartReason ?? "rest")
        case .running: history.recordRunning(.task(id))
        default: break
        }
        publish(
            .task(
                id, state: state, previous: previous, trace: trace,
                reason: state == .restarting ? restartReason ?? "rest" : nil))
    }

    /// Adds a line to a failed task's trace (the restart policy giving up), without a new history entry.
    public func annotateFailure(_ id: ConnectorTaskId, _ note: String) {
        state.withLock { s in
            guard var record = s.tasks[id], record.state == .failed else { return }
            record.trace = (record.trace ?? "") + "\n" + note
            s.tasks[id] = record
        }
    }

    public func removeConnector(_ name: String) {
        state.withLock { s in
            s.connectors[name] = nil
            s.tasks = s.tasks.filter { $0.key.connector != name }
            s.lags = s.lags.filter { $0.key.connector != name }
        }
        history.remove(connector: name)
        resetActiveTopics(name)
        publish(.connectorDeleted(name))
    }

    /// Topics the connector's tasks have used since it was created or its topics were reset, sorted.
    public func activeTopics(_ connector: String) -> [String] {
        state.withLock { Array($0.activeTopics[connector] ?? []).sorted() }
    }

    public func resetActiveTopics(_ connector: String) {
        state.withLock { _ = $0.activeTopics.removeValue(forKey: connector) }
    }

    public func onActiveTopic(_ id: ConnectorTaskId, _ topic: String) {
        state.withLock { _ = $0.activeTopics[id.connector, default: []].insert(topic) }
    }

    public func removeTasks(_ name: String) {
        state.withLock { s in
            s.tasks = s.tasks.filter { $0.key.connector != name }
            s.lags = s.lags.filter { $0.key.connector != name }
        }
    }

    public func onStartup(_ id: ConnectorTaskId) { putTask(id, .running) }
    public func onPause(_ id: ConnectorTaskId) { putTask(id, .paused) }
    public func onResume(_ id: ConnectorTaskId) { putTask(id, .running) }
    public func onFailure(_ id: ConnectorTaskId, _ error: ConnectError) { putTask(id, .failed, trace: error.trace) }
    public func onShutdown(_ id: ConnectorTaskId) { putTask(id, .unassigned) }
}
