import ConnectAPI
import Foundation

/// What a change event needs of its table: the topic and the key and envelope schemas.
public protocol CapturedTable {
    var topic: String { get }
    var keySchema: Schema? { get }
    var envelopeSchema: Schema { get }
}

/// Builds the records of change events: the envelope, its key, the tombstone after a delete, the truncate event
/// (`RelationalChangeRecordEmitter`), under one source partition.
public struct ChangeEventBuilder: Sendable {
    public let partition: OffsetMap
    public let tombstonesOnDelete: Bool

    public init(serverName: String, tombstonesOnDelete: Bool) {
        partition = ["server": .string(serverName)]
        self.tombstonesOnDelete = tombstonesOnDelete
    }

    /// Microseconds since the epoch, now: the envelope's `ts_ms`/`ts_us`/`ts_ns`.
    public static func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    /// Topic names keep `[A-Za-z0-9._-]`; anything else becomes `_` (`AbstractTopicNamingStrategy`).
    public static func sanitizedTopic(_ name: String) -> String {
        String(
            name.map { c in
                c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-") ? c : "_"
            })
    }

    /// One event (no tombstone).
    public func event(
        _ op: Envelope.Operation, table: some CapturedTable, key: Struct?, before: Struct?, after: Struct?,
        source: Struct, offset: OffsetMap, headers: Headers = Headers()
    ) throws(ConnectError) -> SourceRecord {
        let value = try Envelope.value(
            schema: table.envelopeSchema, op: op, before: before, after: after, source: source,
            nowMicros: Self.nowMicros())
        return SourceRecord(
            sourcePartition: partition, sourceOffset: offset, topic: table.topic, keySchema: table.keySchema,
            key: key.map(Value.struct), valueSchema: table.envelopeSchema, value: .struct(value), headers: headers)
    }

    /// A delete event and, when `tombstones.on.delete` is on, its tombstone (same key, null value).
    public func delete(
        table: some CapturedTable, key: Struct?, before: Struct?, source: Struct, offset: OffsetMap,
        headers: Headers = Headers()
    ) throws(ConnectError) -> [SourceRecord] {
        let d = try event(
            .delete, table: table, key: key, before: before, after: nil, source: source, offset: offset,
            headers: headers)
        guard tombstonesOnDelete else { return [d] }
        let tombstone = SourceRecord(
            sourcePartition: partition, sourceOffset: offset, topic: table.topic, keySchema: table.keySchema,
            key: key.map(Value.struct), valueSchema: nil, value: nil)
        return [d, tombstone]
    }

    /// A truncate event: no key, no rows.
    public func truncate(
        table: some CapturedTable, source: Struct, offset: OffsetMap
    ) throws(ConnectError)
        -> SourceRecord
    {
        let value = try Envelope.value(
            schema: table.envelopeSchema, op: .truncate, before: nil, after: nil, source: source,
            nowMicros: Self.nowMicros())
        return SourceRecord(
            sourcePartition: partition, sourceOffset: offset, topic: table.topic, keySchema: nil, key: nil,
            valueSchema: table.envelopeSchema, value: .struct(value))
    }
}
