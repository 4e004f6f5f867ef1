import ConnectAPI

/// `org.apache.kafka.connect.transforms.InsertField$Key` / `$Value`: adds the topic, partition, offset (sink records),
/// timestamp or a static value as fields. A name ending in `!` makes the field required, `?` or nothing optional.
public class InsertField: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }
    static let purpose = "field insertion"

    public static let configDef = ConfigDef()
        .define(
            "topic.field", .string, default: .none, importance: .medium,
            documentation:
                "Field name for Kafka topic. Suffix with ! to make this a required field, or ? to keep it optional (the default)."
        )
        .define(
            "partition.field", .string, default: .none, importance: .medium,
            documentation:
                "Field name for Kafka partition. Suffix with ! to make this a required field, or ? to keep it optional (the default)."
        )
        .define(
            "offset.field", .string, default: .none, importance: .medium,
            documentation:
                "Field name for Kafka offset - only applicable to sink connectors. Suffix with ! to make this a required field, or ? to keep it optional (the default)."
        )
        .define(
            "timestamp.field", .string, default: .none, importance: .medium,
            documentation:
                "Field name for record timestamp. Suffix with ! to make this a required field, or ? to keep it optional (the default)."
        )
        .define(
            "static.field", .string, default: .none, importance: .medium,
            documentation:
                "Field name for static data field. Suffix with ! to make this a required field, or ? to keep it optional (the default)."
        )
        .define(
            "static.value", .string, default: .none, importance: .medium,
            documentation: "Static field value, if field name configured."
        )
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .medium,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."
        )

    struct InsertionSpec {
        let name: String
        let optional: Bool

        init?(_ text: String?) {
            guard let text, !text.isEmpty else { return nil }
            if text.hasSuffix("!") {
                name = String(text.dropLast())
                optional = false
            } else {
                name = text.hasSuffix("?") ? String(text.dropLast()) : text
                optional = true
            }
        }
    }

    private var topicField: InsertionSpec?
    private var partitionField: InsertionSpec?
    private var offsetField: InsertionSpec?
    private var timestampField: InsertionSpec?
    private var staticField: InsertionSpec?
    private var staticValue: String?
    private var replaceNullWithDefault = true
    private var schemaCache: [ObjectIdentifier: (Schema, Schema)] = [:]

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        topicField = InsertionSpec(c.string("topic.field"))
        partitionField = InsertionSpec(c.string("partition.field"))
        offsetField = InsertionSpec(c.string("offset.field"))
        timestampField = InsertionSpec(c.string("timestamp.field"))
        staticField = InsertionSpec(c.string("static.field"))
        staticValue = c.string("static.value")
        replaceNullWithDefault = c.bool("replace.null.with.default") ?? true
        if topicField == nil && partitionField == nil && offsetField == nil && timestampField == nil
            && staticField == nil
        {
            throw ConnectError.config("No field insertion configured")
        }
        if let staticField, staticValue == nil {
            throw ConnectError.invalidConfig(
                "static.value", nil, "No value specified for static field: \(staticField.name)")
        }
    }

    /// The fields to add, in Connect's order, with their schemas and values for this record.
    private func insertions<R: ConnectRecord>(_ record: R) throws(ConnectError) -> [(InsertionSpec, Schema, Value?)] {
        var out: [(InsertionSpec, Schema, Value?)] = []
        if let f = topicField {
            out.append((f, f.optional ? Schema.optionalString : Schema.string, .string(record.topic)))
        }
        if let f = partitionField {
            out.append((f, f.optional ? Schema.optionalInt32 : Schema.int32, record.kafkaPartition.map { .int32($0) }))
        }
        if let f = offsetField {
            guard let sink = record as? SinkRecord else {
                throw ConnectError.data(
                    "Offset insertion is only supported for sink connectors, record is of type: class \(type(of: record))"
                )
            }
            out.append((f, f.optional ? Schema.optionalInt64 : Schema.int64, .int64(sink.kafkaOffset)))
        }
        if let f = timestampField {
            out.append((f, LogicalTypes.timestamp(optional: f.optional), record.timestamp.map { .timestamp($0) }))
        }
        if let f = staticField {
            out.append((f, f.optional ? Schema.optionalString : Schema.string, staticValue.map { .string($0) }))
        }
        return out
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        guard let value = record.data(of: part) else { return record }
        let added = try insertions(record)
        guard let schema = record.schema(of: part) else {
            var entries = try Requirements.requireMap(value, Self.purpose)
            for (spec, _, v) in added {
                // Schemaless timestamps stay longs, as in Connect.
                var plain = v
                if case .timestamp(let ms)? = v { plain = .int64(ms) }
                entries.removeAll { $0.key == .string(spec.name) }
                entries.append(Value.MapEntry(.string(spec.name), plain))
            }
            return record.replacing(part, schema: nil, value: .map(entries))
        }
        let input = try Requirements.requireStruct(value, Self.purpose)
        // Connect's SchemaBuilder refuses a second field of the same name.
        if let clash = added.first(where: { schema.field($0.0.name) != nil }) {
            throw ConnectError.data("Cannot create field because of field name duplication \(clash.0.name)")
        }
        let updated = updatedSchema(schema, added)
        var out = Struct(schema: updated)
        for field in schema.fields {
            // The updated schema starts with the same fields in the same order.
            guard let target = updated.field(matching: field) else { continue }
            try out.put(target, replaceNullWithDefault ? input.get(field) : input.getWithoutDefault(field))
        }
        for (spec, _, v) in added { try out.put(spec.name, v) }
        return record.replacing(part, schema: updated, value: .struct(out))
    }

    private func updatedSchema(_ schema: Schema, _ added: [(InsertionSpec, Schema, Value?)]) -> Schema {
        if let hit = schemaCache[ObjectIdentifier(schema)] { return hit.1 }
        var b = copySchemaBasics(schema, SchemaBuilder.struct())
        for field in schema.fields { b = b.field(field.name, field.schema) }
        for (spec, fieldSchema, _) in added { b = b.field(spec.name, fieldSchema) }
        let updated = b.build()
        schemaCache[ObjectIdentifier(schema)] = (schema, updated)
        return updated
    }

    public func close() {}
}

public final class InsertFieldKey: InsertField {
    override public class var part: RecordPart { .key }
}

public final class InsertFieldValue: InsertField {}
