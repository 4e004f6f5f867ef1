import ConnectAPI

/// `org.apache.kafka.connect.transforms.TimestampRouter`: routes to `topic.format` with `${topic}` and `${timestamp}`
/// (the record timestamp formatted with `timestamp.format`, in UTC).
public final class TimestampRouter: Transformation {
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = ConfigDef()
        .define(
            "topic.format", .string, default: "${topic}-${timestamp}", importance: .high,
            documentation:
                "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively."
        )
        .define(
            "timestamp.format", .string, default: "yyyyMMdd", importance: .high,
            documentation: "Format string for the timestamp that is compatible with java.text.SimpleDateFormat.")

    private var topicFormat = "${topic}-${timestamp}"
    private var format = try? JavaDateFormat("yyyyMMdd")

    public init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        topicFormat = c.string("topic.format") ?? topicFormat
        format = try JavaDateFormat(c.string("timestamp.format") ?? "yyyyMMdd")
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        guard let ts = record.timestamp else { throw ConnectError.data("Timestamp missing on record: \(record)") }
        let stamp = format?.format(ts) ?? String(ts)
        return record.withTopic(
            topicFormat.replacing("${topic}", with: record.topic).replacing("${timestamp}", with: stamp))
    }

    public func close() {}
}

/// `org.apache.kafka.connect.transforms.TimestampConverter$Key` / `$Value`: converts a timestamp (the whole key or
/// value, or one field) between `string` (with a `SimpleDateFormat` pattern), `unix` (with `unix.precision`), and the
/// `Date`, `Time` and `Timestamp` logical types, in UTC.
public class TimestampConverter: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }
    static let purpose = "converting timestamp formats"

    enum Kind: String { case string, unix, date = "Date", time = "Time", timestamp = "Timestamp" }

    public static let configDef = ConfigDef()
        .define(
            "field", .string, default: "", importance: .high,
            documentation: "The field containing the timestamp, or empty if the entire value is a timestamp"
        )
        .define(
            "target.type", .string, default: .required,
            validator: .oneOf(["string", "unix", "Date", "Time", "Timestamp"]), importance: .high,
            documentation: "The desired timestamp representation: string, unix, Date, Time, or Timestamp"
        )
        .define(
            "format", .string, default: "", importance: .medium,
            documentation:
                "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string."
        )
        .define(
            "unix.precision", .string, default: "milliseconds",
            validator: .oneOf(["nanoseconds", "microseconds", "milliseconds", "seconds"]), importance: .low,
            documentation:
                "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long."
        )
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .medium,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."
        )

    private var field = ""
    private var target = Kind.timestamp
    private var format: JavaDateFormat?
    private var precision = "milliseconds"
    private var replaceNullWithDefault = true

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        field = c.string("field") ?? ""
        let typeName = c.string("target.type") ?? ""
        guard let kind = Kind(rawValue: typeName) else {
            throw ConnectError.config(
                "Unknown timestamp type in TimestampConverter: \(typeName). Valid values are string, unix, Date, Time, Timestamp."
            )
        }
        target = kind
        precision = c.string("unix.precision") ?? "milliseconds"
        replaceNullWithDefault = c.bool("replace.null.with.default") ?? true
        let pattern = c.string("format") ?? ""
        if kind == .string && pattern.isEmpty {
            throw ConnectError.config(
                "TimestampConverter requires format option to be specified when using string timestamps")
        }
        if !pattern.isEmpty {
            do {
                format = try JavaDateFormat(pattern)
            } catch {
                throw ConnectError.invalidConfig(
                    "format", pattern,
                    "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: \(pattern)"
                )
            }
        }
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        let value = record.data(of: part)
        guard let schema = record.schema(of: part) else {
            if field.isEmpty { return record.replacing(part, schema: nil, value: try convert(value, from: nil)) }
            guard let entries = try Requirements.requireMapOrNull(value, Self.purpose) else { return record }
            let updated = try entries.map { e throws(ConnectError) -> Value.MapEntry in
                e.key == .string(field) ? Value.MapEntry(e.key, try convert(e.value, from: nil)) : e
            }
            return record.replacing(part, schema: nil, value: .map(updated))
        }
        if field.isEmpty {
            return record.replacing(
                part, schema: targetSchema(optional: schema.isOptional), value: try convert(value, from: schema))
        }
        guard let s = try Requirements.requireStructOrNull(value, Self.purpose) else { return record }
        var b = copySchemaBasics(schema, SchemaBuilder.struct()).optional(schema.isOptional)
        for f in schema.fields {
            b = b.field(f.name, f.name == field ? targetSchema(optional: f.schema.isOptional) : f.schema)
        }
        let updated = b.build()
        var out = Struct(schema: updated)
        for f in schema.fields {
            let v = replaceNullWithDefault ? s.get(f) : s.getWithoutDefault(f.name)
            try out.put(f.name, f.name == field ? try convert(v, from: f.schema) : v)
        }
        return record.replacing(part, schema: updated, value: .struct(out))
    }

    private func targetSchema(optional: Bool) -> Schema {
        switch target {
        case .string: return Schema.primitive(.string, optional: optional)
        case .unix: return Schema.primitive(.int64, optional: optional)
        case .date: return LogicalTypes.date(optional: optional)
        case .time: return LogicalTypes.time(optional: optional)
        case .timestamp: return LogicalTypes.timestamp(optional: optional)
        }
    }

    /// Converts one value to the target representation, through milliseconds since the epoch.
    private func convert(_ value: Value?, from schema: Schema?) throws(ConnectError) -> Value? {
        guard let value else { return nil }
        let ms: Int64
        switch value {
        case .timestamp(let t): ms = t
        case .int64(let raw):
            switch precision {
            case "seconds": ms = Self.saturatingMultiply(raw, 1000)
            case "microseconds": ms = raw / 1000
            case "nanoseconds": ms = raw / 1_000_000
            default: ms = raw
            }
        case .string(let s):
            guard let format else {
                throw ConnectError.data(
                    "TimestampConverter requires format option to be specified when using string timestamps")
            }
            do {
                ms = try format.parse(s)
            } catch {
                throw ConnectError.data(
                    "Could not parse timestamp: value (\(s)) does not match pattern (\(format.pattern))", cause: error)
            }
        default:
            throw ConnectError.data(
                "Expected Timestamp to be a Long, Date, or String type but was class \(value.javaClassName)")
        }
        switch target {
        case .string: return .string(format?.format(ms) ?? String(ms))
        case .unix:
            switch precision {
            case "seconds": return .int64(ms / 1000)
            case "microseconds": return .int64(Self.saturatingMultiply(ms, 1000))
            case "nanoseconds": return .int64(Self.saturatingMultiply(ms, 1_000_000))
            default: return .int64(ms)
            }
        case .date:
            let day: Int64 = 86_400_000
            // Floor division, without the overflow of `ms - day + 1` near Long.MIN_VALUE.
            return .timestamp(Self.saturatingMultiply(ms / day - (ms % day < 0 ? 1 : 0), day))
        case .time:
            let day: Int64 = 86_400_000
            return .timestamp(((ms % day) + day) % day)
        case .timestamp: return .timestamp(ms)
        }
    }

    /// A unit conversion as Java's `TimeUnit.toMillis`/`toMicros`/`toNanos` makes it: a result beyond a long is
    /// `Long.MAX_VALUE` or `Long.MIN_VALUE` (saturated), never wrapped and never a trap.
    static func saturatingMultiply(_ a: Int64, _ b: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard overflow else { return product }
        return (a < 0) != (b < 0) ? .min : .max
    }

    public func close() {}
}

public final class TimestampConverterKey: TimestampConverter {
    override public class var part: RecordPart { .key }
}

public final class TimestampConverterValue: TimestampConverter {}
