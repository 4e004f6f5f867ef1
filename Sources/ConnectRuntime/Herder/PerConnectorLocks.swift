import ConnectAPI
import Foundation
import Synchronization

/// One lock per connector: operations on one connector (create, reconfigure, pause, restart, delete) run one at a
/// time, while operations on others, and every read, go on. A herder holds a connector's lock only for bounded work
/// (stopping within timeouts, starting threads), never while a connector's own code runs.
final class PerConnectorLocks: Sendable {
    private let locks = Mutex<[String: NSLock]>([:])

    private func lock(for connector: String) -> NSLock {
        locks.withLock { locks in
            if let lock = locks[connector] { return lock }
            let lock = NSLock()
            locks[connector] = lock
            return lock
        }
    }

    /// Runs `body` holding the locks of `connectors` it could take before `deadline` (taken in name order, so two
    /// callers cannot deadlock; the others are left to whoever holds them): for shutting down once the operations
    /// under way are done.
    func withAll(_ connectors: [String], deadline: ContinuousClock.Instant, _ body: () -> Void) {
        var held: [NSLock] = []
        for name in Set(connectors).sorted() {
            let lock = lock(for: name)
            let left = max(.zero, deadline - ContinuousClock.now)
            if lock.lock(before: Date().addingTimeInterval(Double(left.inMilliseconds) / 1000)) { held.append(lock) }
        }
        defer { for lock in held { lock.unlock() } }
        body()
    }

    /// Runs `body` holding the connector's lock; nil when the lock could not be had before `deadline`.
    func withLock<T>(
        _ connector: String, deadline: ContinuousClock.Instant, _ body: () throws(ConnectError) -> T
    ) throws(ConnectError) -> T? {
        let lock = lock(for: connector)
        let left = max(.zero, deadline - ContinuousClock.now)
        guard lock.lock(before: Date().addingTimeInterval(Double(left.inMilliseconds) / 1000)) else { return nil }
        defer { lock.unlock() }
        return try body()
    }
}
