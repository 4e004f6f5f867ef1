/// Renders values as Connect's `Values.convertToString` and Java's `toString` do (used by sinks that write text,
/// such as FileStreamSink, and by log lines).
public enum ValueFormatter {
    public static func string(_ value: Value?) -> String {
        guard let value else { return "null" }
        switch value {
        case .int8(let v): return String(v)
        case .int16(let v): return String(v)
        case .int32(let v): return String(v)
        case .int64(let v): return String(v)
        case .float32(let v): return javaFloat(Double(v), isFloat: true, float: v)
        case .float64(let v): return javaFloat(v, isFloat: false, float: 0)
        case .boolean(let v): return v ? "true" : "false"
        case .string(let s): return s
        case .bytes(let b): return "[B@" + String(b.count, radix: 16)
        case .array(let items): return "[" + items.map { string($0) }.joined(separator: ", ") + "]"
        case .map(let entries):
            return "{" + entries.map { string($0.key) + "=" + string($0.value) }.joined(separator: ", ") + "}"
        case .struct(let s): return s.description
        case .decimal(let d): return d.javaString
        case .timestamp(let ms): return String(ms)
        }
    }

    /// Java's `Double.toString` / `Float.toString`.
    private static func javaFloat(_ d: Double, isFloat: Bool, float: Float) -> String {
        isFloat ? JavaNumberFormat.float(float) : JavaNumberFormat.double(d)
    }
}
