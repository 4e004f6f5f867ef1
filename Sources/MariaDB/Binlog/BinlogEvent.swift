/// The common header of every binlog event (19 bytes, version 4): when, which type, from which server, and the
/// position of the next event in the binlog file (`next_event_pos`, the offset a reader stores).
public struct BinlogEventHeader: Sendable, Equatable {
    /// Seconds since the epoch when the statement began on the primary (0 for artificial events).
    public var timestamp: UInt32
    public var type: UInt8
    public var serverId: UInt32
    public var eventLength: UInt32
    /// The position right after this event in its binlog file.
    public var nextPosition: UInt32
    public var flags: UInt16

    public static let size = 19
    /// LOG_EVENT_ARTIFICIAL_F: made up by the server for the reader (the first ROTATE), not in the file.
    public var isArtificial: Bool { flags & 0x20 != 0 }
}

/// The binlog events a change data capture reader acts on, read from their raw bytes (MariaDB's
/// `sql/log_event.h`, MySQL's `libbinlogevents`): transaction boundaries, statements (DDL), table maps and row
/// changes. Other events are `.other`.
public enum BinlogEvent: Sendable {
    /// The reader moves to `file` at `position`.
    case rotate(file: String, position: UInt64)
    case formatDescription
    /// A statement: `BEGIN`, DDL, or a statement-based change. `database` is the session's default database.
    case query(threadId: UInt32, database: String, sql: String, errorCode: UInt16)
    /// COMMIT of a transactional engine's transaction.
    case xid(UInt64)
    /// A transaction's GTID: MariaDB `domain-server-sequence`, or MySQL `uuid:number`. `standalone`: a DDL or
    /// other statement with no COMMIT/XID after it (MariaDB FL_STANDALONE).
    case gtid(String, standalone: Bool)
    case tableMap(TableMapEvent)
    case rows(RowsEvent)
    /// The SQL text of the rows events that follow (MariaDB ANNOTATE_ROWS, MySQL ROWS_QUERY).
    case rowsQuery(String)
    case heartbeat
    case other

    /// Event type codes.
    public enum Kind {
        public static let query: UInt8 = 2, rotate: UInt8 = 4, formatDescription: UInt8 = 15, xid: UInt8 = 16
        public static let tableMap: UInt8 = 19, heartbeat: UInt8 = 27, rowsQuery: UInt8 = 29, mysqlGTID: UInt8 = 33
        public static let writeV1: UInt8 = 23, updateV1: UInt8 = 24, deleteV1: UInt8 = 25
        public static let writeV2: UInt8 = 30, updateV2: UInt8 = 31, deleteV2: UInt8 = 32
        public static let annotateRows: UInt8 = 160, mariadbGTID: UInt8 = 162
        public static let compressedRows: ClosedRange<UInt8> = 166...171
        public static let partialUpdateRows: UInt8 = 39, transactionPayload: UInt8 = 40
    }

    /// Reads one event from `bytes` (header, body and, when `checksumSize` is 4, the CRC32 the server appends).
    public static func parse(
        _ bytes: [UInt8], checksumSize: Int
    ) throws(BinlogError) -> (BinlogEventHeader, BinlogEvent) {
        var c = ByteCursor(bytes)
        let header = BinlogEventHeader(
            timestamp: UInt32(try c.le(4)), type: try c.u8(), serverId: UInt32(try c.le(4)),
            eventLength: UInt32(try c.le(4)), nextPosition: UInt32(try c.le(4)), flags: UInt16(try c.le(2)))
        // With checksums on, every event (FORMAT_DESCRIPTION too, after its algorithm byte) ends with its CRC32.
        let end = max(BinlogEventHeader.size, min(bytes.count, Int(header.eventLength)) - checksumSize)
        var body = ByteCursor(bytes, from: BinlogEventHeader.size, end: end)
        let event: BinlogEvent
        switch header.type {
        case Kind.rotate:
            let position = try body.le(8)
            event = .rotate(file: String(decoding: body.rest(), as: UTF8.self), position: position)
        case Kind.formatDescription: event = .formatDescription
        case Kind.query:
            let thread = UInt32(try body.le(4))
            try body.skip(4)  // execution time
            let dbLength = Int(try body.u8())
            let errorCode = UInt16(try body.le(2))
            let statusLength = Int(try body.le(2))
            try body.skip(statusLength)
            let db = try body.string(dbLength)
            try body.skip(1)
            event = .query(
                threadId: thread, database: db, sql: String(decoding: body.rest(), as: UTF8.self),
                errorCode: errorCode)
        case Kind.xid: event = .xid(try body.le(8))
        case Kind.mariadbGTID:
            let sequence = try body.le(8)
            let domain = try body.le(4)
            let flags = try body.u8()
            event = .gtid("\(domain)-\(header.serverId)-\(sequence)", standalone: flags & 1 != 0)
        case Kind.mysqlGTID:
            try body.skip(1)
            let sid = try body.bytes(16)
            let number = try body.le(8)
            event = .gtid(Self.uuid(sid) + ":\(number)", standalone: false)
        case Kind.tableMap: event = .tableMap(try TableMapEvent(&body))
        case Kind.writeV1, Kind.updateV1, Kind.deleteV1, Kind.writeV2, Kind.updateV2, Kind.deleteV2:
            event = .rows(try RowsEvent(&body, type: header.type))
        case Kind.compressedRows:
            throw .unsupported("compressed rows events (MariaDB log_bin_compress=ON): turn log_bin_compress off")
        case Kind.partialUpdateRows:
            throw .unsupported(
                "partial JSON updates (MySQL binlog_row_value_options=PARTIAL_JSON): set binlog_row_value_options to ''"
            )
        case Kind.transactionPayload:
            throw .unsupported(
                "compressed transactions (MySQL binlog_transaction_compression=ON): turn binlog_transaction_compression off"
            )
        case Kind.annotateRows: event = .rowsQuery(String(decoding: body.rest(), as: UTF8.self))
        case Kind.rowsQuery:
            try body.skip(1)
            event = .rowsQuery(String(decoding: body.rest(), as: UTF8.self))
        case Kind.heartbeat: event = .heartbeat
        default: event = .other
        }
        return (header, event)
    }

    static func uuid(_ b: [UInt8]) -> String {
        let hex = b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
}
