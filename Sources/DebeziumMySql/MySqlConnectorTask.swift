import ConnectAPI
import DebeziumCore
import Foundation
import Logging
import MariaDB

/// The connector's one task: checks the server's binlog settings, snapshots as `snapshot.mode` says, then reads
/// the binlog from the snapshot's position or the committed offset (`MySqlConnectorTask`).
public class MySqlConnectorTask: SourceTask {
    private enum Phase {
        case snapshot(MySqlSnapshotter)
        case streaming
        /// `initial_only`: the snapshot is taken, nothing streams.
        case finished
    }

    private var config: MySqlConnectorConfig!
    private var context: (any SourceTaskContext)?
    private var streaming: MySqlStreamingSource?
    private var phase = Phase.finished
    private var metrics: DebeziumConnectorMetrics?
    private let flavor: MySqlFlavor
    private let logger: Logger

    public required init() {
        flavor = .mysql
        logger = Logger(label: "io.debezium.connector.mysql.MySqlConnectorTask")
    }

    init(flavor: MySqlFlavor) {
        self.flavor = flavor
        logger = Logger(
            label: "io.debezium.connector.\(flavor.rawValue).\(flavor == .mysql ? "MySql" : "MariaDb")ConnectorTask")
    }

    public func initialize(_ context: any SourceTaskContext) { self.context = context }

    public func start(_ props: [String: String]) throws {
        for note in MySqlConnectorConfig.normalized(props).notes { logger.warning("\(note)") }
        let config = try MySqlConnectorConfig(props)
        self.config = config
        let metrics = DebeziumConnectorMetrics(
            plugin: flavor.rawValue, server: config.serverName,
            queueCapacity: Int(props["max.queue.size"] ?? "") ?? 8192)
        self.metrics = metrics
        do {
            try metrics.register(
                on: context?.mbeanServer,
                streamingExtras: [
                    ("BinlogFilename", .string { metrics.currentLogPosition?.file ?? "" }),
                    ("BinlogPosition", .number { metrics.currentLogPosition.map { Double($0.position) } ?? 0 }),
                    ("IsGtidModeEnabled", .boolean { metrics.positionValue("gtids") != nil }),
                    ("GtidSet", .string { metrics.positionValue("gtids") ?? "" }),
                ])
        } catch {
            logger.warning("\(DebeziumConnectorMetrics.unavailable(error, server: config.serverName))")
        }
        let builder = ChangeEventBuilder(serverName: config.serverName, tombstonesOnDelete: config.tombstonesOnDelete)
        let source = MySqlSourceInfo(flavor: flavor)
        let stored = context?.offsetStorageReader.offset(for: builder.partition).flatMap(MySqlOffset.init)
        let history = KafkaSchemaHistory(
            props: MySqlConnectorConfig.normalized(props).props, serverName: config.serverName)
        let schemaEvents = MySqlSchemaChangeEvents(flavor: flavor, serverName: config.serverName, source: source)
        if history == nil {
            logger.info(
                "No schema history (schema.history.internal.kafka.topic): table structures come from the server's catalog when first used"
            )
        }
        let conn: MariaDBConnection
        do {
            conn = try MariaDBConnection(
                host: config.hostname, port: config.port, user: config.user, password: config.password,
                connectTimeout: config.connectTimeoutSeconds)
            try conn.query("SET SESSION time_zone = '+00:00'")
        } catch {
            throw ConnectError(
                .debezium,
                "Unable to connect to the \(flavor == .mysql ? "MySQL" : "MariaDB") server at \(config.hostname):\(config.port)",
                cause: error)
        }
        do {
            try checkServer(conn)
            let available = try conn.query("SHOW BINARY LOGS").strings.compactMap { $0.first ?? nil }
            let storedAvailable = stored.map { available.contains($0.file) } ?? false
            if let stored, !stored.isSnapshotInProgress, !storedAvailable, config.snapshotMode != .whenNeeded,
                config.snapshotMode != .always
            {
                throw ConnectError(
                    .debezium,
                    "The connector is trying to read binlog starting at \(stored.file):\(stored.position), but this is no longer available on the server. Reconfigure the connector to use a snapshot when needed (snapshot.mode=when_needed)."
                )
            }
            let snapshot = needsSnapshot(stored: stored, storedAvailable: storedAvailable)
            var start: MySqlOffset
            var known: [TableId: [MySqlColumn]] = [:]
            if snapshot {
                let ids = try MySqlCatalog.tables(conn).filter { config.filter.captures($0) }
                var tables: [MySqlTable] = []
                for id in ids {
                    known[id] = try MySqlCatalog.columns(conn, id)
                    tables.append(MySqlTable(id: id, columns: known[id]!, config: config, sourceSchema: source.schema))
                }
                let snapshotter = try MySqlSnapshotter(
                    conn: conn, config: config, builder: builder, source: source, tables: tables)
                try recordSchema(
                    known, conn: conn, at: snapshotter.position, history: history, events: schemaEvents,
                    source: source, into: snapshotter)
                logger.info(
                    "Snapshotting \(tables.count) tables at \(snapshotter.position.file):\(snapshotter.position.position): \(tables.map(\.id.description).joined(separator: ", "))"
                )
                phase = .snapshot(snapshotter)
                metrics.snapshotStarted(tables: tables.map(\.id.description))
                start = MySqlOffset(file: snapshotter.position.file, position: snapshotter.position.position)
                start.gtids = snapshotter.position.gtids
            } else if let stored, !stored.isSnapshotInProgress {
                start = stored
                for change in try history?.recover(upTo: (stored.file, stored.position)) ?? [] {
                    known[change.id] = change.kind == .drop ? nil : change.columns
                }
                if stored.snapshot {
                    // A completed snapshot's offset: streaming starts at its position, nothing to skip.
                    start = MySqlOffset(file: stored.file, position: stored.position)
                    start.gtids = stored.gtids
                }
                phase = config.snapshotMode == .initialOnly ? .finished : .streaming
            } else {
                let now = try MySqlSnapshotter.masterStatus(conn)
                start = MySqlOffset(file: now.file, position: now.position)
                start.gtids = now.gtids
                if let history {
                    // no_data still records the structures streaming starts with (Debezium's schema-only snapshot).
                    for id in try MySqlCatalog.tables(conn) where config.filter.captures(id) {
                        known[id] = try MySqlCatalog.columns(conn, id)
                        try history.record(
                            database: id.schema, ddl: "",
                            changes: [MySqlTableChange(kind: .create, id: id, columns: known[id]!)],
                            position: start.map)
                    }
                }
                phase = config.snapshotMode == .initialOnly ? .finished : .streaming
            }
            if config.snapshotMode != .initialOnly {
                streaming = MySqlStreamingSource(
                    config: config, builder: builder, source: source, start: start, known: known, history: history,
                    schemaEvents: schemaEvents, logger: logger)
                streaming?.metrics = metrics
                metrics.capturing(tables: known.keys.map(\.description).sorted())
            }
        } catch let e as MariaDBError {
            throw ConnectError(.debezium, "Starting the \(flavor.rawValue) connector failed", cause: e)
        }
    }

    /// The captured tables' structures at the snapshot's position: one history record and one schema change event
    /// per table (`SHOW CREATE TABLE` as the DDL), ahead of the snapshot's rows.
    private func recordSchema(
        _ tables: [TableId: [MySqlColumn]], conn: MariaDBConnection, at position: BinlogPosition,
        history: KafkaSchemaHistory?, events: MySqlSchemaChangeEvents, source: MySqlSourceInfo,
        into snapshotter: MySqlSnapshotter
    ) throws {
        var offset = MySqlOffset(file: position.file, position: position.position)
        offset.gtids = position.gtids
        offset.snapshot = true
        offset.tsSeconds = ChangeEventBuilder.nowMicros() / 1_000_000
        for (id, columns) in tables.sorted(by: { $0.key < $1.key }) {
            let name = MariaDBConnection.quoteIdentifier(id.schema) + "." + MariaDBConnection.quoteIdentifier(id.table)
            let ddl = try conn.query("SHOW CREATE TABLE \(name)").strings.first?.last?.flatMap { $0 } ?? ""
            let change = MySqlTableChange(kind: .create, id: id, columns: columns)
            try history?.record(database: id.schema, ddl: ddl, changes: [change], position: offset.map)
            guard config.includeSchemaChanges else { continue }
            let s = try source.value(
                serverName: config.serverName, database: id.schema, table: id.table,
                changeMicros: ChangeEventBuilder.nowMicros(), snapshot: .true, serverId: 0, gtid: nil,
                file: position.file, pos: position.position, row: 0, thread: nil, query: nil)
            snapshotter.schemaRecords.append(
                try events.record(database: id.schema, ddl: ddl, changes: [change], source: s, offset: offset.map))
        }
    }

    /// The binlog must be on, in ROW format with full row images (Debezium's checks and wording).
    private func checkServer(_ conn: MariaDBConnection) throws {
        // Not required, but without it the binlog does not name columns, and a row written before DDL the connector
        // has not read yet may not be matched to its columns (docs/connectors/mysql.md).
        let metadata = (try? conn.query("SELECT @@global.binlog_row_metadata").strings.first?.first ?? nil) ?? nil
        if metadata?.uppercased() != "FULL" {
            logger.warning(
                "binlog_row_metadata is \(metadata ?? "not supported by the server"), not FULL: rows are matched to columns by position, so DDL that runs while the connector is stopped or behind can make it fail or, when column types agree, misplace values; set binlog_row_metadata=FULL"
            )
        }
        let r = try conn.query("SELECT @@global.log_bin, @@global.binlog_format, @@global.binlog_row_image").strings
        let row = r.first ?? []
        let value = { (i: Int) -> String in (i < row.count ? row[i] : nil)?.uppercased() ?? "" }
        let (logBin, format, image) = (value(0), value(1), value(2))
        guard logBin == "1" || logBin == "ON" else {
            throw ConnectError(
                .debezium,
                "The MySQL server is not configured to use a binlog (log_bin is off), which is required for this connector to work properly. Change the server configuration to enable log_bin and restart the connector."
            )
        }
        guard format == "ROW" else {
            throw ConnectError(
                .debezium,
                "The MySQL server is not configured to use a ROW binlog_format, which is required for this connector to work properly. Change the MySQL configuration to use a binlog_format=ROW and restart the connector."
            )
        }
        guard image == "FULL" else {
            throw ConnectError(
                .debezium,
                "The MySQL server is not configured to use a FULL binlog_row_image, which is required for this connector to work properly. Change the MySQL configuration to use a binlog_row_image=FULL and restart the connector."
            )
        }
    }

    private func needsSnapshot(stored: MySqlOffset?, storedAvailable: Bool) -> Bool {
        switch config.snapshotMode {
        case .noData, .recovery: return false
        case .always: return true
        case .initial, .initialOnly: return stored == nil || stored!.isSnapshotInProgress
        case .whenNeeded: return stored == nil || stored!.isSnapshotInProgress || !storedAvailable
        }
    }

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

    /// Binlog bytes the server wrote after the last event read (`SHOW BINARY LOGS`, at most every five seconds).
    public func bytesBehindSource() -> Int64? { streaming?.bytesBehind() }

    public func stop() throws {
        if case .snapshot(let snapshotter) = phase {
            snapshotter.cancel()
            metrics?.snapshotAborted()
        }
        streaming?.close()
        streaming = nil
        phase = .finished
    }
}

/// `io.debezium.connector.mariadb.MariaDbConnector`'s task: the same reader, `mariadb` in `source.connector`.
public final class MariaDbConnectorTask: MySqlConnectorTask {
    public required init() { super.init(flavor: .mariadb) }
}
