import Foundation

/// A PackStream value, Bolt's serialisation (Neo4j's "PackStream" specification, version 1): null, booleans, 64-bit
/// integers, doubles, UTF-8 strings, byte arrays, lists, maps with string keys and tagged structures (Bolt's
/// messages, nodes, relationships, temporal values).
///
/// Written here because no Swift Bolt client is among the packages this project may use.
public indirect enum PackValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PackValue])
    /// Entries in order.
    case map([(String, PackValue)])
    case structure(tag: UInt8, fields: [PackValue])

    public static func == (a: PackValue, b: PackValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x == y
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.map(let x), .map(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.structure(let t, let f), .structure(let u, let g)): return t == u && f == g
        default: return false
        }
    }

    /// The value under `key` of a map.
    public subscript(key: String) -> PackValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }
}

/// Writes PackStream, markers and sizes big-endian as the specification lays them out.
public struct PackStreamWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ value: PackValue) {
        switch value {
        case .null: bytes.append(0xC0)
        case .bool(let b): bytes.append(b ? 0xC3 : 0xC2)
        case .int(let i): writeInt(i)
        case .float(let d):
            bytes.append(0xC1)
            append(d.bitPattern)
        case .string(let s):
            let utf8 = Array(s.utf8)
            header(utf8.count, tiny: 0x80, markers: (0xD0, 0xD1, 0xD2))
            bytes += utf8
        case .bytes(let b):
            header(b.count, tiny: nil, markers: (0xCC, 0xCD, 0xCE))
            bytes += b
        case .list(let items):
            header(items.count, tiny: 0x90, markers: (0xD4, 0xD5, 0xD6))
            for item in items { write(item) }
        case .map(let entries):
            header(entries.count, tiny: 0xA0, markers: (0xD8, 0xD9, 0xDA))
            for (k, v) in entries {
                write(.string(k))
                write(v)
            }
        case .structure(let tag, let fields):
            bytes.append(0xB0 | UInt8(min(fields.count, 15)))
            bytes.append(tag)
            for f in fields { write(f) }
        }
    }

    private mutating func writeInt(_ i: Int64) {
        switch i {
        case -16...127: bytes.append(UInt8(bitPattern: Int8(i)))
        case -128 ..< -16:
            bytes.append(0xC8)
            bytes.append(UInt8(bitPattern: Int8(i)))
        case -32768...32767:
            bytes.append(0xC9)
            append(UInt16(bitPattern: Int16(i)))
        case -2_147_483_648...2_147_483_647:
            bytes.append(0xCA)
            append(UInt32(bitPattern: Int32(i)))
        default:
            bytes.append(0xCB)
            append(UInt64(bitPattern: i))
        }
    }

    private mutating func header(_ count: Int, tiny: UInt8?, markers: (UInt8, UInt8, UInt8)) {
        if let tiny, count < 16 {
            bytes.append(tiny | UInt8(count))
        } else if count <= 0xFF {
            bytes.append(markers.0)
            bytes.append(UInt8(count))
        } else if count <= 0xFFFF {
            bytes.append(markers.1)
            append(UInt16(count))
        } else {
            bytes.append(markers.2)
            append(UInt32(count))
        }
    }

    private mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.bigEndian) { bytes += $0 }
    }
}

/// Reads PackStream; throws on a marker it does not know or a value cut short.
public struct PackStreamReader {
    private let bytes: [UInt8]
    private var at = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public mutating func read() throws(Malformed) -> PackValue {
        let marker = try byte()
        switch marker {
        case 0x00...0x7F: return .int(Int64(marker))
        case 0xF0...0xFF: return .int(Int64(Int8(bitPattern: marker)))
        case 0xC0: return .null
        case 0xC2: return .bool(false)
        case 0xC3: return .bool(true)
        case 0xC1: return .float(Double(bitPattern: try integer(UInt64.self)))
        case 0xC8: return .int(Int64(Int8(bitPattern: try byte())))
        case 0xC9: return .int(Int64(Int16(bitPattern: try integer(UInt16.self))))
        case 0xCA: return .int(Int64(Int32(bitPattern: try integer(UInt32.self))))
        case 0xCB: return .int(Int64(bitPattern: try integer(UInt64.self)))
        case 0x80...0x8F: return .string(try text(Int(marker & 0x0F)))
        case 0xD0: return .string(try text(Int(try byte())))
        case 0xD1: return .string(try text(Int(try integer(UInt16.self))))
        case 0xD2: return .string(try text(Int(try integer(UInt32.self))))
        case 0xCC: return .bytes(try take(Int(try byte())))
        case 0xCD: return .bytes(try take(Int(try integer(UInt16.self))))
        case 0xCE: return .bytes(try take(Int(try integer(UInt32.self))))
        case 0x90...0x9F: return .list(try list(Int(marker & 0x0F)))
        case 0xD4: return .list(try list(Int(try byte())))
        case 0xD5: return .list(try list(Int(try integer(UInt16.self))))
        case 0xD6: return .list(try list(Int(try integer(UInt32.self))))
        case 0xA0...0xAF: return .map(try map(Int(marker & 0x0F)))
        case 0xD8: return .map(try map(Int(try byte())))
        case 0xD9: return .map(try map(Int(try integer(UInt16.self))))
        case 0xDA: return .map(try map(Int(try integer(UInt32.self))))
        case 0xB0...0xBF:
            let tag = try byte()
            return .structure(tag: tag, fields: try list(Int(marker & 0x0F)))
        default: throw Malformed(description: "Unknown PackStream marker 0x\(String(marker, radix: 16))")
        }
    }

    private mutating func byte() throws(Malformed) -> UInt8 {
        guard at < bytes.count else { throw Malformed(description: "PackStream value cut short") }
        defer { at += 1 }
        return bytes[at]
    }

    private mutating func take(_ n: Int) throws(Malformed) -> [UInt8] {
        guard n >= 0, at + n <= bytes.count else { throw Malformed(description: "PackStream value cut short") }
        defer { at += n }
        return Array(bytes[at..<at + n])
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(Malformed) -> T {
        var v: T = 0
        for b in try take(MemoryLayout<T>.size) { v = v << 8 | T(b) }
        return v
    }

    private mutating func text(_ n: Int) throws(Malformed) -> String { String(decoding: try take(n), as: UTF8.self) }

    private mutating func list(_ n: Int) throws(Malformed) -> [PackValue] {
        var out: [PackValue] = []
        for _ in 0..<n { out.append(try read()) }
        return out
    }

    private mutating func map(_ n: Int) throws(Malformed) -> [(String, PackValue)] {
        var out: [(String, PackValue)] = []
        for _ in 0..<n {
            guard case .string(let key) = try read() else {
                throw Malformed(description: "PackStream map key is not a string")
            }
            out.append((key, try read()))
        }
        return out
    }
}
