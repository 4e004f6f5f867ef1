import ConnectAPI
import Foundation
import Synchronization

/// Debezium's snapshot and streaming metrics of one connector task, registered as Debezium registers them:
/// `debezium.<plugin>:type=connector-metrics,context=snapshot|streaming,server=<topic.prefix>`
/// (`SnapshotChangeEventSourceMetricsMXBean`, `StreamingChangeEventSourceMetricsMXBean` and the MySQL connector's
/// binlog attributes). The task feeds it from its poll loop (`observe`) and its readers (connection, transactions,
/// snapshot progress); the worker reads it from its HTTP threads, so every update and read takes one lock.
///
/// Attributes as Debezium's: times in milliseconds (`MilliSecondsSinceLastEvent`, `MilliSecondsBehindSource`: -1
/// until there is an event), counts since the task started, `RowsScanned` a table → rows map keyed
/// `<database or schema>.<table>`. This connector reads the log within `poll()` without Debezium's change event
/// queue, so `QueueRemainingCapacity` is always the whole `max.queue.size` and the queue sizes in bytes are 0.
public final class DebeziumConnectorMetrics: Sendable {
    /// `mysql`, `postgres`: the JMX domain is `debezium.<plugin>`.
    public let plugin: String
    /// The `server` property: `topic.prefix`.
    public let server: String
    private let queueCapacity: Int
    private let maxQueueSizeInBytes: Int64
    private let state = Mutex(State())

    struct Counts {
        var total: Int64 = 0
        var creates: Int64 = 0
        var updates: Int64 = 0
        var deletes: Int64 = 0
        var filtered: Int64 = 0
        var lastEvent = ""
        var lastEventMs: Int64?
    }

    struct State {
        var snapshot = Counts()
        var streaming = Counts()
        var capturedTables: [String] = []
        var totalTables = 0
        var remainingTables = 0
        var snapshotRunning = false
        var snapshotAborted = false
        var snapshotCompleted = false
        var snapshotStartMs: Int64?
        var snapshotEndMs: Int64?
        var rowsScanned: [String: Int64] = [:]
        var rowsScannedOrder: [String] = []
        var connected = false
        var behindSourceMs: Int64 = -1
        var committedTransactions: Int64 = 0
        var lastTransactionId = ""
        var sourcePosition: [(key: String, value: String)] = []
        var disconnects: Int64 = 0
        var disconnectedAtMs: Int64?
        var skipped: Int64 = 0
        var logPosition: (file: String, position: UInt64)?
    }

    public init(plugin: String, server: String, queueCapacity: Int = 8192, maxQueueSizeInBytes: Int64 = 0) {
        self.plugin = plugin
        self.server = server
        self.queueCapacity = queueCapacity
        self.maxQueueSizeInBytes = maxQueueSizeInBytes
    }

    public static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: - Registration

    /// Registers the snapshot and streaming MBeans, the streaming one with `streamingExtras` (the MySQL
    /// connector's binlog attributes). Does nothing without an MBean server.
    ///
    /// - Throws: `PluginMBeanError` when another connector's task holds the names (the same `topic.prefix`); the
    ///   connectors here then log, once and at WARN, Debezium's "metrics will not be available" (Debezium first
    ///   retries 12 times 5 s apart, for an old instance that is still closing; here a restart closes the old task's
    ///   metrics before the new task starts).
    public func register(
        on mbeans: (any PluginMBeanServer)?, streamingExtras: [(name: String, value: MBeanAttribute)] = []
    ) throws(PluginMBeanError) {
        guard let mbeans else { return }
        let domain = "debezium." + plugin
        let snapshot: [(name: String, value: MBeanAttribute)] =
            common(\.snapshot) + [
                ("TotalTableCount", number { Double($0.totalTables) }),
                ("RemainingTableCount", number { Double($0.remainingTables) }),
                ("SnapshotRunning", flag { $0.snapshotRunning }),
                ("SnapshotPaused", .boolean { false }),
                ("SnapshotAborted", flag { $0.snapshotAborted }),
                ("SnapshotCompleted", flag { $0.snapshotCompleted }),
                (
                    "SnapshotDurationInSeconds",
                    number { s in
                        guard let start = s.snapshotStartMs else { return 0 }
                        return Double(((s.snapshotEndMs ?? Self.nowMs()) - start) / 1000)
                    }
                ),
                ("SnapshotPausedDurationInSeconds", .number { 0 }),
                (
                    "RowsScanned",
                    .table { [self] in
                        self.state.withLock { s in s.rowsScannedOrder.map { ($0, Double(s.rowsScanned[$0] ?? 0)) } }
                    }
                ),
            ]
        let streaming: [(name: String, value: MBeanAttribute)] =
            common(\.streaming) + [
                ("Connected", flag { $0.connected }),
                ("MilliSecondsBehindSource", number { Double($0.behindSourceMs) }),
                ("NumberOfCommittedTransactions", number { Double($0.committedTransactions) }),
                ("LastTransactionId", text { $0.lastTransactionId }),
                (
                    "SourceEventPosition",
                    text { s in "{" + s.sourcePosition.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "}" }
                ),
                ("NumberOfDisconnects", number { Double($0.disconnects) }),
                // This project's extension: how long the stream has been down (0 while connected).
                (
                    "MilliSecondsDisconnected",
                    number { s in s.disconnectedAtMs.map { Double(Self.nowMs() - $0) } ?? 0 }
                ),
                ("NumberOfSkippedEvents", number { Double($0.skipped) }),
            ] + streamingExtras
        let properties = { (context: String) -> [(key: String, value: String)] in
            [("context", context), ("server", self.server)]
        }
        try mbeans.register(
            domain: domain, type: "connector-metrics", properties: properties("snapshot"), attributes: snapshot)
        try mbeans.register(
            domain: domain, type: "connector-metrics", properties: properties("streaming"), attributes: streaming)
    }

    /// The warning a task logs when its MBeans were refused (Debezium's wording first, then the likely cause).
    public static func unavailable(_ error: PluginMBeanError, server: String) -> String {
        "Failed to register metrics MBean, metrics will not be available: \(error); another connector uses topic.prefix '\(server)', which also names its topics: give each connector its own topic.prefix"
    }

    private func number(_ read: @escaping @Sendable (State) -> Double) -> MBeanAttribute {
        .number { [self] in self.state.withLock { read($0) } }
    }
    private func flag(_ read: @escaping @Sendable (State) -> Bool) -> MBeanAttribute {
        .boolean { [self] in self.state.withLock { read($0) } }
    }
    private func text(_ read: @escaping @Sendable (State) -> String) -> MBeanAttribute {
        .string { [self] in self.state.withLock { read($0) } }
    }

    /// The attributes both contexts have (`CommonEventMetricsMXBean`, `ChangeEventSourceMetricsMXBean`).
    private func common(_ counts: KeyPath<State, Counts> & Sendable) -> [(name: String, value: MBeanAttribute)] {
        let capacity = Double(queueCapacity)
        let maxBytes = Double(maxQueueSizeInBytes)
        return [
            ("LastEvent", text { $0[keyPath: counts].lastEvent }),
            (
                "MilliSecondsSinceLastEvent",
                number { s in s[keyPath: counts].lastEventMs.map { Double(Self.nowMs() - $0) } ?? -1 }
            ),
            ("TotalNumberOfEventsSeen", number { Double($0[keyPath: counts].total) }),
            ("TotalNumberOfCreateEventsSeen", number { Double($0[keyPath: counts].creates) }),
            ("TotalNumberOfUpdateEventsSeen", number { Double($0[keyPath: counts].updates) }),
            ("TotalNumberOfDeleteEventsSeen", number { Double($0[keyPath: counts].deletes) }),
            ("NumberOfEventsFiltered", number { Double($0[keyPath: counts].filtered) }),
            ("NumberOfErroneousEvents", .number { 0 }),
            ("CapturedTables", text { $0.capturedTables.joined(separator: ",") }),
            ("QueueTotalCapacity", .number { capacity }),
            ("QueueRemainingCapacity", .number { capacity }),
            ("MaxQueueSizeInBytes", .number { maxBytes }),
            ("CurrentQueueSizeInBytes", .number { 0 }),
        ]
    }

    /// A value of the last streamed record's offset (`file`, `pos`, `gtids`, `lsn`), for connector-specific
    /// attributes.
    public func positionValue(_ key: String) -> String? {
        state.withLock { s in s.sourcePosition.first { $0.key == key }?.value }
    }

    // MARK: - Updates

    /// The snapshot starts over these tables (`<db or schema>.<table>`).
    public func snapshotStarted(tables: [String]) {
        state.withLock { s in
            s.capturedTables = tables
            s.totalTables = tables.count
            s.remainingTables = tables.count
            s.snapshotRunning = true
            s.snapshotAborted = false
            s.snapshotCompleted = false
            s.snapshotStartMs = Self.nowMs()
            s.snapshotEndMs = nil
            for t in tables where s.rowsScanned[t] == nil {
                s.rowsScanned[t] = 0
                s.rowsScannedOrder.append(t)
            }
        }
    }

    /// Tables the snapshot has not finished yet.
    public func snapshotProgress(remainingTables: Int) {
        state.withLock { $0.remainingTables = remainingTables }
    }

    /// A batch of snapshot records: counts its rows, notes the tables left and, when `done`, the snapshot's end.
    public func snapshotBatch(_ records: [SourceRecord], remainingTables: Int, done: Bool) {
        observe(records, snapshot: true)
        snapshotProgress(remainingTables: remainingTables)
        if done { snapshotCompleted() }
    }

    public func snapshotCompleted() {
        state.withLock { s in
            s.snapshotRunning = false
            s.snapshotCompleted = true
            s.remainingTables = 0
            s.snapshotEndMs = Self.nowMs()
        }
    }

    /// The snapshot stopped before its end (the task stopped or failed).
    public func snapshotAborted() {
        state.withLock { s in
            guard s.snapshotRunning else { return }
            s.snapshotRunning = false
            s.snapshotAborted = true
            s.snapshotEndMs = Self.nowMs()
        }
    }

    /// The tables streaming captures, when no snapshot listed them.
    public func capturing(tables: [String]) {
        state.withLock { if $0.capturedTables.isEmpty { $0.capturedTables = tables } }
    }

    /// The stream connected, or lost its connection (counted in `NumberOfDisconnects` when it was connected).
    public func connected(_ connected: Bool) {
        state.withLock { s in
            if s.connected && !connected {
                s.disconnects += 1
                s.disconnectedAtMs = Self.nowMs()
            }
            if connected { s.disconnectedAtMs = nil }
            s.connected = connected
        }
    }

    /// The stream was closed on purpose (the task stops): not connected, and not a disconnect.
    public func closed() {
        state.withLock { s in
            s.connected = false
            s.disconnectedAtMs = nil
        }
    }

    /// Where the reader is in the log (MySQL's `BinlogFilename`, `BinlogPosition`: the last event read).
    public func logPosition(file: String, position: UInt64) {
        state.withLock { $0.logPosition = (file, position) }
    }

    /// The last event read's binlog file and position, nil before the first.
    public var currentLogPosition: (file: String, position: UInt64)? { state.withLock { $0.logPosition } }

    public func transactionCommitted(id: String?) {
        state.withLock { s in
            s.committedTransactions += 1
            if let id { s.lastTransactionId = id }
        }
    }

    /// Changes of tables the connector does not capture: counted as seen too, as Debezium's
    /// `CommonEventMeter.onFilteredEvent` does.
    public func filtered(_ count: Int = 1, streaming: Bool = true) {
        let now = Self.nowMs()
        state.withLock { s in
            var counts = streaming ? s.streaming : s.snapshot
            counts.filtered += Int64(count)
            counts.total += Int64(count)
            counts.lastEventMs = now
            if streaming { s.streaming = counts } else { s.snapshot = counts }
        }
    }

    /// Log events the reader skipped (MySQL's `NumberOfSkippedEvents`).
    public func skipped(_ count: Int = 1) { state.withLock { $0.skipped += Int64(count) } }

    /// Counts the change events among `records` (envelopes with `op`; tombstones and schema changes are not
    /// events) in the snapshot or streaming context, and for streaming notes how far behind the source the last
    /// one is (`MilliSecondsBehindSource`: now minus the event's `source.ts_ms`) and its position.
    public func observe(_ records: [SourceRecord], snapshot: Bool, nowMs: Int64 = DebeziumConnectorMetrics.nowMs()) {
        var events: [(op: String, table: String, tsMs: Int64?, topic: String)] = []
        for r in records {
            guard case .struct(let value)? = r.value, case .string(let op)? = value.get("op") else { continue }
            var table = ""
            var tsMs: Int64?
            if case .struct(let source)? = value.get("source") {
                var container: String?
                if case .string(let schema)? = source.getWithoutDefault("schema") {
                    container = schema
                } else if case .string(let db)? = source.getWithoutDefault("db") {
                    container = db
                }
                if case .string(let t)? = source.getWithoutDefault("table") {
                    table = container.map { $0 + "." + t } ?? t
                }
                if case .int64(let ts)? = source.getWithoutDefault("ts_ms") { tsMs = ts }
            }
            events.append((op, table, tsMs, r.topic))
        }
        let position = records.last(where: { $0.sourceOffset != nil })?.sourceOffset.map { offset in
            offset.keys.sorted().map { ($0, Self.describe(offset[$0]!)) }
        }
        guard !events.isEmpty || position != nil else { return }
        state.withLock { s in
            var counts = snapshot ? s.snapshot : s.streaming
            for e in events {
                counts.total += 1
                switch e.op {
                case "c": counts.creates += 1
                case "u": counts.updates += 1
                case "d": counts.deletes += 1
                case "r" where snapshot:
                    if s.rowsScanned[e.table] == nil { s.rowsScannedOrder.append(e.table) }
                    s.rowsScanned[e.table, default: 0] += 1
                default: break
                }
            }
            if let last = events.last {
                counts.lastEvent = "op=\(last.op), table=\(last.table), topic=\(last.topic)"
                counts.lastEventMs = nowMs
                if !snapshot, let ts = last.tsMs { s.behindSourceMs = max(0, nowMs - ts) }
            }
            if snapshot { s.snapshot = counts } else { s.streaming = counts }
            if !snapshot, let position { s.sourcePosition = position }
        }
    }

    static func describe(_ v: Value) -> String {
        switch v {
        case .string(let s): s
        case .int64(let i): String(i)
        case .int32(let i): String(i)
        case .boolean(let b): String(b)
        default: "\(v)"
        }
    }
}
