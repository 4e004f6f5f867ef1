import ConnectAPI
import ConnectMetrics
import Synchronization

/// Sink lag per assigned partition, an extension Connect does not have: records after the committed offset, records
/// not yet read, and the age of the oldest record not yet committed. The task thread feeds it (reads, commits, log
/// end offsets); the metrics groups read it.
final class SinkLagTracker: Sendable {
    struct Partition {
        var end: Int64?
        /// When `end` was last learned (0: never).
        var endUpdatedAt: Int64 = 0
        /// The log start offset, where a partition with no committed offset starts when the consumer resets to the
        /// earliest offset (nil otherwise).
        var start: Int64?
        var committed: Int64?
        var position: Int64?
        /// When the partition last had nothing left to commit.
        var caughtUpAt: Int64
        /// Spans of records read and not yet wholly committed, oldest first: one per partition per poll, with the
        /// timestamp of its first record, so memory grows with polls, not with records.
        var pending: [(first: Int64, last: Int64, timestamp: Int64)] = []
        var head = 0
        var group: MetricGroup
        /// Samples for the lag verdict.
        var window = LagWindow()

        /// Where the sink stands: the committed offset, else the next to read, else where it will start reading.
        var base: Int64? { committed ?? position ?? start }
    }

    private let state = Mutex<[TopicPartition: Partition]>([:])
    /// Whether a partition with no committed offset starts at the log start (`auto.offset.reset=earliest`).
    private let startsAtLogStart: Bool
    private let registry: MetricsRegistry
    private let id: ConnectorTaskId
    private let taskGroup: MetricGroup
    private let verdictGroups: [MetricGroup]
    /// One verdict sample per this many milliseconds (the offset commit interval).
    private let sampleIntervalMs: Int64
    /// Milliseconds since the task last polled, nil before its first poll.
    private let sincePoll: @Sendable () -> Int64?

    init(
        registry: MetricsRegistry, id: ConnectorTaskId, sampleIntervalMs: Int64 = 60_000,
        startsAtLogStart: Bool = true, sincePoll: @escaping @Sendable () -> Int64? = { nil }
    ) {
        self.registry = registry
        self.startsAtLogStart = startsAtLogStart
        self.id = id
        self.sampleIntervalMs = Swift.max(1_000, sampleIntervalMs)
        self.sincePoll = sincePoll
        let tags: [(key: String, value: String)] = [("connector", id.connector), ("task", String(id.task))]
        taskGroup = registry.group(ConnectMetricsCatalog.sinkTaskLagGroup, tags: tags)
        var verdictGroups: [MetricGroup] = []
        for v in LagVerdict.allCases where v != .err {
            let g = registry.group(ConnectMetricsCatalog.sinkTaskVerdictGroup, tags: tags + [("verdict", v.rawValue)])
            verdictGroups.append(g)
        }
        self.verdictGroups = verdictGroups
        taskGroup.add("records-lag-max", .gauge { [weak self] in self?.max(\.records) ?? 0 })
        taskGroup.add("lag-seconds-max", .gauge { [weak self] in self?.max(\.seconds) ?? 0 })
        for (g, v) in zip(verdictGroups, LagVerdict.allCases.filter { $0 != .err }) {
            g.add("lag-verdict", .gauge { [weak self] in self?.verdict == v ? 1 : 0 })
        }
    }

    /// The task's verdict: the worst of its partitions'.
    var verdict: LagVerdict {
        let since = sincePoll()
        return state.withLock { s in s.values.map { $0.window.verdict(sincePollMs: since) }.max() ?? .ok }
    }

    /// What `/status` shows for the task: verdict, largest records lag and age.
    var summary: LagSummary {
        LagSummary(verdict: verdict, records: max(\.records), seconds: max(\.seconds))
    }

    /// Takes a verdict sample of a partition (called with every log end or commit update, under the lock).
    private func sample(_ p: inout Partition, now: Int64) {
        guard let end = p.end else { return }
        let committed = p.base ?? end
        p.window.add(
            LagWindow.Sample(at: now, committed: committed, lag: Swift.max(0, end - committed)),
            intervalMs: sampleIntervalMs)
    }

    struct Lag {
        var records: Double
        var unconsumed: Double
        var seconds: Double
    }

    private func lag(_ p: Partition, now: Int64) -> Lag {
        guard let end = p.end else { return Lag(records: .nan, unconsumed: .nan, seconds: .nan) }
        let committed = p.base ?? end
        let records = Swift.max(0, end - committed)
        let unconsumed = Swift.max(0, end - (p.position ?? committed))
        var seconds = 0.0
        if records > 0 {
            let oldest = p.head < p.pending.count ? p.pending[p.head].timestamp : p.caughtUpAt
            seconds = Double(Swift.max(0, now - Swift.min(oldest, now))) / 1000
        }
        return Lag(records: Double(records), unconsumed: Double(unconsumed), seconds: seconds)
    }

    private func read(_ tp: TopicPartition, _ pick: KeyPath<Lag, Double>) -> Double {
        let now = registry.clock.nowMs()
        return state.withLock { s in s[tp].map { lag($0, now: now)[keyPath: pick] } ?? .nan }
    }

    private func max(_ pick: KeyPath<Lag, Double>) -> Double {
        let now = registry.clock.nowMs()
        return state.withLock { s in s.values.map { lag($0, now: now)[keyPath: pick] }.filter { !$0.isNaN }.max() ?? 0 }
    }

    func assigned(_ partitions: [TopicPartition], committed: [TopicPartition: Int64]) {
        let now = registry.clock.nowMs()
        for tp in partitions {
            let group = registry.group(
                ConnectMetricsCatalog.sinkPartitionLagGroup,
                tags: [
                    ("connector", id.connector), ("task", String(id.task)), ("topic", tp.topic),
                    ("partition", String(tp.partition)),
                ])
            group.add("records-lag", .gauge { [weak self] in self?.read(tp, \.records) ?? .nan })
            group.add("unconsumed-records", .gauge { [weak self] in self?.read(tp, \.unconsumed) ?? .nan })
            group.add("lag-seconds", .gauge { [weak self] in self?.read(tp, \.seconds) ?? .nan })
            state.withLock { $0[tp] = Partition(committed: committed[tp], caughtUpAt: now, group: group) }
        }
    }

    func revoked(_ partitions: [TopicPartition]) {
        let groups = state.withLock { s in partitions.compactMap { s.removeValue(forKey: $0)?.group } }
        for g in groups { registry.remove(g) }
    }

    /// The records one poll read from a partition: first and last offset, and the first record's timestamp.
    struct ReadSpan {
        var first: Int64
        var last: Int64
        var timestamp: Int64?
    }

    /// Notes what one poll read. The age of a partition's oldest uncommitted record is then known to the precision
    /// of a poll (never underestimated).
    func recordReads(_ reads: [TopicPartition: ReadSpan]) {
        guard !reads.isEmpty else { return }
        let now = registry.clock.nowMs()
        state.withLock { s in
            for (tp, span) in reads where s[tp] != nil {
                s[tp]!.pending.append((span.first, span.last, span.timestamp ?? now))
                s[tp]!.position = span.last + 1
            }
        }
    }

    func recordCommitted(_ offsets: [TopicPartition: Int64]) {
        let now = registry.clock.nowMs()
        state.withLock { s in
            for (tp, offset) in offsets {
                guard var p = s[tp] else { continue }
                p.committed = offset
                // A span leaves once all its records are committed (the committed offset is the next to read).
                while p.head < p.pending.count && p.pending[p.head].last < offset { p.head += 1 }
                if p.head > 64 && p.head * 2 > p.pending.count {
                    p.pending.removeFirst(p.head)
                    p.head = 0
                }
                if let end = p.end, offset >= end { p.caughtUpAt = now }
                sample(&p, now: now)
                s[tp] = p
            }
        }
    }

    /// A log end offset; `start`, the log start offset, when the consumer starts from it.
    func recordEnd(_ tp: TopicPartition, _ end: Int64, start: Int64? = nil) {
        let now = registry.clock.nowMs()
        state.withLock { s in
            guard var p = s[tp] else { return }
            if startsAtLogStart, p.start == nil, let start, start >= 0 { p.start = start }
            // The log end only grows; a smaller answer is a stale or approximate one (some brokers report the
            // last batch's base offset), and must not make a lagging partition look caught up.
            let end = Swift.max(end, p.end ?? end)
            if (p.base ?? end) >= end { p.caughtUpAt = now }
            p.end = end
            p.endUpdatedAt = now
            sample(&p, now: now)
            s[tp] = p
        }
    }

    var partitions: [TopicPartition] { state.withLock { Array($0.keys) } }

    /// Partitions whose log end the task has not refreshed for `ms` (the task thread is stuck in `put` or `flush`,
    /// so only someone else can keep the lag and its verdict true).
    func stalePartitions(olderThanMs ms: Int64) -> [TopicPartition] {
        let now = registry.clock.nowMs()
        return state.withLock { s in s.filter { now - $0.value.endUpdatedAt > ms }.map(\.key) }
    }

    func close() {
        revoked(partitions)
        registry.remove(taskGroup)
        for g in verdictGroups { registry.remove(g) }
    }
}
