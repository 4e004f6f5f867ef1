import ConnectAPI
import Foundation
import Logging

/// The thread and lifecycle shared by source and sink tasks (`WorkerTask`): each task runs on its own thread,
/// reports RUNNING / PAUSED / FAILED / UNASSIGNED to the status listener, and stops when asked. A task that does not
/// stop in time is cancelled (Connect's `WorkerTask.cancel`): it reports nothing more and commits no more offsets,
/// whatever its thread still does.
///
/// `@unchecked Sendable`: the plug-in task, `reportedTopics` / `lastTopic`, and the Kafka clients' polling and
/// commits are the task thread's alone; other threads only read the clients' thread-safe status (last error,
/// statistics) for the metrics, and touch the `TaskControl` (atomics, a lock and a condition), `target` and
/// `finished` (behind `condition`), and `commitLock`.
class WorkerTask: @unchecked Sendable, CustomStringConvertible {
    let id: ConnectorTaskId
    let listener: any StatusListener
    let metrics: TaskMetrics
    var logger: Logger
    /// Stop and cancel requests, shared with the task's retry operator.
    let control: TaskControl
    /// Held while offsets are written; `cancel` takes it too, so once it returns no commit is under way or can start.
    private let commitLock = NSLock()
    /// Topics already reported active, so each is reported once per task run.
    private var reportedTopics: Set<String> = []
    private var lastTopic = ""

    private let condition = NSCondition()
    private var target: TargetState
    private var finished = false

    init(
        id: ConnectorTaskId, initialState: TargetState, listener: any StatusListener, metrics: TaskMetrics,
        logger: Logger, control: TaskControl
    ) {
        self.id = id
        self.control = control
        self.listener = TrackingStatusListener(inner: listener, tracker: metrics.tracker, control: control)
        self.metrics = metrics
        self.target = initialState
        var logger = logger
        logger[metadataKey: ConnectLogHandler.contextKey] = "[\(id.connector)|task-\(id.task)] "
        self.logger = logger
    }

    var description: String { "\(String(describing: type(of: self))){id=\(id)}" }

    var isStopping: Bool { control.isStopping }
    var isCancelled: Bool { control.isCancelled }

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
        // The plug-in's own log lines carry the task's context too (Connect's MDC).
        ConnectLogHandler.setThreadContext("[\(id.connector)|task-\(id.task)] ")
        var failed = false
        do {
            try execute()
        } catch {
            failed = true
            let e = ConnectError.wrap(error).adding(
                context: "org.apache.kafka.connect.runtime.\(String(describing: type(of: self))).execute [\(id)]")
            if !isCancelled {
                logger.error(
                    "\(self) Task threw an uncaught and unrecoverable exception. Task is being killed and will not recover until manually restarted. Error: \(e.description)\n\(e.trace)"
                )
            }
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

    /// Asks the task to stop; does not wait. Every wait of the task (a retry backoff, a pause) ends at once.
    func stop() {
        control.stop()
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Cancels a task that did not stop in time, without waiting: once this returns it reports no status and starts
    /// no offset commit. A commit already under way may still complete (`awaitCommitEnd`).
    func cancel() {
        control.cancel()
        stop()
    }

    /// Waits until no offset commit is under way, up to `deadline`; returns whether none is.
    func awaitCommitEnd(until deadline: ContinuousClock.Instant) -> Bool {
        let left = max(.zero, deadline - ContinuousClock.now)
        guard commitLock.lock(before: Date().addingTimeInterval(Double(left.inMilliseconds) / 1000)) else {
            return false
        }
        commitLock.unlock()
        return true
    }

    /// Runs `commit` (an offset write) unless the task was cancelled; returns whether it ran.
    @discardableResult
    func unlessCancelled(_ commit: () throws -> Void) rethrows -> Bool {
        commitLock.lock()
        defer { commitLock.unlock() }
        guard !isCancelled else {
            logger.info("\(self) Skipping offset commit: the task was cancelled")
            return false
        }
        try commit()
        return true
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
            if target == .paused && !isStopping {
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

/// Passes status changes on, and notes them for `running-ratio` / `pause-ratio`; a cancelled task's are dropped,
/// so a late report cannot overwrite the status of the task that replaced it.
struct TrackingStatusListener: StatusListener {
    let inner: any StatusListener
    let tracker: StateTracker
    let control: TaskControl

    func onStartup(_ id: ConnectorTaskId) {
        control.reportUnlessCancelled {
            tracker.changed(to: .running)
            inner.onStartup(id)
        }
    }
    func onPause(_ id: ConnectorTaskId) {
        control.reportUnlessCancelled {
            tracker.changed(to: .paused)
            inner.onPause(id)
        }
    }
    func onResume(_ id: ConnectorTaskId) {
        control.reportUnlessCancelled {
            tracker.changed(to: .running)
            inner.onResume(id)
        }
    }
    func onFailure(_ id: ConnectorTaskId, _ error: ConnectError) {
        control.reportUnlessCancelled {
            tracker.changed(to: .failed)
            inner.onFailure(id, error)
        }
    }
    func onShutdown(_ id: ConnectorTaskId) {
        control.reportUnlessCancelled {
            tracker.changed(to: .unassigned)
            inner.onShutdown(id)
        }
    }
    func onActiveTopic(_ id: ConnectorTaskId, _ topic: String) {
        control.reportUnlessCancelled { inner.onActiveTopic(id, topic) }
    }
    func onLag(_ id: ConnectorTaskId, _ lag: LagSummary?) { control.reportUnlessCancelled { inner.onLag(id, lag) } }
    func onRebalance(_ id: ConnectorTaskId, assigned: [String], revoked: [String]) {
        control.reportUnlessCancelled { inner.onRebalance(id, assigned: assigned, revoked: revoked) }
    }
}
