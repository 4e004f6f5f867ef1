/// A Connect data value. `nil` (an absent `Value?`) is Connect's `null`.
public indirect enum Value: Sendable, Equatable, Hashable {
    case int8(Int8)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case boolean(Bool)
    case string(String)
    case bytes([UInt8])
    case array([Value?])
    /// Entries in insertion order; keys may be any value, as in Connect.
    case map([MapEntry])
    case `struct`(Struct)
    /// `Decimal` logical type (`java.math.BigDecimal`).
    case decimal(BigDecimal)
    /// `Date`, `Time` and `Timestamp` logical types (`java.util.Date`): milliseconds since the epoch.
    case timestamp(Int64)

    public struct MapEntry: Sendable, Equatable, Hashable {
        public var key: Value?
        public var value: Value?
        public init(_ key: Value?, _ value: Value?) {
            self.key = key
            self.value = value
        }
    }

    /// The Java class Connect would report for this value in error messages.
    public var javaClassName: String {
        switch self {
        case .int8: return "java.lang.Byte"
        case .int16: return "java.lang.Short"
        case .int32: return "java.lang.Integer"
        case .int64: return "java.lang.Long"
        case .float32: return "java.lang.Float"
        case .float64: return "java.lang.Double"
        case .boolean: return "java.lang.Boolean"
        case .string: return "java.lang.String"
        case .bytes: return "[B"
        case .array: return "java.util.ArrayList"
        case .map: return "java.util.HashMap"
        case .struct: return "org.apache.kafka.connect.data.Struct"
        case .decimal: return "java.math.BigDecimal"
        case .timestamp: return "java.util.Date"
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Integral values widened to Int64 (offsets and configs store numbers this way).
    public var int64Value: Int64? {
        switch self {
        case .int8(let v): return Int64(v)
        case .int16(let v): return Int64(v)
        case .int32(let v): return Int64(v)
        case .int64(let v): return v
        default: return nil
        }
    }

    public var structValue: Struct? {
        if case .struct(let s) = self { return s }
        return nil
    }
}

/// An arbitrary-precision decimal as Connect's `Decimal` logical type carries it: an unscaled two's-complement
/// big-endian integer and a scale.
public struct BigDecimal: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var unscaled: [UInt8]
    public var scale: Int32

    public init(unscaled: [UInt8], scale: Int32) {
        self.unscaled = unscaled.isEmpty ? [0] : unscaled
        self.scale = scale
    }

    /// A decimal from an unscaled value that fits 64 bits.
    public init(unscaledValue: Int64, scale: Int32) {
        var bytes: [UInt8] = []
        var v = unscaledValue
        repeat {
            bytes.insert(UInt8(truncatingIfNeeded: v), at: 0)
            v >>= 8
        } while !(v == 0 && bytes[0] & 0x80 == 0) && !(v == -1 && bytes[0] & 0x80 != 0)
        self.init(unscaled: bytes, scale: scale)
    }

    /// The unscaled value when it fits 64 bits.
    public var unscaledInt64: Int64? {
        guard unscaled.count <= 8 else { return nil }
        var v: Int64 = unscaled.first.map { $0 & 0x80 != 0 ? -1 : 0 } ?? 0
        for b in unscaled { v = (v << 8) | Int64(b) }
        return v
    }

    /// The unscaled value's sign and decimal digits, at any size (two's complement bytes, big-endian).
    private var unscaledDigits: (negative: Bool, digits: String) {
        if let u = unscaledInt64 { return (u < 0, String(u.magnitude)) }
        let negative = (unscaled.first ?? 0) & 0x80 != 0
        // The magnitude: the bytes as they are, or negated (invert, add one).
        var magnitude = negative ? unscaled.map { ~$0 } : unscaled
        if negative {
            var i = magnitude.count - 1
            while i >= 0 {
                let (v, carry) = magnitude[i].addingReportingOverflow(1)
                magnitude[i] = v
                if !carry { break }
                i -= 1
            }
        }
        // Repeated division by 10^9, collecting nine digits at a time.
        var words = magnitude.map { UInt32($0) }
        var chunks: [UInt32] = []
        while words.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for i in words.indices {
                let current = remainder << 8 | UInt64(words[i])
                words[i] = UInt32(current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
        }
        guard let last = chunks.popLast() else { return (false, "0") }
        var digits = String(last)
        for chunk in chunks.reversed() {
            let part = String(chunk)
            digits += String(repeating: "0", count: 9 - part.count) + part
        }
        return (negative, digits)
    }

    /// Plain decimal text (`BigDecimal.toPlainString`), except for a value whose plain text would run past
    /// `plainLimit` zeros (a scale from a huge exponent, `1e2147483647`): that one is written as `javaString`, so
    /// printing a value never takes gigabytes.
    public var description: String {
        let (negative, plain) = unscaledDigits
        if plain == "0" && scale <= 0 { return "0" }
        if Int(scale) < -Self.plainLimit || Int(scale) - plain.count > Self.plainLimit { return javaString }
        if scale <= 0 { return (negative ? "-" : "") + plain + String(repeating: "0", count: Int(-scale)) }
        var digits = plain
        let s = Int(scale)
        if digits.count <= s { digits = String(repeating: "0", count: s - digits.count + 1) + digits }
        let i = digits.index(digits.endIndex, offsetBy: -s)
        return (negative ? "-" : "") + digits[..<i] + "." + digits[i...]
    }

    /// The most zeros `description` writes out.
    static let plainLimit = 1000

    /// Java's `BigDecimal.toString()`: plain when the scale is not negative and the adjusted exponent (the power of
    /// ten of the first digit) is at least -6, else scientific: `1E+3`, `4.07127E+212797214`, `1.5E-7`, `0E+3`.
    public var javaString: String {
        let (negative, digits) = unscaledDigits
        let adjusted = digits.count - 1 - Int(scale)
        if scale >= 0 && adjusted >= -6 && Int(scale) - digits.count <= Self.plainLimit { return description }
        var out = negative ? "-" : ""
        out += digits.prefix(1)
        if digits.count > 1 { out += "." + digits.dropFirst() }
        if adjusted != 0 { out += "E" + (adjusted > 0 ? "+" : "") + String(adjusted) }
        return out
    }

    /// Parses plain decimal text (`-12.345`, any number of digits) keeping its scale; nil for anything else
    /// (`NaN`, exponents).
    public init?(_ text: String) {
        var t = Substring(text)
        var negative = false
        if t.first == "-" || t.first == "+" {
            negative = t.first == "-"
            t = t.dropFirst()
        }
        var scale: Int32 = 0
        if let dot = t.firstIndex(of: ".") {
            scale = Int32(t.distance(from: dot, to: t.endIndex) - 1)
            t = t[..<dot] + t[t.index(after: dot)...]
        }
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if t.count <= 18, let u = Int64(t) {
            self.init(unscaledValue: negative ? -u : u, scale: scale)
            return
        }
        // Big-endian magnitude, built digit by digit, then two's complement.
        var magnitude: [UInt8] = [0]
        for digit in t.utf8 {
            var carry = UInt16(digit - UInt8(ascii: "0"))
            for i in stride(from: magnitude.count - 1, through: 0, by: -1) {
                let v = UInt16(magnitude[i]) * 10 + carry
                magnitude[i] = UInt8(v & 0xFF)
                carry = v >> 8
            }
            if carry > 0 { magnitude.insert(UInt8(carry), at: 0) }
        }
        if magnitude[0] & 0x80 != 0 { magnitude.insert(0, at: 0) }
        if negative {
            var carry: UInt16 = 1
            for i in stride(from: magnitude.count - 1, through: 0, by: -1) {
                let v = UInt16(~magnitude[i]) + carry
                magnitude[i] = UInt8(v & 0xFF)
                carry = v >> 8
            }
        }
        // Minimal form, as `BigInteger.toByteArray`.
        while magnitude.count > 1
            && ((magnitude[0] == 0xFF && magnitude[1] & 0x80 != 0) || (magnitude[0] == 0 && magnitude[1] & 0x80 == 0))
        {
            magnitude.removeFirst()
        }
        self.init(unscaled: magnitude, scale: scale)
    }
}
