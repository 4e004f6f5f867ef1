import ConnectAPI

/// Java regular-expression behaviour where Connect uses `java.util.regex`: `matches()` is a whole-string match, and
/// replacements refer to groups as `$1` (`\$` is a literal dollar).
///
/// `@unchecked Sendable`: `Regex<AnyRegexOutput>` is not declared `Sendable`, but it is immutable once built and
/// matching does not mutate it, so one value may be matched from several threads.
public struct JavaRegex: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>
    public let pattern: String

    public init(_ pattern: String) throws(ConnectError) {
        self.pattern = pattern
        do {
            regex = try Regex(pattern)
        } catch {
            throw ConnectError(.illegalArgument, "Invalid regex: \(pattern) (\(error))")
        }
    }

    /// Whether the whole string matches (`Matcher.matches()`).
    public func matches(_ text: String) -> Bool {
        (try? regex.wholeMatch(in: text)) != nil
    }

    /// The whole-match replacement (`matcher.matches()` then `replaceFirst`), or nil when the text does not match.
    public func replacingWholeMatch(_ text: String, with replacement: String) -> String? {
        guard let match = try? regex.wholeMatch(in: text) else { return nil }
        var out = ""
        var chars = Array(replacement)[...]
        while let c = chars.popFirst() {
            if c == "\\", let next = chars.popFirst() {
                out.append(next)
            } else if c == "$", let d = chars.first, let n = d.wholeNumberValue {
                chars.removeFirst()
                var group = n
                while let more = chars.first?.wholeNumberValue, group * 10 + more < match.output.count {
                    group = group * 10 + more
                    chars.removeFirst()
                }
                if group < match.output.count, let sub = match.output[group].substring { out += sub }
            } else {
                out.append(c)
            }
        }
        return out
    }
}
