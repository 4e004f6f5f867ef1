import ConnectAPI
import JSON

/// The index mapping a record schema gives when `schema.ignore` is false (Confluent's `Mapping.inferMapping`):
/// `boolean`, `byte`, `short`, `integer`, `long`, `float`, `double`, `text` with a `keyword` sub-field (up to 256
/// characters), `binary`; Date, Time and Timestamp `date`, Decimal `double`; structs and maps as `properties`,
/// arrays as their element. A default value becomes `null_value` (not for text and binary).
enum Mapping {
    /// `{"properties": {...}}` for a struct schema.
    /// - Throws: DataException without a schema, ConnectException for a type with no mapping.
    static func infer(_ schema: Schema?) throws(ConnectError) -> JSONValue {
        guard let schema else { throw ConnectError(.data, "Cannot infer mapping without schema.") }
        switch schema.name {
        case LogicalTypes.dateName, LogicalTypes.timeName, LogicalTypes.timestampName:
            return primitive("date", schema.defaultValue)
        case LogicalTypes.decimalName:
            return primitive("double", schema.defaultValue.map { DataConverter.double($0) })
        default: break
        }
        switch schema.type {
        case .array: return try infer(schema.valueSchema)
        case .map:
            return .object(
                JSONObject([
                    (
                        "properties",
                        .object(
                            JSONObject([("key", try infer(schema.keySchema)), ("value", try infer(schema.valueSchema))])
                        )
                    )
                ]))
        case .struct:
            var fields: [(String, JSONValue)] = []
            for f in schema.fields { fields.append((f.name, try infer(f.schema))) }
            return .object(JSONObject([("properties", .object(JSONObject(fields)))]))
        case .boolean: return primitive("boolean", schema.defaultValue)
        case .int8: return primitive("byte", schema.defaultValue)
        case .int16: return primitive("short", schema.defaultValue)
        case .int32: return primitive("integer", schema.defaultValue)
        case .int64: return primitive("long", schema.defaultValue)
        case .float32: return primitive("float", schema.defaultValue)
        case .float64: return primitive("double", schema.defaultValue)
        case .string: return primitive("text", nil)
        case .bytes: return primitive("binary", nil)
        }
    }

    private static func primitive(_ type: String, _ defaultValue: Value?) -> JSONValue {
        var entries: [(String, JSONValue)] = [("type", .string(type))]
        if type == "text" {
            entries.append(
                ("fields", ["keyword": ["type": "keyword", "ignore_above": 256]]))
        }
        if let d = defaultValue, let v = json(d) { entries.append(("null_value", v)) }
        return .object(JSONObject(entries))
    }

    private static func json(_ value: Value) -> JSONValue? {
        switch value {
        case .boolean(let b): return .bool(b)
        case .int8(let v): return .int(Int64(v))
        case .int16(let v): return .int(Int64(v))
        case .int32(let v): return .int(Int64(v))
        case .int64(let v): return .int(v)
        case .float32(let v): return .double(Double(v))
        case .float64(let v): return .double(v)
        case .timestamp(let ms): return .int(ms)
        default: return nil
        }
    }
}
