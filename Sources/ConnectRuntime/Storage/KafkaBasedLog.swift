import ConnectAPI
import Foundation
import Kafka
import Logging
import Synchronization

/// A Kafka topic kept in memory (Connect's `KafkaBasedLog`): a thread of its own reads every partition from the
/// beginning and hands each record, in order per partition, to `consumed`; `send` writes records and returns once
/// the broker acknowledged them; `readToEnd` waits until the thread has read everything the topic held when it was
/// called. The three internal topics of a cluster (configs, statuses, offsets) are such logs.
final class KafkaBasedLog: Sendable {
    let topic: String
    private let producer: KafkaProducer
    private let consumer: KafkaConsumer
    private let consumed: @Sendable (KafkaMessage) -> Void
    private let logger: Logger
    /// Records are handed to the producer one send at a time, so each send's records keep their order; the waits for
    /// acknowledgements overlap (many tasks committing offsets at once, as a revocation makes them, share the
    /// producer's batches instead of taking turns).
    private let sendLock = NSLock()
    private let nextSendId = Atomic<UInt64>(0)
    /// One sender at a time polls the producer and files every delivery report it serves under its send id, for the
    /// sender waiting on it; the others wait on `reportsArrived`.
    private let pollLock = NSLock()
    private let reports = Mutex(Reports())
    private let reportsArrived = NSCondition()

    struct Reports {
        /// Reports not yet taken by their sender: nil for a record written, else why it was not.
        var arrived: [UInt64: KafkaError?] = [:]
        /// Ids of senders that gave up (timeout, an earlier failure): their reports are dropped.
        var abandoned: Set<UInt64> = []
    }
    /// Next offset to read per partition, and the reader's life; `progress` is signalled as they move.
    private let state = Mutex(State())
    private let progress = NSCondition()

    struct State {
        var positions: [Int32: Int64] = [:]
        var partitions: [Int32] = []
        /// When a poll last came back empty: the reader had caught up with what the broker sent it.
        var lastEmptyPoll = ContinuousClock.now
        var stopping = false
        var finished = false
    }

    /// How long the broker may hold a fetch; a poll that comes back empty after this long saw everything there was.
    static let fetchWait = Duration.milliseconds(100)

    /// Clients for `topic`: producer and consumer properties are the worker's (`bootstrap.servers`, security),
    /// given a client id by the caller.
    init(
        topic: String, producerProperties: [String: String], consumerProperties: [String: String],
        consumed: @escaping @Sendable (KafkaMessage) -> Void, logger: Logger
    ) throws(ConnectError) {
        self.topic = topic
        self.consumed = consumed
        self.logger = logger
        var p = producerProperties
        // As Connect's: every record acknowledged by all replicas; keys on the partitions Java clients pick (murmur2),
        // so Java and Swift workers writing one key land on one partition of a compacted topic.
        p["acks"] = "all"
        p["enable.idempotence"] = "false"
        p["partitioner"] = "murmur2_random"
        p["linger.ms"] = "0"
        // Sends overlap (see `send`): one request in flight per connection keeps a retried batch from landing after a
        // later one, as Connect's internal producers do without idempotence.
        p["max.in.flight.requests.per.connection"] = "1"
        p["statistics.interval.ms"] = "0"
        var c = consumerProperties
        c["enable.auto.commit"] = "false"
        c["auto.offset.reset"] = "earliest"
        c["statistics.interval.ms"] = "0"
        c["fetch.wait.max.ms"] = String(Self.fetchWait.inMilliseconds)
        // As the Java consumer Connect uses without exactly-once support (librdkafka's default is read_committed).
        c["isolation.level"] = "read_uncommitted"
        // librdkafka needs a group id for its consumer queue; partitions are assigned, so the group is never joined
        // and no offset is committed to it.
        c["group.id"] = c["group.id"] ?? "\(c["client.id"] ?? topic)-reader"
        do {
            producer = try KafkaProducer(config: KafkaClientConfig(p))
            consumer = try KafkaConsumer(config: KafkaClientConfig(c))
        } catch {
            throw ConnectError.connect("Could not create the clients of topic \(topic)", cause: error)
        }
    }

    /// Assigns every partition from the beginning, starts the reader thread and reads to the end.
    func start(timeout: Duration) throws(ConnectError) {
        let partitions: [Int32]
        do {
            guard let described = try consumer.describeTopics([topic], timeoutMs: 10_000).first else {
                throw ConnectError.connect("Topic \(topic) does not exist")
            }
            partitions = (0..<Int32(described.partitions)).map { $0 }
            try consumer.assign(
                Dictionary(uniqueKeysWithValues: partitions.map { (KafkaTopicPartition(topic, $0), Int64(-2)) }))
        } catch {
            throw ConnectError.connect("Could not start reading topic \(topic)", cause: ConnectError.wrap(error))
        }
        state.withLock { s in
            s.partitions = partitions
            for p in partitions { s.positions[p] = 0 }
        }
        let thread = Thread { [self] in readLoop() }
        thread.name = "KafkaBasedLog Work Thread - \(topic)"
        thread.start()
        try readToEnd(timeout: timeout)
    }

    private func readLoop() {
        while !state.withLock({ $0.stopping }) {
            var advanced = false
            while let event = consumer.poll(timeoutMs: advanced ? 0 : 100) {
                switch event {
                case .message(let m):
                    consumed(m)
                    state.withLock { $0.positions[m.partition] = m.offset + 1 }
                    advanced = true
                case .error(let e):
                    logger.warning("Error reading topic \(topic): \(e.description)")
                default:
                    break
                }
                if advanced && state.withLock({ $0.stopping }) { break }
            }
            if !advanced { state.withLock { $0.lastEmptyPoll = ContinuousClock.now } }
            progress.lock()
            progress.broadcast()
            progress.unlock()
        }
        state.withLock { $0.finished = true }
    }

    /// Waits until everything the topic holds now has been read and handed over; throws after `timeout`. The end is
    /// each partition's high watermark (Connect's `endOffsets`) and, since some Kafka-compatible brokers (Tansu)
    /// answer ListOffsets with a stale watermark, a poll that came back empty after the broker's fetch wait.
    func readToEnd(timeout: Duration) throws(ConnectError) {
        let caughtUpAfter = ContinuousClock.now.advanced(by: Self.fetchWait * 2)
        let deadline = Date().addingTimeInterval(Double(timeout.inMilliseconds) / 1000)
        var ends: [Int32: Int64] = [:]
        for p in state.withLock({ $0.partitions }) {
            do {
                ends[p] = try consumer.queryWatermarks(
                    KafkaTopicPartition(topic, p), timeoutMs: Int32(clamping: timeout.inMilliseconds)
                ).high
            } catch {
                throw ConnectError(
                    .retriable, "Could not read the end offsets of topic \(topic)", cause: ConnectError.wrap(error))
            }
        }
        progress.lock()
        defer { progress.unlock() }
        while true {
            let (positions, lastEmptyPoll) = state.withLock { ($0.positions, $0.lastEmptyPoll) }
            if ends.allSatisfy({ positions[$0.key, default: 0] >= $0.value }) && lastEmptyPoll >= caughtUpAfter {
                return
            }
            if !progress.wait(until: deadline) {
                throw ConnectError(.retriable, "Timed out reading topic \(topic) to its end")
            }
        }
    }

    /// Writes the records in order and waits for their acknowledgements; a nil value is a tombstone. `partition`
    /// nil lets the key choose. Sends from several threads wait together.
    func send(
        _ records: [(key: [UInt8], value: [UInt8]?)], partition: Int32? = nil, timeout: Duration = .seconds(30)
    ) throws(ConnectError) {
        var waiting: Set<UInt64> = []
        sendLock.lock()
        for r in records {
            let id = nextSendId.add(1, ordering: .relaxed).newValue
            while true {
                do {
                    try producer.send(id: id, topic: topic, partition: partition, key: r.key, value: r.value)
                    break
                } catch {
                    guard error.kind == .queueFull else {
                        sendLock.unlock()
                        abandon(waiting)
                        throw ConnectError.connect("Could not write to topic \(topic)", cause: error)
                    }
                    serveReports(timeoutMs: 50)
                }
            }
            waiting.insert(id)
        }
        sendLock.unlock()
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !waiting.isEmpty {
            let failure = reports.withLock { r -> KafkaError? in
                var failure: KafkaError?
                for id in waiting {
                    guard let report = r.arrived.removeValue(forKey: id) else { continue }
                    waiting.remove(id)
                    if let report { failure = failure ?? report }
                }
                return failure
            }
            if let failure {
                abandon(waiting)
                throw ConnectError.connect("Could not write to topic \(topic)", cause: failure)
            }
            if waiting.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                abandon(waiting)
                throw ConnectError(.retriable, "Timed out writing to topic \(topic)")
            }
            if pollLock.try() {
                serveReportsLocked(timeoutMs: 20)
                pollLock.unlock()
            } else {
                reportsArrived.lock()
                _ = reportsArrived.wait(until: Date().addingTimeInterval(0.02))
                reportsArrived.unlock()
            }
        }
    }

    /// Polls the producer (unless another sender is polling) and files the reports it served.
    private func serveReports(timeoutMs: Int32) {
        guard pollLock.try() else {
            Thread.sleep(forTimeInterval: Double(timeoutMs) / 1000)
            return
        }
        serveReportsLocked(timeoutMs: timeoutMs)
        pollLock.unlock()
    }

    private func serveReportsLocked(timeoutMs: Int32) {
        file(producer.poll(timeoutMs: timeoutMs))
    }

    /// Files delivery reports for their senders and wakes them.
    private func file(_ served: [DeliveryReport]) {
        guard !served.isEmpty else { return }
        reports.withLock { r in
            for report in served {
                if r.abandoned.remove(report.id) != nil { continue }
                if case .failure(let e) = report.result {
                    r.arrived[report.id] = .some(e)
                } else {
                    r.arrived[report.id] = .some(nil)
                }
            }
        }
        reportsArrived.lock()
        reportsArrived.broadcast()
        reportsArrived.unlock()
    }

    /// A sender gave up on `ids`: reports already filed are dropped, later ones will be.
    private func abandon(_ ids: Set<UInt64>) {
        reports.withLock { r in
            for id in ids where r.arrived.removeValue(forKey: id) == nil { r.abandoned.insert(id) }
        }
    }

    func stop() {
        state.withLock { $0.stopping = true }
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while !state.withLock({ $0.finished }) && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        consumer.close()
        // Under the poll lock, and filed: a sender still waiting gets its reports.
        pollLock.lock()
        let flushed = producer.flush(timeoutMs: 5000)
        pollLock.unlock()
        file(flushed)
    }
}

extension KafkaAdmin {
    /// Creates an internal topic of the cluster when missing (compacted, `partitions`, `replicationFactor`, extra
    /// topic configs), or checks an existing one as Connect does: `exactPartitions` (the config topic must have one),
    /// and a cleanup policy of `compact` only. A wrong topic stops the worker with the topic and the setting named.
    public func ensureInternalTopic(
        _ topic: String, partitions: Int32, replicationFactor: Int16, configs: [String: String],
        exactPartitions: Int? = nil, describing what: String, key: String
    ) throws(ConnectError) {
        let existing: [KafkaTopicDescription]
        do {
            existing = try describeTopics([topic], timeoutMs: 10_000)
        } catch {
            throw ConnectError.connect("Could not describe \(what) \(topic)", cause: error)
        }
        guard let described = existing.first else {
            var all = configs
            all["cleanup.policy"] = "compact"
            do {
                try createTopics([
                    .init(
                        name: topic, partitions: partitions, replicationFactor: Int32(replicationFactor), configs: all)
                ])
            } catch {
                throw ConnectError.connect(
                    "Could not create \(what) \(topic) with \(partitions) partition(s) and replication factor \(replicationFactor) (\(key).replication.factor)",
                    cause: error)
            }
            return
        }
        if let exactPartitions, described.partitions != exactPartitions {
            throw ConnectError.config(
                "Topic '\(topic)' supplied via the '\(key)' property is required to have a single partition in order to guarantee consistency of connector configurations, but found \(described.partitions) partitions."
            )
        }
        let config: [String: String]?
        do {
            config = try describeTopicConfig(topic)
        } catch {
            config = nil
        }
        guard let policy = config?["cleanup.policy"] else { return }
        let policies = Set(policy.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        guard policies == ["compact"] else {
            throw ConnectError.config(
                "Topic '\(topic)' supplied via the '\(key)' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of \(what)s, but found the topic currently has 'cleanup.policy=\(policy)'. Continuing would likely result in eventually losing \(what)s and problems restarting this Connect cluster in the future. Change the '\(key)' property in the Connect worker configurations to use a topic with 'cleanup.policy=compact'."
            )
        }
    }
}
