import Foundation
import Synchronization

/// What other threads tell a task: stop, a latch every wait of the task wakes on (Connect's
/// `RetryWithToleranceOperator.triggerStop` and its `CountDownLatch`, not a sleep); and cancel, when it overran its
/// stop (`WorkerTask.cancel`): from then on nothing the task does may count.
final class TaskControl: Sendable {
    private let condition = NSCondition()
    private let stopping = Atomic<Bool>(false)
    private let cancelled = Atomic<Bool>(false)
    /// Held while a report (a status change) is made, and to cancel: once `cancel` returns, no report is made.
    private let reporting = NSLock()

    init() {}

    var isStopping: Bool { stopping.load(ordering: .acquiring) }
    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func stop() {
        stopping.store(true, ordering: .releasing)
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        reporting.withLock { cancelled.store(true, ordering: .releasing) }
        stop()
    }

    /// Runs `report` unless the task was cancelled, atomically with respect to `cancel`.
    func reportUnlessCancelled(_ report: () -> Void) {
        reporting.withLock {
            if !isCancelled { report() }
        }
    }

    /// Waits up to `milliseconds`, less when the task is asked to stop; returns whether it is stopping.
    @discardableResult
    func wait(milliseconds: Int64) -> Bool {
        guard milliseconds > 0 else { return isStopping }
        let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
        condition.lock()
        defer { condition.unlock() }
        while !isStopping {
            if !condition.wait(until: deadline) { break }
        }
        return isStopping
    }
}
