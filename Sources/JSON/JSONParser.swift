/// A JSON parse failure, with the byte offset where it was found.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let offset: Int

    public var description: String { "\(message) at offset \(offset)" }
}

/// A strict RFC 8259 parser that keeps object key order and integer exactness.
public struct JSONParser {
    /// What the parser accepts beyond RFC 8259 and how it keeps numbers.
    public struct Options: Sendable {
        /// `007` read as 7 (Jackson's `ALLOW_LEADING_ZEROS_FOR_NUMBERS`, on in Connect's `JsonDeserializer` since
        /// Kafka 3.6).
        public var allowLeadingZeros = false
        /// Numbers with a fraction or an exponent kept as their exact text (`.decimalText`), as Jackson's
        /// `USE_BIG_DECIMAL_FOR_FLOATS` keeps a `BigDecimal`; otherwise they are `Double`s.
        public var exactFractions = false
        public init(allowLeadingZeros: Bool = false, exactFractions: Bool = false) {
            self.allowLeadingZeros = allowLeadingZeros
            self.exactFractions = exactFractions
        }
    }

    private let bytes: [UInt8]
    private let options: Options
    private var index = 0
    private var depth = 0
    /// The deepest nesting of objects and arrays read (Jackson's default `StreamReadConstraints` allow 1000).
    public static let maxDepth = 512

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8], options: Options = Options()) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, options: options)
        parser.skipWhitespace()
        if parser.index >= bytes.count {
            throw JSONParseError(message: "No content to map due to end-of-input", offset: 0)
        }
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index < bytes.count { throw parser.unexpected("trailing content after the JSON value") }
        return value
    }

    /// Parses the one JSON value that starts at `offset` (after any whitespace) and returns it with the offset just
    /// past it; what follows is the caller's to read. For readers of a known layout (`JsonConverter`'s envelope).
    /// `depth` is how many objects and arrays the caller is inside, counted toward the nesting limit as `parse`
    /// counts them.
    /// - Throws: `JSONParseError` as `parse` does, with offsets into the whole of `bytes`.
    public static func parseValue(
        in bytes: [UInt8], at offset: Int, options: Options = Options(), depth: Int = 0
    ) throws(JSONParseError) -> (value: JSONValue, end: Int) {
        var parser = JSONParser(bytes: bytes, options: options)
        parser.index = offset
        parser.depth = depth
        parser.skipWhitespace()
        let value = try parser.parseValue()
        return (value, parser.index)
    }

    /// The offset of the first byte at or after `offset` that is not JSON whitespace (`bytes.count` if none).
    public static func skippingWhitespace(in bytes: [UInt8], at offset: Int) -> Int {
        var parser = JSONParser(bytes: bytes, options: Options())
        parser.index = offset
        parser.skipWhitespace()
        return parser.index
    }

    private init(bytes: [UInt8], options: Options) {
        self.bytes = bytes
        self.options = options
    }

    private mutating func skipWhitespace() {
        while index < bytes.count,
            bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
        {
            index += 1
        }
    }

    private func unexpected(_ expecting: String) -> JSONParseError {
        if index >= bytes.count {
            return JSONParseError(message: "Unexpected end-of-input: expected \(expecting)", offset: index)
        }
        let b = bytes[index]
        let shown = b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16)
        return JSONParseError(
            message: "Unexpected character ('\(shown)' (code \(b))): expected \(expecting)", offset: index)
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw unexpected("a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw unexpected("a JSON value (object, array, string, number, true, false or null)")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw unexpected("'\(word)'") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: n)
        for i in 0..<n where bytes[index + i] != expected[i] {
            index += i
            throw unexpected("'\(word)'")
        }
        index += n
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > Self.maxDepth { throw JSONParseError(message: "JSON nested too deeply", offset: index) }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw unexpected("double-quote to start field name")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw unexpected("':' after field name")
            }
            index += 1
            skipWhitespace()
            object[key] = try parseValue()
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or '}'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            } else {
                throw unexpected("',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or ']'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            } else {
                throw unexpected("',' or ']'")
            }
        }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw unexpected("a string character (control characters must be escaped)") }
            index += 1
        }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            }
            if b < 0x20 { throw unexpected("a string character (control characters must be escaped)") }
            if b != UInt8(ascii: "\\") {
                buffer.append(b)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): buffer.append(0x22)
            case UInt8(ascii: "\\"): buffer.append(0x5C)
            case UInt8(ascii: "/"): buffer.append(0x2F)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                {
                    index += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                }
                let scalar = UnicodeScalar(code) ?? "\u{FFFD}"
                buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                index -= 1
                throw unexpected("a valid escape character")
            }
        }
        throw unexpected("closing quote for a string")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw unexpected("4 hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw unexpected("a hex digit")
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var integral = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected("a digit") }
        var leadingZeros = 0
        if bytes[index] == UInt8(ascii: "0"), index + 1 < bytes.count, isDigit(bytes[index + 1]) {
            guard options.allowLeadingZeros else {
                index += 1
                throw unexpected("no leading zeroes in a number")
            }
            // All but the last zero before the integral digits are dropped from the number's text.
            let first = bytes[start] == UInt8(ascii: "-") ? start + 1 : start
            while index + 1 < bytes.count, bytes[index] == UInt8(ascii: "0"), isDigit(bytes[index + 1]) { index += 1 }
            leadingZeros = index - first
        }
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw unexpected("a digit after the decimal point")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected("a digit in the exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        var text = String(decoding: bytes[start..<index], as: UTF8.self)
        if leadingZeros > 0 {
            let sign = bytes[start] == UInt8(ascii: "-") ? "-" : ""
            text = sign + text.dropFirst(sign.count + leadingZeros)
        }
        if integral, let i = Int64(text) { return .int(i) }
        // A fraction, an exponent or an integer beyond 64 bits: exact text when asked (a BigDecimal or BigInteger).
        if options.exactFractions { return .decimalText(text) }
        guard let d = Double(text) else { throw JSONParseError(message: "Invalid number '\(text)'", offset: start) }
        return .double(d)
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}
