import ConnectAPI
import Foundation
import Kafka
import Logging
import Synchronization

/// Runs a sink task: consume → convert → transforms → `put` → `preCommit` (flush) → commit consumer offsets.
/// Only offsets of records that were put and flushed are committed; a retriable `put` failure pauses the
/// partitions and redelivers the same batch (`WorkerSinkTask`).
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

        init(configs: [String: String]) { self.configs = configs }

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
    /// Records put or filtered per partition since its last commit (for the `committed` funnel stage).
    private var doneSinceCommit: [TopicPartition: Int] = [:]
    private var nextCommit = ContinuousClock.now
    /// Records consumed but not yet put successfully (a retriable `put` failure keeps them here for redelivery;
    /// records that arrive while paused wait here too, so nothing consumed is ever skipped).
    private var backlog: [SinkRecord] = []
    private var pausedForRetry = false
    private var started = false
    private let lag: SinkLagTracker
    private var nextLagRefresh = ContinuousClock.now
    /// How often log end offsets are asked of the broker for the lag metrics.
    static let lagRefreshInterval = Duration.seconds(2)

    init(
        id: ConnectorTaskId, task: any SinkTask, taskConfig: [String: String], consumer: KafkaConsumer,
        topics: [String],
        converters: TaskConverters, chain: TransformationChain, commitIntervalMs: Int64, maxPollRecords: Int,
        initialState: TargetState, listener: any StatusListener, metrics: TaskMetrics, logger: Logger
    ) {
        self.task = task
        self.taskConfig = taskConfig
        self.consumer = consumer
        self.topics = topics
        self.converters = converters
        self.chain = chain
        self.commitIntervalMs = commitIntervalMs
        self.maxPollRecords = maxPollRecords
        self.context = Context(configs: taskConfig)
        self.lag = SinkLagTracker(registry: metrics.registry, id: id)
        super.init(id: id, initialState: initialState, listener: listener, metrics: metrics, logger: logger)
    }

    override func execute() throws {
        task.initialize(context)
        try task.start(taskConfig)
        started = true
        try consumer.subscribe(topics)
        logger.info("\(self) Sink task finished initialization and start")
        listener.onStartup(id)
        scheduleCommit()
        while !isStopping {
            if targetState == .paused {
                consumer.pause(assigned.map(Self.kafka))
                _ = awaitUnpaused(whilePaused: {
                    if let r = try? pollBatch(timeoutMs: 100) { backlog += r }
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
        backlog += try pollBatch(timeoutMs: backlog.isEmpty ? 200 : 100)
        if !backlog.isEmpty { try deliver() }
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

    /// Polls up to `max.poll.records` records, handling rebalances as they come.
    private func pollBatch(timeoutMs: Int32) throws -> [SinkRecord] {
        var records: [SinkRecord] = []
        var read = 0
        var reads: [TopicPartition: SinkLagTracker.ReadSpan] = [:]
        defer {
            if read > 0 {
                metrics.read.record(Double(read))
                metrics.passed("consumed", read)
                lag.recordReads(reads)
                metrics.touch(metrics.lastPoll)
            }
        }
        var wait = timeoutMs
        while records.count < maxPollRecords, let event = consumer.poll(timeoutMs: wait) {
            wait = 0
            switch event {
            case .message(let message):
                read += 1
                let tp = TopicPartition(message.topic, message.partition)
                if reads[tp] == nil {
                    reads[tp] = SinkLagTracker.ReadSpan(
                        first: message.offset, last: message.offset, timestamp: message.timestamp)
                } else {
                    reads[tp]!.last = message.offset
                }
                guard let record = try convert(message) else { continue }
                records.append(record)
            case .assigned(let partitions):
                let tps = partitions.map(Self.connect)
                assigned.formUnion(tps)
                metrics.partitionCount.set(assigned.count)
                context.requests.withLock { $0.assignment = assigned }
                logger.info("\(self) Partitions assigned: \(tps.map(\.description).sorted())")
                let committed = (try? consumer.committed(partitions)) ?? [:]
                lag.assigned(
                    tps, committed: Dictionary(uniqueKeysWithValues: committed.map { (Self.connect($0.key), $0.value) })
                )
                nextLagRefresh = ContinuousClock.now
                try task.open(tps)
            case .revoked(let partitions):
                let tps = partitions.map(Self.connect)
                logger.info("\(self) Partitions revoked: \(tps.map(\.description).sorted())")
                // Records of revoked partitions not yet put are left to the partitions' next owner.
                let revoked = Set(tps)
                let owned: (SinkRecord) -> Bool = {
                    !revoked.contains(TopicPartition($0.originalTopic, $0.originalKafkaPartition ?? 0))
                }
                records = records.filter(owned)
                backlog = backlog.filter(owned)
                try commitOffsets(only: revoked)
                try task.close(tps)
                assigned.subtract(tps)
                lag.revoked(tps)
                metrics.partitionCount.set(assigned.count)
                for tp in tps {
                    currentOffsets[tp] = nil
                    lastCommitted[tp] = nil
                }
                context.requests.withLock { $0.assignment = assigned }
                consumer.completeRevocation()
            case .error(let error):
                logger.warning("\(self) Consumer error: \(error.description)")
            }
        }
        return records
    }

    private func convert(_ message: KafkaMessage) throws -> SinkRecord? {
        let tp = TopicPartition(message.topic, message.partition)
        do {
            let record = try converters.deserialize(message)
            metrics.passed("converted")
            guard let transformed = try chain.apply(record, dropped: { metrics.dropped(by: $0) }) else {
                // Filtered: its offset is committed with the rest.
                currentOffsets[tp] = message.offset + 1
                doneSinceCommit[tp, default: 0] += 1
                return nil
            }
            metrics.passed("transformed")
            return transformed
        } catch let staged as StagedError {
            throw ConnectError.connect("Tolerance exceeded in error handler", cause: staged.error)
                .adding(
                    context:
                        "stage \(staged.stage) with class \(staged.className), consumed record is {topic='\(message.topic)', partition=\(message.partition), offset=\(message.offset)} [\(id)]"
                )
        } catch {
            throw ConnectError.connect("Tolerance exceeded in error handler", cause: error)
                .adding(
                    context:
                        "stage TRANSFORMATION, consumed record is {topic='\(message.topic)', partition=\(message.partition), offset=\(message.offset)} [\(id)]"
                )
        }
    }

    /// Puts the backlog; on success the records' offsets become committable.
    private func deliver() throws {
        let batch = backlog
        let started = ContinuousClock.now
        do {
            try task.put(batch)
        } catch let e as ConnectError where e.isRetriable {
            logger.warning("\(self) RetriableException from SinkTask: \(e.description); the batch will be redelivered")
            if !pausedForRetry {
                consumer.pause(assigned.map(Self.kafka))
                pausedForRetry = true
            }
            Thread.sleep(forTimeInterval: 0.2)
            return
        } catch {
            logger.error("\(self) Exiting WorkerSinkTask due to unrecoverable exception.")
            throw ConnectError.wrap(error).adding(context: "\(type(of: task)).put [TASK_PUT]")
        }
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
        for r in batch {
            let tp = TopicPartition(r.originalTopic, r.originalKafkaPartition ?? 0)
            currentOffsets[tp] = max(currentOffsets[tp] ?? 0, r.originalKafkaOffset + 1)
            doneSinceCommit[tp, default: 0] += 1
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
                lag.recordEnd(tp, marks.high)
            }
        }
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
            logger.error("\(self) Commit of offsets threw an unexpected exception: \(ConnectError.describe(error))")
            return
        }
        var toCommit: [KafkaTopicPartition: Int64] = [:]
        for (tp, offset) in committable where assigned.contains(tp) && lastCommitted[tp] != offset {
            toCommit[Self.kafka(tp)] = offset
        }
        guard !toCommit.isEmpty else { return }
        let started = ContinuousClock.now
        metrics.commitSeqNo.increment()
        do {
            try consumer.commit(toCommit)
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
            logger.error("\(self) Offset commit failed: \(error.description)")
        }
    }

    override func close() {
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
        consumer.close()
        chain.close()
        lag.close()
    }

    static func kafka(_ tp: TopicPartition) -> KafkaTopicPartition { KafkaTopicPartition(tp.topic, tp.partition) }
    static func connect(_ tp: KafkaTopicPartition) -> TopicPartition { TopicPartition(tp.topic, tp.partition) }
}
