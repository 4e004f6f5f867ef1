import ConnectAPI

/// `org.apache.kafka.connect.transforms.Filter`: drops every record; used with a predicate.
public final class Filter: Transformation {
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = ConfigDef()

    public init() {}
    public func configure(_ configs: [String: String]) throws {}
    public func apply<R: ConnectRecord>(_ record: R) throws -> R? { nil }
    public func close() {}
}

/// `org.apache.kafka.connect.transforms.InsertHeader`: adds a header whose value is the literal, typed as Connect's
/// `Values.parseString` types it.
public final class InsertHeader: Transformation {
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = ConfigDef()
        .define(
            "header", .string, default: .required, validator: .nonEmptyString, importance: .high,
            documentation: "The name of the header."
        )
        .define(
            "value.literal", .string, default: .required, validator: .nonEmptyString, importance: .high,
            documentation: "The literal value that is to be set as the header value on all records.")

    private var header = ""
    private var literal = SchemaAndValue.null

    public init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        header = c.string("header") ?? ""
        literal = Values.parseString(c.string("value.literal") ?? "")
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        var headers = record.headers
        headers.add(header, schema: literal.schema, value: literal.value)
        return record.withHeaders(headers)
    }

    public func close() {}
}

/// `org.apache.kafka.connect.transforms.DropHeaders`: removes every header with one of the names.
public final class DropHeaders: Transformation {
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = ConfigDef()
        .define(
            "headers", .list, default: .required,
            validator: .nonEmptyList, importance: .high, documentation: "The name of the headers to be removed.")

    private var names: Set<String> = []

    public init() {}

    public func configure(_ configs: [String: String]) throws {
        names = Set(try Self.configDef.parse(configs).list("headers"))
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        var headers = record.headers
        for n in names { headers.remove(n) }
        return record.withHeaders(headers)
    }

    public func close() {}
}
