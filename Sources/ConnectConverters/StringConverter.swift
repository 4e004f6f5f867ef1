import ConnectAPI

/// `org.apache.kafka.connect.storage.StringConverter`: values as UTF-8 text (`toString()` of the value).
public final class StringConverter: Converter, HeaderConverter {
    public static let className = "org.apache.kafka.connect.storage.StringConverter"
    public static var version: String? { ConnectVersion.kafka }

    public static let configDef = ConfigDef()
        .define(
            "converter.encoding", .string, default: "UTF8", importance: .high,
            documentation: "The name of the Java character set to use for encoding strings as byte arrays.",
            group: "Converter", orderInGroup: 0, width: .medium, displayName: "Encoding")

    public init() {}

    public func configure(_ configs: [String: String], isKey: Bool) throws {
        let encoding =
            (configs["converter.encoding"] ?? configs[isKey ? "key.converter.encoding" : "value.converter.encoding"]
            ?? "UTF8")
            .uppercased().replacingOccurrences("-", "")
        guard encoding == "UTF8" else {
            throw ConnectError.invalidConfig("converter.encoding", encoding, "Only UTF8 is supported")
        }
    }

    public func configure(_ configs: [String: String]) throws { try configure(configs, isKey: false) }

    public func fromConnectData(topic: String, headers: Headers, schema: Schema?, value: Value?) throws -> [UInt8]? {
        value.map { Array(ValueFormatter.string($0).utf8) }
    }

    public func toConnectData(topic: String, headers: Headers, value: [UInt8]?) throws -> SchemaAndValue {
        SchemaAndValue(schema: Schema.optionalString, value: value.map { .string(String(decoding: $0, as: UTF8.self)) })
    }

    public func fromConnectHeader(topic: String, headerKey: String, schema: Schema?, value: Value?) throws -> [UInt8]? {
        try fromConnectData(topic: topic, headers: Headers(), schema: schema, value: value)
    }

    public func toConnectHeader(topic: String, headerKey: String, value: [UInt8]?) throws -> SchemaAndValue {
        try toConnectData(topic: topic, headers: Headers(), value: value)
    }
}

extension String {
    func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
