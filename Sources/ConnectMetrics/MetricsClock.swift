import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where metrics read the time; tests inject a `ManualClock`.
public protocol MetricsClock: Sendable {
    /// Milliseconds since the epoch.
    func nowMs() -> Int64
}

/// The wall clock.
public struct SystemMetricsClock: MetricsClock {
    public init() {}

    public func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that moves only when told to.
public final class ManualClock: MetricsClock {
    private let now: Mutex<Int64>

    public init(_ start: Int64 = 1_000_000) { now = Mutex(start) }

    public func nowMs() -> Int64 { now.withLock { $0 } }

    public func advance(_ ms: Int64) { now.withLock { $0 += ms } }
}

/// The sampling window of windowed stats (`metrics.sample.window.ms` × `metrics.num.samples`).
public struct MetricConfig: Sendable {
    public var windowMs: Int64
    public var samples: Int
    /// When false, sensors ignore what is recorded (gauges still read live values); for measuring what recording
    /// costs.
    public var recording: Bool

    public init(windowMs: Int64 = 30_000, samples: Int = 2, recording: Bool = true) {
        self.windowMs = max(1, windowMs)
        self.samples = max(1, samples)
        self.recording = recording
    }
}
