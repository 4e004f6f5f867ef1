import ConnectAPI

/// Parses Java `.properties` text: `key=value`, `key: value` or `key value`; `#` and `!` comments; a trailing `\`
/// continues the line; `\t`, `\n`, `\r`, `\f`, `\uXXXX` and escaped separators are unescaped.
public enum PropertiesParser {
    public static func parse(_ text: String, source: String = "properties") throws(ConnectError) -> [String: String] {
        var result: [String: String] = [:]
        var logical = ""
        var lineNumber = 0
        var startLine = 0
        let lines = text.split(
            omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        for raw in lines {
            lineNumber += 1
            var line = Substring(raw)
            if logical.isEmpty {
                line = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
                if line.isEmpty || line.first == "#" || line.first == "!" { continue }
                startLine = lineNumber
            } else {
                line = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
            }
            // An odd number of trailing backslashes continues the line.
            let trailing = line.reversed().prefix { $0 == "\\" }.count
            if trailing % 2 == 1 {
                logical += line.dropLast()
                continue
            }
            logical += line
            let (key, value) = try split(logical, source: source, line: startLine)
            result[key] = value
            logical = ""
        }
        if !logical.isEmpty {
            let (key, value) = try split(logical, source: source, line: startLine)
            result[key] = value
        }
        return result
    }

    private static func split(_ line: String, source: String, line number: Int) throws(ConnectError) -> (String, String)
    {
        let chars = Array(line)
        var i = 0
        var keyChars: [Character] = []
        while i < chars.count {
            let c = chars[i]
            if c == "\\" && i + 1 < chars.count {
                keyChars.append(c)
                keyChars.append(chars[i + 1])
                i += 2
                continue
            }
            if c == "=" || c == ":" || c == " " || c == "\t" || c == "\u{0C}" { break }
            keyChars.append(c)
            i += 1
        }
        // Skip whitespace, at most one separator, then whitespace.
        while i < chars.count && (chars[i] == " " || chars[i] == "\t" || chars[i] == "\u{0C}") { i += 1 }
        if i < chars.count && (chars[i] == "=" || chars[i] == ":") { i += 1 }
        while i < chars.count && (chars[i] == " " || chars[i] == "\t" || chars[i] == "\u{0C}") { i += 1 }
        let key = try unescape(keyChars[...], source: source, line: number)
        let value = try unescape(chars[i...], source: source, line: number)
        return (key, value)
    }

    private static func unescape(
        _ chars: ArraySlice<Character>, source: String, line: Int
    ) throws(ConnectError) -> String {
        var out = ""
        var i = chars.startIndex
        while i < chars.endIndex {
            let c = chars[i]
            guard c == "\\", i + 1 < chars.endIndex else {
                out.append(c)
                i += 1
                continue
            }
            let e = chars[i + 1]
            i += 2
            switch e {
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "f": out.append("\u{0C}")
            case "u":
                guard i + 4 <= chars.endIndex, let v = UInt32(String(chars[i..<(i + 4)]), radix: 16),
                    let s = Unicode.Scalar(v)
                else {
                    throw ConnectError.config("Malformed \\uxxxx encoding in \(source) at line \(line)")
                }
                out.unicodeScalars.append(s)
                i += 4
            default: out.append(e)
            }
        }
        return out
    }
}
