import ConnectAPI
import DebeziumCore
import Foundation
import MariaDB

/// A column as the server's catalog (`information_schema.COLUMNS`) describes it.
struct MySqlColumn: Sendable, Equatable {
    var name: String
    /// `DATA_TYPE`, lower-case: `int`, `varchar`, `datetime`, `enum`, ...
    var dataType: String
    /// `COLUMN_TYPE`: `int(10) unsigned`, `enum('a','b')`, `bit(10)`, ...
    var columnType: String
    var optional: Bool
    var precision: Int?
    var scale: Int?
    /// Fractional seconds digits of TIME, DATETIME and TIMESTAMP.
    var fsp: Int
    var charset: String?
    /// 1-based position in the primary key.
    var keyPosition: Int?
    /// `CHARACTER_OCTET_LENGTH`: a BINARY(n) column's n.
    var octetLength: Int? = nil

    var unsigned: Bool { columnType.lowercased().contains("unsigned") }

    /// An ENUM's or SET's members, from `enum('a','b')` (quotes doubled inside, as the catalog writes them).
    var members: [String] {
        guard let open = columnType.firstIndex(of: "("), columnType.hasSuffix(")") else { return [] }
        var out: [String] = []
        var current = ""
        var inQuote = false
        var chars = columnType[columnType.index(after: open)..<columnType.index(before: columnType.endIndex)]
            .makeIterator()
        var pending: Character? = nil
        while let ch = pending ?? chars.next() {
            pending = nil
            if inQuote {
                if ch == "'" {
                    if let n = chars.next() {
                        if n == "'" {
                            current.append("'")
                            continue
                        }
                        pending = n
                    }
                    inQuote = false
                    out.append(current)
                    current = ""
                } else {
                    current.append(ch)
                }
            } else if ch == "'" {
                inQuote = true
            }
        }
        return out
    }

    /// BIT(n)'s n.
    var bitLength: Int {
        guard let open = columnType.firstIndex(of: "("), let close = columnType.firstIndex(of: ")") else { return 1 }
        return Int(columnType[columnType.index(after: open)..<close]) ?? 1
    }
}

/// How one column's values become Connect values, and their schema.
struct MySqlColumnConverter {
    let schema: Schema
    let convert: (ColumnValue) -> Value?
}

/// Debezium's MySQL type mappings (`MySqlValueConverters`, `JdbcValueConverters`) under the connector's handling
/// modes: from `ColumnValue`, as both the binlog's row images and the snapshot's text results are read.
struct MySqlValueConverter: Sendable {
    var decimalMode: DecimalHandlingMode = .precise
    var temporalMode: TemporalPrecisionMode = .adaptiveTimeMicroseconds
    var binaryMode: BinaryHandlingMode = .bytes
    var bigintUnsignedMode: MySqlConnectorConfig.BigIntUnsignedHandlingMode = .long

    func column(_ c: MySqlColumn) -> MySqlColumnConverter {
        let optional = c.optional
        func primitive(_ type: SchemaType, _ f: @escaping (ColumnValue) -> Value?) -> MySqlColumnConverter {
            MySqlColumnConverter(schema: .primitive(type, optional: optional), convert: f)
        }
        switch c.dataType {
        case "bit" where c.bitLength == 1:
            return primitive(.boolean) { if case .bits(let b) = $0 { .boolean(b.contains { $0 != 0 }) } else { nil } }
        case "bit":
            let length = c.bitLength
            return MySqlColumnConverter(schema: SemanticTypes.bits(length: length, optional: optional)) {
                // Stored big-endian; Debezium's Bits are little-endian, (length + 7) / 8 bytes.
                guard case .bits(let b) = $0 else { return nil }
                let n = (length + 7) / 8
                let padded = [UInt8](repeating: 0, count: max(0, n - b.count)) + b.suffix(n)
                return .bytes(padded.reversed())
            }
        case "tinyint": return primitive(.int16) { Self.integer($0).map { .int16(Int16(truncatingIfNeeded: $0)) } }
        case "smallint" where c.unsigned:
            return primitive(.int32) { Self.integer($0).map { .int32(Int32(truncatingIfNeeded: $0)) } }
        case "smallint": return primitive(.int16) { Self.integer($0).map { .int16(Int16(truncatingIfNeeded: $0)) } }
        case "mediumint": return primitive(.int32) { Self.integer($0).map { .int32(Int32(truncatingIfNeeded: $0)) } }
        case "int" where c.unsigned, "integer" where c.unsigned:
            return primitive(.int64) { Self.integer($0).map { .int64(Int64(truncatingIfNeeded: $0)) } }
        case "int", "integer":
            return primitive(.int32) { Self.integer($0).map { .int32(Int32(truncatingIfNeeded: $0)) } }
        case "bigint" where c.unsigned && bigintUnsignedMode == .precise:
            return MySqlColumnConverter(schema: SemanticTypes.decimal(precision: 20, scale: 0, optional: optional)) {
                switch $0 {
                case .unsigned(let u): BigDecimal(String(u)).map(Value.decimal)
                case .signed(let s): BigDecimal(String(UInt64(bitPattern: s))).map(Value.decimal)
                default: nil
                }
            }
        case "bigint": return primitive(.int64) { Self.integer($0).map { .int64(Int64(truncatingIfNeeded: $0)) } }
        case "float":
            return primitive(.float32) {
                switch $0 {
                case .float(let f): .float32(f)
                case .double(let d): .float32(Float(d))
                default: nil
                }
            }
        case "double", "real", "double precision":
            return primitive(.float64) {
                switch $0 {
                case .double(let d): .float64(d)
                case .float(let f): .float64(Double(f))
                default: nil
                }
            }
        case "decimal", "numeric", "dec", "fixed":
            let scale = Int32(c.scale ?? 0)
            return MySqlColumnConverter(
                schema: decimalMode.schema(precision: c.precision, scale: scale, optional: optional)
            ) { if case .decimal(let t) = $0 { decimalMode.value(t, scale: scale) } else { nil } }
        case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
            let charset = c.charset
            return primitive(.string) { Self.text($0, charset: charset).map(Value.string) }
        case "json":
            return MySqlColumnConverter(schema: SemanticTypes.json(optional: optional)) {
                Self.text($0, charset: "utf8mb4").map(Value.string)
            }
        case "binary":
            // The binlog leaves out a BINARY(n) value's trailing zero bytes; Debezium puts them back.
            let length = c.octetLength ?? 0
            return MySqlColumnConverter(schema: .primitive(binaryMode.schemaType, optional: optional)) {
                guard case .bytes(let b) = $0 else { return nil }
                return binaryMode.value(b.count < length ? b + [UInt8](repeating: 0, count: length - b.count) : b)
            }
        case "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
            return MySqlColumnConverter(schema: .primitive(binaryMode.schemaType, optional: optional)) {
                if case .bytes(let b) = $0 { binaryMode.value(b) } else { nil }
            }
        case "enum":
            let members = c.members
            return MySqlColumnConverter(schema: SemanticTypes.enumeration(members, optional: optional)) {
                switch $0 {
                case .enumIndex(let i): .string(i >= 1 && i <= members.count ? members[i - 1] : "")
                default: Self.text($0, charset: "utf8mb4").map(Value.string)
                }
            }
        case "set":
            let members = c.members
            return MySqlColumnConverter(schema: SemanticTypes.enumSet(members, optional: optional)) {
                switch $0 {
                case .setBits(let bits):
                    .string(
                        members.indices.filter { bits & (1 << UInt64($0)) != 0 }.map { members[$0] }.joined(
                            separator: ","))
                default: Self.text($0, charset: "utf8mb4").map(Value.string)
                }
            }
        case "year":
            return MySqlColumnConverter(schema: SemanticTypes.year(optional: optional)) {
                if case .year(let y) = $0 { .int32(Int32(y)) } else { nil }
            }
        case "date": return date(optional: optional)
        case "time": return time(fsp: c.fsp, optional: optional)
        case "datetime": return datetime(fsp: c.fsp, optional: optional)
        case "timestamp":
            return MySqlColumnConverter(schema: SemanticTypes.zonedTimestamp(optional: optional)) {
                if case .timestamp(let micros) = $0 { .string(Temporal.isoTimestamp(micros: micros)) } else { nil }
            }
        default:
            // Types the mappings do not know (GEOMETRY and its kin): their bytes.
            return MySqlColumnConverter(schema: .primitive(binaryMode.schemaType, optional: optional)) {
                if case .bytes(let b) = $0 { binaryMode.value(b) } else { nil }
            }
        }
    }

    /// A zero date (`0000-00-00`) is null in a nullable column and the epoch otherwise (Debezium's rule).
    private func date(optional: Bool) -> MySqlColumnConverter {
        let connect = temporalMode == .connect
        let schema = connect ? LogicalTypes.date(optional: optional) : SemanticTypes.date(optional: optional)
        return MySqlColumnConverter(schema: schema) { v in
            guard case .date(let y, let m, let d) = v else { return nil }
            if m == 0 || d == 0 { return optional ? nil : (connect ? .timestamp(0) : .int32(0)) }
            let day = Temporal.epochDay(year: y, month: m, day: d)
            return connect ? .timestamp(Int64(day) * 86_400_000) : .int32(Int32(day))
        }
    }

    private func time(fsp: Int, optional: Bool) -> MySqlColumnConverter {
        switch temporalMode {
        case .connect:
            return MySqlColumnConverter(schema: LogicalTypes.time(optional: optional)) {
                if case .time(let micros) = $0 { .timestamp(micros / 1000) } else { nil }
            }
        case .adaptive where fsp <= 3:
            return MySqlColumnConverter(schema: SemanticTypes.time(optional: optional)) {
                if case .time(let micros) = $0 { .int32(Int32(truncatingIfNeeded: micros / 1000)) } else { nil }
            }
        default:
            return MySqlColumnConverter(schema: SemanticTypes.microTime(optional: optional)) {
                if case .time(let micros) = $0 { .int64(micros) } else { nil }
            }
        }
    }

    /// DATETIME has no time zone: its fields are read as UTC (`2018-06-20 06:37:03` is `1529476623000`).
    private func datetime(fsp: Int, optional: Bool) -> MySqlColumnConverter {
        func micros(_ v: ColumnValue) -> Int64?? {
            guard case .datetime(let y, let mo, let d, let h, let mi, let s, let us) = v else { return .none }
            if mo == 0 || d == 0 { return .some(nil) }
            let day = Int64(Temporal.epochDay(year: y, month: mo, day: d))
            return .some(((day * 24 + Int64(h)) * 60 + Int64(mi)) * 60_000_000 + Int64(s) * 1_000_000 + Int64(us))
        }
        let connect = temporalMode == .connect
        let millis = connect || fsp <= 3
        let schema =
            connect
            ? LogicalTypes.timestamp(optional: optional)
            : millis ? SemanticTypes.timestamp(optional: optional) : SemanticTypes.microTimestamp(optional: optional)
        return MySqlColumnConverter(schema: schema) { v in
            guard let m = micros(v) else { return nil }
            guard let m else { return optional ? nil : (connect ? .timestamp(0) : .int64(0)) }
            if connect { return .timestamp(Temporal.floorDiv(m, 1000)) }
            return .int64(millis ? Temporal.floorDiv(m, 1000) : m)
        }
    }

    static func integer(_ v: ColumnValue) -> Int64? {
        switch v {
        case .signed(let s): s
        case .unsigned(let u): Int64(bitPattern: u)
        default: nil
        }
    }

    /// Text: a snapshot's already decoded, or the binlog's bytes in the column's character set (MySQL's latin1 is
    /// Windows-1252; ascii and the utf8 sets are UTF-8; others are read as UTF-8).
    static func text(_ v: ColumnValue, charset: String?) -> String? {
        switch v {
        case .text(let t): return t
        case .bytes(let b):
            if charset == "latin1" {
                return String(bytes: b, encoding: .windowsCP1252) ?? String(bytes: b, encoding: .isoLatin1)
            }
            return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// A snapshot's text value as the binlog would carry it, by the column's type: the one path to Connect values.
    static func parse(_ raw: [UInt8]?, _ c: MySqlColumn) -> ColumnValue {
        guard let raw else { return .null }
        let text = String(decoding: raw, as: UTF8.self)
        switch c.dataType {
        case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
            if c.unsigned, let u = UInt64(text) { return .unsigned(u) }
            return Int64(text).map(ColumnValue.signed) ?? .null
        case "float": return Float(text).map(ColumnValue.float) ?? .null
        case "double", "real", "double precision": return Double(text).map(ColumnValue.double) ?? .null
        case "decimal", "numeric", "dec", "fixed": return .decimal(text)
        case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json", "enum", "set": return .text(text)
        case "bit": return .bits(raw)
        case "year": return .year(Int(text) ?? 0)
        case "date":
            let p = text.split(separator: "-").compactMap { Int($0) }
            return p.count == 3 ? .date(year: p[0], month: p[1], day: p[2]) : .null
        case "time":
            let negative = text.hasPrefix("-")
            guard let micros = Temporal.parseTime(Substring(negative ? String(text.dropFirst()) : text)) else {
                return .null
            }
            return .time(micros: negative ? -micros : micros)
        case "datetime", "timestamp":
            let parts = text.split(separator: " ")
            guard parts.count == 2 else { return .null }
            let d = parts[0].split(separator: "-").compactMap { Int($0) }
            guard d.count == 3, let t = Temporal.parseTime(parts[1]) else { return .null }
            let (h, mi, s, us) = (
                Int(t / 3_600_000_000), Int(t / 60_000_000 % 60), Int(t / 1_000_000 % 60), Int(t % 1_000_000)
            )
            if c.dataType == "timestamp" {
                // The session runs in UTC, so the text is the instant's UTC wall clock; a zero timestamp is 0.
                if d[1] == 0 || d[2] == 0 { return .timestamp(micros: 0) }
                return .timestamp(
                    micros: Int64(Temporal.epochDay(year: d[0], month: d[1], day: d[2])) * 86_400_000_000 + t)
            }
            return .datetime(year: d[0], month: d[1], day: d[2], hour: h, minute: mi, second: s, micros: us)
        default: return .bytes(raw)
        }
    }
}
