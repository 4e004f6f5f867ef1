import ConnectAPI
import DebeziumCore
import Foundation
import Logging
import Postgres

/// The connector's one task: checks the server, creates the publication and slot it needs, snapshots as
/// `snapshot.mode` says, then streams (`PostgresConnectorTask`).
public final class PostgresConnectorTask: SourceTask {
    private enum Phase {
        case snapshot(PostgresSnapshotter)
        case streaming
        /// `initial_only`: the snapshot is taken, nothing streams.
        case finished
    }

    private var config: PostgresConnectorConfig!
    private var context: (any SourceTaskContext)?
    private var conn: PostgresConnection?
    private var streaming: PostgresStreamingSource?
    private var phase = Phase.finished
    private var metrics: DebeziumConnectorMetrics?
    private var health: ReplicationHealth?
    private let logger = Logger(label: "io.debezium.connector.postgresql.PostgresConnectorTask")

    public init() {}

    public func initialize(_ context: any SourceTaskContext) { self.context = context }

    public func start(_ props: [String: String]) throws {
        let (_, notes) = PostgresConnectorConfig.normalized(props)
        for note in notes { logger.warning("\(note)") }
        let config = try PostgresConnectorConfig(props)
        self.config = config
        let metrics = DebeziumConnectorMetrics(
            plugin: "postgres", server: config.serverName, queueCapacity: Int(props["max.queue.size"] ?? "") ?? 8192)
        self.metrics = metrics
        let health = ReplicationHealth(server: config.serverName)
        self.health = health
        do { try metrics.register(on: context?.mbeanServer) } catch {
            logger.warning("\(DebeziumConnectorMetrics.unavailable(error, server: config.serverName))")
        }
        do { try health.register(on: context?.mbeanServer) } catch {
            logger.warning("\(DebeziumConnectorMetrics.unavailable(error, server: config.serverName))")
        }
        let stored = context?.offsetStorageReader.offset(for: PostgresOffset.partition(config.serverName))
            .map(PostgresOffset.init)
        let conn: PostgresConnection
        do { conn = try PostgresConnection(parameters: config.connection) } catch {
            throw ConnectError(
                .debezium,
                "Unable to connect to PostgreSQL at \(config.connection["host"] ?? ""):\(config.connection["port"] ?? "")",
                cause: error)
        }
        self.conn = conn
        do {
            try checkServer(conn)
            let catalog = try PostgresCatalog.load(conn)
            let captured = catalog.keys.filter { config.filter.captures($0) }.sorted()
            try ensurePublication(conn, tables: captured)
            let published = Set(
                try conn.query(
                    "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = \(conn.quoteLiteral(config.publicationName))"
                ).rows.map { TableId(schema: $0[0] ?? "", table: $0[1] ?? "").description })
            let unpublished = captured.map(\.description).filter { !published.contains($0) }
            if !unpublished.isEmpty {
                logger.warning(
                    "Publication '\(config.publicationName)' does not publish \(unpublished.joined(separator: ", ")): their changes will not be captured; add them (ALTER PUBLICATION \(config.publicationName) ADD TABLE ...) or let the connector manage the publication (publication.autocreate.mode=filtered)"
                )
            }
            health.tablesNotInPublication(unpublished)
            let slot = try slotState(conn)
            let snapshot = needsSnapshot(stored: stored, slotExists: slot != nil)
            let database = config.connection["dbname"] ?? ""
            let builder = PostgresEventBuilder(config: config, database: database)
            var snapshotName: String?
            var startLSN: LogSequenceNumber?
            if slot == nil && config.snapshotMode != .initialOnly {
                (startLSN, snapshotName) = try createSlot(exportSnapshot: snapshot)
            }
            if snapshot {
                let tables = captured.compactMap { id -> PostgresTable? in
                    guard let entry = catalog[id] else { return nil }
                    return PostgresTable(
                        id: id, oid: entry.oid,
                        columns: entry.columns.map { ($0.name, $0.info.typeOID, $0.info.typeModifier) },
                        catalog: Dictionary(entry.columns.map { ($0.name, $0.info) }, uniquingKeysWith: { a, _ in a }),
                        config: config, sourceSchema: PostgresSourceInfo.schema)
                }
                logger.info(
                    "Snapshotting \(tables.count) tables: \(tables.map(\.id.description).joined(separator: ", "))")
                phase = .snapshot(
                    try PostgresSnapshotter(
                        conn: conn, builder: builder, tables: tables, snapshotName: snapshotName, lsn: startLSN,
                        fetchSize: config.fetchSize))
                metrics.snapshotStarted(tables: tables.map(\.id.description))
                exportedHolder = nil
            } else {
                phase = config.snapshotMode == .initialOnly ? .finished : .streaming
            }
            if slot == nil, !snapshot, stored?.position != nil {
                health.slotRecreated()
                logger.warning(
                    "Replication slot '\(config.slotName)' is gone though offsets exist: a new slot starts from now, and changes made since the old one was dropped are not captured; snapshot.mode=when_needed would take a new snapshot"
                )
            }
            if config.snapshotMode != .initialOnly {
                streaming = PostgresStreamingSource(
                    config: config, builder: builder, resumeAfter: snapshot ? nil : stored, logger: logger)
                streaming?.metrics = metrics
                streaming?.health = health
                metrics.capturing(tables: captured.map(\.description))
            }
        } catch let e as PostgresError {
            throw ConnectError(.debezium, "Starting the PostgreSQL connector failed", cause: e)
        }
    }

    /// `wal_level` must be `logical` (Debezium's check and wording).
    private func checkServer(_ conn: PostgresConnection) throws {
        let level = try conn.query("SHOW wal_level").rows.first?.first ?? nil
        guard level == "logical" else {
            throw ConnectError(
                .debezium,
                "Postgres server wal_level property must be 'logical' but is: '\(level ?? "unknown")'")
        }
    }

    /// Creates the publication as `publication.autocreate.mode` says, or checks it exists.
    private func ensurePublication(_ conn: PostgresConnection, tables: [TableId]) throws {
        let name = conn.quoteIdentifier(config.publicationName)
        let exists =
            !(try conn.query(
                "SELECT 1 FROM pg_publication WHERE pubname = \(conn.quoteLiteral(config.publicationName))"
            ).rows.isEmpty)
        let list = tables.map { conn.quoteIdentifier($0.schema) + "." + conn.quoteIdentifier($0.table) }
            .joined(separator: ", ")
        switch config.publicationMode {
        case .disabled:
            guard exists else {
                throw ConnectError(
                    .debezium,
                    "Publication '\(config.publicationName)' does not exist and publication.autocreate.mode is disabled: create it (CREATE PUBLICATION \(config.publicationName) FOR ALL TABLES) and restart the connector"
                )
            }
        case .allTables where !exists:
            logger.info("Creating publication '\(config.publicationName)' for all tables")
            try conn.query("CREATE PUBLICATION \(name) FOR ALL TABLES")
        case .noTables where !exists:
            try conn.query("CREATE PUBLICATION \(name)")
        case .filtered:
            guard !tables.isEmpty else {
                throw ConnectError(
                    .debezium, "No table matches the include and exclude lists: the filtered publication would be empty"
                )
            }
            try conn.query(
                exists ? "ALTER PUBLICATION \(name) SET TABLE \(list)" : "CREATE PUBLICATION \(name) FOR TABLE \(list)")
        default:
            break
        }
    }

    /// The slot's plug-in when it exists; a slot of another plug-in is refused.
    private func slotState(_ conn: PostgresConnection) throws -> String? {
        let r = try conn.query(
            "SELECT plugin, active, active_pid FROM pg_replication_slots WHERE slot_name = \(conn.quoteLiteral(config.slotName)) AND database = current_database()"
        )
        guard let plugin = r.rows.first?.first ?? nil else { return nil }
        // Another reader (a second connector with the same slot.name) holds it: fail before any snapshot, with
        // PostgreSQL's own wording.
        if r.rows.first?[1] == "t" {
            throw ConnectError(
                .debezium,
                "Replication slot '\(config.slotName)' is in use",
                cause: PostgresError(
                    "ERROR: replication slot \"\(config.slotName)\" is active for PID \(r.rows.first?[2] ?? "?")",
                    sqlState: "55006"))
        }
        guard plugin == "pgoutput" else {
            throw ConnectError(
                .debezium,
                "Replication slot '\(config.slotName)' uses the plug-in '\(plugin)', not pgoutput: drop it or set another slot.name"
            )
        }
        return plugin
    }

    /// Whether to snapshot now, from `snapshot.mode`, what was committed before and whether the slot survives.
    private func needsSnapshot(stored: PostgresOffset?, slotExists: Bool) -> Bool {
        switch config.snapshotMode {
        case .noData: return false
        case .always: return true
        case .initial, .initialOnly: return stored == nil || stored!.isSnapshotInProgress
        case .whenNeeded: return stored == nil || stored!.isSnapshotInProgress || !slotExists
        }
    }

    /// Creates the slot on a replication connection; with `exportSnapshot` the slot's start is also exported as a
    /// snapshot the first transaction imports, so the snapshot and the stream meet exactly.
    private func createSlot(exportSnapshot: Bool) throws -> (LogSequenceNumber?, String?) {
        var params = config.connection
        params["replication"] = "database"
        let repl = try PostgresConnection(parameters: params)
        let r = try repl.query(
            "CREATE_REPLICATION_SLOT \(repl.quoteIdentifier(config.slotName)) LOGICAL pgoutput "
                + (exportSnapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT"))
        let lsn = r.value(0, "consistent_point").flatMap(LogSequenceNumber.init)
        logger.info("Created replication slot '\(config.slotName)' at \(lsn?.description ?? "?")")
        guard exportSnapshot, let name = r.value(0, "snapshot_name") else { return (lsn, nil) }
        // The exported snapshot lives until the exporting connection runs another command or closes: it stays
        // open and idle until the snapshot transaction imported it.
        exportedHolder = repl
        return (lsn, name)
    }

    /// Keeps the exporting connection open (and idle) until the snapshot transaction imported its snapshot.
    private var exportedHolder: PostgresConnection?

    public func poll() throws -> [SourceRecord]? {
        switch phase {
        case .snapshot(let snapshotter):
            let records: [SourceRecord]
            do { records = try snapshotter.poll(max: config.maxBatchSize) } catch {
                metrics?.snapshotAborted()
                throw error
            }
            metrics?.snapshotBatch(
                records, remainingTables: snapshotter.remainingTables, done: snapshotter.isDone)
            if snapshotter.isDone {
                logger.info("Snapshot completed: \(snapshotter.rowsScanned) rows")
                conn = nil
                phase = config.snapshotMode == .initialOnly ? .finished : .streaming
            }
            return records
        case .streaming:
            let records = try streaming?.poll(max: config.maxBatchSize, timeoutMs: config.pollIntervalMs)
            metrics?.observe(records ?? [], snapshot: false)
            return records
        case .finished:
            Thread.sleep(forTimeInterval: Double(config.pollIntervalMs) / 1000)
            return nil
        }
    }

    public func commit() throws {
        guard let streaming, let context else { return }
        guard let map = context.offsetStorageReader.offset(for: PostgresOffset.partition(config.serverName)) else {
            return
        }
        try streaming.committed(PostgresOffset(map))
    }

    /// The WAL the replication slot holds back on the server, in bytes (asked at most every five seconds).
    public func bytesBehindSource() -> Int64? { streaming?.bytesBehind() }

    /// Keeps the replication stream alive while the task is paused (Debezium's keep-alive thread).
    public func whilePaused() { streaming?.whilePaused() }

    public func stop() throws {
        if case .snapshot = phase { metrics?.snapshotAborted() }
        streaming?.close()
        streaming = nil
        exportedHolder = nil
        conn = nil
        if let config, config.dropSlotOnStop {
            do {
                let c = try PostgresConnection(parameters: config.connection)
                let name = c.quoteLiteral(config.slotName)
                // The walsender of the closed stream may take a moment to let the slot go.
                for _ in 0..<50 {
                    let active = try c.query("SELECT active FROM pg_replication_slots WHERE slot_name = \(name)")
                    if active.rows.first?.first != "t" { break }
                    Thread.sleep(forTimeInterval: 0.1)
                }
                try c.query("SELECT pg_drop_replication_slot(\(name))")
                logger.info("Dropped replication slot '\(config.slotName)'")
            } catch {
                logger.warning("Could not drop replication slot '\(config.slotName)': \(error)")
            }
        }
    }
}
