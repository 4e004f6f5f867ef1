import ConnectAPI
import ConnectMetrics
import Synchronization

/// Time spent in each state, for `running-ratio` and `pause-ratio` (Connect's `StateTracker`).
final class StateTracker: Sendable {
    struct State {
        var current: ConnectorState = .unassigned
        var since: Int64
        var spent: [ConnectorState: Int64] = [:]
        let start: Int64
    }

    private let state: Mutex<State>
    private let clock: any MetricsClock

    init(clock: any MetricsClock) {
        self.clock = clock
        let now = clock.nowMs()
        state = Mutex(State(since: now, start: now))
    }

    func changed(to new: ConnectorState) {
        let now = clock.nowMs()
        state.withLock { s in
            s.spent[s.current, default: 0] += now - s.since
            s.current = new
            s.since = now
        }
    }

    func ratio(_ of: ConnectorState) -> Double {
        let now = clock.nowMs()
        return state.withLock { s in
            let total = now - s.start
            guard total > 0 else { return s.current == of ? 1 : 0 }
            let spent = (s.spent[of] ?? 0) + (s.current == of ? now - s.since : 0)
            return Double(spent) / Double(total)
        }
    }
}

/// A task's metric groups (`connector-task-metrics`, `task-error-metrics`, and `source-task-metrics` or
/// `sink-task-metrics`) and the sensors its loop records into. Removed from the registry when the task stops.
final class TaskMetrics: Sendable {
    let registry: MetricsRegistry
    let groups: [MetricGroup]
    let tracker: StateTracker
    let batchSize: Sensor
    let commitTime: Sensor
    let commitOutcome: Sensor
    // Source tasks.
    let poll: Sensor
    let pollTime: Sensor
    let write: Sensor
    let sourceActive: Sensor
    // Sink tasks.
    let read: Sensor
    let send: Sensor
    let putTime: Sensor
    let commitCompletion: Sensor
    let commitSkip: Sensor
    let sinkActive: Sensor
    let partitionCount = AtomicCounter()
    let commitSeqNo = AtomicCounter()
    /// Epoch milliseconds of the last poll, put, broker acknowledgement and commit (0 before the first), and the
    /// timestamp of the last acknowledged source record.
    let lastPoll = AtomicCounter()
    let lastPut = AtomicCounter()
    let lastAck = AtomicCounter()
    let lastCommit = AtomicCounter()
    let lastAckedRecordTime = AtomicCounter()
    /// Records through each stage, by stage name.
    private let funnel: [String: Sensor]
    /// What the source task last reported as records behind its source; the metric appears with the first report.
    private let behindSource = Mutex<Int64?>(nil)
    /// What the source task last reported as bytes behind its source; -1 once it could no longer tell.
    private let bytesBehind = Mutex<Int64?>(nil)
    /// MBeans the task registered itself (`PluginMBeanServer`), removed when it stops.
    /// Nil once the metrics closed: a task still running past its stop registers nothing more.
    private let pluginGroups = Mutex<[MetricGroup]?>([])
    private let activityGroup: MetricGroup
    /// Records dropped, by transform alias; groups appear on the first drop.
    private let dropped = Mutex<[String: (MetricGroup, Sensor)]>([:])
    private let tags: [(key: String, value: String)]

    /// The Java client metrics of the task's producer (source) or consumer (sink).
    let client: ClientMetrics
    /// `task-error-metrics` and the error counters by stage and class.
    let errors: ErrorMetrics

    init(registry: MetricsRegistry, id: ConnectorTaskId, isSource: Bool, status: StatusStore, clientId: String) {
        self.registry = registry
        client = ClientMetrics(registry: registry, clientId: clientId, role: isSource ? .producer : .consumer)
        let tags: [(key: String, value: String)] = [("connector", id.connector), ("task", String(id.task))]
        let task = registry.group(ConnectMetricsCatalog.taskGroup, tags: tags)
        let errors = registry.group(ConnectMetricsCatalog.taskErrorGroup, tags: tags)
        let kind = registry.group(
            isSource ? ConnectMetricsCatalog.sourceTaskGroup : ConnectMetricsCatalog.sinkTaskGroup, tags: tags)
        let activity = registry.group(ConnectMetricsCatalog.taskActivityGroup, tags: tags)
        activityGroup = activity
        self.tags = tags
        let stages =
            isSource
            ? ["polled", "transformed", "converted", "produced", "acknowledged", "committed"]
            : ["consumed", "converted", "transformed", "put", "committed"]
        var funnelGroups: [MetricGroup] = []
        var funnel: [String: Sensor] = [:]
        for stage in stages {
            let g = registry.group(ConnectMetricsCatalog.taskFunnelGroup, tags: tags + [("stage", stage)])
            funnel[stage] = registry.sensor(g, [("records-total", .total), ("records-rate", .rate)])
            funnelGroups.append(g)
        }
        self.funnel = funnel
        groups = [task, errors, kind, activity] + funnelGroups
        tracker = StateTracker(clock: registry.clock)
        let tracker = tracker
        task.add("status", .text { status.task(id)?.state.rawValue.lowercased() ?? "unassigned" })
        task.add("running-ratio", .gauge { tracker.ratio(.running) })
        task.add("pause-ratio", .gauge { tracker.ratio(.paused) })
        commitTime = registry.sensor(task, [("offset-commit-max-time-ms", .max), ("offset-commit-avg-time-ms", .avg)])
        batchSize = registry.sensor(task, [("batch-size-max", .max), ("batch-size-avg", .avg)])
        commitOutcome = registry.sensor(
            task, [("offset-commit-success-percentage", .trueRatio), ("offset-commit-failure-percentage", .falseRatio)])
        self.errors = ErrorMetrics(registry: registry, group: errors, tags: tags)
        // The other kind's sensors exist so the loops can record unconditionally, but are registered nowhere.
        let sourceGroup = isSource ? kind : nil
        let sinkGroup = isSource ? nil : kind
        poll = registry.sensor(sourceGroup, [("source-record-poll-rate", .rate), ("source-record-poll-total", .total)])
        pollTime = registry.sensor(sourceGroup, [("poll-batch-max-time-ms", .max), ("poll-batch-avg-time-ms", .avg)])
        write = registry.sensor(
            sourceGroup, [("source-record-write-rate", .rate), ("source-record-write-total", .total)])
        sourceActive = registry.sensor(
            sourceGroup,
            [
                ("source-record-active-count", .value), ("source-record-active-count-max", .max),
                ("source-record-active-count-avg", .avg),
            ])
        read = registry.sensor(sinkGroup, [("sink-record-read-rate", .rate), ("sink-record-read-total", .total)])
        send = registry.sensor(sinkGroup, [("sink-record-send-rate", .rate), ("sink-record-send-total", .total)])
        putTime = registry.sensor(sinkGroup, [("put-batch-max-time-ms", .max), ("put-batch-avg-time-ms", .avg)])
        commitCompletion = registry.sensor(
            sinkGroup, [("offset-commit-completion-rate", .rate), ("offset-commit-completion-total", .total)])
        commitSkip = registry.sensor(
            sinkGroup, [("offset-commit-skip-rate", .rate), ("offset-commit-skip-total", .total)])
        sinkActive = registry.sensor(
            sinkGroup,
            [
                ("sink-record-active-count", .value), ("sink-record-active-count-max", .max),
                ("sink-record-active-count-avg", .avg),
            ])
        let clock = registry.clock
        func since(_ counter: AtomicCounter) -> MetricSource {
            .gauge {
                let at = counter.value
                return at == 0 ? .nan : Double(clock.nowMs() - Int64(at)) / 1000
            }
        }
        activity.add("time-since-last-poll-seconds", since(lastPoll))
        activity.add("time-since-last-commit-seconds", since(lastCommit))
        if isSource {
            activity.add("time-since-last-ack-seconds", since(lastAck))
            activity.add("source-lag-seconds", since(lastAckedRecordTime))
        } else {
            activity.add("time-since-last-put-seconds", since(lastPut))
        }
        if !isSource {
            let partitions = partitionCount
            let seq = commitSeqNo
            kind.add("partition-count", .gauge { Double(partitions.value) })
            kind.add("offset-commit-seq-no", .gauge { Double(seq.value) })
        }
    }

    /// Records an offset commit: its duration on success, and the outcome either way.
    func recordCommit(durationMs: Double?, success: Bool) {
        if success { touch(lastCommit) }
        if success, let durationMs { commitTime.record(durationMs) }
        commitOutcome.record(success ? 1 : 0)
    }

    func close() {
        client.close()
        errors.close()
        for g in groups { registry.remove(g) }
        for (g, _) in dropped.withLock({ Array($0.values) }) { registry.remove(g) }
        let plugins = pluginGroups.withLock { groups in
            defer { groups = nil }
            return groups ?? []
        }
        for g in plugins { registry.remove(g) }
    }

    /// Counts records through a funnel stage.
    func passed(_ stage: String, _ count: Int = 1) {
        if count > 0 { funnel[stage]?.record(Double(count)) }
    }

    /// Counts a record dropped by the transform with this alias.
    func dropped(by alias: String) {
        let sensor = dropped.withLock { d -> Sensor in
            if let existing = d[alias] { return existing.1 }
            let g = registry.group(ConnectMetricsCatalog.transformGroup, tags: tags + [("transform", alias)])
            let s = registry.sensor(g, [("dropped-records-total", .total)])
            d[alias] = (g, s)
            return s
        }
        sensor.record()
    }

    /// Notes what a source task reports as records behind its source (nil: it cannot tell).
    func recordBehindSource(_ records: Int64?) {
        guard let records else { return }
        let first = behindSource.withLock { v in
            defer { v = records }
            return v == nil
        }
        if first {
            activityGroup.add(
                "records-behind-source",
                .gauge { [weak self] in self?.behindSource.withLock { $0.map(Double.init) } ?? .nan })
        }
    }

    /// Notes what a source task reports as bytes behind its source (nil: it cannot tell).
    func recordBytesBehindSource(_ bytes: Int64?) {
        // Once reported, an unknown value reads NaN rather than the last one (the server may be gone).
        let first = bytesBehind.withLock { v in
            defer { v = bytes ?? (v == nil ? nil : -1) }
            return v == nil && bytes != nil
        }
        if first {
            activityGroup.add(
                "bytes-behind-source",
                .gauge { [weak self] in
                    self?.bytesBehind.withLock { v in v.flatMap { $0 < 0 ? nil : Double($0) } } ?? .nan
                })
        }
    }

    /// Registers a task's own MBean as a metric group with its domain; it goes when the task's metrics close. A
    /// name this task registered before is replaced; one another task holds is refused, as JMX refuses it.
    func registerPluginMBean(
        domain: String, type: String, properties: [(key: String, value: String)],
        attributes: [(name: String, value: MBeanAttribute)]
    ) throws(PluginMBeanError) {
        // Found or made under the lock, so that a close meanwhile removes it.
        let found = pluginGroups.withLock { groups -> (group: MetricGroup?, closed: Bool) in
            guard let list = groups else { return (nil, true) }
            if let own = list.first(where: { g in
                g.name == type && g.pluginDomain == domain
                    && g.tags.elementsEqual(properties) { $0.key == $1.key && $0.value == $1.value }
            }) {
                return (own, false)
            }
            let made = registry.newGroup(type, tags: properties, pluginDomain: domain)
            if let made { groups?.append(made) }
            return (made, false)
        }
        if found.closed { return }
        guard let g = found.group else {
            throw .instanceAlreadyExists(
                objectName: "\(domain):type=\(type)" + properties.map { ",\($0.key)=\($0.value)" }.joined())
        }
        for (name, value) in attributes {
            switch value {
            case .number(let read): g.add(name, .gauge(read))
            case .boolean(let read): g.add(name, .flag(read))
            case .string(let read): g.add(name, .text(read))
            case .table(let read): g.add(name, .table(read))
            }
        }
    }

    /// Notes an activity time: now.
    func touch(_ counter: AtomicCounter) { counter.set(Int(registry.clock.nowMs())) }
}

/// `task-error-metrics` (Connect's `ErrorHandlingMetrics`), fed by the error handling of the task, plus
/// `swift_connect_task_errors_total{stage,error_class}`, failed attempts by stage and error class.
final class ErrorMetrics: Sendable {
    let failures = AtomicCounter()
    let errors = AtomicCounter()
    let skipped = AtomicCounter()
    let retries = AtomicCounter()
    let logged = AtomicCounter()
    let dlqRequests = AtomicCounter()
    let dlqFailures = AtomicCounter()
    let lastErrorTimestamp = AtomicCounter()
    private let registry: MetricsRegistry?
    private let tags: [(key: String, value: String)]
    private let byClass = Mutex<[String: (MetricGroup?, AtomicCounter, Sensor?)]>([:])
    /// Dead-lettered records per second (`swift_connect_task_dlq_records_rate`).
    private let dlqRate: Sensor?
    private let dlqGroup: MetricGroup?

    /// Counters with no registry behind them, for tests and tools.
    convenience init() { self.init(registry: nil, group: nil, tags: []) }

    init(registry: MetricsRegistry?, group: MetricGroup?, tags: [(key: String, value: String)]) {
        self.registry = registry
        self.tags = tags
        // An extension: its own group, so Connect's task-error-metrics MBean keeps Connect's attributes only.
        dlqGroup = registry?.group(ConnectMetricsCatalog.taskDLQGroup, tags: tags)
        dlqRate = dlqGroup.flatMap { registry?.sensor($0, [("dlq-records-rate", .rate)]) }
        for (attribute, counter) in [
            ("total-record-failures", failures), ("total-record-errors", errors), ("total-records-skipped", skipped),
            ("total-retries", retries), ("total-errors-logged", logged),
            ("deadletterqueue-produce-requests", dlqRequests), ("deadletterqueue-produce-failures", dlqFailures),
            ("last-error-timestamp", lastErrorTimestamp),
        ] {
            group?.add(attribute, .gauge { Double(counter.value) })
        }
    }

    /// A failed attempt of a stage (every retriable failure counts, as in Connect).
    func recordFailure(_ stage: ErrorStage, _ error: any Error) {
        failures.increment()
        countByClass(stage, error)
    }

    private func countByClass(_ stage: ErrorStage, _ error: any Error) {
        let errorClass = ErrorClassification.classify(error, stage: stage).errorClass.rawValue
        let key = stage.rawValue + "\u{1}" + errorClass
        let (counter, rate) = byClass.withLock { m -> (AtomicCounter, Sensor?) in
            if let existing = m[key] { return (existing.1, existing.2) }
            let counter = AtomicCounter()
            let group = registry?.group(
                ConnectMetricsCatalog.taskErrorClassGroup,
                tags: tags + [("stage", stage.rawValue), ("error_class", errorClass)])
            group?.add("errors-total", .gauge { Double(counter.value) })
            let rate = group.flatMap { registry?.sensor($0, [("errors-rate", .rate)]) }
            m[key] = (group, counter, rate)
            return (counter, rate)
        }
        counter.increment()
        rate?.record()
    }

    /// A retriable failure the task loop retries itself (a redelivered `put`, a `poll` tried again): not one of
    /// Connect's record failures, so counted by stage and class only.
    func recordRetriableTaskFailure(_ stage: ErrorStage, _ error: any Error) { countByClass(stage, error) }

    func recordError() { errors.increment() }
    func recordSkipped() { skipped.increment() }
    func recordRetry() { retries.increment() }
    func recordErrorLogged() { logged.increment() }
    func recordDeadLetterQueueProduceRequest() {
        dlqRequests.increment()
        dlqRate?.record()
    }
    func recordDeadLetterQueueProduceFailed() { dlqFailures.increment() }
    func recordErrorTimestamp(_ ms: Int64) { lastErrorTimestamp.set(Int(ms)) }

    /// Failed attempts counted for a stage and class.
    func failures(stage: ErrorStage, errorClass: String) -> Int {
        byClass.withLock { $0[stage.rawValue + "\u{1}" + errorClass]?.1.value ?? 0 }
    }

    func close() {
        for (group, _, _) in byClass.withLock({ Array($0.values) }) { if let group { registry?.remove(group) } }
        if let dlqGroup { registry?.remove(dlqGroup) }
    }
}

/// An integer shared between a task thread and metric readers.
public final class AtomicCounter: Sendable {
    private let atomic = Atomic<Int>(0)

    public init() {}

    public var value: Int { atomic.load(ordering: .relaxed) }
    public func set(_ v: Int) { atomic.store(v, ordering: .relaxed) }
    public func increment() { atomic.add(1, ordering: .relaxed) }
}
