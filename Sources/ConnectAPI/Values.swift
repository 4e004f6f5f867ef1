/// Connect's `Values` helpers.
public enum Values {
    /// Types text as Connect's `Values.parseString` does (header literals, `SimpleHeaderConverter`): `true`/`false`
    /// (any case) a boolean; a number as `parseNumber` types it (a whole number the narrowest integer type, others
    /// FLOAT32, FLOAT64 or a Decimal); `yyyy-MM-dd` a Date, `HH:mm:ss.SSS'Z'` a Time,
    /// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` a Timestamp (UTC); `[a, b]` an array and `{k: v}` a map, whose elements are
    /// typed the same way (quoted strings, `null`, nested arrays and maps included), numbers widened to their common
    /// type (`[1, 300]` is an array of INT16) and an element schema when the non-null elements have one in common
    /// (else the array or map has none); anything else, or a malformed array or map, the text itself as a STRING.
    public static func parseString(_ text: String) -> SchemaAndValue {
        plainInteger(text) ?? parseStringGenerally(text)
    }

    /// `parseString` without the shortcut for plain integers.
    static func parseStringGenerally(_ text: String) -> SchemaAndValue {
        if text.isEmpty { return SchemaAndValue(schema: Schema.string, value: .string(text)) }
        var parser = ValueTextParser(text)
        if let parsed = parser.parseWhole() { return parsed }
        return parseScalar(text) ?? SchemaAndValue(schema: Schema.string, value: .string(text))
    }

    /// `-?[0-9]{1,18}` (header values such as a task's generation or a record's iteration are mostly these) in the
    /// narrowest integer type, which is what the general parse gives such text.
    private static func plainInteger(_ text: String) -> SchemaAndValue? {
        var magnitude: Int64 = 0
        var negative = false
        var digits = 0
        for (i, b) in text.utf8.enumerated() {
            if b == UInt8(ascii: "-") && i == 0 {
                negative = true
                continue
            }
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"), digits < 18 else { return nil }
            magnitude = magnitude * 10 + Int64(b - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0 else { return nil }
        return narrowestInteger(negative ? -magnitude : magnitude)
    }

    /// INT8, INT16, INT32 or INT64, the first that holds the value.
    private static func narrowestInteger(_ i: Int64) -> SchemaAndValue {
        if let v = Int8(exactly: i) { return SchemaAndValue(schema: Schema.int8, value: .int8(v)) }
        if let v = Int16(exactly: i) { return SchemaAndValue(schema: Schema.int16, value: .int16(v)) }
        if let v = Int32(exactly: i) { return SchemaAndValue(schema: Schema.int32, value: .int32(v)) }
        return SchemaAndValue(schema: Schema.int64, value: .int64(i))
    }

    /// A boolean, number, date, time or timestamp token; nil for anything else.
    static func parseScalar(_ text: String) -> SchemaAndValue? {
        switch text.lowercased() {
        case "true": return SchemaAndValue(schema: Schema.boolean, value: .boolean(true))
        case "false": return SchemaAndValue(schema: Schema.boolean, value: .boolean(false))
        default: break
        }
        if let number = parseNumber(text) { return number }
        return parseTemporal(text)
    }

    /// A number token typed as Connect's `ValueParser.parseAsNumber` (Kafka 3.9, with the fix of KAFKA-17792) types
    /// the `BigDecimal` it reads: a whole number within a long (`5`, `1.0`, `1e3`) the narrowest of INT8, INT16,
    /// INT32, INT64; else, when written with a scale (a fraction or an exponent), FLOAT32 if the float is finite (not
    /// only when exact: `0.1` is FLOAT32), else FLOAT64 if finite; else (`99999999999999999999`, an exponent beyond any
    /// double) a Decimal of the written scale. nil when the text is not a `BigDecimal` literal starting with a digit
    /// or a sign. No step costs more than the text's length, whatever the exponent.
    static func parseNumber(_ text: String) -> SchemaAndValue? {
        let digit = UInt8(ascii: "0")...UInt8(ascii: "9")
        var bytes = text.utf8[...]
        guard let first = bytes.first, digit.contains(first) || first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
        else { return nil }
        let negative = first == UInt8(ascii: "-")
        if !digit.contains(first) { bytes = bytes.dropFirst() }
        var digits: [UInt8] = []  // every digit written, integer part then fraction
        var fractionDigits = 0
        var exponent = 0
        let integerPart = bytes.prefix(while: { digit.contains($0) })
        digits.append(contentsOf: integerPart.map { $0 - digit.lowerBound })
        bytes = bytes.dropFirst(integerPart.count)
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            let fraction = bytes.prefix(while: { digit.contains($0) })
            digits.append(contentsOf: fraction.map { $0 - digit.lowerBound })
            fractionDigits = fraction.count
            bytes = bytes.dropFirst(fraction.count)
        }
        guard !digits.isEmpty else { return nil }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            // An exponent that does not fit an int is a NumberFormatException in Java: not a number.
            guard let e = Int32(String(decoding: bytes.dropFirst(), as: UTF8.self)) else { return nil }
            exponent = Int(e)
            bytes = bytes.dropFirst(bytes.count)
        }
        guard bytes.isEmpty, let scale = Int32(exactly: fractionDigits - exponent) else { return nil }

        let significant = digits.drop(while: { $0 == 0 })
        if significant.isEmpty { return SchemaAndValue(schema: Schema.int8, value: .int8(0)) }
        let trailingZeros = significant.reversed().prefix(while: { $0 == 0 }).count
        let integerDigits = significant.count - Int(scale)  // digits before the point of |value|
        let strippedScale = Int(scale) - trailingZeros
        // parseAsExactDecimal: 1 <= |value| <= 1e19, whole, within a long.
        let atMost1e19 =
            integerDigits < 20
            || (integerDigits == 20 && significant.count - trailingZeros == 1 && significant.first == 1)
        if integerDigits > 0, atMost1e19, strippedScale <= 0 {
            let text =
                (negative ? "-" : "")
                + String(decoding: significant.dropLast(trailingZeros).map { $0 + 48 }, as: UTF8.self)
                + String(repeating: "0", count: -strippedScale)
            if let i = Int64(text) { return narrowestInteger(i) }
        }
        let sign = negative ? "-" : ""
        let unscaled = sign + String(decoding: significant.map { $0 + 48 }, as: UTF8.self)
        if scale != 0 {
            // Correctly rounded, as BigDecimal.floatValue()/doubleValue(); an exponent beyond range gives ±inf or 0.
            let normalized = "\(unscaled)e\(-Int(scale))"
            if let f = Float(normalized), f.isFinite {
                return SchemaAndValue(schema: Schema.float32, value: .float32(f))
            }
            if let d = Double(normalized), d.isFinite {
                return SchemaAndValue(schema: Schema.float64, value: .float64(d))
            }
        }
        guard var decimal = BigDecimal(unscaled) else { return nil }
        decimal.scale = scale
        return SchemaAndValue(schema: LogicalTypes.decimal(scale: scale), value: .decimal(decimal))
    }

    /// `yyyy-MM-dd`, `HH:mm:ss.SSS'Z'` or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (Connect's ISO formats, UTC).
    static func parseTemporal(_ text: String) -> SchemaAndValue? {
        let c = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                guard c[i] >= UInt8(ascii: "0") && c[i] <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(c[i] - UInt8(ascii: "0"))
            }
            return n
        }
        func date(at o: Int) -> Int64? {
            guard c.count >= o + 10, c[o + 4] == UInt8(ascii: "-"), c[o + 7] == UInt8(ascii: "-"),
                let y = number(o..<o + 4), let m = number(o + 5..<o + 7), let d = number(o + 8..<o + 10),
                (1...12).contains(m), d >= 1, d <= daysIn(month: m, year: y)
            else { return nil }
            return daysFromCivil(y, m, d)
        }
        func time(at o: Int) -> Int64? {
            guard c.count == o + 13, c[o + 2] == UInt8(ascii: ":"), c[o + 5] == UInt8(ascii: ":"),
                c[o + 8] == UInt8(ascii: "."), c[o + 12] == UInt8(ascii: "Z"),
                let h = number(o..<o + 2), let mi = number(o + 3..<o + 5), let s = number(o + 6..<o + 8),
                let ms = number(o + 9..<o + 12), h < 24, mi < 60, s < 60
            else { return nil }
            return Int64(((h * 60 + mi) * 60 + s) * 1000 + ms)
        }
        switch c.count {
        case 10:
            guard let days = date(at: 0) else { return nil }
            return SchemaAndValue(schema: LogicalTypes.date(), value: .timestamp(days * 86_400_000))
        case 13:
            guard let ms = time(at: 0) else { return nil }
            return SchemaAndValue(schema: LogicalTypes.time(), value: .timestamp(ms))
        case 24:
            guard c[10] == UInt8(ascii: "T"), let days = date(at: 0), let ms = time(at: 11) else { return nil }
            return SchemaAndValue(schema: LogicalTypes.timestamp(), value: .timestamp(days * 86_400_000 + ms))
        default: return nil
        }
    }

    static func daysIn(month m: Int, year y: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return Int64(era * 146_097 + dayOfEra - 719_468)
    }
}

/// The array and map grammar of Connect's `Values.ValueParser`: elements separated by commas, map entries by colons,
/// quoted strings with backslash escapes, `null`, nesting.
struct ValueTextParser {
    private let chars: [Character]
    private var index = 0

    init(_ text: String) { chars = Array(text) }

    /// The whole text as one array or map; nil when it is neither or is malformed.
    mutating func parseWhole() -> SchemaAndValue? {
        skipSpaces()
        guard index < chars.count, chars[index] == "[" || chars[index] == "{" else { return nil }
        guard let parsed = chars[index] == "[" ? parseArray() : parseMap() else { return nil }
        skipSpaces()
        return index == chars.count ? parsed : nil
    }

    private mutating func skipSpaces() {
        while index < chars.count, chars[index].isWhitespace { index += 1 }
    }

    /// An element: `.some(nil)` for `null`, nil when malformed.
    private mutating func parseElement(until terminators: Set<Character>) -> SchemaAndValue?? {
        skipSpaces()
        guard index < chars.count else { return nil }
        switch chars[index] {
        case "[": return parseArray().map { .some($0) }
        case "{": return parseMap().map { .some($0) }
        case "\"":
            index += 1
            var text = ""
            while index < chars.count {
                let c = chars[index]
                index += 1
                if c == "\"" { return .some(SchemaAndValue(schema: Schema.string, value: .string(text))) }
                if c == "\\", index < chars.count {
                    text.append(chars[index])
                    index += 1
                } else {
                    text.append(c)
                }
            }
            return nil
        default:
            var token = ""
            while index < chars.count, !terminators.contains(chars[index]) {
                token.append(chars[index])
                index += 1
            }
            let trimmed = String(token.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            guard !trimmed.isEmpty else { return nil }
            if trimmed == "null" { return .some(nil) }
            return .some(
                Values.parseScalar(trimmed) ?? SchemaAndValue(schema: Schema.string, value: .string(trimmed)))
        }
    }

    /// The schema every non-null element shares, as Connect's `Values.SchemaMerger`: numeric types widen to the
    /// wider of the two (INT8 < INT16 < INT32 < INT64 < FLOAT32 < FLOAT64), a schema of the same type replaces the one
    /// before; nil once two differ otherwise. (Connect then gives the array `arrayOfNull()`; here it has no schema.)
    static func common(_ schemas: [Schema?]) -> Schema? {
        var common: Schema?
        for next in schemas {
            guard let next else { continue }
            guard let previous = common, previous.type != next.type else {
                common = next
                continue
            }
            guard let p = numericRank.firstIndex(of: previous.type), let n = numericRank.firstIndex(of: next.type)
            else { return nil }
            common = n > p ? next : previous
        }
        return common
    }

    private static let numericRank: [SchemaType] = [.int8, .int16, .int32, .int64, .float32, .float64]

    /// A parsed number as the common numeric type of its array or map (Connect's `alignListEntriesWithSchema`);
    /// anything else unchanged.
    static func aligned(_ value: Value?, to schema: Schema?) -> Value? {
        guard let value, let type = schema?.type, schema?.name == nil else { return value }
        let integer: Int64?
        let real: Double
        switch value {
        case .int8(let v): (integer, real) = (Int64(v), Double(v))
        case .int16(let v): (integer, real) = (Int64(v), Double(v))
        case .int32(let v): (integer, real) = (Int64(v), Double(v))
        case .int64(let v): (integer, real) = (v, Double(v))
        case .float32(let v): (integer, real) = (nil, Double(v))
        default: return value
        }
        switch (type, integer) {
        case (.int16, let i?): return Int16(exactly: i).map { .int16($0) } ?? value
        case (.int32, let i?): return Int32(exactly: i).map { .int32($0) } ?? value
        case (.int64, let i?): return .int64(i)
        case (.float32, let i?): return .float32(Float(Double(i)))  // Java's (float) asDouble(...): rounded twice
        case (.float32, nil): return value
        case (.float64, let i?): return .float64(Double(i))
        case (.float64, nil): return .float64(real)
        default: return value
        }
    }

    private mutating func parseArray() -> SchemaAndValue? {
        index += 1  // [
        var values: [Value?] = []
        var schemas: [Schema?] = []
        skipSpaces()
        if index < chars.count, chars[index] == "]" {
            index += 1
            return SchemaAndValue(schema: nil, value: .array([]))
        }
        while true {
            guard let element = parseElement(until: [",", "]"]) else { return nil }
            values.append(element?.value)
            schemas.append(element?.schema)
            skipSpaces()
            guard index < chars.count else { return nil }
            let c = chars[index]
            index += 1
            if c == "]" { break }
            guard c == "," else { return nil }
        }
        let element = Self.common(schemas)
        return SchemaAndValue(
            schema: element.map { SchemaBuilder.array($0).build() },
            value: .array(values.map { Self.aligned($0, to: element) }))
    }

    private mutating func parseMap() -> SchemaAndValue? {
        index += 1  // {
        var entries: [Value.MapEntry] = []
        var keySchemas: [Schema?] = []
        var valueSchemas: [Schema?] = []
        skipSpaces()
        if index < chars.count, chars[index] == "}" {
            index += 1
            return SchemaAndValue(schema: nil, value: .map([]))
        }
        while true {
            // A map key may not be null.
            guard let parsedKey = parseElement(until: [":"]), let key = parsedKey else { return nil }
            skipSpaces()
            guard index < chars.count, chars[index] == ":" else { return nil }
            index += 1
            guard let value = parseElement(until: [",", "}"]) else { return nil }
            entries.append(Value.MapEntry(key.value, value?.value))
            keySchemas.append(key.schema)
            valueSchemas.append(value?.schema)
            skipSpaces()
            guard index < chars.count else { return nil }
            let c = chars[index]
            index += 1
            if c == "}" { break }
            guard c == "," else { return nil }
        }
        guard let k = Self.common(keySchemas), let v = Self.common(valueSchemas) else {
            return SchemaAndValue(schema: nil, value: .map(entries))
        }
        return SchemaAndValue(
            schema: SchemaBuilder.map(k, v).build(),
            value: .map(entries.map { Value.MapEntry(Self.aligned($0.key, to: k), Self.aligned($0.value, to: v)) }))
    }
}
