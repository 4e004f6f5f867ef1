/// MySQL's column type codes as the binlog writes them (`enum_field_types`).
public enum ColumnType {
    public static let decimal: UInt8 = 0, tiny: UInt8 = 1, short: UInt8 = 2, long: UInt8 = 3, float: UInt8 = 4
    public static let double: UInt8 = 5, null: UInt8 = 6, timestamp: UInt8 = 7, longlong: UInt8 = 8
    public static let int24: UInt8 = 9, date: UInt8 = 10, time: UInt8 = 11, datetime: UInt8 = 12, year: UInt8 = 13
    public static let newdate: UInt8 = 14, varchar: UInt8 = 15, bit: UInt8 = 16, timestamp2: UInt8 = 17
    public static let datetime2: UInt8 = 18, time2: UInt8 = 19, json: UInt8 = 245, newdecimal: UInt8 = 246
    public static let enumeration: UInt8 = 247, set: UInt8 = 248, tinyBlob: UInt8 = 249, mediumBlob: UInt8 = 250
    public static let longBlob: UInt8 = 251, blob: UInt8 = 252, varString: UInt8 = 253, string: UInt8 = 254
    public static let geometry: UInt8 = 255
}

/// TABLE_MAP: the table a following rows event changes, with each column's type and type metadata as the row
/// images are written (`Table_map_log_event`). With `binlog_row_metadata=FULL` it also names the columns and says
/// which are unsigned.
public struct TableMapEvent: Sendable, Equatable {
    public var tableId: UInt64
    public var database: String
    public var table: String
    /// Each column's type code (`ColumnType`); a CHAR, ENUM or SET column's real type is in its metadata.
    public var types: [UInt8]
    /// Each column's type metadata (max length, precision and scale, fractional seconds, length bytes), decoded.
    public var metadata: [UInt16]
    public var nullable: [Bool]
    /// Column names (optional metadata, `binlog_row_metadata=FULL`), empty otherwise.
    public var columnNames: [String] = []
    /// Per numeric column, whether it is unsigned (optional metadata), empty when not sent.
    public var unsignedNumeric: [Bool] = []

    init(_ c: inout ByteCursor) throws(BinlogError) {
        tableId = try c.le(6)
        try c.skip(2)
        database = try c.string(Int(try c.u8()))
        try c.skip(1)
        table = try c.string(Int(try c.u8()))
        try c.skip(1)
        let count = try c.lenencCount()
        types = try c.bytes(count)
        let metaLength = try c.lenencCount()
        var meta = ByteCursor(try c.bytes(metaLength))
        metadata = []
        for t in types { metadata.append(try Self.readMetadata(type: t, &meta)) }
        nullable = try c.bitmap(count)
        while c.remaining > 0 {
            let kind = try c.u8()
            let length = try c.lenencCount()
            var field = ByteCursor(try c.bytes(length))
            switch kind {
            case 1:  // SIGNEDNESS: one bit per numeric column, most significant bit first; 1 = unsigned
                let numeric = types.filter(Self.isNumeric).count
                let raw = field.rest()
                unsignedNumeric = (0..<numeric).map { i in
                    i / 8 < raw.count && raw[i / 8] & (0x80 >> UInt8(i % 8)) != 0
                }
            case 4:  // COLUMN_NAME
                var names: [String] = []
                while field.remaining > 0 { names.append(try field.lenencString()) }
                columnNames = names
            default: break
            }
        }
    }

    public init(
        tableId: UInt64, database: String, table: String, types: [UInt8], metadata: [UInt16], nullable: [Bool]
    ) {
        self.tableId = tableId
        self.database = database
        self.table = table
        self.types = types
        self.metadata = metadata
        self.nullable = nullable
    }

    public static func isNumeric(_ t: UInt8) -> Bool {
        [
            ColumnType.tiny, ColumnType.short, ColumnType.int24, ColumnType.long, ColumnType.longlong,
            ColumnType.newdecimal, ColumnType.float, ColumnType.double, ColumnType.decimal,
        ].contains(t)
    }

    /// The metadata bytes of one column type as one number: 2-byte values little-endian except STRING, BIT and
    /// NEWDECIMAL, whose two bytes are kept in order (first byte high).
    static func readMetadata(type: UInt8, _ c: inout ByteCursor) throws(BinlogError) -> UInt16 {
        switch type {
        case ColumnType.float, ColumnType.double, ColumnType.blob, ColumnType.tinyBlob, ColumnType.mediumBlob,
            ColumnType.longBlob, ColumnType.json, ColumnType.geometry, ColumnType.timestamp2, ColumnType.datetime2,
            ColumnType.time2:
            return UInt16(try c.u8())
        case ColumnType.varchar: return UInt16(try c.le(2))
        case ColumnType.tiny, ColumnType.short, ColumnType.int24, ColumnType.long, ColumnType.longlong,
            ColumnType.null, ColumnType.timestamp, ColumnType.date, ColumnType.time, ColumnType.datetime,
            ColumnType.year, ColumnType.newdate, ColumnType.decimal:
            return 0
        case ColumnType.string, ColumnType.newdecimal, ColumnType.bit, ColumnType.enumeration, ColumnType.set:
            return UInt16(try c.be(2))
        default:
            // A type whose metadata size is unknown (MariaDB's compressed columns, new types): every later column's
            // metadata would be misread.
            throw .unsupported("column type \(type) in a table map")
        }
    }
}
