import ConnectAPI

/// `org.apache.kafka.connect.transforms.Flatten$Key` / `$Value`: nested structs (or maps) become top-level fields named
/// `parent<delimiter>child`; arrays stay as they are. Fields under an optional parent become optional.
public class Flatten: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }
    static let purpose = "flattening"

    public static let configDef = ConfigDef()
        .define(
            "delimiter", .string, default: ".", importance: .medium,
            documentation:
                "Delimiter to insert between field names from the input record when generating field names for the output record"
        )

    private var delimiter = "."
    private var schemaCache: [ObjectIdentifier: (Schema, Schema)] = [:]

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        delimiter = try Self.configDef.parse(configs).string("delimiter") ?? "."
    }

    private func name(_ prefix: String, _ field: String) -> String {
        prefix.isEmpty ? field : prefix + delimiter + field
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        guard let value = record.data(of: part) else { return record }
        guard let schema = record.schema(of: part) else {
            let entries = try Requirements.requireMap(value, Self.purpose)
            var out: [Value.MapEntry] = []
            flattenSchemaless(entries, prefix: "", into: &out)
            return record.replacing(part, schema: nil, value: .map(out))
        }
        let input = try Requirements.requireStruct(value, Self.purpose)
        let updated = try updatedSchema(schema)
        var out = Struct(schema: updated)
        try flattenStruct(input, prefix: "", into: &out)
        return record.replacing(part, schema: updated, value: .struct(out))
    }

    private func flattenSchemaless(_ entries: [Value.MapEntry], prefix: String, into out: inout [Value.MapEntry]) {
        for e in entries {
            let key = name(prefix, e.key.map(ValueFormatter.string) ?? "null")
            if case .map(let nested)? = e.value {
                flattenSchemaless(nested, prefix: key, into: &out)
            } else {
                out.append(Value.MapEntry(.string(key), e.value))
            }
        }
    }

    private func flattenStruct(_ s: Struct, prefix: String, into out: inout Struct) throws(ConnectError) {
        for field in s.schema.fields {
            let key = name(prefix, field.name)
            if field.schema.type == .struct {
                if let nested = s.get(field)?.structValue { try flattenStruct(nested, prefix: key, into: &out) }
            } else {
                try out.put(key, s.get(field))
            }
        }
    }

    private func updatedSchema(_ schema: Schema) throws(ConnectError) -> Schema {
        if let hit = schemaCache[ObjectIdentifier(schema)] { return hit.1 }
        var b = copySchemaBasics(schema, SchemaBuilder.struct())
        try addFields(
            schema, prefix: "", optional: schema.isOptional, parentDefault: schema.defaultValue?.structValue, to: &b)
        let updated = b.build()
        schemaCache[ObjectIdentifier(schema)] = (schema, updated)
        return updated
    }

    private func addFields(
        _ schema: Schema, prefix: String, optional: Bool, parentDefault: Struct?, to b: inout SchemaBuilder
    ) throws(ConnectError) {
        for field in schema.fields {
            let key = name(prefix, field.name)
            let fieldOptional = optional || field.schema.isOptional
            let fieldDefault = field.schema.defaultValue ?? parentDefault?.get(field)
            switch field.schema.type {
            case .struct:
                try addFields(
                    field.schema, prefix: key, optional: fieldOptional, parentDefault: fieldDefault?.structValue, to: &b
                )
            case .map:
                throw ConnectError.data(
                    "Flatten transformation does not support MAP for record with schemas (for field \(key)).")
            default:
                var fb = copySchemaBasics(
                    field.schema, SchemaBuilder(field.schema.type).copyingStructure(of: field.schema))
                if fieldOptional { fb = fb.optional() }
                fb = fb.defaultValue(fieldDefault)
                b = b.field(key, fb.build())
            }
        }
    }

    public func close() {}
}

public final class FlattenKey: Flatten {
    override public class var part: RecordPart { .key }
}

public final class FlattenValue: Flatten {}
