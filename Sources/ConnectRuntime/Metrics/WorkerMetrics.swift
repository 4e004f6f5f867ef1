import ConnectMetrics

/// The worker's own groups: `connect-worker-metrics` (aggregate and per connector) and `connector-metrics`.
final class WorkerMetrics: Sendable {
    let registry: MetricsRegistry
    let connectorCount = AtomicCounter()
    let taskCount = AtomicCounter()
    private let connectorAttempts: Sensor
    private let connectorSuccesses: Sensor
    private let connectorFailures: Sensor
    private let connectorOutcome: Sensor
    private let taskAttempts: Sensor
    private let taskSuccesses: Sensor
    private let taskFailures: Sensor
    private let taskOutcome: Sensor

    init(registry: MetricsRegistry) {
        self.registry = registry
        let g = registry.group(ConnectMetricsCatalog.workerGroup)
        let connectors = connectorCount
        let tasks = taskCount
        g.add("connector-count", .gauge { Double(connectors.value) })
        g.add("task-count", .gauge { Double(tasks.value) })
        connectorAttempts = registry.sensor(g, [("connector-startup-attempts-total", .total)])
        connectorSuccesses = registry.sensor(g, [("connector-startup-success-total", .total)])
        connectorFailures = registry.sensor(g, [("connector-startup-failure-total", .total)])
        connectorOutcome = registry.sensor(
            g,
            [
                ("connector-startup-success-percentage", .trueRatio),
                ("connector-startup-failure-percentage", .falseRatio),
            ])
        taskAttempts = registry.sensor(g, [("task-startup-attempts-total", .total)])
        taskSuccesses = registry.sensor(g, [("task-startup-success-total", .total)])
        taskFailures = registry.sensor(g, [("task-startup-failure-total", .total)])
        taskOutcome = registry.sensor(
            g, [("task-startup-success-percentage", .trueRatio), ("task-startup-failure-percentage", .falseRatio)])
    }

    func connectorStartup(success: Bool) {
        connectorAttempts.record()
        (success ? connectorSuccesses : connectorFailures).record()
        connectorOutcome.record(success ? 1 : 0)
    }

    func taskStartup(success: Bool) {
        taskAttempts.record()
        (success ? taskSuccesses : taskFailures).record()
        taskOutcome.record(success ? 1 : 0)
    }

    /// Registers a connector's `connector-metrics` and per-connector `connect-worker-metrics` groups.
    func connectorAdded(_ name: String, desc: PluginDesc, status: StatusStore) {
        let c = registry.group(ConnectMetricsCatalog.connectorGroup, tags: [("connector", name)])
        let type = desc.type.rawValue
        let cls = desc.className
        let version = desc.version ?? "undefined"
        c.add("connector-type", .text { type })
        c.add("connector-class", .text { cls })
        c.add("connector-version", .text { version })
        c.add("status", .text { status.connector(name)?.state.rawValue.lowercased() ?? "unassigned" })
        let w = registry.group(ConnectMetricsCatalog.workerGroup, tags: [("connector", name)])
        w.add("connector-total-task-count", .gauge { Double(status.taskCount(name)) })
        for (attribute, state) in [
            ("connector-running-task-count", ConnectorState.running), ("connector-paused-task-count", .paused),
            ("connector-failed-task-count", .failed), ("connector-unassigned-task-count", .unassigned),
            ("connector-destroyed-task-count", .destroyed), ("connector-restarting-task-count", .restarting),
        ] {
            w.add(attribute, .gauge { Double(status.taskCount(name, in: state)) })
        }
    }

    func connectorRemoved(_ name: String) {
        registry.remove(registry.group(ConnectMetricsCatalog.connectorGroup, tags: [("connector", name)]))
        registry.remove(registry.group(ConnectMetricsCatalog.workerGroup, tags: [("connector", name)]))
    }
}
