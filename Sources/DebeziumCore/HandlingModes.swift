import ConnectAPI
import Foundation

/// `decimal.handling.mode`: how DECIMAL/NUMERIC columns become Connect values.
public enum DecimalHandlingMode: String, Sendable, CaseIterable {
    /// Connect's `Decimal` (BYTES with a `scale`), the default.
    case precise
    case double
    case string
}

extension DecimalHandlingMode {
    /// The schema of a DECIMAL(precision, scale) column's values in this mode.
    public func schema(precision: Int?, scale: Int32, optional: Bool) -> Schema {
        switch self {
        case .precise: SemanticTypes.decimal(precision: precision, scale: scale, optional: optional)
        case .double: .primitive(.float64, optional: optional)
        case .string: .primitive(.string, optional: optional)
        }
    }

    /// The value of a decimal written in plain text (`-12.5`), at the column's `scale` in precise mode.
    public func value(_ text: String, scale: Int32) -> Value? {
        switch self {
        case .precise: BigDecimal(Self.rescaled(text, scale: scale)).map(Value.decimal)
        case .double:
            switch text {
            case "NaN": .float64(.nan)
            case "Infinity": .float64(.infinity)
            case "-Infinity": .float64(-.infinity)
            default: Double(text).map(Value.float64)
            }
        case .string: .string(text)
        }
    }

    /// `12.3` at scale 2 is `12.30`: Connect's Decimal carries the schema's scale.
    public static func rescaled(_ text: String, scale: Int32) -> String {
        let dot = text.firstIndex(of: ".")
        let have = dot.map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0
        if have >= Int(scale) { return text }
        return (dot == nil ? text + "." : text) + String(repeating: "0", count: Int(scale) - have)
    }
}

/// `time.precision.mode`: how DATE, TIME and TIMESTAMP columns become Connect values.
public enum TemporalPrecisionMode: String, Sendable, CaseIterable {
    /// Debezium's semantic types by the column's precision (`io.debezium.time.*`).
    case adaptive
    /// As `adaptive`, but every TIME as `MicroTime` (the MySQL connector's default).
    case adaptiveTimeMicroseconds = "adaptive_time_microseconds"
    /// Connect's logical `Date`, `Time`, `Timestamp` (millisecond precision).
    case connect
}

/// `binary.handling.mode`: how BYTEA, BINARY and BLOB columns become Connect values.
public enum BinaryHandlingMode: String, Sendable, CaseIterable {
    case bytes, base64, base64UrlSafe = "base64-url-safe", hex

    /// The schema type the mode gives.
    public var schemaType: SchemaType { self == .bytes ? .bytes : .string }

    /// The value of `bytes` in this mode.
    public func value(_ bytes: [UInt8]) -> Value {
        switch self {
        case .bytes: .bytes(bytes)
        case .base64: .string(Base64.encode(bytes))
        case .base64UrlSafe:
            .string(
                Base64.encode(bytes).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"))
        case .hex: .string(bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
        }
    }
}

/// Standard base64 with padding (RFC 4648), as `java.util.Base64.getEncoder()`.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Reading the configuration keys every Debezium connector shares.
public enum DebeziumConfig {
    /// An enumerated setting (`snapshot.mode`, `decimal.handling.mode`, ...), case-insensitive; an unknown value is
    /// rejected naming the key and the allowed values.
    public static func enumValue<E: RawRepresentable & CaseIterable>(
        _ key: String, _ value: String?
    ) throws(ConnectError)
        -> E
    where E.RawValue == String {
        guard let value, let e = E(rawValue: value.lowercased()) else {
            throw ConnectError.invalidConfig(
                key, value, "The value must be one of " + E.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return e
    }

    /// `skipped.operations`: `c`, `u`, `d`, `t` or `none`, comma-separated.
    public static func skippedOperations(_ value: String?) throws(ConnectError) -> Set<String> {
        let ops = (value ?? "t").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for op in ops where !["c", "u", "d", "t", "none"].contains(op) {
            throw ConnectError.invalidConfig("skipped.operations", value, "'\(op)' is not one of c, u, d, t, none")
        }
        return Set(ops.filter { $0 != "none" })
    }
}
