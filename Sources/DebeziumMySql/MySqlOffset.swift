import ConnectAPI
import DebeziumCore

/// The connector's source offset (`BinlogOffsetContext`), under the partition `{"server": <topic.prefix>}`: the
/// binlog `file` and `pos` to restart from (the start of the transaction of the last record), the rows events
/// (`event`) and rows (`row`) of that transaction already emitted, `gtids`, `ts_sec` and `server_id`; `snapshot` while
/// a snapshot runs and `snapshot_completed` on its last record.
///
/// Differences from Debezium's offsets, so offsets do not move between the two: `event` counts rows events only
/// (Debezium counts every event of the transaction); `gtids` is the GTID state of the snapshot or the current
/// transaction's GTID, informational (restarts use `file`/`pos`), not Debezium's executed GTID set.
struct MySqlOffset: Equatable {
    var file: String
    var position: UInt64
    var event = 0
    var row = 0
    var gtids: String?
    var tsSeconds: Int64 = 0
    var serverId: Int64 = 0
    var snapshot = false
    var snapshotCompleted = false

    init(file: String, position: UInt64) {
        self.file = file
        self.position = position
    }

    var map: OffsetMap {
        var m: OffsetMap = [
            "file": .string(file), "pos": .int64(Int64(position)), "ts_sec": .int64(tsSeconds),
        ]
        if serverId != 0 { m["server_id"] = .int64(serverId) }
        if let gtids { m["gtids"] = .string(gtids) }
        if event > 0 { m["event"] = .int64(Int64(event)) }
        if row > 0 { m["row"] = .int32(Int32(row)) }
        if snapshot { m["snapshot"] = .boolean(true) }
        if snapshotCompleted { m["snapshot_completed"] = .boolean(true) }
        return m
    }

    init?(_ map: OffsetMap) {
        guard let file = map["file"]?.stringValue, let pos = map["pos"]?.int64Value else { return nil }
        self.file = file
        position = UInt64(max(0, pos))
        event = Int(map["event"]?.int64Value ?? 0)
        row = Int(map["row"]?.int64Value ?? 0)
        gtids = map["gtids"]?.stringValue
        tsSeconds = map["ts_sec"]?.int64Value ?? 0
        serverId = map["server_id"]?.int64Value ?? 0
        if case .boolean(let b)? = map["snapshot"] { snapshot = b }
        if case .boolean(let b)? = map["snapshot_completed"] { snapshotCompleted = b }
    }

    /// A snapshot that was interrupted: its last record was never committed.
    var isSnapshotInProgress: Bool { snapshot && !snapshotCompleted }
}

/// The `source` block of this connector's events (`io.debezium.connector.mysql.Source`, or `...mariadb.Source`).
struct MySqlSourceInfo {
    let connector: String
    let schema: Schema

    init(flavor: MySqlFlavor) {
        connector = flavor.rawValue
        schema = SourceInfo.commonFields("io.debezium.connector.\(flavor.rawValue).Source")
            .field("table", .optionalString).field("server_id", .int64).field("gtid", .optionalString)
            .field("file", .string).field("pos", .int64).field("row", .int32).field("thread", .optionalInt64)
            .field("query", .optionalString).build()
    }

    /// The block for row `row` of the rows event at `file`/`pos`, changed at `changeMicros`.
    func value(
        serverName: String, database: String, table: String?, changeMicros: Int64, snapshot: SnapshotRecord?,
        serverId: Int64,
        gtid: String?, file: String, pos: UInt64, row: Int, thread: Int64?, query: String?
    ) throws(ConnectError) -> Struct {
        var s = Struct(schema: schema)
        try SourceInfo.putCommon(
            &s, connector: connector, serverName: serverName, changeMicros: changeMicros, snapshot: snapshot,
            database: database)
        try s.put("table", table.map(Value.string))
        try s.put("server_id", .int64(serverId))
        try s.put("gtid", gtid.map(Value.string))
        try s.put("file", .string(file))
        try s.put("pos", .int64(Int64(pos)))
        try s.put("row", .int32(Int32(row)))
        try s.put("thread", thread.map(Value.int64))
        try s.put("query", query.map(Value.string))
        return s
    }
}

/// Which of Debezium's two binlog connectors this is: the name in `source.connector` and the source schema.
enum MySqlFlavor: String, Sendable {
    case mysql, mariadb
}
