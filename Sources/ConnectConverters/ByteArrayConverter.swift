import ConnectAPI

/// `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes pass through unchanged.
public final class ByteArrayConverter: Converter, HeaderConverter {
    public static let className = "org.apache.kafka.connect.converters.ByteArrayConverter"
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = ConfigDef()

    public init() {}

    public func configure(_ configs: [String: String], isKey: Bool) throws {}
    public func configure(_ configs: [String: String]) throws {}

    public func fromConnectData(topic: String, headers: Headers, schema: Schema?, value: Value?) throws -> [UInt8]? {
        if let schema, schema.type != .bytes {
            throw ConnectError.data("Invalid schema type for ByteArrayConverter: \(schema.type.rawValue)")
        }
        guard let value else { return nil }
        guard case .bytes(let b) = value else {
            throw ConnectError.data(
                "ByteArrayConverter is not compatible with objects of type class \(value.javaClassName)")
        }
        return b
    }

    public func toConnectData(topic: String, headers: Headers, value: [UInt8]?) throws -> SchemaAndValue {
        SchemaAndValue(schema: Schema.optionalBytes, value: value.map { .bytes($0) })
    }

    public func fromConnectHeader(topic: String, headerKey: String, schema: Schema?, value: Value?) throws -> [UInt8]? {
        try fromConnectData(topic: topic, headers: Headers(), schema: schema, value: value)
    }

    public func toConnectHeader(topic: String, headerKey: String, value: [UInt8]?) throws -> SchemaAndValue {
        try toConnectData(topic: topic, headers: Headers(), value: value)
    }
}
