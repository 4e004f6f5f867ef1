/// A value of a row image or of a snapshot's result, before the connector maps it to a Connect value: the
/// column's own kind, with integers already read as the column's signedness says.
public enum ColumnValue: Sendable, Equatable {
    case null
    case signed(Int64)
    case unsigned(UInt64)
    case float(Float)
    case double(Double)
    /// A DECIMAL's exact value in plain text (`-1234.50`).
    case decimal(String)
    /// CHAR, VARCHAR, TEXT, BLOB, BINARY and JSON bytes as the binlog carries them, in the column's character set.
    case bytes([UInt8])
    /// Text already decoded (a snapshot's results arrive in the connection's character set, UTF-8).
    case text(String)
    /// A DATE (a zero date is `0000-00-00`).
    case date(year: Int, month: Int, day: Int)
    /// A TIME as microseconds (negative allowed, up to ±838:59:59).
    case time(micros: Int64)
    /// A DATETIME: wall-clock fields, no time zone.
    case datetime(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, micros: Int)
    /// A TIMESTAMP: microseconds since the epoch (UTC).
    case timestamp(micros: Int64)
    case year(Int)
    /// A BIT(n) value, big-endian bytes as stored.
    case bits([UInt8])
    /// An ENUM's 1-based index (0 is the empty string written for an invalid value).
    case enumIndex(Int)
    /// A SET's members as a bit field (bit i = the i-th member).
    case setBits(UInt64)
}

/// WRITE_ROWS, UPDATE_ROWS or DELETE_ROWS (versions 1 and 2): row images of one table, decoded with the table map
/// that precedes the event (`Rows_log_event`). An update carries a before and an after image per row.
public struct RowsEvent: Sendable {
    public enum Kind: Sendable { case write, update, delete }

    public var kind: Kind
    public var tableId: UInt64
    public var flags: UInt16
    public var columnCount: Int
    /// The columns present in the (before) image, and in the after image of an update.
    public var present: [Bool]
    public var presentAfter: [Bool]
    /// The row images, undecoded.
    public var data: [UInt8]

    init(_ c: inout ByteCursor, type: UInt8) throws(BinlogError) {
        switch type {
        case BinlogEvent.Kind.writeV1, BinlogEvent.Kind.writeV2: kind = .write
        case BinlogEvent.Kind.updateV1, BinlogEvent.Kind.updateV2: kind = .update
        default: kind = .delete
        }
        tableId = try c.le(6)
        flags = UInt16(try c.le(2))
        if type >= BinlogEvent.Kind.writeV2 {
            let extra = Int(try c.le(2))
            try c.skip(max(0, extra - 2))
        }
        columnCount = try c.lenencCount()
        present = try c.bitmap(columnCount)
        presentAfter = kind == .update ? try c.bitmap(columnCount) : present
        data = c.rest()
    }

    /// The rows: one image each for writes and deletes, before and after images in turn for updates. A column
    /// the image leaves out (a minimal row image) is `.null`. `unsigned[i]` says whether column i is unsigned.
    public func rows(table: TableMapEvent, unsigned: [Bool]) throws(BinlogError) -> [[ColumnValue]] {
        guard table.types.count == columnCount else {
            throw .mismatch(
                "rows event has \(columnCount) columns, table map of \(table.database).\(table.table) has \(table.types.count)"
            )
        }
        var c = ByteCursor(data)
        var out: [[ColumnValue]] = []
        while c.remaining > 0 {
            let image = kind == .update && out.count % 2 == 1 ? presentAfter : present
            guard image.contains(true) else { throw .mismatch("a row image with no columns") }
            let nulls = try c.bitmap(image.filter { $0 }.count)
            var row = [ColumnValue](repeating: .null, count: columnCount)
            var n = 0
            for i in 0..<columnCount where image[i] {
                defer { n += 1 }
                if nulls[n] { continue }
                row[i] = try Self.value(
                    type: table.types[i], meta: table.metadata[i], unsigned: i < unsigned.count && unsigned[i], &c)
            }
            out.append(row)
        }
        return out
    }

    /// One value of a row image, in the binary form the server writes (`Field::pack`, `log_event.cc`
    /// `log_event_print_value`).
    static func value(
        type: UInt8, meta: UInt16, unsigned: Bool, _ c: inout ByteCursor
    ) throws(BinlogError)
        -> ColumnValue
    {
        func integer(_ bytes: Int) throws(BinlogError) -> ColumnValue {
            let raw = try c.le(bytes)
            if unsigned { return .unsigned(raw) }
            let shift = UInt64(64 - bytes * 8)
            return .signed(Int64(bitPattern: raw << shift) >> Int64(shift))
        }
        switch type {
        case ColumnType.tiny: return try integer(1)
        case ColumnType.short: return try integer(2)
        case ColumnType.int24: return try integer(3)
        case ColumnType.long: return try integer(4)
        case ColumnType.longlong: return try integer(8)
        case ColumnType.float: return .float(Float(bitPattern: UInt32(try c.le(4))))
        case ColumnType.double: return .double(Double(bitPattern: try c.le(8)))
        case ColumnType.newdecimal:
            return .decimal(try Self.decimal(precision: Int(meta >> 8), scale: Int(meta & 0xFF), &c))
        case ColumnType.year:
            let y = Int(try c.u8())
            return .year(y == 0 ? 0 : y + 1900)
        case ColumnType.date, ColumnType.newdate:
            let v = Int(try c.le(3))
            return .date(year: v >> 9, month: (v >> 5) & 15, day: v & 31)
        case ColumnType.time:
            let v = Int64(try c.le(3))
            let signed = v >= 0x800000 ? v - 0x1000000 : v
            let a = abs(signed)
            let micros = ((a / 10000) * 3600 + (a / 100 % 100) * 60 + a % 100) * 1_000_000
            return .time(micros: signed < 0 ? -micros : micros)
        case ColumnType.time2: return .time(micros: try Self.time2(fsp: Int(meta), &c))
        case ColumnType.datetime:
            var v = try c.le(8)
            let second = Int(v % 100); v /= 100
            let minute = Int(v % 100); v /= 100
            let hour = Int(v % 100); v /= 100
            let day = Int(v % 100); v /= 100
            let month = Int(v % 100); v /= 100
            return .datetime(
                year: Int(v), month: month, day: day, hour: hour, minute: minute, second: second, micros: 0)
        case ColumnType.datetime2:
            let packed = Int64(try c.be(5)) - 0x80_0000_0000
            let micros = try Self.fraction(fsp: Int(meta), &c)
            let ymd = packed >> 17
            let ym = ymd >> 5
            let hms = packed % (1 << 17)
            return .datetime(
                year: Int(ym / 13), month: Int(ym % 13), day: Int(ymd % 32), hour: Int(hms >> 12),
                minute: Int((hms >> 6) % 64), second: Int(hms % 64), micros: micros)
        case ColumnType.timestamp: return .timestamp(micros: Int64(try c.le(4)) * 1_000_000)
        case ColumnType.timestamp2:
            let seconds = Int64(try c.be(4))
            return .timestamp(micros: seconds * 1_000_000 + Int64(try Self.fraction(fsp: Int(meta), &c)))
        case ColumnType.varchar, ColumnType.varString:
            let length = Int(try c.le(meta > 255 ? 2 : 1))
            return .bytes(try c.bytes(length))
        case ColumnType.blob, ColumnType.tinyBlob, ColumnType.mediumBlob, ColumnType.longBlob, ColumnType.geometry:
            let length = Int(try c.le(Int(max(1, min(4, meta)))))
            return .bytes(try c.bytes(length))
        case ColumnType.json:
            throw .unsupported("MySQL's binary JSON column values (MariaDB's JSON, a LONGTEXT, is read)")
        case ColumnType.bit:
            let bytes = Int(meta & 0xFF) + (meta >> 8 > 0 ? 1 : 0)
            return .bits(try c.bytes(bytes))
        case ColumnType.string, ColumnType.enumeration, ColumnType.set:
            var realType = UInt8(meta >> 8)
            var length = Int(meta & 0xFF)
            if realType & 0x30 != 0x30 {
                length |= (Int(realType & 0x30) ^ 0x30) << 4
                realType |= 0x30
            }
            switch realType {
            case ColumnType.enumeration: return .enumIndex(Int(try c.le(length)))
            case ColumnType.set: return .setBits(try c.le(length))
            default: return .bytes(try c.bytes(Int(try c.le(length > 255 ? 2 : 1))))
            }
        case ColumnType.null: return .null
        default: throw .unsupported("column type \(type)")
        }
    }

    /// TIME2 (`my_time_packed_from_binary`): microseconds, signed. A negative value's fraction is stored as its
    /// complement, so it borrows one from the integer part.
    static func time2(fsp: Int, _ c: inout ByteCursor) throws(BinlogError) -> Int64 {
        var packed: Int64
        switch fsp {
        case 1, 2:
            var intPart = Int64(try c.be(3)) - 0x80_0000
            var frac = Int64(try c.u8())
            if intPart < 0 && frac != 0 {
                intPart += 1
                frac -= 0x100
            }
            packed = intPart << 24 + frac * 10000
        case 3, 4:
            var intPart = Int64(try c.be(3)) - 0x80_0000
            var frac = Int64(try c.be(2))
            if intPart < 0 && frac != 0 {
                intPart += 1
                frac -= 0x10000
            }
            packed = intPart << 24 + frac * 100
        case 5, 6: packed = Int64(try c.be(6)) - 0x8000_0000_0000
        default: packed = (Int64(try c.be(3)) - 0x80_0000) << 24
        }
        let a = abs(packed)
        let hms = a >> 24
        let micros = ((hms >> 12) % 1024 * 3600 + (hms >> 6) % 64 * 60 + hms % 64) * 1_000_000 + a % (1 << 24)
        return packed < 0 ? -micros : micros
    }

    /// The fractional seconds bytes of DATETIME2 and TIMESTAMP2, as microseconds.
    static func fraction(fsp: Int, _ c: inout ByteCursor) throws(BinlogError) -> Int {
        switch fsp {
        case 1, 2: Int(try c.u8()) * 10000
        case 3, 4: Int(try c.be(2)) * 100
        case 5, 6: Int(try c.be(3))
        default: 0
        }
    }

    /// DECIMAL in MySQL's binary form (`bin2decimal`): groups of nine digits in four big-endian bytes, a partial
    /// group in fewer, the sign in the first bit (flipped), every byte inverted for negative numbers.
    static func decimal(precision: Int, scale: Int, _ c: inout ByteCursor) throws(BinlogError) -> String {
        let digitBytes = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4]
        guard precision > 0, precision <= 65, scale >= 0, scale <= precision else {
            throw .unsupported("DECIMAL(\(precision),\(scale))")
        }
        let intDigits = precision - scale
        let intFull = intDigits / 9, intPartial = intDigits % 9
        let fracFull = scale / 9, fracPartial = scale % 9
        let size = intFull * 4 + digitBytes[intPartial] + fracFull * 4 + digitBytes[fracPartial]
        var raw = try c.bytes(size)
        guard !raw.isEmpty else { return "0" }
        let negative = raw[0] & 0x80 == 0
        raw[0] ^= 0x80
        if negative { raw = raw.map { ~$0 } }
        var r = ByteCursor(raw)
        func group(_ bytes: Int, digits: Int) throws(BinlogError) -> String {
            let v = String(try r.be(bytes))
            return String(repeating: "0", count: max(0, digits - v.count)) + v
        }
        var integer = ""
        if intPartial > 0 { integer += try group(digitBytes[intPartial], digits: intPartial) }
        for _ in 0..<intFull { integer += try group(4, digits: 9) }
        var fraction = ""
        for _ in 0..<fracFull { fraction += try group(4, digits: 9) }
        if fracPartial > 0 { fraction += try group(digitBytes[fracPartial], digits: fracPartial) }
        let trimmed = String(integer.drop { $0 == "0" })
        var text = trimmed.isEmpty ? "0" : trimmed
        if scale > 0 { text += "." + fraction }
        return negative && text.contains(where: { $0 != "0" && $0 != "." }) ? "-" + text : text
    }
}
