import ConnectAPI

/// `org.apache.kafka.connect.transforms.HeaderFrom$Key` / `$Value`: copies or moves fields into headers (the header
/// keeps the field's schema).
public class HeaderFrom: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }
    static let purpose = "header `from` transformation"

    public static let configDef = ConfigDef()
        .define(
            "fields", .list, default: .required, importance: .high,
            documentation: "Field names in the record whose values are to be copied or moved to headers."
        )
        .define(
            "headers", .list, default: .required, importance: .high,
            documentation:
                "Header names, in the same order as the field names listed in the fields configuration property."
        )
        .define(
            "operation", .string, default: .required, validator: .oneOf(["move", "copy"]), importance: .high,
            documentation:
                "Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value)."
        )
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .medium,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."
        )

    private var pairs: [(field: String, header: String)] = []
    private var move = false
    private var replaceNullWithDefault = true

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        let fields = c.list("fields")
        let headers = c.list("headers")
        guard fields.count == headers.count else {
            throw ConnectError.invalidConfig(
                "fields", fields.joined(separator: ","),
                "'fields' config must have the same number of elements as 'headers' config.")
        }
        pairs = Array(zip(fields, headers))
        move = c.string("operation") == "move"
        replaceNullWithDefault = c.bool("replace.null.with.default") ?? true
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        var headers = record.headers
        let moved = Set(pairs.map(\.field))
        guard let schema = record.schema(of: part) else {
            guard let entries = try Requirements.requireMapOrNull(record.data(of: part), Self.purpose) else {
                return record
            }
            for (f, h) in pairs { headers.add(h, schema: nil, value: entries.value(forKey: f) ?? nil) }
            let kept = move ? entries.filter { !($0.key.flatMap(\.stringValue).map(moved.contains) ?? false) } : entries
            return record.replacing(part, schema: nil, value: .map(kept)).withHeaders(headers)
        }
        guard let s = try Requirements.requireStructOrNull(record.data(of: part), Self.purpose) else { return record }
        for (f, h) in pairs {
            guard let field = schema.field(f) else { throw ConnectError.data("\(f) is not a valid field name") }
            headers.add(h, schema: field.schema, value: replaceNullWithDefault ? s.get(field) : s.getWithoutDefault(f))
        }
        guard move else { return record.withHeaders(headers) }
        var b = copySchemaBasics(schema, SchemaBuilder.struct()).optional(schema.isOptional)
        for field in schema.fields where !moved.contains(field.name) { b = b.field(field.name, field.schema) }
        let updated = b.build()
        var out = Struct(schema: updated)
        for field in updated.fields { try out.put(field.name, s.getWithoutDefault(field.name)) }
        return record.replacing(part, schema: updated, value: .struct(out)).withHeaders(headers)
    }

    public func close() {}
}

public final class HeaderFromKey: HeaderFrom {
    override public class var part: RecordPart { .key }
}

public final class HeaderFromValue: HeaderFrom {}
