import ConnectAPI
import DebeziumCore
import Synchronization
import Testing

/// Collects what a task registers, as the worker's MBean server would.
final class RecordingMBeanServer: PluginMBeanServer {
    let beans = Mutex<[String: [(name: String, value: MBeanAttribute)]]>([:])
    func register(
        domain: String, type: String, properties: [(key: String, value: String)],
        attributes: [(name: String, value: MBeanAttribute)]
    ) {
        let name = "\(domain):type=\(type)" + properties.map { ",\($0.key)=\($0.value)" }.joined()
        beans.withLock { $0[name] = attributes }
    }

    func number(_ bean: String, _ attribute: String) -> Double? {
        guard let a = beans.withLock({ $0[bean] })?.first(where: { $0.name == attribute }) else { return nil }
        switch a.value {
        case .number(let read): return read()
        case .boolean(let read): return read() ? 1 : 0
        default: return nil
        }
    }

    func table(_ bean: String, _ attribute: String) -> [String: Double] {
        guard let a = beans.withLock({ $0[bean] })?.first(where: { $0.name == attribute }),
            case .table(let read) = a.value
        else { return [:] }
        return Dictionary(read().map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }
}

@Suite struct ConnectorMetricsTests {
    static let source = SchemaBuilder.struct().name("io.debezium.connector.mysql.Source")
        .field("db", Schema.string).field("table", Schema.optionalString).field("ts_ms", Schema.int64).build()
    static let envelope = SchemaBuilder.struct().name("x.Envelope")
        .field("op", Schema.string).field("source", source).build()

    static func event(_ op: String, table: String, tsMs: Int64) throws -> SourceRecord {
        var s = Struct(schema: source)
        try s.put("db", .string("demo"))
        try s.put("table", .string(table))
        try s.put("ts_ms", .int64(tsMs))
        var v = Struct(schema: envelope)
        try v.put("op", .string(op))
        try v.put("source", .struct(s))
        return SourceRecord(
            sourcePartition: ["server": .string("asgard")],
            sourceOffset: ["file": .string("mysql-bin.000003"), "pos": .int64(154)],
            topic: "asgard.demo.\(table)", valueSchema: envelope, value: .struct(v))
    }

    @Test("snapshot and streaming MBeans count Debezium's events by kind, rows per table and the lag behind source")
    func countsEvents() throws {
        let server = RecordingMBeanServer()
        let metrics = DebeziumConnectorMetrics(plugin: "mysql", server: "asgard", queueCapacity: 100)
        try metrics.register(on: server)
        let snapshot = "debezium.mysql:type=connector-metrics,context=snapshot,server=asgard"
        let streaming = "debezium.mysql:type=connector-metrics,context=streaming,server=asgard"
        metrics.snapshotStarted(tables: ["demo.ORDERS", "demo.EMPTY"])
        #expect(server.number(snapshot, "SnapshotRunning") == 1)
        #expect(server.number(snapshot, "RemainingTableCount") == 2)
        metrics.observe(
            [try Self.event("r", table: "ORDERS", tsMs: 0), try Self.event("r", table: "ORDERS", tsMs: 0)],
            snapshot: true)
        metrics.snapshotProgress(remainingTables: 1)
        metrics.snapshotCompleted()
        #expect(server.table(snapshot, "RowsScanned") == ["demo.ORDERS": 2, "demo.EMPTY": 0])
        #expect(server.number(snapshot, "TotalNumberOfEventsSeen") == 2)
        #expect(server.number(snapshot, "SnapshotCompleted") == 1 && server.number(snapshot, "SnapshotRunning") == 0)
        #expect(server.number(snapshot, "RemainingTableCount") == 0)
        #expect(server.number(streaming, "MilliSecondsBehindSource") == -1)
        #expect(server.number(streaming, "MilliSecondsSinceLastEvent") == -1)

        metrics.connected(true)
        let tombstone = SourceRecord(sourcePartition: nil, sourceOffset: nil, topic: "t", valueSchema: nil, value: nil)
        metrics.observe(
            [
                try Self.event("c", table: "ORDERS", tsMs: 10_000), try Self.event("u", table: "ORDERS", tsMs: 10_000),
                try Self.event("d", table: "ORDERS", tsMs: 10_500), tombstone,
            ], snapshot: false, nowMs: 12_000)
        metrics.transactionCommitted(id: "0-1-7")
        metrics.filtered(3)
        // Filtered changes count as seen, as Debezium's onFilteredEvent counts them.
        #expect(server.number(streaming, "TotalNumberOfEventsSeen") == 6)
        #expect(server.number(streaming, "TotalNumberOfCreateEventsSeen") == 1)
        #expect(server.number(streaming, "TotalNumberOfUpdateEventsSeen") == 1)
        #expect(server.number(streaming, "TotalNumberOfDeleteEventsSeen") == 1)
        #expect(server.number(streaming, "NumberOfEventsFiltered") == 3)
        #expect(server.number(streaming, "NumberOfCommittedTransactions") == 1)
        // The last event's source time was 1.5 s before it was polled.
        #expect(server.number(streaming, "MilliSecondsBehindSource") == 1500)
        #expect(server.number(streaming, "Connected") == 1)
        #expect(server.number(streaming, "QueueTotalCapacity") == 100)
        #expect(metrics.positionValue("file") == "mysql-bin.000003")
        #expect(server.number(streaming, "MilliSecondsDisconnected") == 0)
        metrics.connected(false)
        #expect(server.number(streaming, "Connected") == 0 && server.number(streaming, "NumberOfDisconnects") == 1)
        #expect((server.number(streaming, "MilliSecondsDisconnected") ?? -1) >= 0)
        metrics.connected(true)
        metrics.closed()
        // A close is not a disconnect.
        #expect(server.number(streaming, "Connected") == 0 && server.number(streaming, "NumberOfDisconnects") == 1)
    }

    @Test("a snapshot stopped before its end is aborted, not completed")
    func abortedSnapshot() throws {
        let server = RecordingMBeanServer()
        let metrics = DebeziumConnectorMetrics(plugin: "postgres", server: "pg")
        try metrics.register(on: server)
        metrics.snapshotStarted(tables: ["public.t"])
        metrics.snapshotAborted()
        let bean = "debezium.postgres:type=connector-metrics,context=snapshot,server=pg"
        #expect(server.number(bean, "SnapshotAborted") == 1)
        #expect(server.number(bean, "SnapshotCompleted") == 0 && server.number(bean, "SnapshotRunning") == 0)
    }
}
