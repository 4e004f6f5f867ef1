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

    /// Appends what `string` returns, as UTF-8 (sinks that write text append it straight to their buffer).
    public static func write(_ value: Value?, into out: inout [UInt8]) {
        guard let value else {
            append("null", to: &out)
            return
        }
        switch value {
        case .int8(let v): writeDecimal(Int64(v), into: &out)
        case .int16(let v): writeDecimal(Int64(v), into: &out)
        case .int32(let v): writeDecimal(Int64(v), into: &out)
        case .int64(let v): writeDecimal(v, into: &out)
        case .float32(let v): out.append(contentsOf: JavaNumberFormat.float(v).utf8)
        case .float64(let v): out.append(contentsOf: JavaNumberFormat.double(v).utf8)
        case .boolean(let v): append(v ? "true" : "false", to: &out)
        case .string(let s): out.append(contentsOf: s.utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { append(", ", to: &out) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .map(let entries):
            out.append(UInt8(ascii: "{"))
            for (i, entry) in entries.enumerated() {
                if i > 0 { append(", ", to: &out) }
                write(entry.key, into: &out)
                out.append(UInt8(ascii: "="))
                write(entry.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .struct(let s): s.write(into: &out)
        case .timestamp(let ms): writeDecimal(ms, into: &out)
        case .bytes, .decimal:
            var text = ""
            write(value, into: &text)
            out.append(contentsOf: text.utf8)
        }
    }

    static func append(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// A decimal integer, as Java's `Long.toString`.
    static func writeDecimal(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // At most 20 digits, written backwards into a stack buffer.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var at = 20
            repeat {
                at -= 1
                digits[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[at..<20]))
        }
    }

    /// Java's `Double.toString` / `Float.toString`.
    private static func javaFloat(_ d: Double, isFloat: Bool, float: Float) -> String {
        isFloat ? JavaNumberFormat.float(float) : JavaNumberFormat.double(d)
    }
}
