import ConnectAPI
import Foundation

/// A thread of its own that runs the jobs it is given one after another: the executor Connect gives each
/// `WorkerConnector`, so a plug-in call that hangs holds up only its own connector.
///
/// `@unchecked Sendable`: `jobs` and `closed` are read and written only while holding `condition`.
final class JobThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var closed = false
    private var finished = false

    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Queues `job`; false when the thread was closed (the job is dropped).
    @discardableResult
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        condition.broadcast()
        return true
    }

    /// Runs what is queued, then ends the thread; later jobs are refused.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the thread has run its last job, up to `timeout`; returns whether it has.
    func awaitTermination(timeout: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeout.inMilliseconds) / 1000)
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            if !condition.wait(until: deadline) { return finished }
        }
        return true
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !closed { condition.wait() }
            if jobs.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
