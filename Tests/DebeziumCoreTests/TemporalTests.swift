import DebeziumCore
import Testing

@Suite("Dates and times as databases send them and Debezium writes them")
struct TemporalTests {
    @Test("days since the epoch round-trip through civil dates, before and after 1970")
    func epochDays() {
        #expect(Temporal.epochDay(year: 1970, month: 1, day: 1) == 0)
        #expect(Temporal.epochDay(year: 2024, month: 2, day: 29) == 19782)
        #expect(Temporal.epochDay(year: 1969, month: 12, day: 31) == -1)
        for day in [-800_000, -1, 0, 1, 19782, 2_932_896] {
            let c = Temporal.civil(epochDay: day)
            #expect(Temporal.epochDay(year: c.year, month: c.month, day: c.day) == day)
        }
    }

    @Test("timestamps read as UTC unless they carry an offset; ISO output keeps the fewest fraction digits")
    func timestamps() {
        #expect(Temporal.parseTimestamp("2018-06-20 15:13:16.945104") == 1_529_507_596_945_104)
        #expect(
            Temporal.parseTimestamp("2024-01-02 04:04:05.678+02") == Temporal.parseTimestamp("2024-01-02 02:04:05.678"))
        #expect(Temporal.parseTimestamp("2024-01-02 02:04:05+05:30") == Temporal.parseTimestamp("2024-01-01 20:34:05"))
        #expect(
            Temporal.isoTimestamp(micros: Temporal.parseTimestamp("2024-01-02 02:04:05.678")!)
                == "2024-01-02T02:04:05.678Z")
        #expect(
            Temporal.isoTimestamp(micros: Temporal.parseTimestamp("2024-01-02 02:04:05")!) == "2024-01-02T02:04:05Z")
        #expect(Temporal.isoTimestamp(micros: -1) == "1969-12-31T23:59:59.999999Z")
        #expect(Temporal.parseTime("04:05:06.5") == 14_706_500_000)
        #expect(Temporal.parseDate("not a date") == nil)
    }
}
