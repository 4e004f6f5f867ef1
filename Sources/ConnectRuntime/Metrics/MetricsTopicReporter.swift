import ConnectAPI
import ConnectMetrics
import Foundation
import JSON
import Kafka
import Logging
import Synchronization

/// Writes the worker's vital signs to a Kafka topic (`metrics.reporter.topic`) so the cluster's own consumers can
/// react: every `metrics.reporter.interval.ms` a compact metrics document (per task records/s in and out, errors/s by
/// stage and class, dead-lettered records/s, lag and its verdict), and, as they happen, lifecycle events (connector and
/// task started, paused, resumed, failed, restarted, stopped, deleted; sink partitions rebalanced; lag verdict
/// changed). Every record is a CloudEvents 1.0 event in structured JSON mode, keyed by connector name (the worker id
/// for worker events), with a `content-type: application/cloudevents+json` header.
///
/// Status changes are queued and written by the reporter's own thread; a slow or absent broker never blocks a task.
/// Records the producer cannot take are dropped and counted (`swift_connect_metrics_push_failures_total{target="topic"}`).
public final class MetricsTopicReporter: Sendable {
    public struct Settings: Sendable {
        public var topic: String
        public var intervalMs: Int64 = 30_000
        public var replicationFactor: Int16 = -1
        public var workerId: String

        public init(topic: String, workerId: String) {
            self.topic = topic
            self.workerId = workerId
        }

        /// From the worker's `metrics.reporter.*` keys; nil when `metrics.reporter.topic` is not set.
        public static func from(_ config: WorkerConfig, workerId: String) -> Settings? {
            guard let reporter = config.metrics.reporter else { return nil }
            var s = Settings(topic: reporter.topic, workerId: workerId)
            s.intervalMs = reporter.interval.inMilliseconds
            s.replicationFactor = reporter.replicationFactor
            return s
        }
    }

    /// The CloudEvents `type` prefix of every event.
    public static let typePrefix = "io.swiftconnect."

    let settings: Settings
    private let registry: MetricsRegistry
    private let status: StatusStore
    private let producer: KafkaProducer
    private let logger: Logger
    private let queue = Mutex<[JSONValue]>([])
    private let stopping = Atomic<Bool>(false)
    private let wake = NSCondition()
    private let done = DispatchSemaphore(value: 0)
    private let sequence = Atomic<Int>(0)
    private let startedAt: Int64
    let sent = AtomicCounter()
    let failures = AtomicCounter()
    private let group: MetricGroup

    /// Creates the topic when missing and the reporter's producer from the worker's `producer.*` keys.
    public static func make(
        settings: Settings, config: WorkerConfig, registry: MetricsRegistry, status: StatusStore, logger: Logger
    ) throws -> MetricsTopicReporter {
        var props = config.producerProperties
        props["client.id"] = "connect-metrics-reporter"
        props["statistics.interval.ms"] = "0"
        let admin = try KafkaAdmin(config: KafkaClientConfig(config.adminClientProperties))
        try admin.ensureTopic(
            settings.topic, replicationFactor: settings.replicationFactor, describing: "the metrics reporter topic",
            key: "metrics.reporter.topic.replication.factor")
        let producer = try KafkaProducer(config: KafkaClientConfig(props))
        return MetricsTopicReporter(
            settings: settings, registry: registry, status: status, producer: producer, logger: logger)
    }

    init(settings: Settings, registry: MetricsRegistry, status: StatusStore, producer: KafkaProducer, logger: Logger) {
        self.settings = settings
        self.registry = registry
        self.status = status
        self.producer = producer
        self.logger = logger
        startedAt = registry.clock.nowMs()
        group = registry.group(ConnectMetricsCatalog.metricsPushGroup, tags: [("target", "topic")])
        let (sent, failures) = (sent, failures)
        group.add("pushes-total", .gauge { Double(sent.value) })
        group.add("failures-total", .gauge { Double(failures.value) })
    }

    /// Starts listening to status changes and writing; the first event says the worker started.
    public func start() {
        enqueue(event("worker.started", subject: nil, data: ["worker_id": .string(settings.workerId)]))
        status.observe { [weak self] change in
            guard let self, let e = self.event(for: change) else { return }
            self.enqueue(e)
        }
        let thread = Thread { [self] in run() }
        thread.name = "metrics-reporter"
        thread.start()
    }

    /// Writes what is queued and a last snapshot, the worker's `stopped` event, and waits (a few seconds at most) for
    /// the broker to take them.
    public func stop() {
        enqueue(snapshot())
        enqueue(event("worker.stopped", subject: nil, data: ["worker_id": .string(settings.workerId)]))
        stopping.store(true, ordering: .releasing)
        signal()
        _ = done.wait(timeout: .now() + .seconds(10))
        handle(producer.flush(timeoutMs: 5000))
        registry.remove(group)
    }

    private func enqueue(_ event: JSONValue) {
        queue.withLock { $0.append(event) }
        signal()
    }

    private func signal() {
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    private func run() {
        var nextSnapshot = registry.clock.nowMs() + settings.intervalMs
        while true {
            let events = queue.withLock { q in
                defer { q.removeAll() }
                return q
            }
            for e in events { write(e) }
            let now = registry.clock.nowMs()
            if now >= nextSnapshot {
                write(snapshot())
                nextSnapshot = now + settings.intervalMs
            }
            handle(producer.poll(timeoutMs: 0))
            if stopping.load(ordering: .acquiring) && queue.withLock({ $0.isEmpty }) { break }
            wake.lock()
            if queue.withLock({ $0.isEmpty }) && !stopping.load(ordering: .acquiring) {
                let waitMs = min(max(1, nextSnapshot - registry.clock.nowMs()), 500)
                _ = wake.wait(until: Date().addingTimeInterval(Double(waitMs) / 1000))
            }
            wake.unlock()
        }
        done.signal()
    }

    private func write(_ event: JSONValue) {
        let key = event["data"]?["connector"]?.stringValue ?? settings.workerId
        do {
            try producer.send(
                id: 0, topic: settings.topic, key: Array(key.utf8), value: JSONWriter.bytes(event),
                headers: [KafkaHeader(key: "content-type", value: Array("application/cloudevents+json".utf8))])
        } catch {
            failures.increment()
            logger.warning(
                "Could not write a \(event["type"]?.stringValue ?? "") event to \(settings.topic): \(error.description)"
            )
        }
    }

    private func handle(_ reports: [DeliveryReport]) {
        for report in reports {
            switch report.result {
            case .success: sent.increment()
            case .failure(let error):
                failures.increment()
                logger.warning("Writing to the metrics reporter topic \(settings.topic) failed: \(error.description)")
            }
        }
    }

    // MARK: - Events

    /// A CloudEvents 1.0 envelope; `type` gets the `io.swiftconnect.` prefix.
    func event(_ type: String, subject: String?, data: JSONObject) -> JSONValue {
        let n = sequence.add(1, ordering: .relaxed).newValue
        var o = JSONObject()
        o["specversion"] = "1.0"
        o["id"] = .string("\(settings.workerId)-\(startedAt)-\(n)")
        o["source"] = .string("swift-connect://\(settings.workerId)")
        o["type"] = .string(Self.typePrefix + type)
        if let subject { o["subject"] = .string(subject) }
        o["time"] = .string(Timestamps.iso8601(registry.clock.nowMs()))
        o["datacontenttype"] = "application/json"
        o["data"] = .object(data)
        return .object(o)
    }

    /// The lifecycle event for a status change, or nil for changes that are not events (a first UNASSIGNED).
    func event(for change: StatusEvent) -> JSONValue? {
        switch change {
        case .connector(let name, let state, let previous, let trace):
            guard let verb = Self.verb(state, previous: previous) else { return nil }
            var data: JSONObject = ["connector": .string(name), "state": .string(state.rawValue)]
            data["previous_state"] = previous.map { .string($0.rawValue) } ?? .null
            add(trace: trace, to: &data)
            return event("connector.\(verb)", subject: "connectors/\(name)", data: data)
        case .task(let id, let state, let previous, let trace, let reason):
            guard let verb = Self.verb(state, previous: previous) else { return nil }
            var data: JSONObject = [
                "connector": .string(id.connector), "task": .int(Int64(id.task)), "state": .string(state.rawValue),
            ]
            data["previous_state"] = previous.map { .string($0.rawValue) } ?? .null
            if let reason { data["reason"] = .string(reason) }
            add(trace: trace, to: &data)
            return event("task.\(verb)", subject: "connectors/\(id.connector)/tasks/\(id.task)", data: data)
        case .connectorDeleted(let name):
            return event("connector.deleted", subject: "connectors/\(name)", data: ["connector": .string(name)])
        case .lagVerdict(let id, let verdict, let previous, let lag):
            var data: JSONObject = [
                "connector": .string(id.connector), "task": .int(Int64(id.task)), "verdict": .string(verdict.rawValue),
            ]
            data["previous_verdict"] = previous.map { .string($0.rawValue) } ?? .null
            data["records"] = Self.number(lag.records)
            data["seconds"] = Self.number(lag.seconds)
            return event("task.lag.verdict.changed", subject: "connectors/\(id.connector)/tasks/\(id.task)", data: data)
        case .rebalance(let id, let assigned, let revoked):
            let data: JSONObject = [
                "connector": .string(id.connector), "task": .int(Int64(id.task)),
                "assigned": .array(assigned.map { .string($0) }), "revoked": .array(revoked.map { .string($0) }),
            ]
            return event("task.rebalanced", subject: "connectors/\(id.connector)/tasks/\(id.task)", data: data)
        case .cluster(let change):
            return event(for: change)
        }
    }

    /// `worker.joined`, `worker.lost` (`cause`: `leave` or `timeout`) and `work.reassigned` (what moved, from and
    /// to which worker), from the group's leader.
    func event(for change: ClusterEvent) -> JSONValue {
        func worker(_ url: String, _ generation: Int32) -> JSONObject {
            [
                "worker_id": .string(ClusterView.workerId(fromURL: url)), "url": .string(url),
                "generation": .int(Int64(generation)),
            ]
        }
        switch change {
        case .workerJoined(let url, let generation):
            return event(
                "worker.joined", subject: "workers/\(ClusterView.workerId(fromURL: url))", data: worker(url, generation)
            )
        case .workerLost(let url, let cause, let generation):
            var data = worker(url, generation)
            data["cause"] = .string(cause)
            return event("worker.lost", subject: "workers/\(ClusterView.workerId(fromURL: url))", data: data)
        case .reassigned(let generation, let moves):
            func move(_ m: WorkMove) -> JSONValue {
                var o: JSONObject = ["connector": .string(m.connector), "from": .string(m.from), "to": .string(m.to)]
                if let t = m.task { o["task"] = .int(Int64(t)) }
                return .object(o)
            }
            return event(
                "work.reassigned", subject: "cluster",
                data: [
                    "generation": .int(Int64(generation)),
                    "connectors": .array(moves.filter { $0.task == nil }.map(move)),
                    "tasks": .array(moves.filter { $0.task != nil }.map(move)),
                ])
        }
    }

    /// The event verb of a state change: started, resumed, paused, failed, restarted, stopped.
    static func verb(_ state: ConnectorState, previous: ConnectorState?) -> String? {
        switch state {
        case .running: return previous == .paused ? "resumed" : "started"
        case .paused: return "paused"
        case .failed: return "failed"
        case .restarting: return "restarted"
        case .stopped, .unassigned: return previous == nil || previous == .unassigned ? nil : "stopped"
        case .destroyed: return nil
        }
    }

    private func add(trace: String?, to data: inout JSONObject) {
        guard let trace, !trace.isEmpty else { return }
        let f = FailureSummary(trace: trace)
        var error: JSONObject = ["class": .string(f.errorClass), "retriable": .bool(f.retriable)]
        if let stage = f.stage { error["stage"] = .string(stage) }
        data["error"] = .object(error)
        data["trace"] = .string(trace)
    }

    // MARK: - Snapshot

    /// The `worker.metrics` event: connectors and tasks with their states and rates over the metrics window.
    func snapshot() -> JSONValue {
        let (connectors, tasks) = status.all()
        var groupsByTask: [ConnectorTaskId: [MetricGroup]] = [:]
        for g in registry.allGroups {
            let tags = Dictionary(g.tags.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let c = tags["connector"], let t = tags["task"].flatMap({ Int($0) }) else { continue }
            groupsByTask[ConnectorTaskId(c, t), default: []].append(g)
        }
        var list: [JSONValue] = []
        for name in connectors.keys.sorted() {
            var c: JSONObject = ["name": .string(name), "state": .string(connectors[name]!.state.rawValue)]
            let ids = tasks.keys.filter { $0.connector == name }.sorted()
            c["tasks"] = .array(ids.map { .object(taskDocument($0, tasks[$0]!, groupsByTask[$0] ?? [])) })
            list.append(.object(c))
        }
        let data: JSONObject = [
            "worker_id": .string(settings.workerId),
            "window_ms": .int(registry.config.windowMs * Int64(registry.config.samples)),
            "connectors": .array(list),
        ]
        return event("worker.metrics", subject: nil, data: data)
    }

    private func taskDocument(_ id: ConnectorTaskId, _ record: StatusRecord, _ groups: [MetricGroup]) -> JSONObject {
        func value(_ group: String, _ attribute: String, tag: (String, String)? = nil) -> Double? {
            groups.first { g in g.name == group && (tag.map { t in g.tags.contains { $0 == t } } ?? true) }?
                .all.first { $0.attribute == attribute }.map { PrometheusExposition.valueOf($0.source) }
        }
        let isSink = groups.contains { $0.name == ConnectMetricsCatalog.sinkTaskGroup }
        let (inStage, outStage) = isSink ? ("consumed", "put") : ("polled", "acknowledged")
        func rate(_ stage: String) -> JSONValue {
            Self.number(value(ConnectMetricsCatalog.taskFunnelGroup, "records-rate", tag: ("stage", stage)) ?? 0)
        }
        var t: JSONObject = [
            "id": .int(Int64(id.task)), "type": .string(isSink ? "sink" : "source"),
            "state": .string(record.state.rawValue), "records_in_per_sec": rate(inStage),
            "records_out_per_sec": rate(outStage),
        ]
        var errors: [JSONValue] = []
        var errorRate = 0.0
        for g in groups where g.name == ConnectMetricsCatalog.taskErrorClassGroup {
            let tags = Dictionary(g.tags.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let attrs = Dictionary(
                g.all.map { ($0.attribute, PrometheusExposition.valueOf($0.source)) }, uniquingKeysWith: { a, _ in a })
            errorRate += attrs["errors-rate"] ?? 0
            errors.append(
                [
                    "stage": .string(tags["stage"] ?? ""), "error_class": .string(tags["error_class"] ?? ""),
                    "per_sec": Self.number(attrs["errors-rate"] ?? 0), "total": Self.number(attrs["errors-total"] ?? 0),
                ])
        }
        t["errors_per_sec"] = Self.number(errorRate)
        t["errors"] = .array(errors)
        t["dlq_records_per_sec"] = Self.number(value(ConnectMetricsCatalog.taskDLQGroup, "dlq-records-rate") ?? 0)
        if let lag = record.lag {
            t["lag"] = [
                "verdict": .string(lag.verdict.rawValue), "records": Self.number(lag.records),
                "seconds": Self.number(lag.seconds),
            ]
        }
        return t
    }

    /// A JSON number, null for NaN and infinities.
    static func number(_ d: Double) -> JSONValue {
        guard d.isFinite else { return .null }
        return d == d.rounded() && abs(d) < 1e15 ? .int(Int64(d)) : .double(d)
    }
}

/// Times as text.
public enum Timestamps {
    /// RFC 3339 in UTC with milliseconds (`2026-11-28T11:21:56.123Z`).
    public static func iso8601(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
