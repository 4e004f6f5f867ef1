import ConnectAPI

/// Writes JSON exactly as Jackson's default generator does in Connect: no whitespace, keys in order,
/// `"`, `\` and control characters escaped (short forms for \b \t \n \f \r, `\u00XX` otherwise),
/// non-ASCII written as UTF-8, numbers in Java's `toString` form.
public enum JSONWriter {
    public static func string(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    public static func bytes(_ value: JSONValue) -> [UInt8] {
        Array(string(value).utf8)
    }

    public static func write(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): writeFloating(JavaNumberFormat.double(d), finite: d.isFinite, into: &out)
        case .float(let f): writeFloating(JavaNumberFormat.float(f), finite: f.isFinite, into: &out)
        case .decimalText(let t): out += t
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, entry) in object.entries.enumerated() {
                if i > 0 { out += "," }
                writeString(entry.key, into: &out)
                out += ":"
                write(entry.value, into: &out)
            }
            out += "}"
        }
    }

    // Jackson writes NaN and infinities as strings by default (WRITE_NAN_AS_STRINGS).
    private static func writeFloating(_ text: String, finite: Bool, into out: inout String) {
        if finite { out += text } else { out += "\"" + text + "\"" }
    }

    private static let hex: [Character] = Array("0123456789ABCDEF")

    public static func writeString(_ s: String, into out: inout String) {
        out += "\""
        var needsEscape = false
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C {
            needsEscape = true
            break
        }
        if !needsEscape {
            out += s
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\u{08}": out += "\\b"
                case "\t": out += "\\t"
                case "\n": out += "\\n"
                case "\u{0C}": out += "\\f"
                case "\r": out += "\\r"
                case _ where scalar.value < 0x20:
                    out += "\\u00"
                    out.append(hex[Int(scalar.value >> 4)])
                    out.append(hex[Int(scalar.value & 0xF)])
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
