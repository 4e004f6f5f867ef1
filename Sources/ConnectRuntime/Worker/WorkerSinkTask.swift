import ConnectAPI
import ConnectMetrics
import Foundation
import Kafka
import Logging
import Synchronization

/// Runs a sink task: consume → convert → transforms → `put` → `preCommit` (flush) → commit consumer offsets.
/// Converters and transforms run under the connector's error handling (`errors.tolerance`, retries, the error log,
/// the dead letter queue). Only offsets of records that were put and flushed, filtered, or skipped (and, when
/// dead-lettered, acknowledged by the DLQ) are committed, and never past a record still waiting; a retriable `put`
/// failure pauses the partitions and redelivers the same batch with backoff, up to `errors.retry.timeout` when it is
/// positive (`WorkerSinkTask`).
///
/// `@unchecked Sendable` as `WorkerTask`: every stored property added here is the task thread's alone, but for what
/// other threads reach through thread-safe types: the `Context`'s requests (a `Mutex`: the plug-in may call its
/// context from its own threads), the errant record reporter with the retry operator and the DLQ reporter behind it
/// (a connector's threads), and the `SinkLagTracker` (the lag watchdog's thread).
final class WorkerSinkTask: WorkerTask, @unchecked Sendable {
    /// What the plug-in task may ask for; requests are applied by the task thread between polls.
    final class Context: SinkTaskContext {
        let configs: [String: String]
        struct Requests {
            var assignment: Set<TopicPartition> = []
            var pause: Set<TopicPartition> = []
            var resume: Set<TopicPartition> = []
            var seeks: [TopicPartition: Int64] = [:]
            var commit = false
        }
        let requests = Mutex(Requests())

        /// Set when the connector has a DLQ or the error log.
        let errantRecordReporter: (any ErrantRecordReporter)?
        let mbeanServer: (any PluginMBeanServer)?

        init(
            configs: [String: String], errantRecordReporter: (any ErrantRecordReporter)?,
            mbeanServer: (any PluginMBeanServer)?
        ) {
            self.configs = configs
            self.errantRecordReporter = errantRecordReporter
            self.mbeanServer = mbeanServer
        }

        func assignment() -> Set<TopicPartition> { requests.withLock { $0.assignment } }
        func pause(_ partitions: [TopicPartition]) { requests.withLock { $0.pause.formUnion(partitions) } }
        func resume(_ partitions: [TopicPartition]) { requests.withLock { $0.resume.formUnion(partitions) } }
        func offset(_ partition: TopicPartition, _ offset: Int64) { requests.withLock { $0.seeks[partition] = offset } }
        func requestCommit() { requests.withLock { $0.commit = true } }
    }

    private let task: any SinkTask
    private let taskConfig: [String: String]
    private let consumer: KafkaConsumer
    private let topics: [String]
    private let converters: TaskConverters
    private let chain: TransformationChain
    private let commitIntervalMs: Int64
    private let maxPollRecords: Int
    private let context: Context

    private var assigned: Set<TopicPartition> = []
    /// Next offset to consume, per partition, for records already put.
    private var currentOffsets: [TopicPartition: Int64] = [:]
    private var lastCommitted: [TopicPartition: Int64] = [:]
    /// Where consumption of each partition started: its committed offset at assignment, else the first offset read.
    /// A failed flush rewinds partitions never committed since to here.
    private var startOffsets: [TopicPartition: Int64] = [:]
    /// Records put or filtered per partition since its last commit (for the `committed` funnel stage).
    private var doneSinceCommit: [TopicPartition: Int] = [:]
    private var nextCommit = ContinuousClock.now
    /// A record consumed and converted but not yet put, with the consumed bytes it came from (for the DLQ).
    struct Pending {
        var record: SinkRecord
        var raw: KafkaMessage
    }

    /// Records consumed but not yet put successfully (a retriable `put` failure keeps them here for redelivery;
    /// records that arrive while paused wait here too, so nothing consumed is ever skipped).
    private var backlog: [Pending] = []
    private var pausedForRetry = false
    /// Retriable `put` failures in a row, when to try again, and when to give up.
    private var putRetry: (attempt: Int, deadline: Int64)?
    private var nextPutAttempt = ContinuousClock.now
    private let errors: RetryWithToleranceOperator
    private let dlq: DeadLetterQueueReporter?
    /// What the task's errant records go to, when the connector has a DLQ or the error log.
    private let errantReporter: WorkerErrantRecordReporter?
    /// How long stopping waits for the dead letter queue to acknowledge its writes.
    private let flushTimeoutMs: Int64
    private var started = false
    private let lag: SinkLagTracker
    private let lagWatchdog: SinkLagWatchdog?
    private var nextLagRefresh = ContinuousClock.now
    /// How often log end offsets are asked of the broker for the lag metrics.
    static let lagRefreshInterval = Duration.seconds(2)

    init(
        id: ConnectorTaskId, task: any SinkTask, taskConfig: [String: String], consumer: KafkaConsumer,
        topics: [String],
        converters: TaskConverters, chain: TransformationChain, commitIntervalMs: Int64, maxPollRecords: Int,
        initialState: TargetState, listener: any StatusListener, metrics: TaskMetrics, logger: Logger,
        errors: RetryWithToleranceOperator, dlq: DeadLetterQueueReporter?, lagWatchdog: SinkLagWatchdog? = nil,
        startsAtLogStart: Bool = true, flushTimeoutMs: Int64 = 5000
    ) {
        self.flushTimeoutMs = flushTimeoutMs
        self.lagWatchdog = lagWatchdog
        self.task = task
        self.taskConfig = taskConfig
        self.consumer = consumer
        self.topics = topics
        self.converters = converters
        self.chain = chain
        self.commitIntervalMs = commitIntervalMs
        self.maxPollRecords = maxPollRecords
        let reporter = errors.config.enablesErrantRecordReporter ? WorkerErrantRecordReporter(errors: errors) : nil
        self.errantReporter = reporter
        self.context = Context(
            configs: taskConfig, errantRecordReporter: reporter, mbeanServer: TaskMBeanServer(id: id, metrics: metrics))
        let lastPoll = metrics.lastPoll
        let clock = metrics.registry.clock
        self.lag = SinkLagTracker(
            registry: metrics.registry, id: id, sampleIntervalMs: commitIntervalMs,
            startsAtLogStart: startsAtLogStart,
            sincePoll: {
                let at = lastPoll.value
                return at == 0 ? nil : clock.nowMs() - Int64(at)
            })
        self.errors = errors
        self.dlq = dlq
        super.init(
            id: id, initialState: initialState, listener: listener, metrics: metrics, logger: logger,
            control: errors.control)
    }

    override func execute() throws {
        task.initialize(context)
        try task.start(taskConfig)
        started = true
        try consumer.subscribe(topics)
        lagWatchdog?.watch(id, lag) { [listener, id, lag] in
            // A task closing revokes every partition: nothing to publish then.
            if !lag.partitions.isEmpty { listener.onLag(id, lag.summary) }
        }
        logger.info("\(self) Sink task finished initialization and start")
        listener.onStartup(id)
        scheduleCommit()
        while !isStopping {
            if targetState == .paused {
                consumer.pause(assigned.map(Self.kafka))
                _ = awaitUnpaused(whilePaused: {
                    try? pollBatch(timeoutMs: 100)
                    dlq?.poll()
                    refreshLagIfDue(paused: true)
                })
                if !pausedForRetry { consumer.resume(assigned.map(Self.kafka)) }
                continue
            }
            try iteration()
        }
    }

    private func iteration() throws {
        applyContextRequests()
        refreshLagIfDue()
        try pollBatch(timeoutMs: backlog.isEmpty ? 200 : 100)
        dlq?.poll()
        if !backlog.isEmpty && ContinuousClock.now >= nextPutAttempt { try deliver() }
        let commitRequested = context.requests.withLock { r in
            defer { r.commit = false }
            return r.commit
        }
        // Records read but not yet committed: waiting to be put, or put since the last commit.
        var active = backlog.count
        for (tp, next) in currentOffsets { active += Int(max(0, next - (lastCommitted[tp] ?? next))) }
        metrics.sinkActive.record(Double(active))
        if commitRequested || ContinuousClock.now >= nextCommit {
            try commitOffsets()
            scheduleCommit()
        }
    }

    /// Polls up to `max.poll.records` records into the backlog, converted and transformed, handling rebalances as
    /// they come.
    private func pollBatch(timeoutMs: Int32) throws {
        var read = 0
        var reads: [TopicPartition: SinkLagTracker.ReadSpan] = [:]
        defer {
            if read > 0 {
                metrics.read.record(Double(read))
                metrics.passed("consumed", read)
                metrics.passed("converted", passedInBatch.converted)
                metrics.passed("transformed", passedInBatch.transformed)
                passedInBatch = (0, 0)
                lag.recordReads(reads)
                metrics.touch(metrics.lastPoll)
            }
        }
        var wait = timeoutMs
        while read < maxPollRecords, let event = consumer.poll(timeoutMs: wait) {
            wait = 0
            switch event {
            case .message(let message):
                read += 1
                used(topic: message.topic)
                let tp = TopicPartition(message.topic, message.partition)
                if startOffsets[tp] == nil { startOffsets[tp] = message.offset }
                if reads[tp] == nil {
                    reads[tp] = SinkLagTracker.ReadSpan(
                        first: message.offset, last: message.offset, timestamp: message.timestamp)
                } else {
                    reads[tp]!.last = message.offset
                }
                guard let record = try convert(message) else { continue }
                backlog.append(Pending(record: record, raw: message))
            case .assigned(let partitions):
                let tps = partitions.map(Self.connect)
                assigned.formUnion(tps)
                metrics.partitionCount.set(assigned.count)
                context.requests.withLock { $0.assignment = assigned }
                logger.info("\(self) Partitions assigned: \(tps.map(\.description).sorted())")
                listener.onRebalance(id, assigned: tps.map(\.description).sorted(), revoked: [])
                let committed = (try? consumer.committed(partitions)) ?? [:]
                for (tp, offset) in committed where offset >= 0 { startOffsets[Self.connect(tp)] = offset }
                lag.assigned(
                    tps, committed: Dictionary(uniqueKeysWithValues: committed.map { (Self.connect($0.key), $0.value) })
                )
                nextLagRefresh = ContinuousClock.now
                // Partitions arriving while the task is paused (by the user, or for a retry) stay paused, or the
                // backlog would fill with records nobody puts.
                if targetState == .paused || pausedForRetry { consumer.pause(partitions) }
                try task.open(tps)
            case .revoked(let partitions):
                let tps = partitions.map(Self.connect)
                logger.info("\(self) Partitions revoked: \(tps.map(\.description).sorted())")
                listener.onRebalance(id, assigned: [], revoked: tps.map(\.description).sorted())
                // What is safe is committed; records of revoked partitions not yet put are left to the partitions'
                // next owner.
                let revoked = Set(tps)
                try commitOffsets(only: revoked)
                backlog.removeAll { revoked.contains(TopicPartition($0.raw.topic, $0.raw.partition)) }
                try task.close(tps)
                assigned.subtract(tps)
                lag.revoked(tps)
                metrics.partitionCount.set(assigned.count)
                for tp in tps {
                    currentOffsets[tp] = nil
                    lastCommitted[tp] = nil
                    startOffsets[tp] = nil
                }
                context.requests.withLock { $0.assignment = assigned }
                consumer.completeRevocation()
            case .error(let error):
                logger.warning("\(self) Consumer error: \(error.description)")
            }
        }
    }

    /// Records of the poll being read that passed conversion and transformation, recorded once per poll.
    private var passedInBatch = (converted: 0, transformed: 0)

    /// Converts (key, value, headers) and transforms a consumed record under the error handling. Nil when a
    /// transform filtered it or it failed and was skipped; either way its offset may be committed in order.
    private func convert(_ message: KafkaMessage) throws -> SinkRecord? {
        var context = ProcessingContext(consumed: message)
        let converted = try errors.execute(&context, .keyConverter, converters.keyClass) {
            try converters.deserialize(message)
        }
        guard let record = converted, !context.failed else {
            done(message)
            return nil
        }
        passedInBatch.converted += 1
        let transformed = try errors.execute(&context, .transformation, "") {
            try chain.apply(record, dropped: { metrics.dropped(by: $0) })
        }
        guard !context.failed, let kept = transformed ?? nil else {
            done(message)
            return nil
        }
        passedInBatch.transformed += 1
        return kept
    }

    /// A consumed record needs nothing more (filtered or skipped): its offset may be committed in order.
    private func done(_ message: KafkaMessage) {
        let tp = TopicPartition(message.topic, message.partition)
        currentOffsets[tp] = max(currentOffsets[tp] ?? 0, message.offset + 1)
        doneSinceCommit[tp, default: 0] += 1
    }

    /// Puts the backlog; on success the records' offsets become committable. A retriable failure pauses the
    /// partitions and schedules a redelivery of the same batch with the error handling's backoff.
    private func deliver() throws {
        let batch = backlog.map(\.record)
        // Only a task that can report errant records needs the consumed bytes by offset.
        errantReporter?.putting(backlog.map(\.raw))
        let started = ContinuousClock.now
        do {
            try task.put(batch)
            // A report from another of the connector's threads that exceeded the tolerance fails the task here.
            if let failure = errantReporter?.takeFailure() { throw failure }
        } catch let e as ConnectError where e.isRetriable {
            try scheduleRedelivery(after: e)
            return
        } catch {
            logger.error("\(self) Exiting WorkerSinkTask due to unrecoverable exception.")
            throw ConnectError.wrap(error).adding(context: "\(type(of: task)).put [TASK_PUT]")
        }
        putRetry = nil
        metrics.putTime.record(milliseconds(since: started))
        metrics.touch(metrics.lastPut)
        metrics.send.record(Double(batch.count))
        metrics.passed("put", batch.count)
        metrics.batchSize.record(Double(batch.count))
        backlog.removeAll(keepingCapacity: true)
        if pausedForRetry {
            pausedForRetry = false
            consumer.resume(assigned.map(Self.kafka))
        }
        // Records of one partition come in runs: the offsets and counts are kept per run, not per record.
        var run: (tp: TopicPartition, next: Int64, count: Int)?
        func flushRun() {
            guard let run else { return }
            currentOffsets[run.tp] = max(currentOffsets[run.tp] ?? 0, run.next)
            doneSinceCommit[run.tp, default: 0] += run.count
        }
        for r in batch {
            let partition = r.originalKafkaPartition ?? 0
            if let current = run, current.tp.partition == partition, current.tp.topic == r.originalTopic {
                run = (current.tp, max(current.next, r.originalKafkaOffset + 1), current.count + 1)
            } else {
                flushRun()
                run = (TopicPartition(r.originalTopic, partition), r.originalKafkaOffset + 1, 1)
            }
        }
        flushRun()
    }

    /// After a retriable `put` failure: pause, and try the same batch again after the backoff; give up (fail the
    /// task) once `errors.retry.timeout` has passed, when it is positive.
    private func scheduleRedelivery(after error: ConnectError) throws {
        let config = errors.config
        let now = errors.timing.nowMs()
        var retry = putRetry ?? (0, config.retryTimeoutMs > 0 ? now + config.retryTimeoutMs : Int64.max)
        retry.attempt += 1
        putRetry = retry
        metrics.errors.recordRetriableTaskFailure(.taskPut, error)
        if now >= retry.deadline {
            logger.error("\(self) Exiting WorkerSinkTask due to unrecoverable exception.")
            throw ConnectError.connect(
                "Retriable put failures went on for longer than errors.retry.timeout=\(config.retryTimeoutMs) ms",
                cause: error
            ).adding(context: "\(type(of: task)).put [TASK_PUT], \(retry.attempt) attempts [\(id)]")
        }
        let delay = errors.backoffMs(attempt: retry.attempt, deadline: retry.deadline)
        logger.warning(
            "\(self) RetriableException from SinkTask: \(error.description); the batch will be redelivered in \(delay) ms (attempt \(retry.attempt))"
        )
        nextPutAttempt = ContinuousClock.now.advanced(by: .milliseconds(delay))
        if !pausedForRetry {
            consumer.pause(assigned.map(Self.kafka))
            pausedForRetry = true
        }
    }

    private func applyContextRequests() {
        let r = context.requests.withLock { r -> Context.Requests in
            let copy = r
            r.pause = []
            r.resume = []
            r.seeks = [:]
            return copy
        }
        if !r.pause.isEmpty { consumer.pause(r.pause.map(Self.kafka)) }
        if !r.resume.isEmpty { consumer.resume(r.resume.map(Self.kafka)) }
        for (tp, offset) in r.seeks {
            do {
                try consumer.seek(Self.kafka(tp), to: offset)
                currentOffsets[tp] = offset
            } catch {
                logger.warning("\(self) Could not rewind \(tp) to \(offset): \(error.description)")
            }
        }
    }

    /// Updates the log end offsets of the assigned partitions for the lag metrics, every `lagRefreshInterval`. While
    /// records flow, the high watermarks of the consumer's own fetch responses serve, so the task thread never waits
    /// on the broker for a metric; paused partitions are not fetched, so for them (and for a partition not fetched
    /// yet) the broker is asked.
    private func refreshLagIfDue(paused: Bool = false) {
        guard ContinuousClock.now >= nextLagRefresh else { return }
        nextLagRefresh = ContinuousClock.now.advanced(by: Self.lagRefreshInterval)
        for tp in assigned {
            let partition = Self.kafka(tp)
            if !paused, let marks = consumer.cachedWatermarks(partition) {
                lag.recordEnd(tp, marks.high)
            } else if let marks = try? consumer.queryWatermarks(partition, timeoutMs: 1000) {
                lag.recordEnd(tp, marks.high, start: marks.low)
            }
        }
        listener.onLag(id, lag.summary)
    }

    private func scheduleCommit() { nextCommit = ContinuousClock.now.advanced(by: .milliseconds(commitIntervalMs)) }

    /// Asks the task which offsets are safe (`preCommit`, which flushes by default) and commits them to the group.
    private func commitOffsets(only partitions: Set<TopicPartition>? = nil) throws {
        var current = currentOffsets
        if let partitions { current = current.filter { partitions.contains($0.key) } }
        guard !current.isEmpty else { return }
        let committable: [TopicPartition: Int64]
        do {
            committable = try task.preCommit(current)
        } catch {
            // As Connect does: the task may not have written what it was given, so its partitions go back to the
            // last committed offsets and those records are delivered again.
            logger.error(
                "\(self) Offset commit failed, rewinding to last committed offsets: \(ConnectError.describe(error))")
            metrics.recordCommit(durationMs: nil, success: false)
            if partitions == nil { rewindToLastCommitted() }
            return
        }
        // Never past a record still waiting: in the backlog, or on its way to the dead letter queue.
        var waiting = dlq?.pendingOffsets ?? [:]
        for p in backlog {
            let tp = TopicPartition(p.raw.topic, p.raw.partition)
            waiting[tp] = min(waiting[tp] ?? p.raw.offset, p.raw.offset)
        }
        var toCommit: [KafkaTopicPartition: Int64] = [:]
        for (tp, proposed) in committable where assigned.contains(tp) {
            let offset = min(proposed, waiting[tp] ?? proposed)
            if lastCommitted[tp] != offset { toCommit[Self.kafka(tp)] = offset }
        }
        guard !toCommit.isEmpty else { return }
        let started = ContinuousClock.now
        metrics.commitSeqNo.increment()
        do {
            guard try unlessCancelled({ try consumer.commit(toCommit) }) else { return }
            metrics.recordCommit(durationMs: milliseconds(since: started), success: true)
            metrics.commitCompletion.record()
            for (tp, offset) in toCommit { lastCommitted[Self.connect(tp)] = offset }
            for tp in toCommit.keys {
                metrics.passed("committed", doneSinceCommit.removeValue(forKey: Self.connect(tp)) ?? 0)
            }
            lag.recordCommitted(Dictionary(uniqueKeysWithValues: toCommit.map { (Self.connect($0.key), $0.value) }))
            logger.debug("\(self) Committed offsets \(toCommit.map { "\($0.key)=\($0.value)" }.sorted())")
        } catch {
            metrics.recordCommit(durationMs: nil, success: false)
            logger.error("\(self) Offset commit failed: \(ConnectError.describe(error))")
        }
    }

    /// Seeks every assigned partition back to its last committed offset (or where it started), forgetting what was
    /// put or read since, so it is read and put again.
    private func rewindToLastCommitted() {
        for tp in assigned {
            guard let offset = lastCommitted[tp] ?? startOffsets[tp] else { continue }
            do {
                try consumer.seek(Self.kafka(tp), to: offset)
            } catch {
                logger.warning("\(self) Could not rewind \(tp) to \(offset): \(error.description)")
                continue
            }
            currentOffsets[tp] = lastCommitted[tp]
            doneSinceCommit[tp] = nil
            backlog.removeAll { $0.raw.topic == tp.topic && $0.raw.partition == tp.partition }
            logger.info("\(self) Rewound \(tp) to offset \(offset)")
        }
    }

    override func close() {
        // Dead-lettered records acknowledged now can be committed below.
        errors.close(timeoutMs: Int(flushTimeoutMs))
        if started {
            do { try commitOffsets() } catch {
                logger.error("\(self) Final offset commit failed: \(ConnectError.describe(error))")
            }
            do { try task.close(Array(assigned)) } catch {
                logger.warning("\(self) Error closing partitions: \(ConnectError.describe(error))")
            }
            do { try task.stop() } catch {
                logger.warning("\(self) Error stopping task: \(ConnectError.describe(error))")
            }
        }
        consumer.close(joinWait: .seconds(3))
        chain.close()
        lagWatchdog?.unwatch(id, lag)
        lag.close()
        listener.onLag(id, nil)
    }

    static func kafka(_ tp: TopicPartition) -> KafkaTopicPartition { KafkaTopicPartition(tp.topic, tp.partition) }
    static func connect(_ tp: KafkaTopicPartition) -> TopicPartition { TopicPartition(tp.topic, tp.partition) }
}
