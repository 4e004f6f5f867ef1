import Synchronization

/// What a sink connector's writer did, as MBeans of the task (this project's extension; the JDBC, Elasticsearch and
/// Neo4j sinks of Confluent and Neo4j register none): `swift.connect:type=sink-writer-metrics,connector=<c>,task=<t>`
/// with the records the destination accepted, the batches written and their time, and the retries; one
/// `swift.connect:type=sink-writer-failure-metrics,connector=<c>,task=<t>,reason=<r>` per reason the destination gave
/// for refusing records (an SQLSTATE or vendor code, an Elasticsearch error type, a Neo4j status code), added when it
/// is first seen; and one `swift.connect:type=sink-writer-retry-metrics,connector=<c>,task=<t>,reason=<r>` per reason
/// a write was retried for (a lost connection, an SQLSTATE such as `08001`, an HTTP status). Served through Jolokia
/// and `/metrics` as `swift_connect_sink_writer_metrics_<attribute>`,
/// `swift_connect_sink_writer_failure_metrics_records_failed_total{reason}` and
/// `swift_connect_sink_writer_retry_metrics_retries_total{reason}`. `retrying-for-ms` says how long writes have been
/// failing and retried without one succeeding (0 once one does): a task in that state is RUNNING but writes nothing,
/// which `connect-doctor` reports (CD-SINK-003).
///
/// Counts are since the task started; times are in milliseconds. The task's thread updates it and any thread reads
/// it, under one lock.
public final class SinkWriterMetrics: Sendable {
    public static let domain = "swift.connect"

    struct State {
        var written: Int64 = 0
        var batches: Int64 = 0
        var batchTimeTotalMs = 0.0
        var batchTimeMaxMs = 0.0
        var lastBatchTimeMs = 0.0
        var retries: Int64 = 0
        var retriesByReason: [String: Int64] = [:]
        var retryingSince: ContinuousClock.Instant?
        var failed: [String: Int64] = [:]
    }

    private let state = Mutex(State())
    private let server: (any PluginMBeanServer)?
    private let tags: [(key: String, value: String)]

    /// Registers the task's MBean on `server` (nothing without one). `tags` name the task (`connector`, `task`:
    /// `PluginMBeanServer.taskTags`).
    public init(server: (any PluginMBeanServer)?) {
        self.server = server
        self.tags = server?.taskTags ?? []
        try? server?.register(
            domain: Self.domain, type: "sink-writer-metrics", properties: tags,
            attributes: [
                ("records-written-total", number { Double($0.written) }),
                ("batches-total", number { Double($0.batches) }),
                ("batch-time-ms-total", number { $0.batchTimeTotalMs }),
                ("batch-time-max-ms", number { $0.batchTimeMaxMs }),
                ("batch-time-last-ms", number { $0.lastBatchTimeMs }),
                ("retries-total", number { Double($0.retries) }),
                ("retrying-for-ms", .number { [weak self] in self?.retryingForMs.map(Double.init) ?? 0 }),
            ])
    }

    /// How long writes have failed and been retried without one succeeding, nil when the last one succeeded.
    public var retryingForMs: Int64? {
        guard let since = state.withLock({ $0.retryingSince }) else { return nil }
        return Self.milliseconds(ContinuousClock.now - since)
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    /// A batch of `records` the destination accepted, written in `duration` (retries included); a batch of none
    /// (every record refused before the write) is not counted, but ends the retrying as well.
    public func written(_ records: Int, duration: Duration) {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        state.withLock { s in
            s.retryingSince = nil
            guard records > 0 else { return }
            s.written += Int64(records)
            s.batches += 1
            s.batchTimeTotalMs += ms
            s.batchTimeMaxMs = max(s.batchTimeMaxMs, ms)
            s.lastBatchTimeMs = ms
        }
    }

    /// One more attempt at a batch after a transient failure for `reason` (`connection`, an SQLSTATE, an HTTP
    /// status): from the first, `retrying-for-ms` counts until a batch is written.
    public func retried(reason: String) {
        let now = ContinuousClock.now
        let first = state.withLock { s in
            s.retries += 1
            if s.retryingSince == nil { s.retryingSince = now }
            defer { s.retriesByReason[reason, default: 0] += 1 }
            return s.retriesByReason[reason] == nil
        }
        guard first else { return }
        try? server?.register(
            domain: Self.domain, type: "sink-writer-retry-metrics", properties: tags + [("reason", reason)],
            attributes: [("retries-total", number { Double($0.retriesByReason[reason] ?? 0) })])
    }

    /// `records` the destination refused for `reason` (reported as errant, or failing the task).
    public func failed(_ records: Int, reason: String) {
        let first = state.withLock { s in
            defer { s.failed[reason, default: 0] += Int64(records) }
            return s.failed[reason] == nil
        }
        guard first else { return }
        try? server?.register(
            domain: Self.domain, type: "sink-writer-failure-metrics", properties: tags + [("reason", reason)],
            attributes: [("records-failed-total", number { Double($0.failed[reason] ?? 0) })])
    }

    /// Records refused so far, per reason.
    public var failures: [String: Int64] { state.withLock { $0.failed } }

    /// Read through a weak reference: the worker's registry holds the MBean and must not keep the task's metrics.
    private func number(_ read: @escaping @Sendable (State) -> Double) -> MBeanAttribute {
        .number { [weak self] in self?.state.withLock { read($0) } ?? 0 }
    }
}
