import ConnectAPI
import ConnectMetrics
import Synchronization

/// `errors.restart.policy` (an extension, off by default): restart a FAILED task after a backoff that doubles from
/// `errors.restart.backoff.initial.ms` up to `errors.restart.backoff.max.ms`, at most `errors.restart.max.restarts`
/// times within `errors.restart.window.ms`; past that the task stays FAILED with the reason.
struct RestartPolicy: Sendable, Equatable {
    var enabled = false
    var initialBackoffMs: Int64 = 1_000
    var maxBackoffMs: Int64 = 60_000
    var maxRestarts = 5
    var windowMs: Int64 = 600_000

    init() {}

    init(_ props: [String: String]) {
        func long(_ key: String, _ otherwise: Int64) -> Int64 { Int64(props[key]?.trimmingSpaces ?? "") ?? otherwise }
        enabled = props["errors.restart.policy"]?.trimmingSpaces == "exponential"
        initialBackoffMs = max(0, long("errors.restart.backoff.initial.ms", 1_000))
        maxBackoffMs = max(initialBackoffMs, long("errors.restart.backoff.max.ms", 60_000))
        maxRestarts = Int(max(0, long("errors.restart.max.restarts", 5)))
        windowMs = max(1, long("errors.restart.window.ms", 600_000))
    }

    /// The wait before the next restart, given how many restarts the window already holds.
    func backoffMs(restartsInWindow n: Int) -> Int64 {
        min(maxBackoffMs, initialBackoffMs << Int64(min(n, 40)))
    }

    /// Restart times still inside the window at `now`.
    func inWindow(_ restarts: [Int64], now: Int64) -> [Int64] { restarts.filter { now - $0 < windowMs } }

    var givingUpNote: String {
        "The restart policy gave up: \(maxRestarts) restarts within \(windowMs) ms (errors.restart.max.restarts=\(maxRestarts), errors.restart.window.ms=\(windowMs)); the task stays FAILED until it is restarted by hand."
    }
}

/// Restarts per task and reason (`swift_connect_task_restarts_total{connector,task,reason}`).
final class RestartMetrics: Sendable {
    private let registry: MetricsRegistry
    private let counters = Mutex<[String: (MetricGroup, AtomicCounter)]>([:])

    init(registry: MetricsRegistry) { self.registry = registry }

    func restarted(_ id: ConnectorTaskId, reason: String) {
        let counter = counters.withLock { c -> AtomicCounter in
            let key = "\(id.connector)\u{1}\(id.task)\u{1}\(reason)"
            if let existing = c[key] { return existing.1 }
            let counter = AtomicCounter()
            let group = registry.group(
                ConnectMetricsCatalog.taskRestartGroup,
                tags: [("connector", id.connector), ("task", String(id.task)), ("reason", reason)])
            group.add("restarts-total", .gauge { Double(counter.value) })
            c[key] = (group, counter)
            return counter
        }
        counter.increment()
    }

    func remove(connector: String) {
        let gone = counters.withLock { c -> [MetricGroup] in
            let keys = c.keys.filter { $0.hasPrefix(connector + "\u{1}") }
            return keys.compactMap { c.removeValue(forKey: $0)?.0 }
        }
        for g in gone { registry.remove(g) }
    }
}
