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
    private var schemaCache: [ObjectIdentifier: (schema: Schema, plan: Plan)] = [:]

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
        additionsCache = nil
        schemaCache = [:]
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

    /// What is added, in Connect's order: topic, partition, offset, timestamp, static value.
    enum Addition {
        case topic, partition, offset, timestamp, staticValue
    }

    /// The fields to add, in Connect's order, with their schemas (both fixed by the configuration).
    private var additions: [(spec: InsertionSpec, schema: Schema, what: Addition)] {
        if let cached = additionsCache { return cached }
        var out: [(InsertionSpec, Schema, Addition)] = []
        if let f = topicField { out.append((f, f.optional ? Schema.optionalString : Schema.string, .topic)) }
        if let f = partitionField { out.append((f, f.optional ? Schema.optionalInt32 : Schema.int32, .partition)) }
        if let f = offsetField { out.append((f, f.optional ? Schema.optionalInt64 : Schema.int64, .offset)) }
        if let f = timestampField { out.append((f, LogicalTypes.timestamp(optional: f.optional), .timestamp)) }
        if let f = staticField { out.append((f, f.optional ? Schema.optionalString : Schema.string, .staticValue)) }
        additionsCache = out
        return out
    }
    private var additionsCache: [(spec: InsertionSpec, schema: Schema, what: Addition)]?

    /// The value an addition takes for this record.
    private func value<R: ConnectRecord>(_ what: Addition, of record: R) throws(ConnectError) -> Value? {
        switch what {
        case .topic: return .string(record.topic)
        case .partition: return record.kafkaPartition.map { .int32($0) }
        case .offset:
            guard let sink = record as? SinkRecord else {
                throw ConnectError.data(
                    "Offset insertion is only supported for sink connectors, record is of type: class \(type(of: record))"
                )
            }
            return .int64(sink.kafkaOffset)
        case .timestamp: return record.timestamp.map { .timestamp($0) }
        case .staticValue: return staticValue.map { .string($0) }
        }
    }

    /// For a struct schema: the updated schema, the name of an added field the schema already has (Connect's
    /// SchemaBuilder refuses it), each input field's place in the updated schema and the added fields.
    private struct Plan {
        let updated: Schema
        let clash: String?
        let kept: [(from: Field, to: Field)]
        let added: [Field]
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        guard let value = record.data(of: part) else { return record }
        let additions = additions
        var values: [Value?] = []
        values.reserveCapacity(additions.count)
        for a in additions { values.append(try self.value(a.what, of: record)) }
        guard let schema = record.schema(of: part) else {
            var entries = try Requirements.requireMap(value, Self.purpose)
            for (a, v) in zip(additions, values) {
                // Schemaless timestamps stay longs, as in Connect.
                var plain = v
                if case .timestamp(let ms)? = v { plain = .int64(ms) }
                entries.removeAll { $0.key == .string(a.spec.name) }
                entries.append(Value.MapEntry(.string(a.spec.name), plain))
            }
            return record.replacing(part, schema: nil, value: .map(entries))
        }
        let input = try Requirements.requireStruct(value, Self.purpose)
        let plan = self.plan(schema)
        if let clash = plan.clash {
            throw ConnectError.data("Cannot create field because of field name duplication \(clash)")
        }
        var out = Struct(schema: plan.updated)
        for (from, to) in plan.kept {
            try out.put(to, replaceNullWithDefault ? input.get(from) : input.getWithoutDefault(from))
        }
        for (field, v) in zip(plan.added, values) { try out.put(field, v) }
        return record.replacing(part, schema: plan.updated, value: .struct(out))
    }

    private func plan(_ schema: Schema) -> Plan {
        if let hit = schemaCache[ObjectIdentifier(schema)] { return hit.plan }
        let additions = additions
        var b = copySchemaBasics(schema, SchemaBuilder.struct())
        for field in schema.fields { b = b.field(field.name, field.schema) }
        for a in additions { b = b.field(a.spec.name, a.schema) }
        let updated = b.build()
        // The updated schema starts with the same fields in the same order.
        let kept = schema.fields.compactMap { f in updated.field(matching: f).map { (f, $0) } }
        let plan = Plan(
            updated: updated, clash: additions.first(where: { schema.field($0.spec.name) != nil })?.spec.name,
            kept: kept, added: additions.compactMap { updated.field($0.spec.name) })
        schemaCache[ObjectIdentifier(schema)] = (schema, plan)
        return plan
    }

    public func close() {}
}

public final class InsertFieldKey: InsertField {
    override public class var part: RecordPart { .key }
}

public final class InsertFieldValue: InsertField {}
