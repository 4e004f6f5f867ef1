import ConnectAPI
import Foundation

/// `org.apache.kafka.connect.transforms.Cast$Key` / `$Value`: casts fields, or the whole key or value, to another
/// primitive type (`spec`: `field:type,...` or a single `type`).
public class Cast: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }
    static let wholeValue = ""

    public static let configDef = ConfigDef()
        .define(
            "spec", .list, default: .required,
            validator: ConfigValidator(describe: "list of colon-delimited pairs, e.g. foo:bar,abc:xyz") { _, v in
                guard case .list(let items)? = v else { return nil }
                do throws(ConnectError) {
                    _ = try Cast.parseSpec(items)
                    return nil
                } catch {
                    return error.message
                }
            }, importance: .high,
            documentation:
                "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string."
        )
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .medium,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."
        )

    static let outputTypes: [SchemaType] = [.int8, .int16, .int32, .int64, .float32, .float64, .boolean, .string]
    static let inputTypes: [SchemaType] = outputTypes + [.bytes]

    private var casts: [(field: String, type: SchemaType)] = []
    private var wholeValueCast: SchemaType?
    private var replaceNullWithDefault = true
    private var schemaCache: [ObjectIdentifier: (schema: Schema, plan: Plan)] = [:]

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        schemaCache = [:]
        let c = try Self.configDef.parse(configs)
        casts = try Self.parseSpec(c.list("spec"))
        wholeValueCast = casts.first { $0.field == Self.wholeValue }?.type
        replaceNullWithDefault = c.bool("replace.null.with.default") ?? true
    }

    static func parseSpec(_ items: [String]) throws(ConnectError) -> [(field: String, type: SchemaType)] {
        guard !items.isEmpty else { throw ConnectError.config("Must specify at least one field to cast.") }
        var out: [(String, SchemaType)] = []
        for item in items {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
            guard parts.count <= 2 else {
                throw ConnectError.invalidConfig("spec", items.joined(separator: ","), "Invalid cast mapping: \(item)")
            }
            let typeName = (parts.count == 1 ? parts[0] : parts[1]).uppercased()
            guard let type = SchemaType(rawValue: typeName) else {
                throw ConnectError(
                    .illegalArgument, "No enum constant org.apache.kafka.connect.data.Schema.Type.\(typeName)")
            }
            guard outputTypes.contains(type) else {
                throw ConnectError.config("Cast transformation does not support casting to/from \(type.rawValue)")
            }
            out.append((parts.count == 1 ? wholeValue : parts[0], type))
        }
        if out.contains(where: { $0.0 == wholeValue }) && out.count > 1 {
            throw ConnectError.config(
                "Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec"
            )
        }
        return out
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        guard let value = record.data(of: part) else { return record }
        guard let schema = record.schema(of: part) else { return try applySchemaless(record, value) }
        if let target = wholeValueCast {
            let cast = try Self.castValue(value, from: schema, to: target)
            let updated = copySchemaBasics(schema, SchemaBuilder(target)).optional(schema.isOptional).build()
            return record.replacing(part, schema: updated, value: cast)
        }
        let input = try Requirements.requireStruct(value, "cast types")
        let plan = try castSchema(schema)
        var out = Struct(schema: plan.updated)
        for (field, updatedField, target) in plan.fields {
            let original = replaceNullWithDefault ? input.get(field) : input.getWithoutDefault(field)
            if let target, let original {
                try out.put(updatedField, try Self.castValue(original, from: field.schema, to: target))
            } else {
                try out.put(updatedField, original)
            }
        }
        return record.replacing(part, schema: plan.updated, value: .struct(out))
    }

    private func applySchemaless<R: ConnectRecord>(_ record: R, _ value: Value) throws -> R {
        if let target = wholeValueCast {
            return record.replacing(Self.part, schema: nil, value: try Self.castValue(value, from: nil, to: target))
        }
        var entries = try Requirements.requireMap(value, "cast types")
        for i in entries.indices {
            guard case .string(let name)? = entries[i].key, let target = casts.first(where: { $0.field == name })?.type,
                let v = entries[i].value
            else { continue }
            entries[i].value = try Self.castValue(v, from: nil, to: target)
        }
        return record.replacing(Self.part, schema: nil, value: .map(entries))
    }

    /// For a struct schema: the updated schema and each field with its place there and the type it is cast to.
    private struct Plan {
        let updated: Schema
        let fields: [(from: Field, to: Field, target: SchemaType?)]
    }

    private func castSchema(_ schema: Schema) throws(ConnectError) -> Plan {
        if let hit = schemaCache[ObjectIdentifier(schema)] { return hit.plan }
        guard schema.type == .struct else {
            throw ConnectError.data("Only Struct objects supported for [cast types], found: \(schema.type.rawValue)")
        }
        var builder = copySchemaBasics(schema, SchemaBuilder.struct()).optional(schema.isOptional)
        for field in schema.fields {
            if let target = casts.first(where: { $0.field == field.name })?.type {
                guard Self.inputTypes.contains(field.schema.type) || field.schema.name != nil else {
                    throw ConnectError.data(
                        "Cast transformation does not support casting to/from \(field.schema.type.rawValue)")
                }
                var fb = SchemaBuilder(target).optional(field.schema.isOptional)
                if let def = field.schema.defaultValue {
                    fb = fb.defaultValue(try Self.castValue(def, from: field.schema, to: target))
                }
                builder = builder.field(field.name, fb.build())
            } else {
                builder = builder.field(field.name, field.schema)
            }
        }
        let updated = builder.build()
        // The updated schema has the same fields in the same order.
        let fields = schema.fields.compactMap { f in
            updated.field(matching: f).map { (f, $0, casts.first(where: { $0.field == f.name })?.type) }
        }
        let plan = Plan(updated: updated, fields: fields)
        schemaCache[ObjectIdentifier(schema)] = (schema, plan)
        return plan
    }

    /// Casts one value as Connect's `Cast.castValueToType` does (numbers truncate, strings parse, booleans are 1/0).
    static func castValue(_ value: Value, from schema: Schema?, to target: SchemaType) throws(ConnectError) -> Value {
        if let schema, schema.type == .bytes, schema.name == nil, target != .string {
            throw ConnectError.data("Cast transformation does not support casting to/from BYTES")
        }
        switch target {
        case .string:
            switch value {
            case .bytes(let b): return .string(Data(b).base64EncodedString())
            case .timestamp(let ms): return .string(isoFormat(ms, schema: schema))
            default: return .string(ValueFormatter.string(value))
            }
        case .boolean:
            switch value {
            case .boolean: return value
            case .string(let s): return .boolean(s.lowercased() == "true")
            default:
                if let i = integral(value) { return .boolean(i != 0) }
                if let d = floating(value) { return .boolean(Int64(d) != 0) }
            }
        case .int8, .int16, .int32, .int64:
            let n: Int64?
            switch value {
            case .boolean(let b): n = b ? 1 : 0
            case .string(let s):
                // Byte.parseByte, Short.parseShort, Integer.parseInt, Long.parseLong: out of the type's range is an
                // error, never a wrapped value.
                switch Self.parseJavaInteger(s, target) {
                case .success(let parsed): n = parsed
                case .failure(let e): throw e.asData(value, target)
                }
            case .timestamp(let ms): n = ms
            case .float32, .float64:
                // Java's narrowing of a double: to long saturating, to int saturating and then (byte, short)
                // keeping the low bits; NaN is 0.
                let d = floating(value) ?? 0
                n = target == .int64 ? Self.saturating(d, Int64.self) : Int64(Self.saturating(d, Int32.self))
            default:
                n = integral(value) ?? floating(value).map { Self.saturating($0, Int64.self) }
            }
            guard let n else { break }
            switch target {
            case .int8: return .int8(Int8(truncatingIfNeeded: n))
            case .int16: return .int16(Int16(truncatingIfNeeded: n))
            case .int32: return .int32(Int32(truncatingIfNeeded: n))
            default: return .int64(n)
            }
        case .float32, .float64:
            let d: Double?
            switch value {
            case .boolean(let b): d = b ? 1 : 0
            case .string(let s):
                guard let parsed = Double(s.trimmingSpaces) else {
                    throw ConnectError(.illegalArgument, "For input string: \"\(s)\"").asData(value, target)
                }
                d = parsed
            case .timestamp(let ms): d = Double(ms)
            default: d = floating(value) ?? integral(value).map(Double.init)
            }
            guard let d else { break }
            return target == .float32 ? .float32(Float(d)) : .float64(d)
        default: break
        }
        throw ConnectError.data("Unexpected type in Cast transformation: \(value.javaClassName)")
    }

    private static func integral(_ v: Value) -> Int64? { v.int64Value }

    /// Java's `(long) d` / `(int) d`: toward zero, clamped to the type's range, NaN as 0.
    static func saturating<T: FixedWidthInteger>(_ d: Double, _: T.Type) -> T {
        if d.isNaN { return 0 }
        if d >= Double(T.max) { return T.max }
        if d <= Double(T.min) { return T.min }
        return T(d.rounded(.towardZero))
    }

    /// `Byte.parseByte`, `Short.parseShort`, `Integer.parseInt` or `Long.parseLong` of `text` in radix 10: an
    /// optional sign then ASCII digits, no spaces; the failure carries Java's NumberFormatException message (out of
    /// a byte's or short's range: `Value out of range. Value:"300" Radix:10`).
    static func parseJavaInteger(_ text: String, _ target: SchemaType) -> Result<Int64, ConnectError> {
        let invalid = ConnectError(.illegalArgument, "For input string: \"\(text)\"")
        var digits = Substring(text)
        if let first = digits.first, first == "-" || first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return .failure(invalid) }
        guard let n = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) else { return .failure(invalid) }
        let range: ClosedRange<Int64>
        switch target {
        case .int8: range = Int64(Int8.min)...Int64(Int8.max)
        case .int16: range = Int64(Int16.min)...Int64(Int16.max)
        case .int32: range = Int64(Int32.min)...Int64(Int32.max)
        default: return .success(n)
        }
        guard range.contains(n) else {
            return .failure(
                target == .int32
                    ? invalid : ConnectError(.illegalArgument, "Value out of range. Value:\"\(text)\" Radix:10"))
        }
        return .success(n)
    }

    private static func floating(_ v: Value) -> Double? {
        switch v {
        case .float32(let f): return Double(f)
        case .float64(let d): return d
        case .decimal(let d): return Double(d.description)
        default: return nil
        }
    }

    /// Connect's `Values.dateFormatFor`: ISO date, time or timestamp in UTC.
    static func isoFormat(_ ms: Int64, schema: Schema?) -> String {
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        switch schema?.name {
        case LogicalTypes.dateName?: f.dateFormat = "yyyy-MM-dd"
        case LogicalTypes.timeName?: f.dateFormat = "HH:mm:ss.SSS'Z'"
        default: f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        }
        return f.string(from: date)
    }

    public func close() {}
}

public final class CastKey: Cast {
    override public class var part: RecordPart { .key }
}

public final class CastValue: Cast {}

extension ConnectError {
    /// A value that cannot be cast, reported as Connect does: a DataException naming the value and type.
    func asData(_ value: Value, _ target: SchemaType) -> ConnectError {
        ConnectError.data(
            "Value (\(ValueFormatter.string(value))) was out of range for requested data type \(target.rawValue)",
            cause: self)
    }
}
