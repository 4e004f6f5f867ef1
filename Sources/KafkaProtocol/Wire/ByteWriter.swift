/// Kafka's classic (non-flexible) wire types, written big-endian into a growing buffer
/// (`clients/.../protocol/types/Type.java`).
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func int8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    public mutating func int16(_ v: Int16) { append(UInt16(bitPattern: v)) }
    public mutating func int32(_ v: Int32) { append(UInt32(bitPattern: v)) }
    public mutating func int64(_ v: Int64) { append(UInt64(bitPattern: v)) }

    private mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// INT16 length, then UTF-8 bytes.
    public mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        int16(Int16(clamping: utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// As `string`, with length -1 for nil.
    public mutating func nullableString(_ s: String?) {
        guard let s else { return int16(-1) }
        string(s)
    }

    /// INT32 length, then the bytes; -1 for nil.
    public mutating func nullableBytes(_ b: [UInt8]?) {
        guard let b else { return int32(-1) }
        int32(Int32(b.count))
        bytes.append(contentsOf: b)
    }

    /// INT32 count, then each element.
    public mutating func array<T>(_ elements: [T], _ write: (inout ByteWriter, T) -> Void) {
        int32(Int32(elements.count))
        for e in elements { write(&self, e) }
    }

    /// Bytes already encoded.
    public mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
}
