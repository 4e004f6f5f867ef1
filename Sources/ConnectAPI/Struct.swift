/// A structured record value with a `STRUCT` schema, as Connect's `Struct`.
public struct Struct: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let schema: Schema
    private var values: [Value?]

    public init(schema: Schema) {
        precondition(schema.type == .struct, "Struct requires a STRUCT schema")
        self.schema = schema
        // Filled in place: `Array(repeating:count:)` of an optional enum costs several times more per record.
        let count = schema.fields.count
        self.values = [Value?](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { (buffer.baseAddress! + i).initialize(to: nil) }
            initialized = count
        }
    }

    /// Sets a field, checking the value against the field's schema.
    public mutating func put(_ fieldName: String, _ value: Value?) throws(ConnectError) {
        guard let field = schema.field(fieldName) else {
            throw ConnectError.data("\(fieldName) is not a valid field name")
        }
        try ConnectSchema.validateValue(field: field.name, schema: field.schema, value: value)
        values[field.index] = value
    }

    /// Sets one of this struct's schema's fields, checking the value against the field's schema (`put(Field,
    /// Object)`).
    public mutating func put(_ field: Field, _ value: Value?) throws(ConnectError) {
        guard owns(field) else { throw ConnectError.data("\(field.name) is not a valid field name") }
        try ConnectSchema.validateValue(field: field.name, schema: field.schema, value: value)
        values[field.index] = value
    }

    /// The field's value, or its default when unset.
    public func get(_ fieldName: String) -> Value? {
        guard let field = schema.field(fieldName) else { return nil }
        return get(field)
    }

    public func get(_ field: Field) -> Value? {
        guard owns(field) else { return nil }
        return values[field.index] ?? field.schema.defaultValue
    }

    /// Whether the field is this struct's schema's field at its index (a field of another schema is not).
    private func owns(_ field: Field) -> Bool {
        field.index >= 0 && field.index < values.count && schema.fields[field.index].name == field.name
    }

    /// The field's value without default substitution (`getWithoutDefault`).
    public func getWithoutDefault(_ fieldName: String) -> Value? {
        schema.field(fieldName).flatMap { values[$0.index] }
    }

    /// The value of one of this struct's schema's fields, without default substitution.
    public func getWithoutDefault(_ field: Field) -> Value? {
        owns(field) ? values[field.index] : nil
    }

    /// Checks that every required field is set, as Connect's `Struct.validate()`.
    public func validate() throws(ConnectError) {
        for field in schema.fields {
            try ConnectSchema.validateValue(field: field.name, schema: field.schema, value: get(field))
        }
    }

    public static func == (lhs: Struct, rhs: Struct) -> Bool {
        lhs.schema == rhs.schema && lhs.values == rhs.values
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(schema.fields.map(\.name))
        hasher.combine(values)
    }

    public var description: String {
        var out = ""
        write(into: &out)
        return out
    }

    /// Appends `description` as UTF-8.
    func write(into out: inout [UInt8]) {
        ValueFormatter.append("Struct{", to: &out)
        var first = true
        for field in schema.fields {
            guard let value = values[field.index] else { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: field.name.utf8)
            out.append(UInt8(ascii: "="))
            ValueFormatter.write(value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends `description`: as Java's `Struct.toString`, unset fields are skipped and defaults not substituted.
    func write(into out: inout String) {
        out += "Struct{"
        var first = true
        for field in schema.fields {
            guard let value = values[field.index] else { continue }
            if !first { out += "," }
            first = false
            out += field.name
            out += "="
            ValueFormatter.write(value, into: &out)
        }
        out += "}"
    }
}

/// Schema validation, as Connect's `ConnectSchema.validateValue`.
public enum ConnectSchema {
    public static func validateValue(field: String? = nil, schema: Schema, value: Value?) throws(ConnectError) {
        guard let value else {
            if schema.isOptional || schema.defaultValue != nil { return }
            if let field {
                throw ConnectError.data(
                    "Invalid value: null used for required field: \"\(field)\", schema type: \(schema.type.rawValue)")
            }
            throw ConnectError.data("Invalid value: null used for required field, schema type: \(schema.type.rawValue)")
        }
        let ok: Bool
        switch (schema.type, value) {
        case (.int8, .int8), (.int16, .int16), (.int64, .int64), (.float32, .float32), (.float64, .float64),
            (.boolean, .boolean), (.string, .string):
            ok = true
        case (.int32, .int32): ok = schema.name != LogicalTypes.dateName && schema.name != LogicalTypes.timeName
        case (.int32, .timestamp): ok = schema.name == LogicalTypes.dateName || schema.name == LogicalTypes.timeName
        case (.int64, .timestamp): ok = schema.name == LogicalTypes.timestampName
        case (.bytes, .bytes): ok = schema.name != LogicalTypes.decimalName
        case (.bytes, .decimal): ok = schema.name == LogicalTypes.decimalName
        case (.array, .array(let items)):
            if let itemSchema = schema.valueSchema {
                for item in items { try validateValue(field: field, schema: itemSchema, value: item) }
            }
            ok = true
        case (.map, .map(let entries)):
            for e in entries {
                if let ks = schema.keySchema { try validateValue(field: field, schema: ks, value: e.key) }
                if let vs = schema.valueSchema { try validateValue(field: field, schema: vs, value: e.value) }
            }
            ok = true
        case (.struct, .struct(let s)):
            ok = s.schema == schema
            if !ok {
                throw ConnectError.data("Struct schemas do not match.")
            }
        default: ok = false
        }
        if !ok {
            let where_ = field.map { " for field: \"\($0)\"" } ?? ""
            throw ConnectError.data(
                "Invalid Java object for schema \"\(schema.name ?? schema.type.rawValue)\" with type \(schema.type.rawValue): class \(value.javaClassName)\(where_)"
            )
        }
    }
}

/// Connect's logical types: names, schemas and conversions.
public enum LogicalTypes {
    public static let decimalName = "org.apache.kafka.connect.data.Decimal"
    public static let dateName = "org.apache.kafka.connect.data.Date"
    public static let timeName = "org.apache.kafka.connect.data.Time"
    public static let timestampName = "org.apache.kafka.connect.data.Timestamp"
    public static let scaleParameter = "scale"

    public static func decimal(scale: Int32, optional: Bool = false) -> Schema {
        SchemaBuilder(.bytes).name(decimalName).version(1).parameter(scaleParameter, String(scale)).optional(optional)
            .build()
    }
    public static func date(optional: Bool = false) -> Schema {
        SchemaBuilder(.int32).name(dateName).version(1).optional(optional).build()
    }
    public static func time(optional: Bool = false) -> Schema {
        SchemaBuilder(.int32).name(timeName).version(1).optional(optional).build()
    }
    public static func timestamp(optional: Bool = false) -> Schema {
        SchemaBuilder(.int64).name(timestampName).version(1).optional(optional).build()
    }

    static let millisPerDay: Int64 = 86_400_000

    /// Whether the schema is one of Connect's logical types (Decimal, Date, Time, Timestamp), which converters
    /// write through their base type.
    public static func isLogical(_ schema: Schema?) -> Bool { schema?.isLogicalType ?? false }

    static func isLogicalName(_ name: String) -> Bool {
        name == decimalName || name == dateName || name == timeName || name == timestampName
    }

    /// The serialized form of a logical value (`Date.fromLogical`, ...), or nil when the schema is not logical.
    public static func fromLogical(_ schema: Schema, _ value: Value) throws(ConnectError) -> Value? {
        switch (schema.name, value) {
        case (decimalName?, .decimal(let d)):
            let scale = Int32(schema.parameter(scaleParameter) ?? "") ?? 0
            guard d.scale == scale else {
                throw ConnectError.data("BigDecimal has mismatching scale value for given Decimal schema")
            }
            return .bytes(d.unscaled)
        case (dateName?, .timestamp(let ms)):
            guard ms % millisPerDay == 0 else {
                throw ConnectError.data(
                    "Kafka Connect Date type should not have any time fields set to non-zero values.")
            }
            return .int32(Int32(ms / millisPerDay))
        case (timeName?, .timestamp(let ms)):
            guard ms >= 0 && ms < millisPerDay else {
                throw ConnectError.data(
                    "Kafka Connect Time type should not have any date fields set to non-zero values.")
            }
            return .int32(Int32(ms))
        case (timestampName?, .timestamp(let ms)):
            return .int64(ms)
        default:
            return nil
        }
    }

    /// The logical value for a serialized one (`Date.toLogical`, ...), or nil when the schema is not logical.
    public static func toLogical(_ schema: Schema, _ value: Value) -> Value? {
        switch (schema.name, value) {
        case (decimalName?, .bytes(let b)):
            return .decimal(BigDecimal(unscaled: b, scale: Int32(schema.parameter(scaleParameter) ?? "") ?? 0))
        case (dateName?, .int32(let days)): return .timestamp(Int64(days) * millisPerDay)
        case (timeName?, .int32(let ms)): return .timestamp(Int64(ms))
        case (timestampName?, .int64(let ms)): return .timestamp(ms)
        default: return nil
        }
    }
}
