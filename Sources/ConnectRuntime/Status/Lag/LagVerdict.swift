/// A sink partition's or task's lag verdict, after Burrow's consumer-lag evaluation: no thresholds, only how the
/// committed offset and the lag moved over a sliding window of samples.
public enum LagVerdict: String, Sendable, CaseIterable, Comparable {
    /// Lag was 0 at some point in the window, or the window is too short to say otherwise.
    case ok = "OK"
    /// Offsets advance, but lag never shrinks across the window: the sink falls behind.
    case warn = "WARN"
    /// The committed offset went down within the window (offsets were reset or rewound).
    case rewind = "REWIND"
    /// Lag > 0 and the committed offset did not move across the window, while the task is still polling.
    case stall = "STALL"
    /// Lag > 0 and the committed offset did not move, and the task has stopped polling (paused, blocked or dead).
    case stop = "STOP"
    /// The task is FAILED.
    case err = "ERR"

    var severity: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: LagVerdict, b: LagVerdict) -> Bool { a.severity < b.severity }
}

/// The window of one partition: one sample per commit interval, the last `size` kept.
struct LagWindow: Sendable {
    struct Sample: Sendable, Equatable {
        var at: Int64
        var committed: Int64
        var lag: Int64
    }

    static let size = 10
    var samples: [Sample] = []

    /// Adds a sample unless the last one is younger than `intervalMs`.
    mutating func add(_ sample: Sample, intervalMs: Int64) {
        if let last = samples.last, sample.at - last.at < intervalMs {
            // Keep the newest view of the current interval.
            samples[samples.count - 1].lag = sample.lag
            samples[samples.count - 1].committed = sample.committed
            return
        }
        samples.append(sample)
        if samples.count > Self.size { samples.removeFirst(samples.count - Self.size) }
    }

    /// Burrow's rules in order. `sincePollMs`: how long ago the task last polled (nil: never).
    func verdict(sincePollMs: Int64?) -> LagVerdict {
        guard let last = samples.last, let first = samples.first else { return .ok }
        if samples.contains(where: { $0.lag == 0 }) { return .ok }
        for (a, b) in zip(samples, samples.dropFirst()) where b.committed < a.committed { return .rewind }
        // Fewer than three samples say nothing about a trend.
        guard samples.count >= 3 else { return .ok }
        if samples.allSatisfy({ $0.committed == first.committed }) {
            let span = last.at - first.at
            if let since = sincePollMs, since <= span { return .stall }
            return .stop
        }
        let lags = samples.map(\.lag)
        if zip(lags, lags.dropFirst()).allSatisfy({ $0 <= $1 }) && last.lag > first.lag { return .warn }
        return .ok
    }
}

/// A sink task's lag as `/status` shows it (an extension): verdict, largest records lag, age of the oldest
/// uncommitted record.
public struct LagSummary: Sendable, Equatable {
    public var verdict: LagVerdict
    public var records: Double
    public var seconds: Double

    public init(verdict: LagVerdict, records: Double, seconds: Double) {
        self.verdict = verdict
        self.records = records
        self.seconds = seconds
    }
}
