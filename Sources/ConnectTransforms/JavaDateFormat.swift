import ConnectAPI
import Foundation

/// Java's `SimpleDateFormat` patterns in UTC, as Connect's `TimestampConverter` and `TimestampRouter` use them:
/// `y M d H h k K m s S E a D z Z X G` and quoted literals (`'T'`, `''`).
public struct JavaDateFormat: Sendable {
    enum Token: Sendable, Equatable {
        case literal(String)
        case field(Character, Int)
    }

    public let pattern: String
    let tokens: [Token]

    static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
        "December",
    ]
    static let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let letters: Set<Character> = [
        "G", "y", "Y", "M", "L", "d", "D", "E", "u", "a", "H", "k", "K", "h", "m", "s", "S", "z", "Z", "X", "w", "W",
        "F",
    ]

    public init(_ pattern: String) throws(ConnectError) {
        self.pattern = pattern
        var tokens: [Token] = []
        var chars = Array(pattern)[...]
        while let c = chars.first {
            if c == "'" {
                chars.removeFirst()
                if chars.first == "'" {
                    chars.removeFirst()
                    tokens.append(.literal("'"))
                    continue
                }
                var text = ""
                while let d = chars.first {
                    chars.removeFirst()
                    if d == "'" {
                        if chars.first == "'" {
                            chars.removeFirst()
                            text.append("'")
                            continue
                        }
                        break
                    }
                    text.append(d)
                }
                tokens.append(.literal(text))
            } else if c.isLetter {
                guard Self.letters.contains(c) else {
                    throw ConnectError(.illegalArgument, "Illegal pattern character '\(c)'")
                }
                var n = 0
                while chars.first == c {
                    chars.removeFirst()
                    n += 1
                }
                tokens.append(.field(c, n))
            } else {
                chars.removeFirst()
                tokens.append(.literal(String(c)))
            }
        }
        self.tokens = tokens
    }

    static var utc: Calendar {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        return cal
    }

    /// Formats milliseconds since the epoch.
    public func format(_ ms: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let c = Self.utc.dateComponents([.era, .year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let millis = Int(((ms % 1000) + 1000) % 1000)
        let dayOfYear = Self.utc.ordinality(of: .day, in: .year, for: date) ?? 1
        var out = ""
        for t in tokens {
            switch t {
            case .literal(let s): out += s
            case .field(let f, let n):
                let hour = c.hour ?? 0
                switch f {
                case "G": out += (c.era ?? 1) == 1 ? "AD" : "BC"
                case "y", "Y": out += n == 2 ? pad((c.year ?? 0) % 100, 2) : pad(c.year ?? 0, n)
                case "M", "L":
                    let m = c.month ?? 1
                    out += n >= 4 ? Self.months[m - 1] : n == 3 ? String(Self.months[m - 1].prefix(3)) : pad(m, n)
                case "d": out += pad(c.day ?? 1, n)
                case "D": out += pad(dayOfYear, n)
                case "E":
                    let d = Self.days[(c.weekday ?? 1) - 1]
                    out += n >= 4 ? d : String(d.prefix(3))
                case "u": out += pad(((c.weekday ?? 1) + 5) % 7 + 1, n)
                case "a": out += hour < 12 ? "AM" : "PM"
                case "H": out += pad(hour, n)
                case "k": out += pad(hour == 0 ? 24 : hour, n)
                case "K": out += pad(hour % 12, n)
                case "h": out += pad(hour % 12 == 0 ? 12 : hour % 12, n)
                case "m": out += pad(c.minute ?? 0, n)
                case "s": out += pad(c.second ?? 0, n)
                case "S": out += pad(millis, n)
                case "z": out += n >= 4 ? "Coordinated Universal Time" : "UTC"
                case "Z": out += "+0000"
                case "X": out += "Z"
                default: out += ""
                }
            }
        }
        return out
    }

    private func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
    }

    /// Parses text into milliseconds since the epoch (UTC), as `SimpleDateFormat.parse` with lenient numbers.
    public func parse(_ text: String) throws(ConnectError) -> Int64 {
        var chars = Array(text)[...]
        var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0, pm: Bool?
        var offsetSeconds = 0
        func fail() -> ConnectError {
            ConnectError(.illegalArgument, "Unparseable date: \"\(text)\"")
        }
        func number(_ maxDigits: Int) throws(ConnectError) -> Int {
            var digits = ""
            if chars.first == "-" || chars.first == "+" { digits.append(chars.removeFirst()) }
            while let c = chars.first, c.isNumber, digits.count < maxDigits {
                digits.append(c)
                chars.removeFirst()
            }
            guard let v = Int(digits) else { throw fail() }
            return v
        }
        for (i, t) in tokens.enumerated() {
            // A numeric field directly followed by another numeric field takes exactly its width.
            let nextIsNumeric: Bool = {
                if i + 1 < tokens.count, case .field(let f, _) = tokens[i + 1] { return "yMdHhkKmsSD".contains(f) }
                return false
            }()
            switch t {
            case .literal(let s):
                for expected in s {
                    guard chars.first == expected else { throw fail() }
                    chars.removeFirst()
                }
            case .field(let f, let n):
                let width = nextIsNumeric ? n : 10
                switch f {
                case "y", "Y":
                    year = try number(n == 2 ? 2 : width)
                    if n == 2 && year < 100 { year += 2000 }
                case "M", "L":
                    if n >= 3 {
                        guard
                            let m = Self.months.firstIndex(where: { name in
                                let candidate = n >= 4 ? name : String(name.prefix(3))
                                return String(chars.prefix(candidate.count)).lowercased() == candidate.lowercased()
                            })
                        else { throw fail() }
                        chars.removeFirst(n >= 4 ? Self.months[m].count : 3)
                        month = m + 1
                    } else {
                        month = try number(width)
                    }
                case "d": day = try number(width)
                case "D": day = try number(width)
                case "H", "k": hour = try number(width) % 24
                case "h", "K": hour = try number(width) % 12
                case "m": minute = try number(width)
                case "s": second = try number(width)
                case "S": millis = try number(width)
                case "a":
                    let s = String(chars.prefix(2)).uppercased()
                    guard s == "AM" || s == "PM" else { throw fail() }
                    pm = s == "PM"
                    chars.removeFirst(2)
                case "E":
                    guard
                        let d = Self.days.first(where: {
                            String(chars.prefix($0.count)).lowercased() == $0.lowercased()
                        })
                            ?? Self.days.first(where: {
                                String(chars.prefix(3)).lowercased() == $0.prefix(3).lowercased()
                            })
                    else { throw fail() }
                    chars.removeFirst(String(chars.prefix(d.count)).lowercased() == d.lowercased() ? d.count : 3)
                case "z", "Z", "X":
                    if chars.first == "Z" {
                        chars.removeFirst()
                    } else if chars.starts(with: "UTC") || chars.starts(with: "GMT") {
                        chars.removeFirst(3)
                    } else if let sign = chars.first, sign == "+" || sign == "-" {
                        chars.removeFirst()
                        var digits = ""
                        while let c = chars.first, c.isNumber || c == ":" {
                            if c != ":" { digits.append(c) }
                            chars.removeFirst()
                        }
                        // `hh`, `hhmm` or `hh:mm`, as Java's zone patterns read them; longer is no offset.
                        guard digits.count <= 4, let v = Int(digits) else { throw fail() }
                        let h = digits.count <= 2 ? v : v / 100
                        let m = digits.count <= 2 ? 0 : v % 100
                        offsetSeconds = (sign == "-" ? -1 : 1) * (h * 3600 + m * 60)
                    } else {
                        throw fail()
                    }
                default: throw fail()
                }
            }
        }
        if pm == true && hour < 12 { hour += 12 }
        var comps = DateComponents()
        comps.year = year
        comps.month = month
        comps.day = day
        comps.hour = hour
        comps.minute = minute
        comps.second = second
        if case .field("D", _)? = tokens.first(where: {
            if case .field("D", _) = $0 { return true } else { return false }
        }) {
            comps.month = 1
        }
        // A lenient field can put the instant beyond a long of milliseconds (a ten-digit year): unparseable, never a
        // trap in the conversion.
        guard let date = Self.utc.date(from: comps),
            let base = Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded()),
            case (let withMillis, false) = base.addingReportingOverflow(Int64(millis)),
            case (let instant, false) = withMillis.subtractingReportingOverflow(Int64(offsetSeconds) * 1000)
        else { throw fail() }
        return instant
    }
}
