import ConnectAPI
import Foundation
import JSON

/// `org.apache.kafka.connect.json.JsonConverter`: Connect data as JSON, optionally in the
/// `{"schema": ..., "payload": ...}` envelope, byte-compatible with Apache Kafka's converter.
public final class JsonConverter: Converter, HeaderConverter {
    public static let className = "org.apache.kafka.connect.json.JsonConverter"
    public static let envelopeMessage =
        "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration."

    public enum DecimalFormat: String, Sendable { case base64 = "BASE64", numeric = "NUMERIC" }

    public private(set) var schemasEnabled = true
    public private(set) var decimalFormat = DecimalFormat.base64
    public private(set) var replaceNullWithDefault = true
    private var schemaCacheSize = 1000
    /// Rendered JSON schemas by schema instance (schemas are immutable and usually shared by all records of a task);
    /// the schema is kept so its identifier stays valid.
    private var schemaCache: [ObjectIdentifier: (schema: Schema, bytes: [UInt8])] = [:]
    /// Each struct schema's field keys as written before their values (`"name":`, after a `,` from the second on).
    private var fieldKeyCache: [ObjectIdentifier: (schema: Schema, keys: [[UInt8]])] = [:]
    /// The size of the last record written, reserved for the next (records of a task are usually alike).
    private var lastEncodedSize = 256
    /// Recently read JSON schemas and the Connect schemas built from them, most recent first: the records of a topic
    /// usually share one schema, so reading it is a comparison instead of a rebuild.
    private var readSchemaCache: [(json: JSONValue, schema: Schema?)] = []
    /// The bytes of recently read envelope schemas, most recent first, with their Connect schema.
    private var readSchemaBytes: [(bytes: [UInt8], schema: Schema?)] = []

    public init() {}

    public static var version: String? { ConnectVersion.kafka }

    public static let configDef = ConfigDef()
        .define(
            "schemas.enable", .boolean, default: true, importance: .high,
            documentation: "Include schemas within each of the serialized values and keys.", group: "Schemas",
            orderInGroup: 0, width: .medium, displayName: "Enable Schemas"
        )
        .define(
            "schemas.cache.size", .int, default: 1000, importance: .high,
            documentation: "The maximum number of schemas that can be cached in this converter instance.",
            group: "Schemas", orderInGroup: 1, width: .medium, displayName: "Schema Cache Size"
        )
        .define(
            "decimal.format", .string, default: "BASE64",
            validator: .oneOf(["BASE64", "NUMERIC"], caseInsensitive: true),
            importance: .low,
            documentation:
                "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
            group: "Serialization", orderInGroup: 0, width: .medium, displayName: "Decimal Format"
        )
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .low,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
            group: "Serialization", orderInGroup: 1, width: .medium, displayName: "Replace null with default")

    public func configure(_ configs: [String: String], isKey: Bool) throws {
        let parsed = try Self.configDef.parse(configs)
        schemasEnabled = parsed.bool("schemas.enable") ?? true
        decimalFormat = DecimalFormat(rawValue: (parsed.string("decimal.format") ?? "BASE64").uppercased()) ?? .base64
        replaceNullWithDefault = parsed.bool("replace.null.with.default") ?? true
        schemaCacheSize = Int(parsed.int("schemas.cache.size") ?? 1000)
        schemaCache = [:]
        fieldKeyCache = [:]
        readSchemaCache = []
        readSchemaBytes = []
    }

    public func configure(_ configs: [String: String]) throws {
        try configure(configs, isKey: false)
    }

    // MARK: Connect → bytes

    public func fromConnectData(topic: String, headers: Headers, schema: Schema?, value: Value?) throws -> [UInt8]? {
        if schema == nil && value == nil { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(lastEncodedSize)
        if schemasEnabled {
            // The envelope with the schema pre-rendered: the same bytes as writing `toJSON`'s whole document.
            JSONWriter.append("{\"schema\":", to: &out)
            if let schema {
                out.append(contentsOf: renderedSchema(schema))
            } else {
                JSONWriter.append("null", to: &out)
            }
            JSONWriter.append(",\"payload\":", to: &out)
            try writeJSON(schema, value, into: &out)
            out.append(UInt8(ascii: "}"))
        } else {
            try writeJSON(schema, value, into: &out)
        }
        lastEncodedSize = out.count
        return out
    }

    private func renderedSchema(_ schema: Schema) -> [UInt8] {
        let id = ObjectIdentifier(schema)
        if let hit = schemaCache[id] { return hit.bytes }
        let bytes = JSONWriter.bytes(asJSONSchema(schema))
        if schemaCache.count >= schemaCacheSize { schemaCache.removeAll(keepingCapacity: true) }
        schemaCache[id] = (schema, bytes)
        return bytes
    }

    private func fieldKeys(_ schema: Schema) -> [[UInt8]] {
        let id = ObjectIdentifier(schema)
        if let hit = fieldKeyCache[id] { return hit.keys }
        let keys = schema.fields.enumerated().map { i, field in
            var key: [UInt8] = i > 0 ? [UInt8(ascii: ",")] : []
            JSONWriter.writeString(field.name, into: &key)
            key.append(UInt8(ascii: ":"))
            return key
        }
        if fieldKeyCache.count >= schemaCacheSize { fieldKeyCache.removeAll(keepingCapacity: true) }
        fieldKeyCache[id] = (schema, keys)
        return keys
    }

    /// Appends the JSON of a value exactly as `JSONWriter.write(convertToJSON(schema, value))` does (the
    /// straightforward path, which `toJSON` takes), without building the intermediate `JSONValue` for the shapes
    /// records usually have: structs, arrays and primitives of schemas that are not a logical type (named or not).
    /// Nulls, logical types, bytes, decimals and maps go through the straightforward path.
    private func writeJSON(_ schema: Schema?, _ value: Value?, into out: inout [UInt8]) throws(ConnectError) {
        guard let value, !LogicalTypes.isLogical(schema) else {
            JSONWriter.write(try convertToJSON(schema, value), into: &out)
            return
        }
        if let schema { try checkType(schema, value) }
        switch value {
        case .int8(let v): JSONWriter.writeInteger(Int64(v), into: &out)
        case .int16(let v): JSONWriter.writeInteger(Int64(v), into: &out)
        case .int32(let v): JSONWriter.writeInteger(Int64(v), into: &out)
        case .int64(let v): JSONWriter.writeInteger(v, into: &out)
        case .timestamp(let ms): JSONWriter.writeInteger(ms, into: &out)
        case .float32(let v): JSONWriter.writeFloating(JavaNumberFormat.float(v), finite: v.isFinite, into: &out)
        case .float64(let v): JSONWriter.writeFloating(JavaNumberFormat.double(v), finite: v.isFinite, into: &out)
        case .boolean(let v): JSONWriter.append(v ? "true" : "false", to: &out)
        case .string(let s): JSONWriter.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try writeJSON(schema?.valueSchema, item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .struct(let s):
            if let schema, s.schema != schema { throw ConnectError.data("Mismatching schema.") }
            out.append(UInt8(ascii: "{"))
            let keys = fieldKeys(s.schema)
            for (i, field) in s.schema.fields.enumerated() {
                out.append(contentsOf: keys[i])
                try writeJSON(field.schema, s.getWithoutDefault(field), into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .bytes, .decimal, .map:
            JSONWriter.write(try convertToJSON(schema, value), into: &out)
        }
    }

    public func fromConnectHeader(topic: String, headerKey: String, schema: Schema?, value: Value?) throws -> [UInt8]? {
        try fromConnectData(topic: topic, headers: Headers(), schema: schema, value: value)
    }

    /// The JSON document for a value, with or without the envelope according to `schemas.enable`.
    public func toJSON(schema: Schema?, value: Value?) throws(ConnectError) -> JSONValue {
        let payload = try convertToJSON(schema, value)
        guard schemasEnabled else { return payload }
        return .object(JSONObject([("schema", schema.map { asJSONSchema($0) } ?? .null), ("payload", payload)]))
    }

    /// The JSON schema for a Connect schema, with keys in the order Connect writes them.
    public func asJSONSchema(_ schema: Schema) -> JSONValue {
        var object = JSONObject()
        let typeName: String =
            switch schema.type {
            case .float32: "float"
            case .float64: "double"
            default: schema.type.lowercaseName
            }
        object["type"] = .string(typeName)
        switch schema.type {
        case .array:
            if let items = schema.valueSchema { object["items"] = asJSONSchema(items) }
        case .map:
            if let k = schema.keySchema { object["keys"] = asJSONSchema(k) }
            if let v = schema.valueSchema { object["values"] = asJSONSchema(v) }
        case .struct:
            object["fields"] = .array(
                schema.fields.map { field in
                    guard case .object(var o) = asJSONSchema(field.schema) else { return .null }
                    o["field"] = .string(field.name)
                    return .object(o)
                })
        default: break
        }
        object["optional"] = .bool(schema.isOptional)
        if let name = schema.name { object["name"] = .string(name) }
        if let version = schema.version { object["version"] = .int(Int64(version)) }
        if let doc = schema.doc { object["doc"] = .string(doc) }
        if let params = schema.parameters {
            object["parameters"] = .object(JSONObject(params.map { ($0.key, JSONValue.string($0.value)) }))
        }
        if let def = schema.defaultValue, let json = try? convertToJSON(schema, def) {
            object["default"] = json
        }
        return .object(object)
    }

    private func convertToJSON(_ schema: Schema?, _ value: Value?) throws(ConnectError) -> JSONValue {
        guard let value else {
            guard let schema else { return .null }
            if let def = schema.defaultValue, replaceNullWithDefault { return try convertToJSON(schema, def) }
            if schema.isOptional { return .null }
            throw ConnectError.data("Conversion error: null value for field that is required and has no default value")
        }
        if let schema, schema.name != nil {
            if case .decimal(let d) = value, schema.name == LogicalTypes.decimalName {
                if decimalFormat == .numeric { return .decimalText(d.description) }
            }
            if let serialized = try LogicalTypes.fromLogical(schema, value) {
                return try convertToJSON(nonLogical(schema), serialized)
            }
        }
        if let schema {
            try checkType(schema, value)
        }
        switch value {
        case .int8(let v): return .int(Int64(v))
        case .int16(let v): return .int(Int64(v))
        case .int32(let v): return .int(Int64(v))
        case .int64(let v): return .int(v)
        case .float32(let v): return .float(v)
        case .float64(let v): return .double(v)
        case .boolean(let v): return .bool(v)
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(Data(b).base64EncodedString())
        case .decimal(let d):
            return decimalFormat == .numeric
                ? .decimalText(d.description) : .string(Data(d.unscaled).base64EncodedString())
        case .timestamp(let ms): return .int(ms)
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try convertToJSON(schema?.valueSchema, item)) }
            return .array(out)
        case .map(let entries):
            let objectMode: Bool
            if let schema {
                objectMode = schema.keySchema?.type == .string
            } else {
                objectMode = entries.allSatisfy { if case .string? = $0.key { return true } else { return false } }
            }
            if objectMode {
                var o = JSONObject()
                for e in entries { o[e.key?.stringValue ?? "null"] = try convertToJSON(schema?.valueSchema, e.value) }
                return .object(o)
            }
            var pairs: [JSONValue] = []
            for e in entries {
                pairs.append(
                    .array([
                        try convertToJSON(schema?.keySchema, e.key), try convertToJSON(schema?.valueSchema, e.value),
                    ]))
            }
            return .array(pairs)
        case .struct(let s):
            if let schema, s.schema != schema { throw ConnectError.data("Mismatching schema.") }
            var o = JSONObject()
            for field in s.schema.fields {
                o[field.name] = try convertToJSON(field.schema, s.getWithoutDefault(field))
            }
            return .object(o)
        }
    }

    private func checkType(_ schema: Schema, _ value: Value) throws(ConnectError) {
        let matches: Bool
        switch (schema.type, value) {
        case (.int8, .int8), (.int16, .int16), (.int32, .int32), (.int64, .int64), (.float32, .float32),
            (.float64, .float64), (.boolean, .boolean), (.string, .string), (.bytes, .bytes), (.bytes, .decimal),
            (.array, .array), (.map, .map), (.struct, .struct), (.int64, .timestamp), (.int32, .timestamp):
            matches = true
        default: matches = false
        }
        if !matches {
            throw ConnectError.data("Invalid type for \(schema.type.rawValue): \(value.javaClassName)")
        }
    }

    private func nonLogical(_ schema: Schema) -> Schema {
        Schema.primitive(schema.type, optional: schema.isOptional)
    }

    // MARK: bytes → Connect

    public func toConnectData(topic: String, headers: Headers, value: [UInt8]?) throws -> SchemaAndValue {
        guard let value else { return .null }
        if schemasEnabled, let read = try readEnvelope(value) { return read }
        let json: JSONValue
        do {
            json = try JSONParser.parse(value, options: Self.parserOptions)
        } catch {
            throw ConnectError.data(
                "Converting byte[] to Kafka Connect data failed due to serialization error: ",
                cause: ConnectError(
                    .serialization, "com.fasterxml.jackson.core.JsonParseException: \(error.description)"))
        }
        return try toConnectData(json: json)
    }

    public func toConnectHeader(topic: String, headerKey: String, value: [UInt8]?) throws -> SchemaAndValue {
        try toConnectData(topic: topic, headers: Headers(), value: value)
    }

    /// Connect data for a parsed JSON document.
    public func toConnectData(json: JSONValue) throws(ConnectError) -> SchemaAndValue {
        if schemasEnabled {
            guard case .object(let o) = json, o.count == 2, let schemaJSON = o["schema"], let payload = o["payload"]
            else {
                throw ConnectError.data(Self.envelopeMessage)
            }
            let schema = try cachedConnectSchema(schemaJSON)
            return SchemaAndValue(schema: schema, value: try convertToConnect(schema, payload))
        }
        return SchemaAndValue(schema: nil, value: try convertToConnect(nil, json))
    }

    private static let schemaKey = Array(#"{"schema":"#.utf8)
    private static let payloadKey = Array(#","payload":"#.utf8)

    /// Reads an envelope laid out as Connect writes it, `{"schema":S,"payload":P}`, with the same result and errors
    /// as the general path (`toConnectData(json:)` of the whole parsed document), but compares `S` with the bytes of
    /// recently read schemas instead of parsing it for every record. `nil` for any other layout or any parse error:
    /// the general path then reads the record and reports its error.
    private func readEnvelope(_ bytes: [UInt8]) throws(ConnectError) -> SchemaAndValue? {
        guard Self.matches(bytes, at: 0, Self.schemaKey) else { return nil }
        let schemaStart = Self.schemaKey.count
        var schema: Schema?
        var schemaJSON: JSONValue?
        var payloadStart = -1
        for (i, hit) in readSchemaBytes.enumerated()
        where Self.matches(bytes, at: schemaStart, hit.bytes)
            && Self.matches(bytes, at: schemaStart + hit.bytes.count, Self.payloadKey)
        {
            // A complete JSON object or `null` followed by `,"payload":` is the whole schema value.
            schema = hit.schema
            payloadStart = schemaStart + hit.bytes.count + Self.payloadKey.count
            if i > 0 { readSchemaBytes.swapAt(0, i) }
            break
        }
        if payloadStart < 0 {
            // Depth 1: the envelope object counts toward the nesting limit, as the general parse counts it.
            guard
                let read = try? JSONParser.parseValue(
                    in: bytes, at: schemaStart, options: Self.parserOptions, depth: 1),
                read.end > schemaStart, Self.matches(bytes, at: read.end, Self.payloadKey)
            else { return nil }
            schemaJSON = read.value
            payloadStart = read.end + Self.payloadKey.count
        }
        // A struct or array payload whose schema was seen: read straight into Connect values when it has the
        // shape Connect writes (fields in schema order); anything else goes through the parsed payload below.
        if schemaJSON == nil, let schema, schema.type == .struct || schema.type == .array,
            !LogicalTypes.isLogical(schema)
        {
            var reader = PayloadReader(bytes: bytes, index: payloadStart, converter: self)
            if let value = reader.value(schema) {
                let close = JSONParser.skippingWhitespace(in: bytes, at: reader.index)
                if close < bytes.count, bytes[close] == UInt8(ascii: "}"),
                    JSONParser.skippingWhitespace(in: bytes, at: close + 1) == bytes.count
                {
                    return SchemaAndValue(schema: schema, value: value)
                }
            }
        }
        guard
            let payload = try? JSONParser.parseValue(
                in: bytes, at: payloadStart, options: Self.parserOptions, depth: 1)
        else { return nil }
        let close = JSONParser.skippingWhitespace(in: bytes, at: payload.end)
        guard close < bytes.count, bytes[close] == UInt8(ascii: "}"),
            JSONParser.skippingWhitespace(in: bytes, at: close + 1) == bytes.count
        else { return nil }
        if let schemaJSON {
            schema = try cachedConnectSchema(schemaJSON)
            let schemaEnd = payloadStart - Self.payloadKey.count
            readSchemaBytes.insert((Array(bytes[schemaStart..<schemaEnd]), schema), at: 0)
            if readSchemaBytes.count > min(schemaCacheSize, 16) { readSchemaBytes.removeLast() }
        }
        return SchemaAndValue(schema: schema, value: try convertToConnect(schema, payload.value))
    }

    /// Reads a payload into Connect values with its schema, walking structs and arrays itself and handing every
    /// other value (scalars, nulls, maps, logical types) to the parser and `convertToConnect` as the general path
    /// does. It gives up (nil) on anything the general path might read differently or fail on: an object whose keys
    /// are not exactly the schema's fields in order, a parse error, a conversion error, nesting beyond the parser's
    /// limit. The general path then reads the record and reports its error.
    private struct PayloadReader {
        let bytes: [UInt8]
        var index: Int
        let converter: JsonConverter
        /// Objects and arrays entered, the envelope's included, as the parser counts them.
        var depth = 1

        init(bytes: [UInt8], index: Int, converter: JsonConverter) {
            self.bytes = bytes
            self.index = index
            self.converter = converter
        }

        /// The value (`.some(nil)` for a null the schema allows), or nil to give up.
        mutating func value(_ schema: Schema) -> Value?? {
            index = JSONParser.skippingWhitespace(in: bytes, at: index)
            guard index < bytes.count else { return nil }
            // A logical type's name decides before its type (`convertToConnect` reads names first).
            switch (schema.type, bytes[index]) {
            case (.struct, UInt8(ascii: "{")) where !LogicalTypes.isLogical(schema): return structValue(schema)
            case (.array, UInt8(ascii: "[")) where schema.valueSchema != nil && !LogicalTypes.isLogical(schema):
                return arrayValue(schema.valueSchema!)
            default:
                if let plain = plainLeaf(schema) { return .some(plain) }
                guard
                    let leaf = try? JSONParser.parseValue(
                        in: bytes, at: index, options: JsonConverter.parserOptions, depth: depth)
                else { return nil }
                index = leaf.end
                do { return .some(try converter.convertToConnect(schema, leaf.value)) } catch { return nil }
            }
        }

        /// A leaf in its plainest JSON read straight from the bytes, or nil for the general path: a string of
        /// printable ASCII without escapes, an integer without fraction or exponent that fits the schema's type,
        /// `true` or `false`, each followed by whitespace, `,`, `}`, `]` or the end (what the general path reads
        /// to the same value; anything else, errors included, is left to it).
        private mutating func plainLeaf(_ schema: Schema) -> Value? {
            guard !LogicalTypes.isLogical(schema) else { return nil }
            guard let (value, end) = bytes.withUnsafeBufferPointer({ Self.plainLeaf(schema.type, in: $0, at: index) })
            else { return nil }
            index = end
            return value
        }

        private static func plainLeaf(
            _ type: SchemaType, in bytes: UnsafeBufferPointer<UInt8>, at start: Int
        ) -> (Value, Int)? {
            var at = start
            let value: Value
            switch type {
            case .string:
                guard bytes[at] == UInt8(ascii: "\"") else { return nil }
                at += 1
                while at < bytes.count, bytes[at] != UInt8(ascii: "\"") {
                    let b = bytes[at]
                    guard b >= 0x20, b < 0x7F, b != UInt8(ascii: "\\") else { return nil }
                    at += 1
                }
                guard at < bytes.count else { return nil }
                value = .string(String(decoding: UnsafeBufferPointer(rebasing: bytes[(start + 1)..<at]), as: UTF8.self))
                at += 1
            case .int8, .int16, .int32, .int64:
                let negative = bytes[at] == UInt8(ascii: "-")
                if negative { at += 1 }
                let digits = at
                var magnitude: UInt64 = 0
                while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
                    let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (n, o2) = m.addingReportingOverflow(UInt64(bytes[at] - UInt8(ascii: "0")))
                    guard !o1, !o2 else { return nil }
                    magnitude = n
                    at += 1
                }
                // JSON allows no leading zero; a fraction or exponent is the general path's.
                guard at > digits, bytes[digits] != UInt8(ascii: "0") || at == digits + 1 else { return nil }
                guard magnitude <= UInt64(Int64.max) else { return nil }
                let v = negative ? -Int64(magnitude) : Int64(magnitude)
                switch type {
                case .int8:
                    guard let n = Int8(exactly: v) else { return nil }
                    value = .int8(n)
                case .int16:
                    guard let n = Int16(exactly: v) else { return nil }
                    value = .int16(n)
                case .int32:
                    guard let n = Int32(exactly: v) else { return nil }
                    value = .int32(n)
                default: value = .int64(v)
                }
            case .boolean:
                if starts(bytes, at: at, with: "true") {
                    value = .boolean(true)
                    at += 4
                } else if starts(bytes, at: at, with: "false") {
                    value = .boolean(false)
                    at += 5
                } else {
                    return nil
                }
            default: return nil
            }
            if at < bytes.count {
                switch bytes[at] {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ","),
                    UInt8(ascii: "}"), UInt8(ascii: "]"):
                    break
                default: return nil
                }
            }
            return (value, at)
        }

        private static func starts(_ bytes: UnsafeBufferPointer<UInt8>, at: Int, with word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard bytes.count - at >= n else { return false }
            return memcmp(bytes.baseAddress! + at, word.utf8Start, n) == 0
        }

        /// After a struct field's name is expected at `index`: its end when the key is the name written plainly
        /// (no escapes), else nil (the parser then reads the key).
        private func plainKeyEnd(_ name: String) -> Int? {
            var name = name
            return name.withUTF8 { n in
                bytes.withUnsafeBufferPointer { b -> Int? in
                    let start = index + 1
                    guard b[index] == UInt8(ascii: "\""), b.count - start > n.count,
                        b[start + n.count] == UInt8(ascii: "\"")
                    else { return nil }
                    for i in 0..<n.count {
                        let c = n[i]
                        guard c >= 0x20, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\"), b[start + i] == c else {
                            return nil
                        }
                    }
                    return start + n.count + 1
                }
            }
        }

        private mutating func enter() -> Bool {
            depth += 1
            index += 1
            return depth <= JSONParser.maxDepth
        }

        /// Skips whitespace and then `byte`; false when something else is there.
        private mutating func skip(_ byte: UInt8) -> Bool {
            index = JSONParser.skippingWhitespace(in: bytes, at: index)
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func structValue(_ schema: Schema) -> Value?? {
            guard enter() else { return nil }
            defer { depth -= 1 }
            var s = Struct(schema: schema)
            for (i, field) in schema.fields.enumerated() {
                if i > 0 { guard skip(UInt8(ascii: ",")) else { return nil } }
                index = JSONParser.skippingWhitespace(in: bytes, at: index)
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                if let end = plainKeyEnd(field.name) {
                    index = end
                } else {
                    guard let key = try? JSONParser.parseValue(in: bytes, at: index),
                        case .string(field.name) = key.value
                    else { return nil }
                    index = key.end
                }
                guard skip(UInt8(ascii: ":")), let v = value(field.schema) else { return nil }
                do { try s.put(field, v) } catch { return nil }
            }
            guard skip(UInt8(ascii: "}")) else { return nil }
            return .some(.struct(s))
        }

        private mutating func arrayValue(_ items: Schema) -> Value?? {
            guard enter() else { return nil }
            defer { depth -= 1 }
            var out: [Value?] = []
            if skip(UInt8(ascii: "]")) { return .some(.array(out)) }
            while true {
                guard let v = value(items) else { return nil }
                out.append(v)
                if skip(UInt8(ascii: "]")) { return .some(.array(out)) }
                guard skip(UInt8(ascii: ",")) else { return nil }
            }
        }
    }

    /// Whether `bytes` holds `pattern` at `offset`.
    private static func matches(_ bytes: [UInt8], at offset: Int, _ pattern: [UInt8]) -> Bool {
        guard offset >= 0, bytes.count - offset >= pattern.count else { return false }
        return bytes.withUnsafeBufferPointer { b in
            pattern.withUnsafeBufferPointer { p in
                p.isEmpty || memcmp(b.baseAddress! + offset, p.baseAddress!, p.count) == 0
            }
        }
    }

    private func cachedConnectSchema(_ json: JSONValue) throws(ConnectError) -> Schema? {
        if let i = readSchemaCache.firstIndex(where: { $0.json == json }) {
            let hit = readSchemaCache[i]
            if i > 0 {
                readSchemaCache.remove(at: i)
                readSchemaCache.insert(hit, at: 0)
            }
            return hit.schema
        }
        let schema = try asConnectSchema(json)
        readSchemaCache.insert((json, schema), at: 0)
        if readSchemaCache.count > min(schemaCacheSize, 16) { readSchemaCache.removeLast() }
        return schema
    }

    /// A Connect schema from its JSON form.
    public func asConnectSchema(_ json: JSONValue) throws(ConnectError) -> Schema? {
        if json.isNull { return nil }
        guard case .object(let o) = json else {
            throw ConnectError.data("Schema must be a JSON object, found \(json.typeName)")
        }
        guard let typeName = o["type"]?.stringValue else { throw ConnectError.data("Schema must contain 'type' field") }
        var builder: SchemaBuilder
        switch typeName {
        case "boolean": builder = SchemaBuilder(.boolean)
        case "int8": builder = SchemaBuilder(.int8)
        case "int16": builder = SchemaBuilder(.int16)
        case "int32": builder = SchemaBuilder(.int32)
        case "int64": builder = SchemaBuilder(.int64)
        case "float": builder = SchemaBuilder(.float32)
        case "double": builder = SchemaBuilder(.float64)
        case "bytes": builder = SchemaBuilder(.bytes)
        case "string": builder = SchemaBuilder(.string)
        case "array":
            guard let items = o["items"], let itemSchema = try asConnectSchema(items) else {
                throw ConnectError.data("Array schema did not specify the items type")
            }
            builder = SchemaBuilder.array(itemSchema)
        case "map":
            guard let k = o["keys"], let keySchema = try asConnectSchema(k) else {
                throw ConnectError.data("Map schema did not specify the key type")
            }
            guard let v = o["values"], let valueSchema = try asConnectSchema(v) else {
                throw ConnectError.data("Map schema did not specify the value type")
            }
            builder = SchemaBuilder.map(keySchema, valueSchema)
        case "struct":
            builder = SchemaBuilder.struct()
            guard case .array(let fields)? = o["fields"] else {
                throw ConnectError.data("Struct schema's \"fields\" argument is not an array.")
            }
            for field in fields {
                guard let name = field["field"]?.stringValue else {
                    throw ConnectError.data("Struct schema's field name not specified properly")
                }
                guard let fieldSchema = try asConnectSchema(field) else {
                    throw ConnectError.data("Struct schema's field \(name) has no schema")
                }
                builder = builder.field(name, fieldSchema)
            }
        default:
            throw ConnectError.data("Unknown schema type: \(typeName)")
        }
        if let optional = o["optional"]?.boolValue { builder = builder.optional(optional) }
        if let name = o["name"]?.stringValue { builder = builder.name(name) }
        if let version = o["version"]?.intValue { builder = builder.version(Int32(truncatingIfNeeded: version)) }
        if let doc = o["doc"]?.stringValue { builder = builder.doc(doc) }
        if let params = o["parameters"], !params.isNull {
            guard case .object(let p) = params else {
                throw ConnectError.data("Schema parameters must be a JSON object")
            }
            builder = builder.parameters(p.map { ($0.key, $0.value.scalarText ?? "") })
        }
        if let def = o["default"], !def.isNull {
            let base = builder.build()
            builder = builder.defaultValue(try convertToConnect(base, def))
        }
        return builder.build()
    }

    fileprivate func convertToConnect(_ schema: Schema?, _ json: JSONValue) throws(ConnectError) -> Value? {
        guard let schema else { return Self.inferValue(json) }
        if json.isNull {
            if let def = schema.defaultValue, replaceNullWithDefault { return def }
            if schema.isOptional { return nil }
            throw ConnectError.data("Invalid null value for required \(schema.type.rawValue) field")
        }
        if let name = schema.name {
            switch name {
            case LogicalTypes.decimalName:
                let scale = Int32(schema.parameter(LogicalTypes.scaleParameter) ?? "") ?? 0
                if case .string(let s) = json, let data = Data(base64Encoded: s) {
                    return .decimal(BigDecimal(unscaled: Array(data), scale: scale))
                }
                // A number is the BigDecimal written, at its own scale (Jackson's decimalValue(), not rescaled:
                // Connect reads -1.2 for a scale-2 Decimal as -1.2).
                if case .int(let i) = json { return .decimal(BigDecimal(unscaledValue: i, scale: 0)) }
                if case .decimalText(let text) = json, let d = Self.bigDecimal(text) { return .decimal(d) }
                if case .double(let d) = json, let dec = BigDecimal(JavaNumberFormat.double(d)) { return .decimal(dec) }
                throw ConnectError.data(
                    "Invalid type for Decimal, underlying representation should be numeric or bytes but was \(json.typeName)"
                )
            case LogicalTypes.dateName, LogicalTypes.timeName, LogicalTypes.timestampName:
                guard let i = json.intValue else {
                    throw ConnectError.data("Invalid type for \(name), expected an integer but was \(json.typeName)")
                }
                return name == LogicalTypes.dateName ? .timestamp(i * 86_400_000) : .timestamp(i)
            default: break
            }
        }
        func mismatch() -> ConnectError {
            ConnectError.data(
                "Expected \(schema.type.rawValue) value but found JSON \(json.typeName): \(JSONWriter.string(json).prefix(100))"
            )
        }
        switch schema.type {
        case .boolean:
            guard let b = json.boolValue else { throw mismatch() }
            return .boolean(b)
        case .int8:
            guard let i = Self.javaLong(json) else { throw mismatch() }
            return .int8(Int8(truncatingIfNeeded: i))
        case .int16:
            guard let i = Self.javaLong(json) else { throw mismatch() }
            return .int16(Int16(truncatingIfNeeded: i))
        case .int32:
            guard let i = Self.javaLong(json) else { throw mismatch() }
            return .int32(Int32(truncatingIfNeeded: i))
        case .int64:
            guard let i = Self.javaLong(json) else { throw mismatch() }
            return .int64(i)
        case .float32:
            guard let d = json.doubleValue else { throw mismatch() }
            return .float32(Float(d))
        case .float64:
            guard let d = json.doubleValue else { throw mismatch() }
            return .float64(d)
        case .string:
            guard let s = json.stringValue else { throw mismatch() }
            return .string(s)
        case .bytes:
            guard let s = json.stringValue, let data = Data(base64Encoded: s) else { throw mismatch() }
            return .bytes(Array(data))
        case .array:
            guard case .array(let items) = json else { throw mismatch() }
            var out: [Value?] = []
            for item in items { out.append(try convertToConnect(schema.valueSchema, item)) }
            return .array(out)
        case .map:
            if schema.keySchema?.type == .string {
                guard case .object(let o) = json else { throw mismatch() }
                var entries: [Value.MapEntry] = []
                for (k, v) in o {
                    entries.append(Value.MapEntry(.string(k), try convertToConnect(schema.valueSchema, v)))
                }
                return .map(entries)
            }
            guard case .array(let pairs) = json else {
                throw ConnectError.data(
                    "Maps with non-string fields should be encoded as JSON array of tuples, but found \(json.typeName)")
            }
            var entries: [Value.MapEntry] = []
            for pair in pairs {
                guard case .array(let kv) = pair, kv.count == 2 else {
                    throw ConnectError.data("Found invalid map entry instead of array tuple: \(pair.typeName)")
                }
                entries.append(
                    Value.MapEntry(
                        try convertToConnect(schema.keySchema, kv[0]), try convertToConnect(schema.valueSchema, kv[1])))
            }
            return .map(entries)
        case .struct:
            guard case .object(let o) = json else {
                throw ConnectError.data(
                    "Structs should be encoded as JSON objects, but found \(json.typeName.uppercased())")
            }
            var s = Struct(schema: schema)
            for field in schema.fields {
                try s.put(field, try convertToConnect(field.schema, o[field.name] ?? .null))
            }
            return .struct(s)
        }
    }

    /// As Connect's `JsonDeserializer` (Kafka 3.6+): leading zeros allowed, fractions kept exact (`USE_BIG_DECIMAL_FOR_FLOATS`).
    static let parserOptions = JSONParser.Options(allowLeadingZeros: true, exactFractions: true)

    /// Jackson's `longValue()` of a number node, as Connect's integer readers take it: a fraction truncated toward
    /// zero (`1.9` for an int32 is 1), a number beyond 64 bits (a `BigIntegerNode` or `DecimalNode`) reduced to its
    /// low 64 bits as `BigInteger.longValue()` does (`18446744073709551617` is 1); nil for anything but a number
    /// (Jackson would read 0: refused here).
    static func javaLong(_ json: JSONValue) -> Int64? {
        if case .decimalText(let text) = json { return wrappedLong(text) }
        if let i = json.intValue { return i }
        guard let d = json.doubleValue, d.isFinite else { return nil }
        let t = d.rounded(.towardZero)
        return t >= 9.223372036854775807e18 ? Int64.max : t <= -9.223372036854775808e18 ? Int64.min : Int64(t)
    }

    /// `new BigDecimal(text).longValue()`: the integer part of a JSON number (plain or with an exponent), modulo
    /// 2^64 as two's complement. Arithmetic wraps on purpose: the low 64 bits of a product depend only on the low 64
    /// bits of its factors, and 10^64 is a multiple of 2^64, so at most 64 zeros of an exponent matter.
    public static func wrappedLong(_ text: String) -> Int64? {
        var bytes = Substring(text).utf8[...]
        let negative = bytes.first == UInt8(ascii: "-")
        if negative || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        var integer: [UInt8] = []
        var fraction: [UInt8] = []
        var exponent = 0
        var inFraction = false
        while let b = bytes.first {
            bytes = bytes.dropFirst()
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inFraction { fraction.append(b - 48) } else { integer.append(b - 48) }
            case UInt8(ascii: "."):
                inFraction = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                // As BigDecimal: an exponent beyond an int is no number (and unchecked arithmetic on it would trap).
                guard let e = Int32(String(decoding: bytes, as: UTF8.self)) else { return nil }
                exponent = Int(e)
                bytes = bytes.dropFirst(bytes.count)
            default:
                return nil
            }
        }
        // The digits before the decimal point once the exponent has moved it.
        let digits = integer + fraction
        let pointAt = integer.count + exponent
        var low: UInt64 = 0
        for d in digits.prefix(max(0, pointAt)) { low = low &* 10 &+ UInt64(d) }
        for _ in 0..<min(64, max(0, pointAt - digits.count)) { low = low &* 10 }
        return Int64(bitPattern: negative ? 0 &- low : low)
    }

    /// `new BigDecimal(text)` for a JSON number: plain (`-1.2`, scale 1) or with an exponent (`1.5E-7`: unscaled 15,
    /// scale 8; `1e3`: scale -3).
    static func bigDecimal(_ text: String) -> BigDecimal? {
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return BigDecimal(text) }
        guard var d = BigDecimal(String(text[..<e])), let exponent = Int32(text[text.index(after: e)...]) else {
            return nil
        }
        let (scale, overflow) = d.scale.subtractingReportingOverflow(exponent)
        guard !overflow else { return nil }
        d.scale = scale
        return d
    }

    /// Schemaless reading: integral numbers become INT64, others FLOAT64, objects maps.
    public static func inferValue(_ json: JSONValue) -> Value? {
        switch json {
        case .null: return nil
        case .bool(let b): return .boolean(b)
        case .int(let i): return .int64(i)
        case .double(let d): return .float64(d)
        case .float(let f): return .float64(Double(f))
        case .decimalText(let t):
            // As Connect's schemaless reading: an integral number (a `BigIntegerNode` beyond 64 bits) is INT64 of
            // its low 64 bits; any other number FLOAT64.
            if !t.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let i = wrappedLong(t) { return .int64(i) }
            return .float64(Double(t) ?? 0)
        case .string(let s): return .string(s)
        case .array(let items): return .array(items.map { inferValue($0) })
        case .object(let o): return .map(o.map { Value.MapEntry(.string($0.key), inferValue($0.value)) })
        }
    }
}
