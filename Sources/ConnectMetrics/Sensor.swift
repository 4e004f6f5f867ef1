import Synchronization

/// How a metric reads a sensor, with Kafka's semantics.
public enum StatKind: Sendable {
    /// Sum of recorded values per second over the window (`Rate`).
    case rate
    /// Mean of the values in the window; NaN when empty (`Avg`).
    case avg
    /// Largest value in the window; NaN when empty (`Max`).
    case max
    /// Smallest value in the window; NaN when empty (`Min`).
    case min
    /// Sum of every value ever recorded (`CumulativeSum`).
    case total
    /// Number of recordings ever (`CumulativeCount`).
    case count
    /// The last value recorded (`Value`); NaN before the first.
    case value
    /// Share of recordings equal to 1 in the window, from 0 to 1 (`Frequencies.forBooleanValues`, true); 0 when empty.
    case trueRatio
    /// Share of recordings equal to 0 in the window, from 0 to 1; 0 when empty.
    case falseRatio
}

/// Records values into samples of a rolling window and into cumulative totals; every stat of `StatKind` is derived
/// from the same state. Recording is one uncontended lock and a few arithmetic operations.
public final class Sensor: Sendable {
    struct Sample {
        var start: Int64
        var count: Int64 = 0
        var sum: Double = 0
        var max = -Double.infinity
        var min = Double.infinity
    }

    struct State {
        var samples: [Sample]
        var current = 0
        var total: Double = 0
        var count: Int64 = 0
        var last = Double.nan
    }

    private let state: Mutex<State>
    let config: MetricConfig
    let clock: any MetricsClock

    public init(config: MetricConfig = MetricConfig(), clock: any MetricsClock = SystemMetricsClock()) {
        self.config = config
        self.clock = clock
        state = Mutex(State(samples: [Sample(start: clock.nowMs())]))
    }

    /// Records one value (1 by default: an event).
    public func record(_ value: Double = 1) {
        guard config.recording else { return }
        let now = clock.nowMs()
        let windowMs = config.windowMs
        let samples = config.samples
        state.withLock { s in
            if now - s.samples[s.current].start >= windowMs {
                // Roll to the next sample slot, reusing the oldest.
                s.current = (s.current + 1) % samples
                if s.current == s.samples.count {
                    s.samples.append(Sample(start: now))
                } else {
                    s.samples[s.current] = Sample(start: now)
                }
            }
            s.samples[s.current].count += 1
            s.samples[s.current].sum += value
            if value > s.samples[s.current].max { s.samples[s.current].max = value }
            if value < s.samples[s.current].min { s.samples[s.current].min = value }
            s.total += value
            s.count += 1
            s.last = value
        }
    }

    /// Reads one stat.
    public func measure(_ kind: StatKind) -> Double { measure(kind, at: clock.nowMs()) }

    /// Reads one stat as of `now` (milliseconds of the sensor's clock): a render of many sensors reads the clock once.
    public func measure(_ kind: StatKind, at now: Int64) -> Double {
        let windowMs = config.windowMs
        let samplesCount = config.samples
        return state.withLock { s in
            switch kind {
            case .total: return s.total
            case .count: return Double(s.count)
            case .value: return s.last
            default: break
            }
            // Samples older than the whole window are obsolete.
            // One pass over the live samples (those younger than the whole window), without allocating.
            var count: Int64 = 0
            var sum = 0.0
            var maxValue = -Double.infinity
            var minValue = Double.infinity
            var oldest = now
            for sample in s.samples where now - sample.start < windowMs * Int64(samplesCount) {
                count += sample.count
                sum += sample.sum
                if sample.count > 0 {
                    if sample.max > maxValue { maxValue = sample.max }
                    if sample.min < minValue { minValue = sample.min }
                }
                if sample.start < oldest { oldest = sample.start }
            }
            switch kind {
            case .avg: return count == 0 ? .nan : sum / Double(count)
            case .max: return count == 0 ? .nan : maxValue
            case .min: return count == 0 ? .nan : minValue
            case .trueRatio: return count == 0 ? 0 : sum / Double(count)
            case .falseRatio: return count == 0 ? 0 : 1 - sum / Double(count)
            case .rate:
                // Kafka's Rate: time since the oldest live sample, padded to (samples - 1) full windows while young.
                var elapsed = now - oldest
                let fullWindows = elapsed / windowMs
                let minimumFull = Int64(samplesCount - 1)
                if fullWindows < minimumFull { elapsed += (minimumFull - fullWindows) * windowMs }
                return elapsed <= 0 ? 0 : sum / (Double(elapsed) / 1000)
            default: return .nan
            }
        }
    }
}
