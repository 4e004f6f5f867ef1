import ConnectAPI

/// `org.apache.kafka.connect.transforms.predicates.TopicNameMatches`: true when the topic matches the regex whole.
public final class TopicNameMatches: Predicate {
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = ConfigDef()
        .define(
            "pattern", .string, default: .required,
            validator: ConfigValidator(describe: "non-empty valid regex") { name, v in
                if case .string(let s)? = v, s.isEmpty { return "String must be non-empty" }
                return RegexRouter.regexValidator.check(name, v)
            }, importance: .medium,
            documentation: "A Java regular expression for matching against the name of a record's topic.")

    private var regex: JavaRegex?

    public init() {}

    public func configure(_ configs: [String: String]) throws {
        regex = try JavaRegex(try Self.configDef.parse(configs).string("pattern") ?? "")
    }

    public func test<R: ConnectRecord>(_ record: R) throws -> Bool { regex?.matches(record.topic) ?? false }

    public func close() {}
}

/// `org.apache.kafka.connect.transforms.predicates.HasHeaderKey`: true when a header with the name exists.
public final class HasHeaderKey: Predicate {
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = ConfigDef()
        .define(
            "name", .string, default: .required, validator: .nonEmptyString, importance: .medium,
            documentation: "The header name.")

    private var name = ""

    public init() {}

    public func configure(_ configs: [String: String]) throws {
        name = try Self.configDef.parse(configs).string("name") ?? ""
    }

    public func test<R: ConnectRecord>(_ record: R) throws -> Bool { record.headers.contains { $0.key == name } }

    public func close() {}
}

/// `org.apache.kafka.connect.transforms.predicates.RecordIsTombstone`: true when the value is null.
public final class RecordIsTombstone: Predicate {
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = ConfigDef()

    public init() {}

    public func configure(_ configs: [String: String]) throws {}

    public func test<R: ConnectRecord>(_ record: R) throws -> Bool { record.value == nil }

    public func close() {}
}
