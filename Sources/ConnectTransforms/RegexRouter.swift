import ConnectAPI

/// `org.apache.kafka.connect.transforms.RegexRouter`: renames the topic when the regex matches it whole.
public final class RegexRouter: Transformation {
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = ConfigDef()
        .define(
            "regex", .string, default: .required, validator: regexValidator, importance: .high,
            documentation: "Regular expression to use for matching."
        )
        .define("replacement", .string, default: .required, importance: .high, documentation: "Replacement string.")

    static let regexValidator = ConfigValidator(describe: "valid regex") { _, v in
        guard case .string(let p)? = v else { return nil }
        do throws(ConnectError) {
            _ = try JavaRegex(p)
            return nil
        } catch {
            return error.message
        }
    }

    private var regex: JavaRegex?
    private var replacement = ""

    public init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        regex = try JavaRegex(c.string("regex") ?? "")
        replacement = c.string("replacement") ?? ""
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        guard let regex, let topic = regex.replacingWholeMatch(record.topic, with: replacement) else { return record }
        return record.withTopic(topic)
    }

    public func close() {}
}
