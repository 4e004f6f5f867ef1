/// A position in PostgreSQL's write-ahead log (`pg_lsn`): 64 bits, written `16/B374D848` (high and low 32 bits in
/// hexadecimal). Debezium's offsets keep it as the 64-bit number.
public struct LogSequenceNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Parses `X/Y`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
            high <= UInt64(UInt32.max), low <= UInt64(UInt32.max)
        else { return nil }
        value = high << 32 | low
    }

    public static let invalid = LogSequenceNumber(0)

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (a: LogSequenceNumber, b: LogSequenceNumber) -> Bool { a.value < b.value }
}
