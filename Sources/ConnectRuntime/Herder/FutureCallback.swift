import ConnectAPI
import Foundation

/// A result that arrives later from another thread (the role of Connect's `FutureCallback`), waited for with a
/// deadline.
///
/// `@unchecked Sendable`: `outcome` is read and written only while holding `condition`.
final class FutureCallback<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var outcome: Result<Value, ConnectError>?

    init() {}

    /// Completes it and wakes every waiter; only the first call counts.
    func complete(_ result: Result<Value, ConnectError>) {
        condition.lock()
        if outcome == nil { outcome = result }
        condition.broadcast()
        condition.unlock()
    }

    func fail(_ error: ConnectError) { complete(.failure(error)) }

    var isCompleted: Bool {
        condition.lock()
        defer { condition.unlock() }
        return outcome != nil
    }

    /// Waits until it completes or `deadline` passes: nil when the deadline passed first.
    func wait(until deadline: ContinuousClock.Instant) -> Result<Value, ConnectError>? {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            _ = condition.wait(until: Date().addingTimeInterval(Double(left.inMilliseconds) / 1000 + 0.001))
        }
        return outcome
    }
}

extension FutureCallback where Value == Void {
    func complete() { complete(.success(())) }
}
