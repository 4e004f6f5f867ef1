import ConnectAPI
import Foundation
import Synchronization

/// One lock per connector: operations on one connector (create, reconfigure, pause, restart, delete) run one at a
/// time, while operations on others, and every read, go on. A herder holds a connector's lock only for bounded work
/// (stopping within timeouts, starting threads), never while a connector's own code runs.
final class PerConnectorLocks: Sendable {
    private let locks = Mutex<[String: NSLock]>([:])

    /// Runs `body` holding the connector's lock; nil when the lock could not be had before `deadline`.
    func withLock<T>(
        _ connector: String, deadline: ContinuousClock.Instant, _ body: () throws(ConnectError) -> T
    ) throws(ConnectError) -> T? {
        let lock = locks.withLock { locks in
            if let lock = locks[connector] { return lock }
            let lock = NSLock()
            locks[connector] = lock
            return lock
        }
        let left = max(.zero, deadline - ContinuousClock.now)
        guard lock.lock(before: Date().addingTimeInterval(Double(left.inMilliseconds) / 1000)) else { return nil }
        defer { lock.unlock() }
        return try body()
    }
}
