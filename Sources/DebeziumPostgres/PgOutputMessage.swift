import Postgres

/// A message of the `pgoutput` logical decoding plug-in, protocol version 1 (PostgreSQL's "Logical Replication
/// Message Formats"): transactions, relations and row changes, values in text form.
///
/// Decoded here because no library does it: libpq carries the bytes, and this is the wire format's one reader.
enum PgOutputMessage: Equatable {
    /// A column of a RELATION message.
    struct Column: Equatable {
        var name: String
        var typeOID: UInt32
        var typeModifier: Int32
        /// Part of the replica identity (the primary key by default).
        var isKey: Bool
    }

    struct Relation: Equatable {
        var oid: UInt32
        var namespace: String
        var name: String
        /// `d` default, `n` nothing, `f` full, `i` index.
        var replicaIdentity: UInt8
        var columns: [Column]
    }

    /// One column's value in a tuple.
    enum TupleValue: Equatable {
        case null
        /// A TOASTed value the change did not touch: the server does not send it.
        case unchangedToast
        case text(String)
    }

    /// `finalLSN` is the LSN of the transaction's commit record; times are microseconds since 2000-01-01.
    case begin(finalLSN: LogSequenceNumber, commitTime: Int64, xid: UInt32)
    case commit(commitLSN: LogSequenceNumber, endLSN: LogSequenceNumber, commitTime: Int64)
    case relation(Relation)
    case insert(relation: UInt32, new: [TupleValue])
    /// `old` is the key (`K`) or the whole old row (`O`, REPLICA IDENTITY FULL), when the server sent one.
    case update(relation: UInt32, old: [TupleValue]?, oldIsKey: Bool, new: [TupleValue])
    case delete(relation: UInt32, old: [TupleValue], oldIsKey: Bool)
    case truncate(relations: [UInt32], cascade: Bool, restartIdentity: Bool)
    /// Messages the connector does not act on (ORIGIN, TYPE, MESSAGE).
    case other(UInt8)

    struct DecodeError: Error, CustomStringConvertible {
        var description: String
    }

    static func decode(_ bytes: [UInt8]) throws(DecodeError) -> PgOutputMessage {
        var r = ByteReader(bytes)
        let tag = try r.u8()
        switch tag {
        case UInt8(ascii: "B"):
            return .begin(
                finalLSN: LogSequenceNumber(try r.u64()), commitTime: Int64(bitPattern: try r.u64()), xid: try r.u32())
        case UInt8(ascii: "C"):
            _ = try r.u8()
            return .commit(
                commitLSN: LogSequenceNumber(try r.u64()), endLSN: LogSequenceNumber(try r.u64()),
                commitTime: Int64(bitPattern: try r.u64()))
        case UInt8(ascii: "R"):
            let oid = try r.u32()
            let namespace = try r.cString()
            let name = try r.cString()
            let identity = try r.u8()
            let n = Int(try r.u16())
            var columns: [Column] = []
            for _ in 0..<n {
                let flags = try r.u8()
                columns.append(
                    Column(
                        name: try r.cString(), typeOID: try r.u32(), typeModifier: Int32(bitPattern: try r.u32()),
                        isKey: flags & 1 == 1))
            }
            return .relation(
                Relation(oid: oid, namespace: namespace, name: name, replicaIdentity: identity, columns: columns))
        case UInt8(ascii: "I"):
            let rel = try r.u32()
            guard try r.u8() == UInt8(ascii: "N") else { throw DecodeError(description: "INSERT without a new tuple") }
            return .insert(relation: rel, new: try r.tuple())
        case UInt8(ascii: "U"):
            let rel = try r.u32()
            var kind = try r.u8()
            var old: [TupleValue]?
            var oldIsKey = false
            if kind == UInt8(ascii: "K") || kind == UInt8(ascii: "O") {
                oldIsKey = kind == UInt8(ascii: "K")
                old = try r.tuple()
                kind = try r.u8()
            }
            guard kind == UInt8(ascii: "N") else { throw DecodeError(description: "UPDATE without a new tuple") }
            return .update(relation: rel, old: old, oldIsKey: oldIsKey, new: try r.tuple())
        case UInt8(ascii: "D"):
            let rel = try r.u32()
            let kind = try r.u8()
            guard kind == UInt8(ascii: "K") || kind == UInt8(ascii: "O") else {
                throw DecodeError(description: "DELETE without an old tuple")
            }
            return .delete(relation: rel, old: try r.tuple(), oldIsKey: kind == UInt8(ascii: "K"))
        case UInt8(ascii: "T"):
            let n = Int(try r.u32())
            let options = try r.u8()
            var rels: [UInt32] = []
            for _ in 0..<n { rels.append(try r.u32()) }
            return .truncate(relations: rels, cascade: options & 1 != 0, restartIdentity: options & 2 != 0)
        default:
            return .other(tag)
        }
    }
}

/// A frame of the streaming replication protocol inside CopyData.
enum ReplicationFrame: Equatable {
    /// `w`: WAL data starting at `start`, the server's WAL end at sending time, and one pgoutput message.
    case xLogData(start: LogSequenceNumber, walEnd: LogSequenceNumber, payload: [UInt8])
    /// `k`: the server's WAL end; `replyRequested` asks for a status update now (or the walsender times out).
    case keepalive(walEnd: LogSequenceNumber, replyRequested: Bool)

    static func decode(_ bytes: [UInt8]) throws(PgOutputMessage.DecodeError) -> ReplicationFrame {
        var r = ByteReader(bytes)
        switch try r.u8() {
        case UInt8(ascii: "w"):
            let start = LogSequenceNumber(try r.u64())
            let end = LogSequenceNumber(try r.u64())
            _ = try r.u64()
            return .xLogData(start: start, walEnd: end, payload: r.rest())
        case UInt8(ascii: "k"):
            let end = LogSequenceNumber(try r.u64())
            _ = try r.u64()
            return .keepalive(walEnd: end, replyRequested: try r.u8() == 1)
        case let t:
            throw PgOutputMessage.DecodeError(description: "unknown replication frame '\(Character(UnicodeScalar(t)))'")
        }
    }

    /// A standby status update (`r`): the LSNs received, flushed and applied, the client's clock, and whether the
    /// server should answer at once with a keepalive.
    static func standbyStatus(
        received: LogSequenceNumber, flushed: LogSequenceNumber, nowMicros: Int64, replyRequested: Bool = false
    ) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "r")]
        func u64(_ v: UInt64) {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift)))
            }
        }
        u64(received.value)
        u64(flushed.value)
        u64(flushed.value)
        u64(UInt64(bitPattern: nowMicros - PostgresEpoch.offsetMicros))
        out.append(replyRequested ? 1 : 0)
        return out
    }
}

/// PostgreSQL counts time from 2000-01-01 00:00:00 UTC.
enum PostgresEpoch {
    static let offsetMicros: Int64 = 946_684_800_000_000
}

/// Big-endian reads over a message, each throwing at the end of the bytes.
struct ByteReader {
    private let bytes: [UInt8]
    private var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private mutating func take(_ n: Int) throws(PgOutputMessage.DecodeError) -> ArraySlice<UInt8> {
        guard i + n <= bytes.count else {
            throw PgOutputMessage.DecodeError(description: "message ends early (\(bytes.count) bytes)")
        }
        defer { i += n }
        return bytes[i..<i + n]
    }

    mutating func u8() throws(PgOutputMessage.DecodeError) -> UInt8 { try take(1).first! }
    mutating func u16() throws(PgOutputMessage.DecodeError) -> UInt16 {
        try take(2).reduce(0) { $0 << 8 | UInt16($1) }
    }
    mutating func u32() throws(PgOutputMessage.DecodeError) -> UInt32 {
        try take(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func u64() throws(PgOutputMessage.DecodeError) -> UInt64 {
        try take(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func cString() throws(PgOutputMessage.DecodeError) -> String {
        guard let end = bytes[i...].firstIndex(of: 0) else {
            throw PgOutputMessage.DecodeError(description: "unterminated string")
        }
        defer { i = end + 1 }
        return String(decoding: bytes[i..<end], as: UTF8.self)
    }

    mutating func rest() -> [UInt8] {
        defer { i = bytes.count }
        return Array(bytes[i...])
    }

    /// TupleData: a column count, then per column `n` (null), `u` (unchanged TOAST) or `t` + length + text.
    mutating func tuple() throws(PgOutputMessage.DecodeError) -> [PgOutputMessage.TupleValue] {
        let n = Int(try u16())
        var values: [PgOutputMessage.TupleValue] = []
        values.reserveCapacity(n)
        for _ in 0..<n {
            switch try u8() {
            case UInt8(ascii: "n"): values.append(.null)
            case UInt8(ascii: "u"): values.append(.unchangedToast)
            case UInt8(ascii: "t"):
                let len = Int(try u32())
                values.append(.text(String(decoding: try take(len), as: UTF8.self)))
            case let k:
                throw PgOutputMessage.DecodeError(description: "unknown tuple value kind \(k)")
            }
        }
        return values
    }
}
