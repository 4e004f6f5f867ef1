import Synchronization

/// What a sink connector's writer did, as MBeans of the task (this project's extension; the JDBC, Elasticsearch and
/// Neo4j sinks of Confluent and Neo4j register none): `swift.connect:type=sink-writer-metrics,connector=<c>,task=<t>`
/// with the records the destination accepted, the batches written and their time, and the retries; one
/// `swift.connect:type=sink-writer-failure-metrics,connector=<c>,task=<t>,reason=<r>` per reason the destination gave
/// for refusing records (an SQLSTATE or vendor code, an Elasticsearch error type, a Neo4j status code), added when it
/// is first seen. Served through Jolokia and `/metrics` as `swift_connect_sink_writer_metrics_<attribute>` and
/// `swift_connect_sink_writer_failure_metrics_records_failed_total{reason}`.
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
                ("batch-time-total-ms", number { $0.batchTimeTotalMs }),
                ("batch-time-max-ms", number { $0.batchTimeMaxMs }),
                ("batch-time-last-ms", number { $0.lastBatchTimeMs }),
                ("retries-total", number { Double($0.retries) }),
            ])
    }

    /// A batch of `records` the destination accepted, written in `duration` (retries included).
    public func written(_ records: Int, duration: Duration) {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        state.withLock { s in
            s.written += Int64(records)
            s.batches += 1
            s.batchTimeTotalMs += ms
            s.batchTimeMaxMs = max(s.batchTimeMaxMs, ms)
            s.lastBatchTimeMs = ms
        }
    }

    /// One more attempt at a batch after a transient failure.
    public func retried() { state.withLock { $0.retries += 1 } }

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

    private func number(_ read: @escaping @Sendable (State) -> Double) -> MBeanAttribute {
        .number { [self] in self.state.withLock { read($0) } }
    }
}
