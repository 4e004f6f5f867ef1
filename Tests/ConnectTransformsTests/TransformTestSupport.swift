import ConnectAPI
import ConnectConverters
import ConnectTransforms
import JSON

/// Writes a key or value as Connect's JSON envelope, so expectations read as Connect's output does.
func connectJSON(_ schema: Schema?, _ value: Value?) -> String {
    let c = JsonConverter()
    try? c.configure(["schemas.enable": "true"], isKey: false)
    return (try? c.toJSON(schema: schema, value: value)).map(JSONWriter.string) ?? "<not convertible>"
}

/// Reads a value from Connect's JSON envelope (to write inputs compactly).
func fromJSON(_ text: String) -> (Schema?, Value?) {
    let c = JsonConverter()
    try? c.configure(["schemas.enable": "true"], isKey: false)
    guard let json = try? JSONParser.parse(text), let sv = try? c.toConnectData(json: json) else { return (nil, nil) }
    return (sv.schema, sv.value)
}

/// Reads a schemaless value from plain JSON.
func plain(_ text: String) -> Value? {
    guard let json = try? JSONParser.parse(text) else { return nil }
    return JsonConverter.inferValue(json)
}

func sourceRecord(
    topic: String = "orders", keySchema: Schema? = nil, key: Value? = nil, valueSchema: Schema? = nil, value: Value?,
    timestamp: Int64? = 1_700_000_000_000, headers: Headers = Headers()
) -> SourceRecord {
    SourceRecord(
        sourcePartition: ["p": .int32(0)], sourceOffset: ["o": .int64(1)], topic: topic, kafkaPartition: 2,
        keySchema: keySchema,
        key: key, valueSchema: valueSchema, value: value, timestamp: timestamp, headers: headers)
}

func sinkRecord(
    topic: String = "orders", keySchema: Schema? = nil, key: Value? = nil, valueSchema: Schema? = nil, value: Value?,
    offset: Int64 = 42, timestamp: Int64? = 1_700_000_000_000, headers: Headers = Headers()
) -> SinkRecord {
    SinkRecord(
        topic: topic, kafkaPartition: 1, keySchema: keySchema, key: key, valueSchema: valueSchema, value: value,
        kafkaOffset: offset, timestamp: timestamp, timestampType: .createTime, headers: headers)
}

func configured<T: Transformation>(_ t: T, _ configs: [String: String]) throws -> T {
    try t.configure(configs)
    return t
}

/// A struct schema and value from field triples.
func makeStruct(_ name: String? = nil, fields: [(String, Schema, Value?)]) throws -> (Schema, Value) {
    var b = SchemaBuilder.struct().name(name)
    for f in fields { b = b.field(f.0, f.1) }
    let schema = b.build()
    var s = Struct(schema: schema)
    for f in fields { try s.put(f.0, f.2) }
    return (schema, .struct(s))
}

/// The datagen `orders` value used across transform tests.
func orderValue() throws -> (Schema, Value) {
    try makeStruct(
        "ksql.orders",
        fields: [
            ("ordertime", Schema.int64, .int64(1_500_000_000_000)), ("orderid", Schema.int32, .int32(7)),
            ("itemid", Schema.string, .string("Item_1")), ("orderunits", Schema.float64, .float64(4.75)),
        ])
}

func configured<P: ConnectAPI.Predicate>(_ p: P, _ configs: [String: String]) throws -> P {
    try p.configure(configs)
    return p
}
