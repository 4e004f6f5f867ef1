import ConnectAPI
import ConnectMetrics
import Synchronization

/// `errors.restart.policy` (an extension, off by default): restart a FAILED task after a backoff that doubles from
/// `errors.restart.backoff.initial.ms` up to `errors.restart.backoff.max.ms`, at most `errors.restart.max.restarts`
/// times within `errors.restart.window.ms`; past that the task stays FAILED with the reason.
struct RestartPolicy: Sendable, Equatable {
    var enabled = false
    var initialBackoff: Duration = .seconds(1)
    var maxBackoff: Duration = .seconds(60)
    var maxRestarts = 5
    var window: Duration = .seconds(600)

    init() {}

    /// From a connector's configuration, parsed through its `ConfigDef`; throws when a value does not parse.
    init(_ props: [String: String]) throws(ConnectError) {
        let p = try ConnectorConfig.parse(props, keysStartingWith: "errors.restart.", isSink: true)
        enabled = p.string("errors.restart.policy") == "exponential"
        initialBackoff = .milliseconds(p.int("errors.restart.backoff.initial.ms") ?? 0)
        maxBackoff = max(initialBackoff, .milliseconds(p.int("errors.restart.backoff.max.ms") ?? 0))
        maxRestarts = Int(p.int("errors.restart.max.restarts") ?? 0)
        window = .milliseconds(p.int("errors.restart.window.ms") ?? 1)
    }

    /// The wait before the next restart, given how many restarts the window already holds.
    func backoffMs(restartsInWindow n: Int) -> Int64 {
        min(maxBackoff.inMilliseconds, initialBackoff.inMilliseconds << Int64(min(n, 40)))
    }

    var windowMs: Int64 { window.inMilliseconds }

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
