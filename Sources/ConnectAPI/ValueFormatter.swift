/// Renders values as Connect's `Values.convertToString` and Java's `toString` do (used by sinks that write text,
/// such as FileStreamSink, and by log lines).
public enum ValueFormatter {
    public static func string(_ value: Value?) -> String {
        if case .string(let s)? = value { return s }
        var out = ""
        write(value, into: &out)
        return out
    }

    /// Appends what `string` returns.
    public static func write(_ value: Value?, into out: inout String) {
        guard let value else {
            out += "null"
            return
        }
        switch value {
        case .int8(let v): out += String(v)
        case .int16(let v): out += String(v)
        case .int32(let v): out += String(v)
        case .int64(let v): out += String(v)
        case .float32(let v): out += javaFloat(Double(v), isFloat: true, float: v)
        case .float64(let v): out += javaFloat(v, isFloat: false, float: 0)
        case .boolean(let v): out += v ? "true" : "false"
        case .string(let s): out += s
        case .bytes(let b): out += "[B@" + String(b.count, radix: 16)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                write(item, into: &out)
            }
            out += "]"
        case .map(let entries):
            out += "{"
            for (i, entry) in entries.enumerated() {
                if i > 0 { out += ", " }
                write(entry.key, into: &out)
                out += "="
                write(entry.value, into: &out)
            }
            out += "}"
        case .struct(let s): s.write(into: &out)
        case .decimal(let d): out += d.javaString
        case .timestamp(let ms): out += String(ms)
        }
    }

    /// Java's `Double.toString` / `Float.toString`.
    private static func javaFloat(_ d: Double, isFloat: Bool, float: Float) -> String {
        isFloat ? JavaNumberFormat.float(float) : JavaNumberFormat.double(d)
    }
}
