import ConnectAPI
import DebeziumCore
import MariaDB

extension MySqlTable: CapturedTable {}

/// Where a snapshot's data stands in the binlog: streaming starts there.
struct BinlogPosition: Equatable, Sendable {
    var file: String
    var position: UInt64
    var gtids: String?
}

/// Reads every captured table inside one consistent-snapshot transaction and turns the rows into `r` events
/// (`BinlogSnapshotChangeEventSource`). The transaction's binlog position is exact: MariaDB reports it for the
/// snapshot (`binlog_snapshot_file`/`_position`); on MySQL a global read lock is held for the moment the
/// transaction starts (`snapshot.locking.mode=minimal`). A poll reads one batch; the last row read is held back
/// until the next shows whether it ends its table or the snapshot.
final class MySqlSnapshotter {
    private let conn: MariaDBConnection
    private let config: MySqlConnectorConfig
    private let builder: ChangeEventBuilder
    private let source: MySqlSourceInfo
    private let tables: [MySqlTable]
    let position: BinlogPosition
    private let startedMicros: Int64
    private var tableIndex = 0
    private var stream: MariaDBRowStream?
    private var rowInTable = 0
    private var emitted = 0
    private var held: (table: MySqlTable, values: [ColumnValue], index: Int, endsTable: Bool)?
    private(set) var isDone = false
    /// Schema change events the first poll returns ahead of the rows.
    var schemaRecords: [SourceRecord] = []

    init(
        conn: MariaDBConnection, config: MySqlConnectorConfig, builder: ChangeEventBuilder, source: MySqlSourceInfo,
        tables: [MySqlTable]
    ) throws(MariaDBError) {
        self.conn = conn
        self.config = config
        self.builder = builder
        self.source = source
        self.tables = tables
        try conn.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if conn.isMariaDB {
            try conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            let status = try conn.query("SHOW STATUS LIKE 'binlog_snapshot_%'").strings
            let values = Dictionary(status.compactMap { r in r[0].map { ($0, r[1] ?? "") } }) { a, _ in a }
            let file = values["Binlog_snapshot_file"] ?? ""
            let pos = UInt64(values["Binlog_snapshot_position"] ?? "") ?? 4
            let gtid =
                try conn.query("SELECT BINLOG_GTID_POS(\(conn.quoteLiteral(file)), \(pos))").strings
                .first?.first ?? nil
            position = BinlogPosition(file: file, position: pos, gtids: gtid.flatMap { $0.isEmpty ? nil : $0 })
        } else {
            try conn.query("FLUSH TABLES WITH READ LOCK")
            let status = try MySqlSnapshotter.masterStatus(conn)
            try conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            try conn.query("UNLOCK TABLES")
            position = status
        }
        startedMicros = ChangeEventBuilder.nowMicros()
    }

    /// The server's current binlog position (`SHOW MASTER STATUS`, `SHOW BINARY LOG STATUS` on MySQL 8.4+).
    static func masterStatus(_ conn: MariaDBConnection) throws(MariaDBError) -> BinlogPosition {
        let r: MariaDBResult
        do { r = try conn.query("SHOW MASTER STATUS") } catch { r = try conn.query("SHOW BINARY LOG STATUS") }
        guard let file = r.string(0, "File"), let pos = r.string(0, "Position").flatMap({ UInt64($0) }) else {
            throw MariaDBError(
                "The binlog is off: start the server with log_bin (and binlog_format=ROW, binlog_row_image=FULL)")
        }
        let gtids = r.string(0, "Executed_Gtid_Set").flatMap { $0.isEmpty ? nil : $0 }
        return BinlogPosition(file: file, position: pos, gtids: gtids)
    }

    /// Tables not snapshotted completely yet.
    var remainingTables: Int { tables.count - tableIndex }

    /// The next records, up to `max`; empty once the snapshot is done (`isDone`).
    func poll(max: Int) throws(ConnectError) -> [SourceRecord] {
        var out = schemaRecords
        schemaRecords = []
        while out.count < max && !isDone {
            guard tableIndex < tables.count else {
                if let h = held { out.append(try record(h, last: true)) }
                held = nil
                try finish()
                break
            }
            let table = tables[tableIndex]
            do {
                if stream == nil {
                    let name =
                        MariaDBConnection.quoteIdentifier(table.id.schema) + "."
                        + MariaDBConnection.quoteIdentifier(table.id.table)
                    // The columns by name, as the catalog listed them: a DDL since cannot shift values.
                    let list = table.columns.map { MariaDBConnection.quoteIdentifier($0.definition.name) }
                        .joined(separator: ", ")
                    stream = try conn.openStream("SELECT \(list) FROM \(name)")
                    rowInTable = 0
                }
                var read = 0
                while read < max, let raw = try stream!.next() {
                    let values = zip(raw, table.columns).map { MySqlValueConverter.parse($0, $1.definition) }
                    if let h = held { out.append(try record(h, last: false)) }
                    held = (table, values, rowInTable, false)
                    rowInTable += 1
                    read += 1
                }
                if read < max {
                    stream = nil
                    held?.endsTable = true
                    tableIndex += 1
                }
            } catch let e as MariaDBError {
                throw ConnectError(.debezium, "Snapshotting table \(table.id) failed", cause: e)
            } catch let e as ConnectError {
                throw e
            } catch {
                throw ConnectError.wrap(error)
            }
        }
        return out
    }

    private func record(
        _ h: (table: MySqlTable, values: [ColumnValue], index: Int, endsTable: Bool), last: Bool
    ) throws(ConnectError) -> SourceRecord {
        let marker = SnapshotRecord.of(emitted: emitted, last: last, indexInTable: h.index, endsTable: h.endsTable)
        emitted += 1
        var offset = MySqlOffset(file: position.file, position: position.position)
        offset.gtids = position.gtids
        offset.snapshot = true
        offset.snapshotCompleted = last
        offset.tsSeconds = startedMicros / 1_000_000
        let s = try source.value(
            serverName: config.serverName, database: h.table.id.schema, table: h.table.id.table,
            changeMicros: startedMicros, snapshot: marker,
            serverId: 0, gtid: nil, file: position.file, pos: position.position, row: 0, thread: nil, query: nil)
        return try builder.event(
            .read, table: h.table, key: try h.table.key(h.values), before: nil, after: try h.table.row(h.values),
            source: s, offset: offset.map)
    }

    private func finish() throws(ConnectError) {
        isDone = true
        do { try conn.query("COMMIT") } catch {
            throw ConnectError(.debezium, "Ending the snapshot transaction failed", cause: error)
        }
    }

    var rowsScanned: Int { emitted }

    /// Stops a table read in progress: the server ends the statement, so releasing its rows does not read the rest
    /// of the table first.
    func cancel() {
        guard stream != nil else { return }
        if let killer = try? MariaDBConnection(
            host: config.hostname, port: config.port, user: config.user, password: config.password, connectTimeout: 5)
        {
            _ = try? killer.query("KILL QUERY \(conn.threadId)")
        }
        stream = nil
    }
}
