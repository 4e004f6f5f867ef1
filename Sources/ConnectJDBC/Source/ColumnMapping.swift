import ConnectAPI
import DebeziumCore
import Foundation

/// A result column's Connect schema and the conversion of its values, as Confluent's
/// `GenericDatabaseDialect.addFieldToSchema` and `columnConverterFor` give them: integers by width, `REAL` FLOAT32,
/// `DOUBLE` FLOAT64, text STRING, binary BYTES, `DATE`/`TIME`/`TIMESTAMP` Connect's logical types (UTC), and
/// `NUMERIC`/`DECIMAL` by `numeric.mapping`.
struct ColumnMapping: Sendable {
    enum Converter: Sendable {
        case boolean, int8, int16, int32, int64, float32, float64, string, bytes, date, time, timestamp
        case decimal(scale: Int32)
        /// Unconstrained PostgreSQL `numeric` under `numeric.mapping=none`: the digits as they are, scale from the
        /// value (which may not match a Decimal schema of fixed scale), so FLOAT64 is used instead.
        case numericAsDouble
    }

    let name: String
    let schema: Schema
    let converter: Converter

    /// Nil for a column the source leaves out (an unsupported type).
    init?(_ column: SqlColumn, optional: Bool, mapping: JdbcSourceConfig.NumericMapping) {
        name = column.name
        func primitive(_ type: SchemaType, _ c: Converter) -> (Schema, Converter) {
            (Schema.primitive(type, optional: optional), c)
        }
        let result: (Schema, Converter)
        switch column.kind {
        case .boolean: result = primitive(.boolean, .boolean)
        case .int8: result = primitive(.int8, .int8)
        case .int16: result = primitive(.int16, .int16)
        case .int32: result = primitive(.int32, .int32)
        case .int64: result = primitive(.int64, .int64)
        case .float32: result = primitive(.float32, .float32)
        case .float64: result = primitive(.float64, .float64)
        case .string: result = primitive(.string, .string)
        case .bytes: result = primitive(.bytes, .bytes)
        case .date: result = (LogicalTypes.date(optional: optional), .date)
        case .time: result = (LogicalTypes.time(optional: optional), .time)
        case .timestamp: result = (LogicalTypes.timestamp(optional: optional), .timestamp)
        case .decimal(_, let scale):
            result = (LogicalTypes.decimal(scale: Int32(scale), optional: optional), .decimal(scale: Int32(scale)))
        case .numeric(let precision, let scale):
            result = Self.numeric(precision: precision, scale: scale, optional: optional, mapping: mapping)
        case .unsupported: return nil
        }
        (schema, converter) = result
    }

    /// Confluent's `NUMERIC` cases: `precision_only` gives integers for scale 0 and precision up to 18;
    /// `best_fit` also FLOAT64 for a positive scale; `best_fit_eager_double` FLOAT64 for any positive scale;
    /// everything else a Decimal of the column's scale.
    private static func numeric(
        precision: Int, scale: Int?, optional: Bool, mapping: JdbcSourceConfig.NumericMapping
    ) -> (Schema, Converter) {
        func integer() -> (Schema, Converter) {
            let (type, c): (SchemaType, Converter) =
                precision > 9
                ? (.int64, .int64)
                : precision > 4 ? (.int32, .int32) : precision > 2 ? (.int16, .int16) : (.int8, .int8)
            return (Schema.primitive(type, optional: optional), c)
        }
        let double = (Schema.primitive(.float64, optional: optional), Converter.float64)
        guard let scale else {
            // Unconstrained: no fixed scale for a Decimal schema.
            return mapping == .none || mapping == .precisionOnly
                ? (Schema.primitive(.float64, optional: optional), .numericAsDouble) : double
        }
        switch mapping {
        case .precisionOnly where scale == 0 && precision <= 18: return integer()
        case .bestFit where precision <= 18 && scale <= 0: return integer()
        case .bestFit where precision <= 18 && scale > 0: return double
        case .bestFitEagerDouble where scale > 0: return double
        case .bestFitEagerDouble where precision <= 18 && scale <= 0: return integer()
        default: return (LogicalTypes.decimal(scale: Int32(scale), optional: optional), .decimal(scale: Int32(scale)))
        }
    }

    /// The value of `raw` (the server's text; bytes for byte columns) for this column's schema.
    /// - Throws: a DataException naming the column when the text does not parse.
    func value(_ raw: [UInt8]?, isPostgres: Bool) throws(ConnectError) -> Value? {
        guard let raw else { return nil }
        let text = String(decoding: raw, as: UTF8.self)
        func bad() -> ConnectError {
            ConnectError(
                .data, "Column '\(name)': cannot read '\(text.prefix(64))' as \(schema.name ?? schema.type.rawValue)")
        }
        switch converter {
        case .boolean:
            if text == "t" || text == "1" || text == "true" || raw == [1] { return .boolean(true) }
            if text == "f" || text == "0" || text == "false" || raw == [0] { return .boolean(false) }
            throw bad()
        case .int8:
            // MySQL sends BIT(1) as the bit itself.
            if raw == [0] || raw == [1] { return .int8(Int8(raw[0])) }
            guard let v = Int8(text) else { throw bad() }; return .int8(v)
        case .int16: guard let v = Int16(text) else { throw bad() }; return .int16(v)
        case .int32: guard let v = Int32(text) else { throw bad() }; return .int32(v)
        case .int64: guard let v = Int64(text) else { throw bad() }; return .int64(v)
        case .float32: guard let v = Float(text) else { throw bad() }; return .float32(v)
        case .float64, .numericAsDouble: guard let v = Double(text) else { throw bad() }; return .float64(v)
        case .string: return .string(text)
        case .bytes:
            // PostgreSQL sends bytea as hex text (bytea_output=hex); MySQL the bytes themselves.
            guard isPostgres else { return .bytes(raw) }
            guard text.hasPrefix("\\x"), let bytes = Self.unhex(text.utf8.dropFirst(2)) else { throw bad() }
            return .bytes(bytes)
        case .date:
            // MySQL's YEAR arrives as the year alone: the first of January, as Connector/J gives it.
            let date = text.count == 4 && text.allSatisfy(\.isNumber) ? text + "-01-01" : text
            guard let day = Temporal.parseDate(Substring(date)) else { throw bad() }
            return .timestamp(Int64(day) * 86_400_000)
        case .time:
            guard let micros = Temporal.parseTime(Substring(text.prefix { $0 != "+" && $0 != "-" })) else {
                throw bad()
            }
            return .timestamp(Temporal.floorDiv(micros, 1000))
        case .timestamp:
            guard let micros = Temporal.parseTimestamp(Substring(text)) else { throw bad() }
            return .timestamp(Temporal.floorDiv(micros, 1000))
        case .decimal(let scale):
            // The server prints the column's scale; fewer digits (a computed column) are padded, more refused.
            let digits = text.firstIndex(of: ".").map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0
            guard digits <= scale else { throw bad() }
            let padded =
                text + (digits == 0 && scale > 0 ? "." : "") + String(repeating: "0", count: Int(scale) - digits)
            guard let d = BigDecimal(padded) else { throw bad() }
            return .decimal(d)
        }
    }

    private static func unhex(_ digits: Substring.UTF8View) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var high: UInt8?
        for c in digits {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }
}
