/// Reads Kafka's classic wire types from a buffer; running short is a `KafkaProtocolError.malformed`.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Whether every byte was read.
    public var isAtEnd: Bool { position >= bytes.count }
    public var remaining: Int { bytes.count - position }

    private mutating func take(_ n: Int) throws(KafkaProtocolError) -> ArraySlice<UInt8> {
        guard n >= 0, position + n <= bytes.count else {
            throw .malformed("expected \(n) more bytes at offset \(position) of \(bytes.count)")
        }
        defer { position += n }
        return bytes[position..<position + n]
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(KafkaProtocolError) -> T {
        var v: T = 0
        for b in try take(MemoryLayout<T>.size) { v = v << 8 | T(b) }
        return v
    }

    public mutating func int8() throws(KafkaProtocolError) -> Int8 { Int8(bitPattern: try integer(UInt8.self)) }
    public mutating func int16() throws(KafkaProtocolError) -> Int16 { Int16(bitPattern: try integer(UInt16.self)) }
    public mutating func int32() throws(KafkaProtocolError) -> Int32 { Int32(bitPattern: try integer(UInt32.self)) }
    public mutating func int64() throws(KafkaProtocolError) -> Int64 { Int64(bitPattern: try integer(UInt64.self)) }

    public mutating func string() throws(KafkaProtocolError) -> String {
        guard let s = try nullableString() else { throw .malformed("null where a string is required") }
        return s
    }

    public mutating func nullableString() throws(KafkaProtocolError) -> String? {
        let n = try int16()
        guard n >= 0 else { return nil }
        return String(decoding: try take(Int(n)), as: UTF8.self)
    }

    public mutating func nullableBytes() throws(KafkaProtocolError) -> [UInt8]? {
        let n = try int32()
        guard n >= 0 else { return nil }
        return Array(try take(Int(n)))
    }

    /// INT32 count, then each element; nil for count -1.
    public mutating func nullableArray<T>(
        _ read: (inout ByteReader) throws(KafkaProtocolError) -> T
    )
        throws(KafkaProtocolError) -> [T]?
    {
        let n = try int32()
        guard n >= 0 else { return nil }
        guard Int(n) <= remaining else { throw .malformed("array of \(n) elements in \(remaining) bytes") }
        var out: [T] = []
        out.reserveCapacity(Int(n))
        for _ in 0..<n { out.append(try read(&self)) }
        return out
    }

    public mutating func array<T>(
        _ read: (inout ByteReader) throws(KafkaProtocolError) -> T
    )
        throws(KafkaProtocolError) -> [T]
    {
        guard let a = try nullableArray(read) else { throw .malformed("null where an array is required") }
        return a
    }
}
