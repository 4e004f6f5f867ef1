import ConnectAPI

/// Which part of a record a `$Key` / `$Value` transform works on.
public enum RecordPart: Sendable {
    case key, value

    var name: String { self == .key ? "key" : "value" }
}

extension ConnectRecord {
    func schema(of part: RecordPart) -> Schema? { part == .key ? keySchema : valueSchema }
    func data(of part: RecordPart) -> Value? { part == .key ? key : value }

    /// A copy with the key or value (and its schema) replaced.
    func replacing(_ part: RecordPart, schema: Schema?, value: Value?) -> Self {
        part == .key
            ? newRecord(
                topic: topic, kafkaPartition: kafkaPartition, keySchema: schema, key: value, valueSchema: valueSchema,
                value: self.value, timestamp: timestamp, headers: headers)
            : newRecord(
                topic: topic, kafkaPartition: kafkaPartition, keySchema: keySchema, key: key, valueSchema: schema,
                value: value, timestamp: timestamp, headers: headers)
    }

    func withTopic(_ newTopic: String) -> Self {
        newRecord(
            topic: newTopic, kafkaPartition: kafkaPartition, keySchema: keySchema, key: key, valueSchema: valueSchema,
            value: value, timestamp: timestamp, headers: headers)
    }

    func withHeaders(_ newHeaders: Headers) -> Self {
        newRecord(
            topic: topic, kafkaPartition: kafkaPartition, keySchema: keySchema, key: key, valueSchema: valueSchema,
            value: value, timestamp: timestamp, headers: newHeaders)
    }
}

/// Connect's `Requirements`: the checks transforms make on their input, with Connect's wording.
enum Requirements {
    static func requireStruct(_ value: Value?, _ purpose: String) throws(ConnectError) -> Struct {
        guard case .struct(let s)? = value else {
            throw ConnectError.data(
                "Only Struct objects supported for [\(purpose)], found: \(value?.javaClassName ?? "null")")
        }
        return s
    }

    static func requireStructOrNull(_ value: Value?, _ purpose: String) throws(ConnectError) -> Struct? {
        guard let value else { return nil }
        return try requireStruct(value, purpose)
    }

    static func requireMap(_ value: Value?, _ purpose: String) throws(ConnectError) -> [Value.MapEntry] {
        guard case .map(let entries)? = value else {
            throw ConnectError.data(
                "Only Map objects supported in absence of schema for [\(purpose)], found: \(value?.javaClassName ?? "null")"
            )
        }
        return entries
    }

    static func requireMapOrNull(_ value: Value?, _ purpose: String) throws(ConnectError) -> [Value.MapEntry]? {
        guard let value else { return nil }
        return try requireMap(value, purpose)
    }

    static func requireSchema(_ schema: Schema?, _ purpose: String) throws(ConnectError) -> Schema {
        guard let schema else { throw ConnectError.data("Schema required for [\(purpose)]") }
        return schema
    }
}

/// A schema builder that copies a schema's name, version, doc and parameters (`SchemaUtil.copySchemaBasics`).
func copySchemaBasics(_ source: Schema, _ builder: SchemaBuilder) -> SchemaBuilder {
    builder.name(source.name).version(source.version).doc(source.doc).parameters(source.parameters)
}

extension Array where Element == Value.MapEntry {
    /// The value under a string key.
    func value(forKey key: String) -> Value?? {
        guard let e = first(where: { $0.key == .string(key) }) else { return nil }
        return .some(e.value)
    }
}
