import ConnectAPI
import ConnectConverters
import Foundation
import JSON

/// One action of a `_bulk` request (Confluent's `BulkOperation`): `index`, `update` (upsert) or `delete`, with the
/// document id, the external version when the key is the id, and the document's JSON.
struct BulkOperation: Sendable, Equatable {
    enum Action: String, Sendable { case index, update, delete }

    var action: Action
    var index: String
    var id: String
    /// The Kafka offset (or `external.version.header`'s value), sent with `version_type=external`.
    var version: Int64?
    /// The document's JSON (none for a delete).
    var document: [UInt8]?
    var retryOnConflict: Int?

    /// The action line and, except for a delete, the source line, each ended by a newline (NDJSON).
    var ndjson: [UInt8] {
        var meta: [(String, JSONValue)] = [("_index", .string(index)), ("_id", .string(id))]
        if let version {
            meta.append(("version", .int(version)))
            meta.append(("version_type", .string("external")))
        }
        if let retryOnConflict { meta.append(("retry_on_conflict", .int(Int64(retryOnConflict)))) }
        var out = JSONWriter.bytes(.object(JSONObject([(action.rawValue, .object(JSONObject(meta)))])))
        out.append(UInt8(ascii: "\n"))
        guard let document else { return out }
        if action == .update {
            // The same payload as the change and as the document to create: Confluent's `doc` + `upsert`.
            out += Array(#"{"doc":"#.utf8) + document + Array(#","upsert":"#.utf8) + document + [UInt8(ascii: "}")]
        } else {
            out += document
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }
}

/// Records to bulk actions, as Confluent's `DataConverter` makes them: the id is the key (INT8..INT64 or STRING)
/// or `topic+partition+offset` with `key.ignore`; the document is the value as `JsonConverter` with
/// `schemas.enable=false` writes it, after Decimals become doubles and (without `compact.map.entries`) maps
/// become arrays of `{"key", "value"}` unless `schema.ignore` is set.
struct DataConverter {
    let config: ElasticsearchSinkConnectorConfig
    private let json: JsonConverter

    init(_ config: ElasticsearchSinkConnectorConfig) {
        self.config = config
        json = JsonConverter()
        try? json.configure(["schemas.enable": "false"], isKey: false)
    }

    /// The action for `record`, nil for a record that is skipped (a null value with `behavior.on.null.values`
    /// `ignore`, or `delete` without a key).
    /// - Throws: DataException for a null value with `fail`, a missing or unusable key.
    func convert(_ record: SinkRecord, index: String) throws -> BulkOperation? {
        if record.value == nil {
            switch config.behaviorOnNullValues {
            case .ignore: return nil
            case .delete where record.key == nil: return nil
            case .delete: break
            case .fail:
                throw ConnectError(
                    .data,
                    "Sink record with key of \(ValueFormatter.string(record.key)) and null value encountered for topic/partition/offset \(record.topic)/\(record.kafkaPartition.map(String.init) ?? "null")/\(record.kafkaOffset) (to ignore future records like this change the configuration property 'behavior.on.null.values' from 'fail' to 'ignore')"
                )
            }
        }
        let ignoreKey = config.ignoresKey(record.topic)
        let id =
            ignoreKey
            ? "\(record.topic)+\(record.kafkaPartition.map(String.init) ?? "null")+\(record.kafkaOffset)"
            : try Self.documentId(record.keySchema, record.key)
        let version = ignoreKey ? nil : try externalVersion(record)
        guard record.value != nil else {
            return BulkOperation(action: .delete, index: index, id: id, version: version)
        }
        let document = try payload(record)
        switch config.writeMethod {
        case .upsert:
            return BulkOperation(
                action: .update, index: index, id: id, document: document,
                retryOnConflict: min(config.maxInFlightRequests, 5))
        case .insert:
            return BulkOperation(action: .index, index: index, id: id, version: version, document: document)
        }
    }

    /// Confluent's `convertKey`: the key as text.
    static func documentId(_ schema: Schema?, _ key: Value?) throws(ConnectError) -> String {
        guard let key else { throw ConnectError(.data, "Key is used as document id and can not be null.") }
        let text: String
        switch key {
        case .int8(let v): text = String(v)
        case .int16(let v): text = String(v)
        case .int32(let v): text = String(v)
        case .int64(let v): text = String(v)
        case .string(let s): text = s
        default:
            throw ConnectError(.data, "\(schema?.type.rawValue ?? "\(key)") is not supported as the document id.")
        }
        guard !text.isEmpty else { throw ConnectError(.data, "Key is used as document id and can not be empty.") }
        return text
    }

    private func externalVersion(_ record: SinkRecord) throws(ConnectError) -> Int64 {
        guard let header = config.externalVersionHeader else { return record.kafkaOffset }
        guard let h = record.headers.last(header), let v = h.value else {
            throw ConnectError(.connect, "Error converting to long: the header \(header) is missing")
        }
        let text = ValueFormatter.string(v)
        guard let version = Int64(text) else { throw ConnectError(.connect, "Error converting to long: \(text)") }
        return version
    }

    private func payload(_ record: SinkRecord) throws -> [UInt8] {
        var schema = record.valueSchema
        var value = record.value
        if !config.ignoresSchema(record.topic), let s = schema {
            (schema, value) = try preProcess(s, value)
        }
        guard
            let bytes = try json.fromConnectData(topic: record.topic, headers: Headers(), schema: schema, value: value)
        else { throw ConnectError(.data, "The record value converted to no JSON") }
        return bytes
    }

    /// Decimals as FLOAT64, and maps with non-string keys (or all maps without `compact.map.entries`) as arrays of
    /// `{"key", "value"}` structs, as Confluent's `preProcessSchema` and `preProcessValue` do.
    func preProcess(_ schema: Schema, _ value: Value?) throws -> (Schema, Value?) {
        let target = preProcessSchema(schema)
        return (target, try preProcessValue(value, schema, target))
    }

    private func preProcessSchema(_ schema: Schema) -> Schema {
        func basics(_ b: SchemaBuilder) -> SchemaBuilder { b.optional(schema.isOptional) }
        if schema.name == LogicalTypes.decimalName {
            var b = basics(SchemaBuilder(.float64))
            if let d = schema.defaultValue { b = b.defaultValue(Self.double(d)) }
            return b.build()
        }
        switch schema.type {
        case .array:
            guard let items = schema.valueSchema else { return schema }
            return basics(SchemaBuilder.array(preProcessSchema(items))).build()
        case .map:
            guard let k = schema.keySchema, let v = schema.valueSchema else { return schema }
            if config.compactMapEntries && k.type == .string {
                return basics(SchemaBuilder.map(preProcessSchema(k), preProcessSchema(v))).build()
            }
            let entry = SchemaBuilder.struct().name("\(k.name ?? k.type.rawValue)-\(v.name ?? v.type.rawValue)")
                .field("key", preProcessSchema(k)).field("value", preProcessSchema(v)).build()
            return basics(SchemaBuilder.array(entry)).build()
        case .struct:
            var b = basics(SchemaBuilder.struct().name(schema.name))
            for f in schema.fields { b = b.field(f.name, preProcessSchema(f.schema)) }
            return b.build()
        default:
            return schema
        }
    }

    private func preProcessValue(_ value: Value?, _ schema: Schema, _ target: Schema) throws -> Value? {
        guard let value else {
            if let d = schema.defaultValue { return try preProcessValue(d, schema, target) }
            if schema.isOptional { return nil }
            throw ConnectError(.data, "null value for field that is required and has no default value")
        }
        if schema.name == LogicalTypes.decimalName { return Self.double(value) }
        switch (schema.type, value) {
        case (.array, .array(let items)):
            guard let s = schema.valueSchema, let t = target.valueSchema else { return value }
            return .array(try items.map { try preProcessValue($0, s, t) })
        case (.map, .map(let entries)):
            guard let k = schema.keySchema, let v = schema.valueSchema else { return value }
            if target.type == .map, let tk = target.keySchema, let tv = target.valueSchema {
                return .map(
                    try entries.map {
                        Value.MapEntry(try preProcessValue($0.key, k, tk), try preProcessValue($0.value, v, tv))
                    })
            }
            guard let entry = target.valueSchema, let tk = entry.field("key")?.schema,
                let tv = entry.field("value")?.schema
            else { return value }
            return .array(
                try entries.map { e in
                    var s = Struct(schema: entry)
                    try s.put("key", try preProcessValue(e.key, k, tk))
                    try s.put("value", try preProcessValue(e.value, v, tv))
                    return .struct(s)
                })
        case (.struct, .struct(let input)):
            var out = Struct(schema: target)
            for f in schema.fields {
                guard let t = target.field(f.name)?.schema else { continue }
                try out.put(f.name, try preProcessValue(input.getWithoutDefault(f.name), f.schema, t))
            }
            return .struct(out)
        default:
            return value
        }
    }

    /// `BigDecimal.doubleValue()`.
    static func double(_ value: Value) -> Value {
        guard case .decimal(let d) = value else { return value }
        if let u = d.unscaledInt64 { return .float64(Double(u) / pow(10, Double(d.scale))) }
        // Beyond 64 bits: the two's complement bytes, most significant first.
        var magnitude = 0.0
        let negative = (d.unscaled.first ?? 0) & 0x80 != 0
        for b in d.unscaled { magnitude = magnitude * 256 + Double(negative ? ~b : b) }
        return .float64((negative ? -(magnitude + 1) : magnitude) / pow(10, Double(d.scale)))
    }
}
