import ConnectMetrics
import Testing

@Suite("Stats with Kafka's semantics, on an injected clock")
struct SensorTests {
    let clock = ManualClock()
    var sensor: Sensor { Sensor(config: MetricConfig(windowMs: 30_000, samples: 2), clock: clock) }

    @Test("an empty window reads NaN for avg, max and min, 0 for rates and ratios, 0 for totals")
    func empty() {
        let s = sensor
        #expect(s.measure(.avg).isNaN)
        #expect(s.measure(.max).isNaN)
        #expect(s.measure(.min).isNaN)
        #expect(s.measure(.value).isNaN)
        #expect(s.measure(.rate) == 0)
        #expect(s.measure(.trueRatio) == 0)
        #expect(s.measure(.total) == 0)
        #expect(s.measure(.count) == 0)
    }

    @Test("with recording off a sensor keeps its initial values")
    func recordingOff() {
        let s = Sensor(config: MetricConfig(windowMs: 30_000, samples: 2, recording: false), clock: clock)
        s.record(7)
        #expect(s.measure(.total) == 0)
        #expect(s.measure(.count) == 0)
        #expect(s.measure(.max).isNaN)
    }

    @Test("avg, max, min and totals over recorded values")
    func basic() {
        let s = sensor
        for v in [2.0, 8.0, 5.0] { s.record(v) }
        #expect(s.measure(.avg) == 5)
        #expect(s.measure(.max) == 8)
        #expect(s.measure(.min) == 2)
        #expect(s.measure(.total) == 15)
        #expect(s.measure(.count) == 3)
        #expect(s.measure(.value) == 5)
    }

    @Test("rate divides by at least (samples - 1) windows while young, as Kafka's Rate")
    func youngRate() {
        let s = sensor
        for _ in 0..<30 { s.record() }
        clock.advance(10_000)
        // 30 events; elapsed 10 s is padded by one full window: 40 s.
        #expect(s.measure(.rate) == 30.0 / 40.0)
        clock.advance(30_000)
        s.record()
        // Elapsed 40 s since the oldest sample, already past one full window.
        #expect(s.measure(.rate) == 31.0 / 40.0)
    }

    @Test("values older than samples × window drop out of windowed stats but stay in totals")
    func rollOver() {
        let s = sensor
        s.record(100)
        clock.advance(30_000)
        s.record(1)
        #expect(s.measure(.max) == 100)
        clock.advance(30_000)
        s.record(3)
        // The 100 was recorded 60 s ago: obsolete.
        #expect(s.measure(.max) == 3)
        #expect(s.measure(.avg) == 2)
        clock.advance(60_000)
        #expect(s.measure(.avg).isNaN)
        #expect(s.measure(.total) == 104)
    }

    @Test("boolean frequencies are ratios from 0 to 1")
    func ratios() {
        let s = sensor
        for ok in [true, true, true, false] { s.record(ok ? 1 : 0) }
        #expect(s.measure(.trueRatio) == 0.75)
        #expect(s.measure(.falseRatio) == 0.25)
    }
}
