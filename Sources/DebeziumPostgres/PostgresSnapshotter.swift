import ConnectAPI
import DebeziumCore
import Postgres

/// Reads every captured table inside one REPEATABLE READ transaction, as of the position streaming starts from
/// (the replication slot's exported snapshot when the slot was created for it), and turns the rows into `r`
/// events (`PostgresSnapshotChangeEventSource`). A poll reads one batch through a cursor; the last row read is held
/// back until the next one shows whether it ends its table or the whole snapshot (`source.snapshot` says so).
final class PostgresSnapshotter {
    private let conn: PostgresConnection
    private let builder: PostgresEventBuilder
    private var tables: [PostgresTable]
    private let lsn: LogSequenceNumber
    private let txId: Int64?
    private let startedMicros: Int64
    private let fetchSize: Int
    private var tableIndex = 0
    private var cursorOpen = false
    private var rowInTable = 0
    private var emitted = 0
    /// The last row read, not yet emitted: its table, values and position in the table.
    private var held: (table: PostgresTable, values: [String?], index: Int, endsTable: Bool)?
    private(set) var isDone = false

    /// `snapshotName` is the slot's exported snapshot, nil to read as of now.
    init(
        conn: PostgresConnection, builder: PostgresEventBuilder, tables: [PostgresTable], snapshotName: String?,
        lsn: LogSequenceNumber?, fetchSize: Int
    ) throws(PostgresError) {
        self.conn = conn
        self.builder = builder
        self.tables = tables
        self.fetchSize = fetchSize
        try conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ")
        if let snapshotName { try conn.query("SET TRANSACTION SNAPSHOT \(conn.quoteLiteral(snapshotName))") }
        let r = try conn.query("SELECT txid_current(), pg_current_wal_lsn()")
        txId = r.rows.first?[0].flatMap { Int64($0) }
        self.lsn = lsn ?? r.rows.first?[1].flatMap { LogSequenceNumber($0) } ?? .invalid
        startedMicros = PostgresEventBuilder.nowMicros()
    }

    /// Tables not snapshotted completely yet.
    var remainingTables: Int { tables.count - tableIndex }

    /// The next records, up to `max`; empty once the snapshot is done (`isDone`).
    func poll(max: Int) throws(ConnectError) -> [SourceRecord] {
        var out: [SourceRecord] = []
        while out.count < max && !isDone {
            guard tableIndex < tables.count else {
                if let h = held { out.append(try record(h, last: true)) }
                held = nil
                try finish()
                break
            }
            let table = tables[tableIndex]
            let rows: [[String?]]
            do {
                if !cursorOpen {
                    let name = conn.quoteIdentifier(table.id.schema) + "." + conn.quoteIdentifier(table.id.table)
                    try conn.query("DECLARE snapshot_cursor NO SCROLL CURSOR FOR SELECT * FROM \(name)")
                    cursorOpen = true
                    rowInTable = 0
                }
                rows = try conn.query("FETCH FORWARD \(min(fetchSize, max)) FROM snapshot_cursor").rows
            } catch {
                throw ConnectError(.debezium, "Snapshotting table \(table.id) failed", cause: error)
            }
            if rows.isEmpty {
                do { try conn.query("CLOSE snapshot_cursor") } catch {
                    throw ConnectError(.debezium, "Snapshotting table \(table.id) failed", cause: error)
                }
                cursorOpen = false
                held?.endsTable = true
                tableIndex += 1
                continue
            }
            for values in rows {
                if let h = held { out.append(try record(h, last: false)) }
                held = (table, values, rowInTable, false)
                rowInTable += 1
            }
        }
        return out
    }

    private func record(
        _ h: (table: PostgresTable, values: [String?], index: Int, endsTable: Bool), last: Bool
    ) throws(ConnectError) -> SourceRecord {
        let marker = SnapshotRecord.of(emitted: emitted, last: last, indexInTable: h.index, endsTable: h.endsTable)
        emitted += 1
        var offset = PostgresOffset()
        offset.snapshot = true
        offset.lastSnapshotRecord = last
        offset.lsn = lsn
        offset.txId = txId
        offset.tsMicros = startedMicros
        let source = try PostgresSourceInfo.value(
            serverName: builder.config.serverName, database: builder.database, table: h.table.id,
            changeMicros: startedMicros, snapshot: marker, txId: txId, lsn: lsn, commitLSN: nil)
        return try builder.event(
            .read, table: h.table, key: try h.table.key(h.values), before: nil, after: try h.table.row(h.values),
            source: source, offset: offset)
    }

    private func finish() throws(ConnectError) {
        isDone = true
        do { try conn.query("COMMIT") } catch {
            throw ConnectError(.debezium, "Ending the snapshot transaction failed", cause: error)
        }
    }

    /// Rows emitted so far.
    var rowsScanned: Int { emitted }
}
