/// Java's `Double.toString` / `Float.toString` (JDK 19+, shortest digits), which Jackson uses for JSON numbers and
/// Connect uses when it turns a number into a string. Plain notation for 10^-3 <= |x| < 10^7, otherwise
/// computerized scientific notation (`1.0E7`, `1.0E-4`); always at least one digit after the point.
public enum JavaNumberFormat {
    public static func double(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        return format(description: d.description, magnitude: abs(d))
    }

    public static func float(_ f: Float) -> String {
        if f.isNaN { return "NaN" }
        if f.isInfinite { return f < 0 ? "-Infinity" : "Infinity" }
        if f == 0 { return f.sign == .minus ? "-0.0" : "0.0" }
        return format(description: f.description, magnitude: Double(abs(f)))
    }

    /// `-?[0-9]+\.[0-9]+`: no exponent.
    private static func isPlainDecimal(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var point = false
            var digitsAfterPoint = 0
            for i in bytes.indices {
                switch bytes[i] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): if point { digitsAfterPoint += 1 }
                case UInt8(ascii: "."): if point || i == 0 { return false } else { point = true }
                case UInt8(ascii: "-") where i == 0: continue
                default: return false
                }
            }
            return digitsAfterPoint > 0
        }
    }

    /// Re-lays Swift's shortest round-trip digits (`1.5e-05`, `123.25`) in Java's layout.
    private static func format(description: String, magnitude: Double) -> String {
        // Between 10^-3 and 10^7 Java and Swift both write the shortest digits in plain notation with at least one
        // digit after the point (`0.001`, `5.0`, `123.25`): the same text.
        if magnitude >= 1e-3 && magnitude < 1e7 && isPlainDecimal(description) { return description }
        return relaid(description: description, magnitude: magnitude)
    }

    /// Java's layout of any of Swift's descriptions: the straightforward path `format` shortcuts.
    static func relaid(description: String, magnitude: Double) -> String {
        var text = Substring(description)
        var negative = false
        if text.first == "-" {
            negative = true
            text = text.dropFirst()
        }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        // Split into a digit string and the position of the decimal point within it.
        var digits = ""
        var pointPosition = 0
        if let dot = text.firstIndex(of: ".") {
            let intPart = text[..<dot]
            let fracPart = text[text.index(after: dot)...]
            digits = String(intPart) + String(fracPart)
            pointPosition = intPart.count
        } else {
            digits = String(text)
            pointPosition = digits.count
        }
        pointPosition += exponent
        // Strip leading zeros (adjusting the point) and trailing zeros.
        while digits.count > 1 && digits.first == "0" {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.count > 1 && digits.last == "0" {
            digits.removeLast()
        }
        var result = negative ? "-" : ""
        if magnitude >= 1e-3 && magnitude < 1e7 {
            if pointPosition <= 0 {
                result += "0." + String(repeating: "0", count: -pointPosition) + digits
            } else if pointPosition >= digits.count {
                result += digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
            } else {
                let i = digits.index(digits.startIndex, offsetBy: pointPosition)
                result += digits[..<i] + "." + digits[i...]
            }
        } else {
            let first = digits.prefix(1)
            let rest = digits.dropFirst()
            result += first + "." + (rest.isEmpty ? "0" : rest) + "E" + String(pointPosition - 1)
        }
        return result
    }
}
