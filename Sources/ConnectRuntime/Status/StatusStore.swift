import ConnectAPI
import Synchronization

/// The worker's statuses as the REST API and the metrics see them (the listener role of Connect's
/// `AbstractHerder`): task threads and the herder report changes here, which are written to the
/// `StatusBackingStore`, recorded in the `FailureHistory`, and published to observers as `StatusEvent`s. Sink lags
/// (not stored, as in Connect) are kept alongside. Separate from the herder's lock, so task threads can report
/// while the herder waits for them.
public final class StatusStore: StatusListener {
    public let backing: any StatusBackingStore
    private let lags = Mutex<[ConnectorTaskId: LagSummary]>([:])
    public let workerId: String
    /// Failures and restarts of every connector and task.
    public let history: FailureHistory
    /// Called on the reporting thread, outside the store's lock, for every change; observers must not block.
    private let observers = Mutex<[@Sendable (StatusEvent) -> Void]>([])

    /// The group generation statuses are written at (a cluster); nil numbers each record's versions instead.
    private let groupGeneration: (@Sendable () -> Int)?

    public init(
        workerId: String, backing: any StatusBackingStore = MemoryStatusBackingStore(),
        history: FailureHistory = FailureHistory(), groupGeneration: (@Sendable () -> Int)? = nil
    ) {
        self.workerId = workerId
        self.backing = backing
        self.history = history
        self.groupGeneration = groupGeneration
    }

    /// The generation of a record that replaces `previous`.
    private func generation(after previous: StatusRecord?) -> Int {
        groupGeneration?() ?? (previous?.generation ?? -1) + 1
    }

    /// Connect's safe put (`putSafe`), so a worker that lost its work cannot overwrite the state of the one that took
    /// it: a worker's FAILED does not replace a status another worker wrote in a later generation, and its UNASSIGNED
    /// (it gave up its own work) replaces only its own status or another UNASSIGNED, whatever the generations (a
    /// frozen worker that rejoins at a later generation stops what it ran after another worker started it; the
    /// status reader of `KafkaStatusBackingStore` applies the same rule).
    private func replacesSafely(_ state: ConnectorState, _ previous: StatusRecord?) -> Bool {
        guard let current = groupGeneration?(), state == .failed || state == .unassigned, let previous,
            previous.workerId != workerId
        else { return true }
        return state == .unassigned ? previous.state == .unassigned : previous.generation <= current
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

    /// A change of the cluster, for the observers (the leader's lifecycle events).
    public func publish(cluster event: ClusterEvent) { publish(.cluster(event)) }

    private func publish(_ event: StatusEvent) {
        for observer in observers.withLock({ $0 }) { observer(event) }
    }

    /// Every connector's and task's status, for a snapshot.
    public func all() -> (connectors: [String: StatusRecord], tasks: [ConnectorTaskId: StatusRecord]) {
        let (connectors, tasks) = backing.all()
        let lags = lags.withLock { $0 }
        return (
            connectors, Dictionary(uniqueKeysWithValues: tasks.map { ($0.key, Self.withLag($0.value, lags[$0.key])) })
        )
    }

    public func connector(_ name: String) -> StatusRecord? { backing.connector(name) }

    public func tasks(_ name: String) -> [(id: Int, status: StatusRecord)] {
        let lags = lags.withLock { $0 }
        return backing.tasks(of: name).map { ($0.key.task, Self.withLag($0.value, lags[$0.key])) }
            .sorted { $0.id < $1.id }
    }

    /// `backing.taskCount`: how many of the connector's tasks are in `state` (all of them when nil).
    public func taskCount(_ name: String, in state: ConnectorState? = nil) -> Int {
        backing.taskCount(of: name, in: state)
    }

    public func task(_ id: ConnectorTaskId) -> StatusRecord? {
        backing.task(id).map { Self.withLag($0, lags.withLock { $0[id] }) }
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
        let failed = lag == nil && backing.task(id)?.state == .failed
        let previous = lags.withLock { lags -> LagVerdict?? in
            let previous = lags[id]?.verdict
            if let lag {
                lags[id] = lag
                return previous == lag.verdict ? .none : .some(previous)
            } else if !failed {
                // A failed task keeps its last lag, shown with the verdict ERR.
                lags[id] = nil
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
        let (previous, written) = backing.updateConnector(name) { previous in
            // A failure stays visible until the connector is started again; a status already removed (a deleted
            // connector's tombstone) is not brought back by the stop that follows.
            if state == .unassigned, previous == nil || previous?.state == .failed { return nil }
            guard replacesSafely(state, previous) else { return nil }
            return StatusRecord(state: state, trace: trace, workerId: workerId, generation: generation(after: previous))
        }
        guard written != nil else { return }
        if state == .failed, let trace { history.recordFailure(.connector(name), trace: trace) }
        if state == .running { history.recordRunning(.connector(name)) }
        publish(.connector(name, state: state, previous: previous?.state, trace: trace))
    }

    /// Records a task's state; `restartReason` (`rest`, `policy`) goes with RESTARTING into the history.
    public func putTask(
        _ id: ConnectorTaskId, _ state: ConnectorState, trace: String? = nil, restartReason: String? = nil
    ) {
        let trace = trace.map { SecretScrubber.shared.scrub($0) }
        let (previous, written) = backing.updateTask(id) { previous in
            // A failure stays visible until the task is started again; a status already removed (a deleted
            // connector's tombstone) is not brought back by the stop that follows.
            if state == .unassigned, previous == nil || previous?.state == .failed { return nil }
            guard replacesSafely(state, previous) else { return nil }
            return StatusRecord(state: state, trace: trace, workerId: workerId, generation: generation(after: previous))
        }
        guard written != nil else { return }
        switch state {
        case .failed: history.recordFailure(.task(id), trace: trace ?? "")
        case .restarting: history.recordRestart(.task(id), reason: restartReason ?? "rest")
        case .running: history.recordRunning(.task(id))
        default: break
        }
        publish(
            .task(
                id, state: state, previous: previous?.state, trace: trace,
                reason: state == .restarting ? restartReason ?? "rest" : nil))
    }

    /// Adds a line to a failed task's trace (the restart policy giving up), without a new history entry.
    public func annotateFailure(_ id: ConnectorTaskId, _ note: String) {
        backing.updateTask(id) { record in
            guard var record, record.state == .failed else { return nil }
            record.trace = (record.trace ?? "") + "\n" + note
            return record
        }
    }

    public func removeConnector(_ name: String) {
        backing.remove(connector: name)
        lags.withLock { $0 = $0.filter { $0.key.connector != name } }
        history.remove(connector: name)
        publish(.connectorDeleted(name))
    }

    /// Topics the connector's tasks have used since it was created or its topics were reset, sorted.
    public func activeTopics(_ connector: String) -> [String] { backing.topics(of: connector).sorted() }

    public func resetActiveTopics(_ connector: String) { backing.deleteTopics(of: connector) }

    public func onActiveTopic(_ id: ConnectorTaskId, _ topic: String) {
        backing.putTopic(topic, task: id)
    }

    /// Forgets one task's status (a task beyond a connector's new task count).
    public func removeTask(_ id: ConnectorTaskId) {
        backing.removeTask(id)
        lags.withLock { _ = $0.removeValue(forKey: id) }
    }

    public func removeTasks(_ name: String) {
        backing.removeTasks(of: name)
        lags.withLock { $0 = $0.filter { $0.key.connector != name } }
    }

    public func onStartup(_ id: ConnectorTaskId) { putTask(id, .running) }
    public func onPause(_ id: ConnectorTaskId) { putTask(id, .paused) }
    public func onResume(_ id: ConnectorTaskId) { putTask(id, .running) }
    public func onFailure(_ id: ConnectorTaskId, _ error: ConnectError) { putTask(id, .failed, trace: error.trace) }
    public func onShutdown(_ id: ConnectorTaskId) { putTask(id, .unassigned) }
}
