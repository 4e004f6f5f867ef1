/// Connect's schema types (`Schema.Type`), named as Connect's JSON envelope names them where they differ.
public enum SchemaType: String, Sendable, CaseIterable {
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case float32 = "FLOAT32", float64 = "FLOAT64", boolean = "BOOLEAN", string = "STRING", bytes = "BYTES"
    case array = "ARRAY", map = "MAP", `struct` = "STRUCT"

    public var isPrimitive: Bool {
        switch self {
        case .array, .map, .struct: return false
        default: return true
        }
    }

    /// The lower-case name used by Connect in JSON schemas and in SMT specs (`float32` here, `float` in JSON).
    public var lowercaseName: String { rawValue.lowercased() }
}

/// A field of a struct schema.
public struct Field: Sendable, Equatable {
    public let name: String
    public let index: Int
    public let schema: Schema

    public init(name: String, index: Int, schema: Schema) {
        self.name = name
        self.index = index
        self.schema = schema
    }
}

/// An immutable Connect schema, shared by reference. Build with `SchemaBuilder`.
public final class Schema: Sendable, Equatable, CustomStringConvertible {
    public let type: SchemaType
    public let isOptional: Bool
    public let defaultValue: Value?
    public let name: String?
    public let version: Int32?
    public let doc: String?
    public let parameters: [(key: String, value: String)]?
    public let keySchema: Schema?
    public let valueSchema: Schema?
    public let fields: [Field]
    private let fieldIndex: [String: Int]
    /// Whether the name is one of Connect's logical types (Decimal, Date, Time, Timestamp), decided once.
    let isLogicalType: Bool

    init(
        type: SchemaType, isOptional: Bool, defaultValue: Value?, name: String?, version: Int32?, doc: String?,
        parameters: [(key: String, value: String)]?, keySchema: Schema?, valueSchema: Schema?, fields: [Field]
    ) {
        self.type = type
        self.isOptional = isOptional
        self.defaultValue = defaultValue
        self.name = name
        self.version = version
        self.doc = doc
        self.parameters = parameters
        self.keySchema = keySchema
        self.valueSchema = valueSchema
        self.fields = fields
        isLogicalType = name.map(LogicalTypes.isLogicalName) ?? false
        var index: [String: Int] = [:]
        for f in fields { index[f.name] = f.index }
        self.fieldIndex = index
    }

    public func field(_ name: String) -> Field? {
        fieldIndex[name].map { fields[$0] }
    }

    /// This schema's field of the same name as `other`, found by `other`'s index when this schema has the same
    /// field there (a schema derived field by field from `other`'s), else by name.
    public func field(matching other: Field) -> Field? {
        if other.index < fields.count, fields[other.index].name == other.name { return fields[other.index] }
        return field(other.name)
    }

    public func parameter(_ key: String) -> String? {
        parameters?.first(where: { $0.key == key })?.value
    }

    public static func == (lhs: Schema, rhs: Schema) -> Bool {
        if lhs === rhs { return true }
        let paramsEqual: Bool
        switch (lhs.parameters, rhs.parameters) {
        case (nil, nil): paramsEqual = true
        case (let a?, let b?):
            paramsEqual = a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: paramsEqual = false
        }
        return lhs.type == rhs.type && lhs.isOptional == rhs.isOptional && lhs.defaultValue == rhs.defaultValue
            && lhs.name == rhs.name && lhs.version == rhs.version && lhs.doc == rhs.doc && paramsEqual
            && lhs.keySchema == rhs.keySchema && lhs.valueSchema == rhs.valueSchema && lhs.fields == rhs.fields
    }

    public var description: String {
        "Schema{\(name.map { $0 + ":" } ?? "")\(type.rawValue)}"
    }

    // The standard schemas, as Connect's `Schema.INT32_SCHEMA`, `Schema.OPTIONAL_STRING_SCHEMA`, ...
    public static let int8 = SchemaBuilder(.int8).build()
    public static let int16 = SchemaBuilder(.int16).build()
    public static let int32 = SchemaBuilder(.int32).build()
    public static let int64 = SchemaBuilder(.int64).build()
    public static let float32 = SchemaBuilder(.float32).build()
    public static let float64 = SchemaBuilder(.float64).build()
    public static let boolean = SchemaBuilder(.boolean).build()
    public static let string = SchemaBuilder(.string).build()
    public static let bytes = SchemaBuilder(.bytes).build()
    public static let optionalInt8 = SchemaBuilder(.int8).optional().build()
    public static let optionalInt16 = SchemaBuilder(.int16).optional().build()
    public static let optionalInt32 = SchemaBuilder(.int32).optional().build()
    public static let optionalInt64 = SchemaBuilder(.int64).optional().build()
    public static let optionalFloat32 = SchemaBuilder(.float32).optional().build()
    public static let optionalFloat64 = SchemaBuilder(.float64).optional().build()
    public static let optionalBoolean = SchemaBuilder(.boolean).optional().build()
    public static let optionalString = SchemaBuilder(.string).optional().build()
    public static let optionalBytes = SchemaBuilder(.bytes).optional().build()

    public static func primitive(_ type: SchemaType, optional: Bool) -> Schema {
        switch (type, optional) {
        case (.int8, false): return int8
        case (.int16, false): return int16
        case (.int32, false): return int32
        case (.int64, false): return int64
        case (.float32, false): return float32
        case (.float64, false): return float64
        case (.boolean, false): return boolean
        case (.string, false): return string
        case (.bytes, false): return bytes
        case (.int8, true): return optionalInt8
        case (.int16, true): return optionalInt16
        case (.int32, true): return optionalInt32
        case (.int64, true): return optionalInt64
        case (.float32, true): return optionalFloat32
        case (.float64, true): return optionalFloat64
        case (.boolean, true): return optionalBoolean
        case (.string, true): return optionalString
        case (.bytes, true): return optionalBytes
        default: return SchemaBuilder(type).optional(optional).build()
        }
    }
}

/// Builds a `Schema`, as Connect's `SchemaBuilder` does.
public struct SchemaBuilder: Sendable {
    private var type: SchemaType
    private var isOptional = false
    private var defaultValue: Value?
    private var name: String?
    private var version: Int32?
    private var doc: String?
    private var parameters: [(key: String, value: String)]?
    private var keySchema: Schema?
    private var valueSchema: Schema?
    private var fields: [Field] = []

    public init(_ type: SchemaType) { self.type = type }

    public static func `struct`() -> SchemaBuilder { SchemaBuilder(.struct) }
    public static func array(_ items: Schema) -> SchemaBuilder {
        var b = SchemaBuilder(.array)
        b.valueSchema = items
        return b
    }
    public static func map(_ keys: Schema, _ values: Schema) -> SchemaBuilder {
        var b = SchemaBuilder(.map)
        b.keySchema = keys
        b.valueSchema = values
        return b
    }

    public func optional(_ optional: Bool = true) -> SchemaBuilder {
        var b = self
        b.isOptional = optional
        return b
    }
    public func required() -> SchemaBuilder { optional(false) }
    public func defaultValue(_ value: Value?) -> SchemaBuilder {
        var b = self
        b.defaultValue = value
        return b
    }
    public func name(_ name: String?) -> SchemaBuilder {
        var b = self
        b.name = name
        return b
    }
    public func version(_ version: Int32?) -> SchemaBuilder {
        var b = self
        b.version = version
        return b
    }
    public func doc(_ doc: String?) -> SchemaBuilder {
        var b = self
        b.doc = doc
        return b
    }
    public func parameter(_ key: String, _ value: String) -> SchemaBuilder {
        var b = self
        var params = b.parameters ?? []
        params.removeAll { $0.key == key }
        params.append((key, value))
        b.parameters = params
        return b
    }
    public func parameters(_ params: [(key: String, value: String)]?) -> SchemaBuilder {
        var b = self
        b.parameters = params
        return b
    }
    /// Adds a field; a field of the same name is replaced (the new one comes last). A field's index is its position
    /// (a `Struct` keeps values by index), so the fields after a replaced one move up.
    public func field(_ name: String, _ schema: Schema) -> SchemaBuilder {
        var b = self
        if b.fields.contains(where: { $0.name == name }) {
            b.fields = b.fields.filter { $0.name != name }.enumerated().map {
                Field(name: $0.element.name, index: $0.offset, schema: $0.element.schema)
            }
        }
        b.fields.append(Field(name: name, index: b.fields.count, schema: schema))
        return b
    }

    public func build() -> Schema {
        Schema(
            type: type, isOptional: isOptional, defaultValue: defaultValue, name: name, version: version, doc: doc,
            parameters: parameters, keySchema: keySchema, valueSchema: valueSchema, fields: fields)
    }
}

/// A schema and a value, as converters return them.
public struct SchemaAndValue: Sendable, Equatable {
    public var schema: Schema?
    public var value: Value?

    public init(schema: Schema?, value: Value?) {
        self.schema = schema
        self.value = value
    }

    public static let null = SchemaAndValue(schema: nil, value: nil)
}
