import ConnectAPI

/// `org.apache.kafka.connect.transforms.ExtractField$Key` / `$Value`: replaces the key or value by one of its fields.
/// With `field.syntax.version=V2` the field is a dotted path into nested structs or maps (names containing dots are
/// written in backticks).
public class ExtractField: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }
    static let purpose = "field extraction"

    public static let configDef = ConfigDef()
        .define("field", .string, default: .required, importance: .medium, documentation: "Field name to extract.")
        .define(
            "field.syntax.version", .string, default: "V1", validator: .oneOf(["V1", "V2"], caseInsensitive: true),
            importance: .high,
            documentation:
                "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements."
        )
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .medium,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."
        )

    private var path: [String] = []
    private var fieldText = ""
    private var replaceNullWithDefault = true

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        fieldText = c.string("field") ?? ""
        path = (c.string("field.syntax.version") ?? "V1").uppercased() == "V2" ? Self.parsePath(fieldText) : [fieldText]
        replaceNullWithDefault = c.bool("replace.null.with.default") ?? true
    }

    /// Splits `a.b.c` into steps; a step in backticks may contain dots.
    static func parsePath(_ text: String) -> [String] {
        var steps: [String] = []
        var current = ""
        var quoted = false
        for c in text {
            if c == "`" {
                quoted.toggle()
            } else if c == "." && !quoted {
                steps.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        steps.append(current)
        return steps
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        let value = record.data(of: part)
        guard var schema = record.schema(of: part) else {
            var current = value
            for step in path {
                guard let entries = try Requirements.requireMapOrNull(current, Self.purpose) else {
                    return record.replacing(part, schema: nil, value: nil)
                }
                current = entries.value(forKey: step) ?? nil
            }
            return record.replacing(part, schema: nil, value: current)
        }
        var current = value
        for step in path {
            let s = try Requirements.requireStructOrNull(current, Self.purpose)
            guard let field = schema.field(step) else {
                throw ConnectError(.illegalArgument, "Unknown field: \(fieldText)")
            }
            schema = field.schema
            current = s.flatMap { replaceNullWithDefault ? $0.get(field) : $0.getWithoutDefault(step) }
        }
        return record.replacing(part, schema: schema, value: current)
    }

    public func close() {}
}

public final class ExtractFieldKey: ExtractField {
    override public class var part: RecordPart { .key }
}

public final class ExtractFieldValue: ExtractField {}

/// `org.apache.kafka.connect.transforms.ValueToKey`: the key becomes a struct (or map) of the listed value fields.
public final class ValueToKey: Transformation {
    public static var version: String? { ConnectVersion.kafka }
    static let purpose = "copying fields from value to key"

    public static let configDef = ConfigDef()
        .define(
            "fields", .list, default: .required,
            validator: .nonEmptyList, importance: .high,
            documentation: "Field names on the record value to extract as the record key."
        )
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .medium,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."
        )

    private var fields: [String] = []
    private var replaceNullWithDefault = true
    private var schemaCache: [ObjectIdentifier: (Schema, Schema)] = [:]

    public init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        fields = c.list("fields")
        replaceNullWithDefault = c.bool("replace.null.with.default") ?? true
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        guard let schema = record.valueSchema else {
            let entries = try Requirements.requireMap(record.value, Self.purpose)
            let key = fields.map { f in Value.MapEntry(.string(f), entries.value(forKey: f) ?? nil) }
            return record.newRecord(
                topic: record.topic, kafkaPartition: record.kafkaPartition, keySchema: nil, key: .map(key),
                valueSchema: nil, value: record.value, timestamp: record.timestamp, headers: record.headers)
        }
        let value = try Requirements.requireStruct(record.value, Self.purpose)
        let keySchema: Schema
        if let hit = schemaCache[ObjectIdentifier(schema)] {
            keySchema = hit.1
        } else {
            var b = SchemaBuilder.struct()
            for f in fields {
                guard let field = schema.field(f) else { throw ConnectError.data("Field does not exist: \(f)") }
                b = b.field(f, field.schema)
            }
            keySchema = b.build()
            schemaCache[ObjectIdentifier(schema)] = (schema, keySchema)
        }
        var key = Struct(schema: keySchema)
        for f in fields { try key.put(f, replaceNullWithDefault ? value.get(f) : value.getWithoutDefault(f)) }
        return record.newRecord(
            topic: record.topic, kafkaPartition: record.kafkaPartition, keySchema: keySchema, key: .struct(key),
            valueSchema: schema, value: record.value, timestamp: record.timestamp, headers: record.headers)
    }

    public func close() {}
}

/// `org.apache.kafka.connect.transforms.HoistField$Key` / `$Value`: wraps the key or value in a struct (or map) under
/// one field.
public class HoistField: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }

    public static let configDef = ConfigDef()
        .define(
            "field", .string, default: .required, importance: .medium,
            documentation: "Field name for the single field that will be created in the resulting Struct or Map.")

    private var field = ""
    private var schemaCache: [ObjectIdentifier: (Schema, Schema)] = [:]

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        field = try Self.configDef.parse(configs).string("field") ?? ""
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        let value = record.data(of: part)
        guard let schema = record.schema(of: part) else {
            return record.replacing(part, schema: nil, value: .map([Value.MapEntry(.string(field), value)]))
        }
        let updated: Schema
        if let hit = schemaCache[ObjectIdentifier(schema)] {
            updated = hit.1
        } else {
            updated = SchemaBuilder.struct().field(field, schema).build()
            schemaCache[ObjectIdentifier(schema)] = (schema, updated)
        }
        var s = Struct(schema: updated)
        try s.put(field, value)
        return record.replacing(part, schema: updated, value: .struct(s))
    }

    public func close() {}
}

public final class HoistFieldKey: HoistField {
    override public class var part: RecordPart { .key }
}

public final class HoistFieldValue: HoistField {}

/// `org.apache.kafka.connect.transforms.SetSchemaMetadata$Key` / `$Value`: sets the schema's name and/or version.
public class SetSchemaMetadata: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }

    public static let configDef = ConfigDef()
        .define("schema.name", .string, default: .none, importance: .high, documentation: "Schema name to set.")
        .define("schema.version", .int, default: .none, importance: .high, documentation: "Schema version to set.")
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .medium,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."
        )

    private var name: String?
    private var schemaVersion: Int32?

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        name = c.string("schema.name")
        schemaVersion = c.int("schema.version").map { Int32(truncatingIfNeeded: $0) }
        if name == nil && schemaVersion == nil {
            throw ConnectError.config("Neither schema name nor version configured")
        }
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        let value = record.data(of: part)
        guard let schema = record.schema(of: part) else {
            if value == nil { return record }
            throw ConnectError.data("Schema required for [updating schema metadata]")
        }
        let updated = SchemaBuilder(schema.type).name(name ?? schema.name).version(schemaVersion ?? schema.version)
            .doc(schema.doc).parameters(schema.parameters).optional(schema.isOptional).defaultValue(schema.defaultValue)
            .copyingStructure(of: schema).build()
        return record.replacing(part, schema: updated, value: try rebind(value, to: updated))
    }

    /// A struct value must carry the new schema (`updateSchemaIn`).
    private func rebind(_ value: Value?, to schema: Schema) throws(ConnectError) -> Value? {
        guard case .struct(let old)? = value else { return value }
        var s = Struct(schema: schema)
        for f in schema.fields { try s.put(f.name, old.getWithoutDefault(f.name)) }
        return .struct(s)
    }

    public func close() {}
}

public final class SetSchemaMetadataKey: SetSchemaMetadata {
    override public class var part: RecordPart { .key }
}

public final class SetSchemaMetadataValue: SetSchemaMetadata {}

extension SchemaBuilder {
    /// Copies fields, or array/map element schemas, from `schema`.
    func copyingStructure(of schema: Schema) -> SchemaBuilder {
        switch schema.type {
        case .struct:
            var b = self
            for f in schema.fields { b = b.field(f.name, f.schema) }
            return b
        case .array:
            return schema.valueSchema.map { SchemaBuilder.array($0).copyingBasics(from: self) } ?? self
        case .map:
            if let k = schema.keySchema, let v = schema.valueSchema {
                return SchemaBuilder.map(k, v).copyingBasics(from: self)
            }
            return self
        default:
            return self
        }
    }

    private func copyingBasics(from other: SchemaBuilder) -> SchemaBuilder {
        let built = other.build()
        return name(built.name).version(built.version).doc(built.doc).parameters(built.parameters).optional(
            built.isOptional
        )
        .defaultValue(built.defaultValue)
    }
}
