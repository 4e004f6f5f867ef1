import ConnectAPI
import DebeziumCore
import Postgres

/// The connector's source offset (`PostgresOffsetContext`), under the partition `{"server": <topic.prefix>}`:
/// during a snapshot `snapshot`, `last_snapshot_record`, `lsn` (where streaming will start), `txId`, `ts_usec`;
/// while streaming `lsn_proc` (the change's LSN), `lsn_commit` (its transaction's commit LSN), `lsn`, `txId`,
/// `ts_usec`, `messageType`. LSNs are 64-bit numbers.
struct PostgresOffset: Equatable {
    var snapshot = false
    var lastSnapshotRecord = false
    var lsn: LogSequenceNumber?
    var lsnProc: LogSequenceNumber?
    var lsnCommit: LogSequenceNumber?
    var txId: Int64?
    var tsMicros: Int64 = 0
    var messageType: String?
    /// The record's place among the records of one change (a key change gives a delete, its tombstone and a
    /// create; a COPY gives several inserts at one LSN): `event` in the offset, left out when 0.
    var event = 0

    static func partition(_ serverName: String) -> OffsetMap { ["server": .string(serverName)] }

    var map: OffsetMap {
        var m: OffsetMap = ["ts_usec": .int64(tsMicros)]
        if let lsn { m["lsn"] = .int64(Int64(bitPattern: lsn.value)) }
        if let txId { m["txId"] = .int64(txId) }
        if snapshot {
            m["snapshot"] = .boolean(true)
            m["last_snapshot_record"] = .boolean(lastSnapshotRecord)
        }
        if let lsnProc { m["lsn_proc"] = .int64(Int64(bitPattern: lsnProc.value)) }
        if let lsnCommit { m["lsn_commit"] = .int64(Int64(bitPattern: lsnCommit.value)) }
        if let messageType { m["messageType"] = .string(messageType) }
        if event > 0 { m["event"] = .int64(Int64(event)) }
        return m
    }

    init() {}

    init(_ map: OffsetMap) {
        func lsnValue(_ key: String) -> LogSequenceNumber? {
            map[key]?.int64Value.map { LogSequenceNumber(UInt64(bitPattern: $0)) }
        }
        if case .boolean(let b)? = map["snapshot"] { snapshot = b }
        if case .boolean(let b)? = map["last_snapshot_record"] { lastSnapshotRecord = b }
        lsn = lsnValue("lsn")
        lsnProc = lsnValue("lsn_proc")
        lsnCommit = lsnValue("lsn_commit")
        txId = map["txId"]?.int64Value
        tsMicros = map["ts_usec"]?.int64Value ?? 0
        messageType = map["messageType"]?.stringValue
        event = Int(map["event"]?.int64Value ?? 0)
    }

    /// Where a streamed record stands in the stream: its transaction's commit LSN, its LSN, its place at that LSN.
    var position: StreamPosition? {
        guard let lsnCommit, let lsnProc else { return nil }
        return StreamPosition(commit: lsnCommit, change: lsnProc, event: event)
    }

    /// A snapshot that was interrupted: its last record was never committed.
    var isSnapshotInProgress: Bool { snapshot && !lastSnapshotRecord }
}

/// A streamed record's place, in the order the stream delivers records.
struct StreamPosition: Comparable {
    var commit: LogSequenceNumber
    var change: LogSequenceNumber
    var event: Int

    static func < (a: StreamPosition, b: StreamPosition) -> Bool {
        (a.commit, a.change, a.event) < (b.commit, b.change, b.event)
    }
}

/// The `source` block of this connector's events (`io.debezium.connector.postgresql.Source`).
enum PostgresSourceInfo {
    static let schema = SourceInfo.commonFields("io.debezium.connector.postgresql.Source")
        .field("schema", .string).field("table", .string).field("txId", .optionalInt64)
        .field("lsn", .optionalInt64).field("xmin", .optionalInt64).build()

    /// The block for a change of `table` at `lsn` in transaction `txId`, committed at `changeMicros`.
    static func value(
        serverName: String, database: String, table: TableId, changeMicros: Int64, snapshot: SnapshotRecord?,
        txId: Int64?, lsn: LogSequenceNumber?, commitLSN: LogSequenceNumber?
    ) throws(ConnectError) -> Struct {
        var s = Struct(schema: schema)
        try SourceInfo.putCommon(
            &s, connector: "postgresql", serverName: serverName, changeMicros: changeMicros, snapshot: snapshot,
            database: database)
        if let lsn {
            let commit = commitLSN ?? lsn
            try s.put("sequence", .string("[\"\(commit.value)\",\"\(lsn.value)\"]"))
            try s.put("lsn", .int64(Int64(bitPattern: lsn.value)))
        }
        try s.put("schema", .string(table.schema))
        try s.put("table", .string(table.table))
        try s.put("txId", txId.map(Value.int64))
        return s
    }
}
