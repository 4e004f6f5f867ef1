import ConnectAPI
import ConnectMetrics
import Foundation
import Kafka
import Logging

/// Runs a source task: poll → transforms → convert → produce. A record's source offset is written only once the
/// broker has acknowledged it and every record sent before it from the same source partition; offsets are flushed
/// every `offset.flush.interval.ms` and when the task stops (`WorkerSourceTask`). Transforms and converters run
/// under the connector's error handling; with `errors.tolerance=all` a record that fails them, or that the broker
/// refuses, is skipped (its offset advances) and reported (error log; the DLQ when the source DLQ extension is on).
///
/// `@unchecked Sendable` as `WorkerTask`: every stored property added here is the task thread's alone (set at
/// init, then read and written only by `execute` and `close`).
final class WorkerSourceTask: WorkerTask, @unchecked Sendable {
    struct Context: SourceTaskContext {
        let offsetStorageReader: any OffsetStorageReader
        let configs: [String: String]
        let mbeanServer: (any PluginMBeanServer)?
    }

    private let task: any SourceTask
    private let taskConfig: [String: String]
    private let producer: KafkaProducer
    private let converters: TaskConverters
    private let chain: TransformationChain
    private let offsetStore: any OffsetBackingStore
    private let flushIntervalMs: Int64
    private let flushTimeoutMs: Int64

    /// What the worker keeps of a record in flight: the record as the task gave it (`commitRecord` and error reports
    /// get it, as Connect's `preTransformRecord`), the topic it was sent to, and its timestamp or, when it has none,
    /// its send time (for source lag). A class: the window of ids in `SubmittedRecords` then holds a reference per
    /// id, however long one record waits for its acknowledgement.
    final class InFlight {
        let original: SourceRecord
        let topic: String
        let sendTime: Int64

        init(original: SourceRecord, topic: String, sendTime: Int64) {
            self.original = original
            self.topic = topic
            self.sendTime = sendTime
        }
    }

    private var submitted = SubmittedRecords<InFlight>()
    private var nextID: UInt64 = 0
    private var nextFlush = ContinuousClock.now
    /// Offsets whose commit failed, committed with the next ones.
    private var failedOffsets: [OffsetMap: OffsetMap] = [:]
    private var started = false
    /// Records polled and not sent yet: a batch whose sending stopped at a topic not ready is finished first.
    private var toSend: [SourceRecord] = []
    private let errors: RetryWithToleranceOperator
    private let dlq: DeadLetterQueueReporter?
    /// KIP-158: creates the topics records go to, when the connector asks for it.
    private let topicCreator: SourceTopicCreator?

    init(
        id: ConnectorTaskId, task: any SourceTask, taskConfig: [String: String], producer: KafkaProducer,
        converters: TaskConverters, chain: TransformationChain, offsetStore: any OffsetBackingStore,
        flushIntervalMs: Int64, flushTimeoutMs: Int64, initialState: TargetState, listener: any StatusListener,
        metrics: TaskMetrics, logger: Logger, errors: RetryWithToleranceOperator, dlq: DeadLetterQueueReporter?,
        topicCreator: SourceTopicCreator? = nil
    ) {
        self.topicCreator = topicCreator
        self.errors = errors
        self.dlq = dlq
        self.task = task
        self.taskConfig = taskConfig
        self.producer = producer
        self.converters = converters
        self.chain = chain
        self.offsetStore = offsetStore
        self.flushIntervalMs = flushIntervalMs
        self.flushTimeoutMs = flushTimeoutMs
        super.init(
            id: id, initialState: initialState, listener: listener, metrics: metrics, logger: logger,
            control: errors.control)
    }

    override func execute() throws {
        task.initialize(
            Context(
                offsetStorageReader: ConnectorOffsetReader(connector: id.connector, store: offsetStore),
                configs: taskConfig, mbeanServer: TaskMBeanServer(id: id, metrics: metrics)))
        try task.start(taskConfig)
        started = true
        logger.info("\(self) Source task finished initialization and start")
        listener.onStartup(id)
        scheduleFlush()
        while !isStopping {
            let paused = awaitUnpaused(
                beforePause: {
                    try? handleDeliveries(producer.flush(timeoutMs: Int(flushTimeoutMs)))
                    try? commitOffsets()
                },
                whilePaused: {
                    try? handleDeliveries(producer.poll(timeoutMs: 100))
                    task.whilePaused()
                    // A paused source still falls behind (a slot keeps holding WAL): the gauge keeps up.
                    metrics.recordBytesBehindSource(task.bytesBehindSource())
                })
            if paused { continue }
            if toSend.isEmpty {
                let started = ContinuousClock.now
                let records = try pollTask()
                metrics.touch(metrics.lastPoll)
                metrics.recordBehindSource(task.recordsBehindSource())
                metrics.recordBytesBehindSource(task.bytesBehindSource())
                if let records, !records.isEmpty {
                    metrics.pollTime.record(milliseconds(since: started))
                    metrics.poll.record(Double(records.count))
                    metrics.passed("polled", records.count)
                    metrics.batchSize.record(Double(records.count))
                    toSend = records
                }
            }
            // A cancelled task sends nothing more: the task that replaces it polls these records again.
            if !toSend.isEmpty, !isCancelled {
                try sendRecords()
                metrics.sourceActive.record(Double(submitted.pendingCount))
            }
            try handleDeliveries(producer.poll(timeoutMs: 0))
            dlq?.poll()
            if ContinuousClock.now >= nextFlush {
                // A commit that failed is logged and tried again at the next one (Connect's `commitOffsets`): the
                // offsets topic being slow or away does not stop the task.
                do { try commitOffsets() } catch {
                    logger.error(
                        "\(self) Failed to commit offsets; they are kept and committed with the next ones: \(ConnectError.describe(error))"
                    )
                }
                scheduleFlush()
            }
        }
    }

    override func close() {
        if started {
            do { try task.stop() } catch {
                logger.warning("\(self) Error stopping task: \(ConnectError.describe(error))")
            }
        }
        // Offsets of records the broker acknowledged before the stop are kept, even after a failure.
        try? handleDeliveries(producer.flush(timeoutMs: Int(flushTimeoutMs)))
        errors.close(timeoutMs: Int(flushTimeoutMs))
        do { try commitOffsets() } catch {
            logger.error("\(self) Failed to commit offsets on stop: \(ConnectError.describe(error))")
        }
        chain.close()
    }

    private func scheduleFlush() { nextFlush = ContinuousClock.now.advanced(by: .milliseconds(flushIntervalMs)) }

    private func pollTask() throws -> [SourceRecord]? {
        do {
            return try task.poll()
        } catch let e as ConnectError where e.isRetriable {
            // With its causes, as Connect logs the exception: the top message alone rarely says what broke.
            logger.warning("\(self) Retriable exception in poll(), will be retried: \(e.trace)")
            metrics.errors.recordRetriableTaskFailure(.taskPoll, e)
            return nil
        } catch {
            throw ConnectError.wrap(error).adding(context: "\(type(of: task)).poll [TASK_POLL]")
        }
    }

    /// Sends `toSend` in order (Connect's `sendRecords`). When a record's topic could not be created in time, the
    /// records from it on stay in `toSend` and are sent again, after a back-off, before the task polls again.
    private func sendRecords() throws {
        var sent = 0
        defer {
            toSend.removeFirst(sent)
            recordPassed()
        }
        for record in toSend {
            do { try send(record) } catch let retry as TopicNotReady {
                logger.warning(
                    "\(self) Failed to send record to topic '\(retry.topic)'. Backing off before retrying: \(retry.error.trace)"
                )
                // The gauges keep up while the batch waits (the doctor reads them).
                metrics.recordBehindSource(task.recordsBehindSource())
                metrics.recordBytesBehindSource(task.bytesBehindSource())
                control.wait(milliseconds: Self.sendFailedBackoffMs)
                return
            }
            sent += 1
        }
    }

    /// Records of the batch being sent that passed each funnel stage, recorded once per batch (a sensor read of the
    /// clock per record and stage cost more than the rest of the funnel).
    private var passedInBatch = (transformed: 0, converted: 0, produced: 0)

    private func recordPassed() {
        metrics.passed("transformed", passedInBatch.transformed)
        metrics.passed("converted", passedInBatch.converted)
        metrics.passed("produced", passedInBatch.produced)
        passedInBatch = (0, 0, 0)
    }

    /// Connect's `SEND_FAILED_BACKOFF_MS`.
    static let sendFailedBackoffMs: Int64 = 100

    /// A record's topic could not be created yet, for a reason that may pass (a broker timeout).
    private struct TopicNotReady: Error {
        let topic: String
        let error: ConnectError
    }

    private func send(_ original: SourceRecord) throws {
        let record: SourceRecord
        if chain.isEmpty {
            record = original
        } else {
            var context = ProcessingContext(source: original)
            let transformed = try errors.execute(&context, .transformation, "") {
                try chain.apply(original, dropped: { metrics.dropped(by: $0) })
            }
            if context.failed { return try skip(original) }
            guard let kept = transformed ?? nil else {
                // Dropped by a transform: nothing to send, and its offset may be committed in order.
                return try skip(original)
            }
            record = kept
        }
        // The topic first (Connect creates it after converting): a retry then runs no stage twice in the funnel.
        do { try topicCreator?.ensure(record.topic) } catch let e as ConnectError where e.isRetriable {
            throw TopicNotReady(topic: record.topic, error: e)
        }
        passedInBatch.transformed += 1
        // Failures are reported with the record as the task gave it, as Connect's context holds it.
        var context = ProcessingContext(source: original)
        let converted = try errors.execute(&context, .headerConverter, converters.headerClass) {
            try converters.serialize(record)
        }
        guard let message = converted, !context.failed else { return try skip(original) }
        passedInBatch.converted += 1
        let id = allocateID()
        submitted.submit(
            id: id, partition: original.sourcePartition, offset: original.sourceOffset,
            payload: InFlight(
                original: original, topic: record.topic, sendTime: record.timestamp ?? metrics.registry.clock.nowMs()))
        while true {
            do {
                try producer.send(
                    id: id, topic: record.topic, partition: record.kafkaPartition, key: message.key,
                    value: message.value,
                    headers: message.headers, timestamp: record.timestamp)
                passedInBatch.produced += 1
                return
            } catch  where error.kind == .queueFull {
                // Stopping, the record is left unsent and unacknowledged: its offset is never committed, so the
                // task that runs next polls it again.
                if isStopping { return }
                // While the batch waits, its funnel keeps up with the acknowledgements the poll records.
                recordPassed()
                try handleDeliveries(producer.poll(timeoutMs: 100))
            } catch {
                throw ConnectError.connect("Unrecoverable exception trying to send", cause: error)
            }
        }
    }

    /// A record not sent (filtered, or failed and skipped): its offset may be committed in order.
    private func skip(_ original: SourceRecord) throws {
        let id = allocateID()
        submitted.submit(id: id, partition: original.sourcePartition, offset: original.sourceOffset)
        submitted.ack(id)
        try task.commitRecord(original, metadata: nil)
    }

    private func allocateID() -> UInt64 {
        nextID += 1
        return nextID
    }

    private func handleDeliveries(_ reports: [DeliveryReport]) throws {
        var written = 0
        defer {
            if written > 0 {
                metrics.write.record(Double(written))
                metrics.passed("acknowledged", written)
            }
        }
        for report in reports {
            switch report.result {
            case .success(let (partition, offset)):
                let sent = submitted.ack(report.id)
                written += 1
                metrics.touch(metrics.lastAck)
                if let sent {
                    metrics.lastAckedRecordTime.set(Int(sent.sendTime))
                    used(topic: sent.topic)
                    try task.commitRecord(
                        sent.original,
                        metadata: RecordMetadata(topic: sent.topic, partition: partition, offset: offset))
                }
            case .failure(let error):
                let sent = submitted.payload(of: report.id)
                guard errors.config.tolerance == .all, let sent else {
                    throw ConnectError.connect("Unrecoverable exception from producer send callback", cause: error)
                        .adding(context: "topic=\(sent?.topic ?? "?") [KAFKA_PRODUCE]")
                }
                // Tolerated: reported, and skipped so that the offsets behind it can be committed.
                var context = ProcessingContext(source: sent.original)
                try errors.executeFailed(
                    &context, .kafkaProduce, "org.apache.kafka.connect.source.SourceTask", error: error)
                submitted.ack(report.id)
                try task.commitRecord(sent.original, metadata: nil)
            }
        }
    }

    /// Writes the committable offsets (`commitOffsets`), then lets the task know (`commit()`).
    func commitOffsets() throws {
        let before = submitted.committedRecords
        // Offsets of a commit that failed go with this one, unless newer ones replace them.
        let offsets = failedOffsets.merging(submitted.committableOffsets()) { _, newer in newer }
        defer { metrics.passed("committed", submitted.committedRecords - before) }
        guard !offsets.isEmpty else { return }
        let started = ContinuousClock.now
        var values: [[UInt8]: [UInt8]?] = [:]
        for (partition, offset) in offsets {
            values[OffsetCodec.key(connector: id.connector, partition: partition)] = OffsetCodec.value(offset)
        }
        let committed: Bool
        do {
            committed = try unlessCancelled { try offsetStore.set(values) }
        } catch {
            metrics.recordCommit(durationMs: nil, success: false)
            failedOffsets = offsets
            throw error
        }
        failedOffsets = [:]
        guard committed else { return }
        metrics.recordCommit(durationMs: milliseconds(since: started), success: true)
        logger.debug("\(self) Committed offsets for \(offsets.count) source partition(s)")
        try task.commit()
    }

}

/// Milliseconds elapsed since `start`, for duration metrics.
func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}
