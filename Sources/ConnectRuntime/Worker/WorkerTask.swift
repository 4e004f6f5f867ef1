import ConnectAPI
import Foundation
import Logging
import Synchronization

/// The thread and lifecycle shared by source and sink tasks (`WorkerTask`): each task runs on its own thread,
/// reports RUNNING / PAUSED / FAILED / UNASSIGNED to the status listener, and stops when asked.
///
/// `@unchecked Sendable`: the plug-in task and the Kafka clients are touched only by the task's own thread; what other
/// threads touch (stop flag, target state, completion) is atomic or behind `condition`.
class WorkerTask: @unchecked Sendable, CustomStringConvertible {
    let id: ConnectorTaskId
    let listener: any StatusListener
    let metrics: TaskMetrics
    var logger: Logger
    private let stopping = Atomic<Bool>(false)
    /// Topics already reported active, so each is reported once per task run.
    private var reportedTopics: Set<String> = []
    private var lastTopic = ""

    private let condition = NSCondition()
    private var target: TargetState
    private var finished = false

    init(
        id: ConnectorTaskId, initialState: TargetState, listener: any StatusListener, metrics: TaskMetrics,
        logger: Logger
    ) {
        self.id = id
        self.listener = TrackingStatusListener(inner: listener, tracker: metrics.tracker)
        self.metrics = metrics
        self.target = initialState
        var logger = logger
        logger[metadataKey: ConnectLogHandler.contextKey] = "[\(id.connector)|task-\(id.task)] "
        self.logger = logger
    }

    var description: String { "\(String(describing: type(of: self))){id=\(id)}" }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// The task's work; returns when `isStopping` turns true. Errors fail the task.
    func execute() throws {}

    /// Releases what `execute` opened; called on the task thread after `execute` returns or throws.
    func close() {}

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "task-thread-\(id)"
        thread.start()
    }

    private func run() {
        var failed = false
        do {
            try execute()
        } catch {
            failed = true
            let e = ConnectError.wrap(error).adding(
                context: "org.apache.kafka.connect.runtime.\(String(describing: type(of: self))).execute [\(id)]")
            logger.error(
                "\(self) Task threw an uncaught and unrecoverable exception. Task is being killed and will not recover until manually restarted. Error: \(e.description)"
            )
            listener.onFailure(id, e)
        }
        close()
        if !failed { listener.onShutdown(id) }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Notes a topic the task used (on the task thread); the status store hears of each topic once.
    func used(topic: String) {
        guard topic != lastTopic else { return }
        lastTopic = topic
        if reportedTopics.insert(topic).inserted { listener.onActiveTopic(id, topic) }
    }

    /// Asks the task to stop; does not wait.
    func stop() {
        stopping.store(true, ordering: .releasing)
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the task thread has finished, up to `timeoutMs`; returns whether it finished.
    @discardableResult
    func awaitStop(timeoutMs: Int64) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            if !condition.wait(until: deadline) { return finished }
        }
        return true
    }

    func transition(to state: TargetState) {
        condition.lock()
        target = state
        condition.broadcast()
        condition.unlock()
    }

    var targetState: TargetState {
        condition.lock()
        defer { condition.unlock() }
        return target
    }

    /// If the task is paused: runs `beforePause` (so that PAUSED means nothing more is in flight), reports PAUSED and
    /// blocks until resumed or stopped, running `whilePaused` meanwhile. Returns whether it paused.
    func awaitUnpaused(beforePause: () -> Void = {}, whilePaused idle: () -> Void = {}) -> Bool {
        guard targetState == .paused else { return false }
        beforePause()
        listener.onPause(id)
        logger.info("\(self) Paused")
        while targetState == .paused && !isStopping {
            idle()
            condition.lock()
            if target == .paused && !stopping.load(ordering: .acquiring) {
                _ = condition.wait(until: Date().addingTimeInterval(0.5))
            }
            condition.unlock()
        }
        if !isStopping {
            listener.onResume(id)
            logger.info("\(self) Resumed")
        }
        return true
    }
}

/// Passes status changes on, and notes them for `running-ratio` / `pause-ratio`.
struct TrackingStatusListener: StatusListener {
    let inner: any StatusListener
    let tracker: StateTracker

    func onStartup(_ id: ConnectorTaskId) {
        tracker.changed(to: .running)
        inner.onStartup(id)
    }
    func onPause(_ id: ConnectorTaskId) {
        tracker.changed(to: .paused)
        inner.onPause(id)
    }
    func onResume(_ id: ConnectorTaskId) {
        tracker.changed(to: .running)
        inner.onResume(id)
    }
    func onFailure(_ id: ConnectorTaskId, _ error: ConnectError) {
        tracker.changed(to: .failed)
        inner.onFailure(id, error)
    }
    func onShutdown(_ id: ConnectorTaskId) {
        tracker.changed(to: .unassigned)
        inner.onShutdown(id)
    }
    func onActiveTopic(_ id: ConnectorTaskId, _ topic: String) { inner.onActiveTopic(id, topic) }
    func onLag(_ id: ConnectorTaskId, _ lag: LagSummary?) { inner.onLag(id, lag) }
    func onRebalance(_ id: ConnectorTaskId, assigned: [String], revoked: [String]) {
        inner.onRebalance(id, assigned: assigned, revoked: revoked)
    }
}
