import ConnectAPI
import DebeziumCore
import Foundation

/// How one column's text value (as pgoutput and the snapshot's queries send it) becomes a Connect value, and the
/// schema of that value: Debezium's PostgreSQL type mappings (`PostgresValueConverter`).
struct ColumnConverter {
    let schema: Schema
    let convert: (String) -> Value?
}

/// The type mappings, under the connector's handling modes. Sessions run with `TimeZone=UTC`, `DateStyle=ISO` and
/// `IntervalStyle=postgres`, so the text forms are fixed.
struct PostgresValueConverter: Sendable {
    var decimalMode: DecimalHandlingMode = .precise
    var temporalMode: TemporalPrecisionMode = .adaptive
    var binaryMode: BinaryHandlingMode = .bytes

    /// Type OIDs of the built-in types (`pg_type.oid`), which never change.
    enum OID {
        static let bool: UInt32 = 16, bytea: UInt32 = 17, char: UInt32 = 18, name: UInt32 = 19, int8: UInt32 = 20
        static let int2: UInt32 = 21, int4: UInt32 = 23, text: UInt32 = 25, oid: UInt32 = 26, json: UInt32 = 114
        static let xml: UInt32 = 142, float4: UInt32 = 700, float8: UInt32 = 701, money: UInt32 = 790
        static let bpchar: UInt32 = 1042, varchar: UInt32 = 1043, date: UInt32 = 1082, time: UInt32 = 1083
        static let timestamp: UInt32 = 1114, timestamptz: UInt32 = 1184, interval: UInt32 = 1186
        static let timetz: UInt32 = 1266, bit: UInt32 = 1560, varbit: UInt32 = 1562, numeric: UInt32 = 1700
        static let uuid: UInt32 = 2950, jsonb: UInt32 = 3802
        /// Array type → element type.
        static let arrays: [UInt32: UInt32] = [
            1000: bool, 1001: bytea, 1005: int2, 1007: int4, 1009: text, 1014: bpchar, 1015: varchar, 1016: int8,
            1021: float4, 1022: float8, 1231: numeric, 2951: uuid, 1182: date, 1115: timestamp, 1185: timestamptz,
            199: json, 3807: jsonb,
        ]
    }

    /// The converter for a column; `enumLabels` for a column of an enum type (from `pg_enum`).
    func column(typeOID: UInt32, typeModifier: Int32, optional: Bool, enumLabels: [String]? = nil) -> ColumnConverter {
        if let labels = enumLabels {
            return ColumnConverter(schema: SemanticTypes.enumeration(labels, optional: optional)) { .string($0) }
        }
        if let element = OID.arrays[typeOID] {
            let item = column(typeOID: element, typeModifier: -1, optional: true)
            return ColumnConverter(schema: SchemaBuilder.array(item.schema).optional(optional).build()) { text in
                Self.arrayElements(text).map { .array($0.map { $0.flatMap(item.convert) }) }
            }
        }
        let precision = typeModifier < 0 ? 6 : Int(typeModifier)
        switch typeOID {
        case OID.bool: return ColumnConverter(schema: .primitive(.boolean, optional: optional)) { .boolean($0 == "t") }
        case OID.int2:
            return ColumnConverter(schema: .primitive(.int16, optional: optional)) { Int16($0).map(Value.int16) }
        case OID.int4:
            return ColumnConverter(schema: .primitive(.int32, optional: optional)) { Int32($0).map(Value.int32) }
        case OID.int8, OID.oid:
            return ColumnConverter(schema: .primitive(.int64, optional: optional)) { Int64($0).map(Value.int64) }
        case OID.float4:
            return ColumnConverter(schema: .primitive(.float32, optional: optional)) {
                Self.double($0).map { .float32(Float($0)) }
            }
        case OID.float8:
            return ColumnConverter(schema: .primitive(.float64, optional: optional)) {
                Self.double($0).map(Value.float64)
            }
        case OID.numeric: return numeric(typeModifier: typeModifier, optional: optional)
        case OID.money:
            return decimal(precision: nil, scale: 2, optional: optional) {
                $0.replacingOccurrences(of: "$", with: "").replacingOccurrences(of: ",", with: "")
            }
        case OID.bytea:
            return ColumnConverter(schema: .primitive(binaryMode.schemaType, optional: optional)) { text in
                Self.hexBytes(text).map(binaryMode.value)
            }
        case OID.json, OID.jsonb:
            return ColumnConverter(schema: SemanticTypes.json(optional: optional)) { .string($0) }
        case OID.uuid: return ColumnConverter(schema: SemanticTypes.uuid(optional: optional)) { .string($0) }
        case OID.xml: return ColumnConverter(schema: SemanticTypes.xml(optional: optional)) { .string($0) }
        case OID.date:
            if temporalMode == .connect {
                return ColumnConverter(schema: LogicalTypes.date(optional: optional)) {
                    Temporal.parseDate(Substring($0)).map { .timestamp(Int64($0) * 86_400_000) }
                }
            }
            return ColumnConverter(schema: SemanticTypes.date(optional: optional)) { text in
                if let special = Self.infinity(text) { return .int32(special ? Int32.max : Int32.min) }
                return Temporal.parseDate(Substring(text)).flatMap { Int32(exactly: $0) }.map(Value.int32)
            }
        case OID.time:
            switch temporalMode {
            case .connect:
                return ColumnConverter(schema: LogicalTypes.time(optional: optional)) {
                    Temporal.parseTime(Substring($0)).map { .timestamp($0 / 1000) }
                }
            case .adaptive where precision <= 3:
                return ColumnConverter(schema: SemanticTypes.time(optional: optional)) {
                    Temporal.parseTime(Substring($0)).map { .int32(Int32($0 / 1000)) }
                }
            default:
                return ColumnConverter(schema: SemanticTypes.microTime(optional: optional)) {
                    Temporal.parseTime(Substring($0)).map(Value.int64)
                }
            }
        case OID.timestamp:
            switch temporalMode {
            case .connect:
                return ColumnConverter(schema: LogicalTypes.timestamp(optional: optional)) {
                    Temporal.parseTimestamp(Substring($0)).map { .timestamp(Temporal.floorDiv($0, 1000)) }
                }
            case _ where precision <= 3:
                return ColumnConverter(schema: SemanticTypes.timestamp(optional: optional)) { text in
                    if let special = Self.infinity(text) { return .int64(Self.timestampInfinity(special)) }
                    return Temporal.parseTimestamp(Substring(text)).map { .int64(Temporal.floorDiv($0, 1000)) }
                }
            default:
                return ColumnConverter(schema: SemanticTypes.microTimestamp(optional: optional)) { text in
                    if let special = Self.infinity(text) { return .int64(Self.timestampInfinity(special)) }
                    return Temporal.parseTimestamp(Substring(text)).map(Value.int64)
                }
            }
        case OID.timestamptz:
            return ColumnConverter(schema: SemanticTypes.zonedTimestamp(optional: optional)) { text in
                if Self.infinity(text) != nil { return .string(text) }
                return Temporal.parseTimestamp(Substring(text)).map { .string(Temporal.isoTimestamp(micros: $0)) }
            }
        case OID.timetz:
            return ColumnConverter(schema: SemanticTypes.zonedTime(optional: optional)) { text in
                Self.zonedTime(text).map(Value.string)
            }
        case OID.interval:
            return ColumnConverter(schema: SemanticTypes.microDuration(optional: optional)) {
                Self.intervalMicros($0).map(Value.int64)
            }
        case OID.bit where typeModifier == 1:
            return ColumnConverter(schema: .primitive(.boolean, optional: optional)) { .boolean($0 == "1") }
        case OID.bit, OID.varbit:
            let length = typeModifier > 0 ? Int(typeModifier) : 0
            return ColumnConverter(schema: SemanticTypes.bits(length: length, optional: optional)) {
                .bytes(Self.bitBytes($0))
            }
        default:
            // Text types and anything the mappings do not know (domains, citext, inet, ranges): its text.
            return ColumnConverter(schema: .primitive(.string, optional: optional)) { .string($0) }
        }
    }

    private func numeric(typeModifier: Int32, optional: Bool) -> ColumnConverter {
        guard typeModifier >= 4 else {
            // NUMERIC without precision: each value keeps its own scale.
            switch decimalMode {
            case .precise:
                let schema = SemanticTypes.variableScaleDecimal(optional: optional)
                return ColumnConverter(schema: schema) { text in
                    guard let d = BigDecimal(text) else { return nil }
                    var s = Struct(schema: schema)
                    try? s.put("scale", .int32(d.scale))
                    try? s.put("value", .bytes(d.unscaled))
                    return .struct(s)
                }
            case .double, .string: return decimal(precision: nil, scale: 0, optional: optional) { $0 }
            }
        }
        let precision = Int((typeModifier - 4) >> 16)
        let scale = Int32((typeModifier - 4) & 0xFFFF)
        return decimal(precision: precision, scale: scale, optional: optional) { $0 }
    }

    private func decimal(
        precision: Int?, scale: Int32, optional: Bool, clean: @escaping @Sendable (String) -> String
    )
        -> ColumnConverter
    {
        ColumnConverter(schema: decimalMode.schema(precision: precision, scale: scale, optional: optional)) {
            decimalMode.value(clean($0), scale: scale)
        }
    }

    /// `infinity` (true) or `-infinity` (false), the values PostgreSQL allows in dates and timestamps.
    static func infinity(_ text: String) -> Bool? {
        text == "infinity" ? true : text == "-infinity" ? false : nil
    }

    /// Debezium's fixed values for a TIMESTAMP of `infinity` and `-infinity`.
    static func timestampInfinity(_ positive: Bool) -> Int64 {
        positive ? 9_223_372_036_825_200_000 : -9_223_372_036_832_400_000
    }

    static func double(_ text: String) -> Double? {
        switch text {
        case "NaN": .nan
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        default: Double(text)
        }
    }

    /// `\x00ff10` (bytea's hex output) as bytes.
    static func hexBytes(_ text: String) -> [UInt8]? {
        guard text.hasPrefix("\\x") else { return Array(text.utf8) }
        let hex = Array(text.utf8.dropFirst(2))
        guard hex.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(hex.count / 2)
        var i = 0
        while i < hex.count {
            guard let hi = hexDigit(hex[i]), let lo = hexDigit(hex[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A bit string (`10110`) as Debezium's `Bits`: little-endian bytes of the number it spells.
    static func bitBytes(_ text: String) -> [UInt8] {
        let bits = Array(text.utf8.reversed())
        var out = [UInt8](repeating: 0, count: max(1, (bits.count + 7) / 8))
        for (i, b) in bits.enumerated() where b == UInt8(ascii: "1") { out[i / 8] |= 1 << UInt8(i % 8) }
        return out
    }

    /// `04:05:06.789+02` as `02:05:06.789Z`.
    static func zonedTime(_ text: String) -> String? {
        guard let z = text.lastIndex(where: { $0 == "+" || $0 == "-" }),
            let offset = Temporal.parseOffset(text[z...]), let micros = Temporal.parseTime(text[..<z])
        else { return nil }
        let utc = Temporal.floorMod(micros - Int64(offset) * 1_000_000, 86_400_000_000)
        return Temporal.isoTime(micros: utc) + "Z"
    }

    /// An interval in PostgreSQL's default output (`1 year 2 mons -3 days 04:05:06.789`) as Debezium's
    /// `MicroDuration`: a month is 30.4375 days, a year 12 months.
    static func intervalMicros(_ text: String) -> Int64? {
        var months = 0.0
        var days = 0.0
        var micros: Int64 = 0
        let words = text.split(separator: " ")
        var i = 0
        while i < words.count {
            let w = words[i]
            if w.contains(":") {
                let negative = w.hasPrefix("-")
                guard let t = Temporal.parseTime(w.drop { $0 == "-" || $0 == "+" }) else { return nil }
                micros += negative ? -t : t
                i += 1
                continue
            }
            guard let n = Double(w), i + 1 < words.count else { return nil }
            switch words[i + 1] {
            case "year", "years": months += n * 12
            case "mon", "mons": months += n
            case "day", "days": days += n
            default: return nil
            }
            i += 2
        }
        let total = ((months * 30.4375 + days) * 86_400_000_000).rounded() + Double(micros)
        return Int64(exactly: total.rounded()) ?? (total > 0 ? Int64.max : Int64.min)
    }

    /// The elements of a one-dimensional array's text (`{1,"a b",NULL}`); nil when it is not one.
    static func arrayElements(_ text: String) -> [String?]? {
        let chars = Array(text)
        guard chars.first == "{", chars.last == "}" else { return nil }
        var out: [String?] = []
        var i = 1
        guard chars.count > 2 else { return [] }
        while i < chars.count - 1 {
            var element = ""
            var quoted = false
            if chars[i] == "\"" {
                quoted = true
                i += 1
                while i < chars.count - 1 && chars[i] != "\"" {
                    if chars[i] == "\\" { i += 1 }
                    element.append(chars[i])
                    i += 1
                }
                i += 1
            } else {
                while i < chars.count - 1 && chars[i] != "," {
                    element.append(chars[i])
                    i += 1
                }
            }
            out.append(!quoted && element == "NULL" ? nil : element)
            i += 1
        }
        return out
    }
}
