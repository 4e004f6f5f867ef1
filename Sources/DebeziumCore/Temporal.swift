/// Date and time arithmetic on the proleptic Gregorian calendar, in UTC, for the text forms databases send
/// (`2024-02-29`, `04:05:06.789`, `2024-01-02 02:04:05.678+00`) and the ISO-8601 forms Debezium writes.
public enum Temporal {
    /// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
    public static func epochDay(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day since the epoch.
    public static func civil(epochDay: Int) -> (year: Int, month: Int, day: Int) {
        let z = epochDay + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DD` (with ` BC` for years before 1), as days since the epoch.
    public static func parseDate(_ text: Substring) -> Int? {
        var t = text
        var bc = false
        if t.hasSuffix(" BC") {
            bc = true
            t = t.dropLast(3)
        }
        let parts = t.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, var y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        if bc { y = 1 - y }
        return epochDay(year: y, month: m, day: d)
    }

    /// `HH:MM:SS[.ffffff]` as microseconds past midnight (24:00:00 allowed, as PostgreSQL does).
    public static func parseTime(_ text: Substring) -> Int64? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let h = Int64(parts[0]), let m = Int64(parts[1]) else { return nil }
        let secParts = parts[2].split(separator: ".", omittingEmptySubsequences: false)
        guard let s = Int64(secParts[0]) else { return nil }
        var micros: Int64 = 0
        if secParts.count == 2 {
            let digits = secParts[1].prefix(6)
            guard let f = Int64(digits) else { return nil }
            micros = f * Int64(pow10(6 - digits.count))
        }
        return ((h * 60 + m) * 60 + s) * 1_000_000 + micros
    }

    /// A zone offset `+HH`, `-HH:MM`, `+HH:MM:SS` as seconds east of UTC.
    public static func parseOffset(_ text: Substring) -> Int? {
        guard let sign = text.first, sign == "+" || sign == "-" else { return nil }
        let parts = text.dropFirst().split(separator: ":")
        guard !parts.isEmpty, parts.count <= 3 else { return nil }
        var seconds = 0
        for (i, p) in parts.enumerated() {
            guard let v = Int(p) else { return nil }
            seconds += v * [3600, 60, 1][i]
        }
        return sign == "-" ? -seconds : seconds
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff][offset]` (a space or `T` between): microseconds since the epoch, read as UTC
    /// when there is no offset, as Debezium reads a TIMESTAMP without time zone.
    public static func parseTimestamp(_ text: Substring) -> Int64? {
        var t = text
        var bc = false
        if t.hasSuffix(" BC") {
            bc = true
            t = t.dropLast(3)
        }
        guard let sep = t.firstIndex(where: { $0 == " " || $0 == "T" }) else { return nil }
        let datePart = t[..<sep]
        var timePart = t[t.index(after: sep)...]
        var offset = 0
        if let z = timePart.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            guard let o = parseOffset(timePart[z...]) else { return nil }
            offset = o
            timePart = timePart[..<z]
        } else if timePart.hasSuffix("Z") {
            timePart = timePart.dropLast()
        }
        guard let day = parseDate(bc ? Substring(String(datePart) + " BC") : datePart), let micros = parseTime(timePart)
        else {
            return nil
        }
        let (dayMicros, overflow) = Int64(day).multipliedReportingOverflow(by: 86_400_000_000)
        guard !overflow else { return nil }
        let (total, overflow2) = dayMicros.addingReportingOverflow(micros - Int64(offset) * 1_000_000)
        return overflow2 ? nil : total
    }

    /// ISO-8601 in UTC with the fewest fraction digits (`2024-01-02T02:04:05.678Z`, `...:05Z`), as
    /// `DateTimeFormatter.ISO_OFFSET_DATE_TIME` prints a UTC instant.
    public static func isoTimestamp(micros: Int64) -> String {
        let day = Int(floorDiv(micros, 86_400_000_000))
        let (y, m, d) = civil(epochDay: day)
        let year = y < 0 ? "-" + pad(-y, 4) : pad(y, 4)
        return "\(year)-\(pad(m, 2))-\(pad(d, 2))T" + isoTime(micros: floorMod(micros, 86_400_000_000)) + "Z"
    }

    /// `HH:MM:SS[.fraction]` with the fewest fraction digits.
    public static func isoTime(micros: Int64) -> String {
        let total = micros / 1_000_000
        var s = "\(pad(Int(total / 3600), 2)):\(pad(Int(total / 60 % 60), 2)):\(pad(Int(total % 60), 2))"
        var fraction = micros % 1_000_000
        if fraction > 0 {
            var digits = 6
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            s += "." + pad(Int(fraction), digits)
        }
        return s
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { r, _ in r * 10 } }
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    public static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
}
