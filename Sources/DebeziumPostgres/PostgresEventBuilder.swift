import ConnectAPI
import DebeziumCore
import Foundation
import Postgres

/// Builds the records of change events: the envelope, its key, the tombstone after a delete, the pair of events
/// for a primary key change (`RelationalChangeRecordEmitter`).
struct PostgresEventBuilder {
    let config: PostgresConnectorConfig
    let database: String

    var partition: OffsetMap { PostgresOffset.partition(config.serverName) }

    static func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    /// One event (no tombstone).
    func event(
        _ op: Envelope.Operation, table: PostgresTable, key: Struct?, before: Struct?, after: Struct?, source: Struct,
        offset: PostgresOffset, headers: Headers = Headers()
    ) throws(ConnectError) -> SourceRecord {
        let value = try Envelope.value(
            schema: table.envelopeSchema, op: op, before: before, after: after, source: source,
            nowMicros: Self.nowMicros())
        return SourceRecord(
            sourcePartition: partition, sourceOffset: offset.map, topic: table.topic, keySchema: table.keySchema,
            key: key.map(Value.struct), valueSchema: table.envelopeSchema, value: .struct(value), headers: headers)
    }

    /// A delete event and, when `tombstones.on.delete` is on, its tombstone (same key, null value).
    func delete(
        table: PostgresTable, key: Struct?, before: Struct?, source: Struct, offset: PostgresOffset,
        headers: Headers = Headers()
    ) throws(ConnectError) -> [SourceRecord] {
        let d = try event(
            .delete, table: table, key: key, before: before, after: nil, source: source, offset: offset,
            headers: headers)
        guard config.tombstonesOnDelete else { return [d] }
        let tombstone = SourceRecord(
            sourcePartition: partition, sourceOffset: offset.map, topic: table.topic, keySchema: table.keySchema,
            key: key.map(Value.struct), valueSchema: nil, value: nil)
        return [d, tombstone]
    }

    /// A truncate event: no key, no rows.
    func truncate(table: PostgresTable, source: Struct, offset: PostgresOffset) throws(ConnectError) -> SourceRecord {
        let value = try Envelope.value(
            schema: table.envelopeSchema, op: .truncate, before: nil, after: nil, source: source,
            nowMicros: Self.nowMicros())
        return SourceRecord(
            sourcePartition: partition, sourceOffset: offset.map, topic: table.topic, keySchema: nil, key: nil,
            valueSchema: table.envelopeSchema, value: .struct(value))
    }
}
