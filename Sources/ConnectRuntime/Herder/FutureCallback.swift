import ConnectAPI
import Foundation

/// A completion that arrives later from another thread (the role of Connect's `FutureCallback`), waited for with a
/// deadline.
///
/// `@unchecked Sendable`: `completed` is read and written only while holding `condition`.
final class FutureCallback: @unchecked Sendable {
    private let condition = NSCondition()
    private var completed = false

    init() {}

    /// Marks it complete and wakes every waiter; later calls do nothing.
    func complete() {
        condition.lock()
        completed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until it is complete or `deadline` passes; returns whether it completed.
    func wait(until deadline: ContinuousClock.Instant) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !completed {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            _ = condition.wait(until: Date().addingTimeInterval(Double(left.inMilliseconds) / 1000 + 0.001))
        }
        return true
    }
}
