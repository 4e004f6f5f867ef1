import ConnectAPI

/// `org.apache.kafka.connect.transforms.MaskField$Key` / `$Value`: replaces fields with their type's empty value
/// (`false`, `0`, `""`, empty list or map, the epoch), or with a replacement for numeric and string fields.
public class MaskField: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }
    static let purpose = "mask fields"

    public static let configDef = ConfigDef()
        .define(
            "fields", .list, default: .required,
            validator: .nonEmptyList, importance: .high, documentation: "Names of fields to mask."
        )
        .define(
            "replacement", .string, default: .none, validator: .nonEmptyString, importance: .low,
            documentation:
                "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."
        )
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .medium,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."
        )

    private var fields: Set<String> = []
    private var replacement: String?
    private var replaceNullWithDefault = true

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        fields = Set(c.list("fields"))
        replacement = c.string("replacement")
        replaceNullWithDefault = c.bool("replace.null.with.default") ?? true
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        guard let value = record.data(of: part) else { return record }
        guard let schema = record.schema(of: part) else {
            var entries = try Requirements.requireMap(value, Self.purpose)
            for i in entries.indices {
                guard case .string(let name)? = entries[i].key, fields.contains(name), let v = entries[i].value else {
                    continue
                }
                entries[i].value = try masked(v)
            }
            return record.replacing(part, schema: nil, value: .map(entries))
        }
        let input = try Requirements.requireStruct(value, Self.purpose)
        var out = Struct(schema: schema)
        for field in schema.fields {
            let v = replaceNullWithDefault ? input.get(field) : input.getWithoutDefault(field.name)
            try out.put(
                field.name, fields.contains(field.name) ? try v.map { v throws(ConnectError) in try masked(v) } : v)
        }
        for f in fields where schema.field(f) == nil {
            throw ConnectError.data("\(f) is not a valid field name")
        }
        return record.replacing(part, schema: schema, value: .struct(out))
    }

    private func masked(_ value: Value) throws(ConnectError) -> Value {
        guard let replacement else { return Self.emptyValue(like: value) }
        func number<T>(_ make: (String) -> T?) throws(ConnectError) -> T {
            guard let n = make(replacement) else {
                throw ConnectError.data("Unable to convert \(replacement) (class java.lang.String) to number")
            }
            return n
        }
        switch value {
        case .string: return .string(replacement)
        case .int8: return .int8(try number { Int8($0) })
        case .int16: return .int16(try number { Int16($0) })
        case .int32: return .int32(try number { Int32($0) })
        case .int64: return .int64(try number { Int64($0) })
        case .float32: return .float32(try number { Float($0) })
        case .float64: return .float64(try number { Double($0) })
        case .decimal(let d):
            let parsed = try number { BigDecimal($0) }
            return .decimal(
                BigDecimal(
                    unscaledValue: parsed.unscaledInt64 ?? 0, scale: parsed.scale == d.scale ? d.scale : parsed.scale))
        default:
            throw ConnectError.data("Cannot mask value of type class \(value.javaClassName) with custom replacement.")
        }
    }

    static func emptyValue(like value: Value) -> Value {
        switch value {
        case .boolean: return .boolean(false)
        case .int8: return .int8(0)
        case .int16: return .int16(0)
        case .int32: return .int32(0)
        case .int64: return .int64(0)
        case .float32: return .float32(0)
        case .float64: return .float64(0)
        case .string: return .string("")
        case .bytes: return .bytes([])
        case .array: return .array([])
        case .map: return .map([])
        case .decimal(let d): return .decimal(BigDecimal(unscaledValue: 0, scale: d.scale))
        case .timestamp: return .timestamp(0)
        case .struct: return value
        }
    }

    public func close() {}
}

public final class MaskFieldKey: MaskField {
    override public class var part: RecordPart { .key }
}

public final class MaskFieldValue: MaskField {}
