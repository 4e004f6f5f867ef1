import Testing

@testable import ConnectRuntime

@Suite("Lag verdicts after Burrow's evaluation")
struct LagVerdictTests {
    func window(_ samples: [(committed: Int64, lag: Int64)]) -> LagWindow {
        var w = LagWindow()
        for (i, s) in samples.enumerated() {
            w.add(LagWindow.Sample(at: Int64(i) * 1_000, committed: s.committed, lag: s.lag), intervalMs: 1_000)
        }
        return w
    }

    @Test("lag 0 anywhere in the window is OK, whatever else happened")
    func ok() {
        #expect(window([(10, 5), (10, 0), (10, 7)]).verdict(sincePollMs: 99_999) == .ok)
        #expect(window([(10, 5), (12, 4)]).verdict(sincePollMs: nil) == .ok)
    }

    @Test("a committed offset going down is REWIND")
    func rewind() {
        #expect(window([(10, 5), (4, 11), (6, 9)]).verdict(sincePollMs: 0) == .rewind)
    }

    @Test("no commit progress with lag: STALL while polling, STOP once polling stopped for the window's span")
    func stallAndStop() {
        let stuck = window([(10, 5), (10, 6), (10, 8)])
        #expect(stuck.verdict(sincePollMs: 100) == .stall)
        #expect(stuck.verdict(sincePollMs: 5_000) == .stop)
        #expect(stuck.verdict(sincePollMs: nil) == .stop)
    }

    @Test("offsets advance but lag never shrinks: WARN; lag shrinking somewhere: OK")
    func warn() {
        #expect(window([(10, 5), (12, 6), (14, 6), (16, 9)]).verdict(sincePollMs: 0) == .warn)
        #expect(window([(10, 5), (12, 6), (14, 4), (16, 9)]).verdict(sincePollMs: 0) == .ok)
    }

    @Test("one sample per interval, the newest view of it kept; the window holds ten")
    func sampling() {
        var w = LagWindow()
        w.add(LagWindow.Sample(at: 0, committed: 1, lag: 9), intervalMs: 1_000)
        w.add(LagWindow.Sample(at: 500, committed: 2, lag: 8), intervalMs: 1_000)
        #expect(w.samples == [LagWindow.Sample(at: 0, committed: 2, lag: 8)])
        for i in 1...20 { w.add(LagWindow.Sample(at: Int64(i) * 1_000, committed: 2, lag: 8), intervalMs: 1_000) }
        #expect(w.samples.count == 10)
        #expect(LagVerdict.stop > LagVerdict.stall && LagVerdict.warn > LagVerdict.ok)
    }
}
