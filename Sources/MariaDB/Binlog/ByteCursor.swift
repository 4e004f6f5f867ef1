/// Reads the little- and big-endian integers, length-encoded numbers and strings of the binlog format from a
/// byte array; every read is bounds-checked and throws `BinlogError.truncated` past the end.
struct ByteCursor {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { end - offset }

    mutating func take(_ n: Int) throws(BinlogError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= end - offset else { throw .truncated(needed: n, at: offset) }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    mutating func skip(_ n: Int) throws(BinlogError) { _ = try take(n) }

    mutating func u8() throws(BinlogError) -> UInt8 { try take(1).first! }

    /// An unsigned little-endian integer of `n` bytes (1-8).
    mutating func le(_ n: Int) throws(BinlogError) -> UInt64 {
        try take(n).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// An unsigned big-endian integer of `n` bytes (1-8).
    mutating func be(_ n: Int) throws(BinlogError) -> UInt64 {
        try take(n).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A length-encoded integer (`0xFB` NULL is read as 0).
    mutating func lenenc() throws(BinlogError) -> UInt64 {
        let first = try u8()
        switch first {
        case 0xFC: return try le(2)
        case 0xFD: return try le(3)
        case 0xFE: return try le(8)
        case 0xFB: return 0
        default: return UInt64(first)
        }
    }

    /// A length-encoded integer used as a count or length: one larger than the event itself is an error, not a trap.
    mutating func lenencCount() throws(BinlogError) -> Int {
        let v = try lenenc()
        guard v <= UInt64(bytes.count) else { throw .truncated(needed: Int(clamping: v), at: offset) }
        return Int(v)
    }

    mutating func bytes(_ n: Int) throws(BinlogError) -> [UInt8] { Array(try take(n)) }

    mutating func string(_ n: Int) throws(BinlogError) -> String { String(decoding: try take(n), as: UTF8.self) }

    mutating func lenencString() throws(BinlogError) -> String { try string(try lenencCount()) }

    /// The rest up to `end`.
    mutating func rest() -> [UInt8] {
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    /// A bitmap of `bits` bits, least significant bit first.
    mutating func bitmap(_ bits: Int) throws(BinlogError) -> [Bool] {
        guard bits >= 0, bits <= remaining * 8 else { throw .truncated(needed: bits / 8, at: offset) }
        let raw = try take((bits + 7) / 8)
        return (0..<bits).map { raw[raw.startIndex + $0 / 8] & (1 << UInt8($0 % 8)) != 0 }
    }
}

/// A binlog event that cannot be read.
public enum BinlogError: Error, Equatable, CustomStringConvertible {
    case truncated(needed: Int, at: Int)
    case unsupported(String)
    case mismatch(String)

    public var description: String {
        switch self {
        case .truncated(let n, let at): "binlog event truncated: \(n) more bytes needed at offset \(at)"
        case .unsupported(let what): "unsupported in a binlog event: \(what)"
        case .mismatch(let what): "binlog event does not match the table: \(what)"
        }
    }
}
