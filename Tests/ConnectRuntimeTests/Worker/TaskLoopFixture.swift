import ConnectAPI
import ConnectMetrics
import Foundation
import Kafka
import Logging
import Synchronization

@testable import ConnectRuntime

/// Builds `WorkerSinkTask`s and `WorkerSourceTask`s around fake plug-in tasks, against librdkafka's in-process mock
/// cluster, and reads back what the loops did.
final class TaskLoopFixture: Sendable {
    let cluster: KafkaMockCluster
    let worker: Worker
    let status = StatusStore(workerId: "w:8083")
    let offsets = MemoryOffsetBackingStore()
    let registry = MetricsRegistry()

    init(plugins: PluginRegistry = .framework) throws {
        cluster = try KafkaMockCluster(brokers: 1)
        let props = [
            "bootstrap.servers": cluster.bootstrapServers, "key.converter": "StringConverter",
            "value.converter": "StringConverter", "offset.flush.interval.ms": "200",
            "offset.flush.timeout.ms": "2000", "consumer.session.timeout.ms": "6000",
        ]
        worker = Worker(
            config: try WorkerConfig(props), plugins: plugins, offsetStore: offsets, statusStore: status,
            metrics: registry, logger: Logger(label: "test"))
    }

    func unique(_ base: String) -> String { "\(base)-\(UInt32.random(in: 0...UInt32.max))" }

    /// Creates the topic and writes `values` to partition 0, waiting for every acknowledgement.
    func produce(_ topic: String, _ values: [String]) throws {
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(
            config: KafkaClientConfig(["bootstrap.servers": cluster.bootstrapServers, "linger.ms": "0"]))
        for (i, v) in values.enumerated() {
            try producer.send(id: UInt64(i), topic: topic, partition: 0, key: nil, value: Array(v.utf8))
        }
        let reports = producer.flush(timeoutMs: 10_000)
        precondition(reports.count == values.count, "the mock cluster did not acknowledge every test record")
    }

    /// A sink task of `connector` reading `topic`, with the connector's extra keys.
    func sinkTask(
        _ connector: String, topic: String, task: FakeSinkTask, initialState: TargetState = .started,
        commitIntervalMs: Int64 = 200, extra: [String: String] = [:]
    ) throws -> WorkerSinkTask {
        let id = ConnectorTaskId(connector, 0)
        var config = ["name": connector, "topics": topic]
        for (k, v) in extra { config[k] = v }
        let (consumerConfig, maxPoll) = try worker.consumerConfig(id, config)
        let metrics = TaskMetrics(registry: registry, id: id, isSource: false, status: status, clientId: "sink")
        let (errors, dlq) = try worker.errorHandling(id, config, isSink: true, metrics: metrics.errors)
        return WorkerSinkTask(
            id: id, task: task, taskConfig: [:], consumer: try KafkaConsumer(config: consumerConfig), topics: [topic],
            converters: try worker.buildConverters(config), chain: try worker.buildChain(config),
            commitIntervalMs: commitIntervalMs, maxPollRecords: maxPoll, initialState: initialState,
            listener: status, metrics: metrics, logger: Logger(label: "test"), errors: errors, dlq: dlq,
            flushTimeoutMs: 2000)
    }

    /// A source task of `connector`, with the connector's extra keys.
    func sourceTask(
        _ connector: String, task: FakeSourceTask, initialState: TargetState = .started, flushIntervalMs: Int64 = 200,
        flushTimeoutMs: Int64 = 2000, extra: [String: String] = [:], offsetStore: (any OffsetBackingStore)? = nil,
        topicCreator: SourceTopicCreator? = nil
    ) throws -> WorkerSourceTask {
        let id = ConnectorTaskId(connector, 0)
        var config = ["name": connector]
        for (k, v) in extra { config[k] = v }
        let metrics = TaskMetrics(registry: registry, id: id, isSource: true, status: status, clientId: "source")
        let (errors, dlq) = try worker.errorHandling(id, config, isSink: false, metrics: metrics.errors)
        return WorkerSourceTask(
            id: id, task: task, taskConfig: [:], producer: try KafkaProducer(config: worker.producerConfig(id, config)),
            converters: try worker.buildConverters(config), chain: try worker.buildChain(config),
            offsetStore: offsetStore ?? offsets, flushIntervalMs: flushIntervalMs, flushTimeoutMs: flushTimeoutMs,
            initialState: initialState, listener: status, metrics: metrics, logger: Logger(label: "test"),
            errors: errors, dlq: dlq, topicCreator: topicCreator)
    }

    /// The group `connect-<connector>`'s committed offset of partition 0 of `topic`, nil when it has none; throws
    /// when the cluster cannot say.
    func committed(_ connector: String, _ topic: String) throws -> Int64? {
        let consumer = try KafkaConsumer(
            config: KafkaClientConfig([
                "bootstrap.servers": cluster.bootstrapServers, "group.id": "connect-\(connector)",
                "enable.auto.commit": "false",
            ]))
        defer { consumer.close() }
        let tp = KafkaTopicPartition(topic, 0)
        return try consumer.committed([tp], timeoutMs: 5000)[tp]
    }

    /// The source offset stored for `connector`'s partition `{"p": "x"}`.
    func sourceOffset(_ connector: String) -> Int64? {
        let key = OffsetCodec.key(connector: connector, partition: ["p": .string("x")])
        guard let bytes = offsets.get([key])[key], case .int64(let pos)? = OffsetCodec.decodeValue(bytes)?["pos"]
        else { return nil }
        return pos
    }

    /// A task metric's value as `/metrics` shows it (`offset_commit_failure_percentage`), for task 0 of `connector`.
    func taskMetric(_ attribute: String, _ connector: String) -> Double? {
        let prefix = "kafka_connect_connector_task_metrics_\(attribute){connector=\"\(connector)\",task=\"0\"} "
        let line = PrometheusExposition.render(registry, process: nil).split(separator: "\n").first {
            $0.hasPrefix(prefix)
        }
        return line.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    /// Polls `condition` every 20 ms until it holds or `seconds` pass.
    func eventually(_ seconds: Double = 15, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }
}

/// A sink task that records what it is given, with failures on demand.
final class FakeSinkTask: SinkTask, @unchecked Sendable {
    // Every field is read and written while holding `lock` (the task thread writes, the test reads).
    private let lock = NSLock()
    private var _put: [String] = []
    private var _flushFailures = 0
    private var _retriablePutFailures = 0
    private var _stopped = false
    private var _closed: [TopicPartition] = []

    init() {}
    init(flushFailures: Int = 0, retriablePutFailures: Int = 0) {
        _flushFailures = flushFailures
        _retriablePutFailures = retriablePutFailures
    }

    var put: [String] { lock.withLock { _put } }
    var stopped: Bool { lock.withLock { _stopped } }
    var closed: [TopicPartition] { lock.withLock { _closed } }

    func initialize(_ context: any SinkTaskContext) {}
    func start(_ props: [String: String]) throws {}
    func put(_ records: [SinkRecord]) throws {
        try lock.withLock {
            if _retriablePutFailures > 0 {
                _retriablePutFailures -= 1
                throw ConnectError(.retriable, "the destination is busy")
            }
            _put += records.map { ValueFormatter.string($0.value) }
        }
    }
    func flush(_ currentOffsets: [TopicPartition: Int64]) throws {
        try lock.withLock {
            if _flushFailures > 0 {
                _flushFailures -= 1
                throw ConnectError.connect("flush failed: the destination rejected the write")
            }
        }
    }
    func close(_ partitions: [TopicPartition]) throws { lock.withLock { _closed += partitions } }
    func stop() throws { lock.withLock { _stopped = true } }
}

/// A source task that returns the batches it is given, one per poll, each record at partition `{"p": "x"}` with
/// offset `{"pos": n}`.
final class FakeSourceTask: SourceTask, @unchecked Sendable {
    // Every field is read and written while holding `lock` (the task thread writes, the test reads).
    private let lock = NSLock()
    private var batches: [[Int64]]
    private let topic: String
    private var _committedRecords = 0
    private var _commits = 0
    private var _committed: [(record: SourceRecord, metadata: RecordMetadata?)] = []

    init(topic: String, batches: [[Int64]]) {
        self.topic = topic
        self.batches = batches
    }

    convenience init() { self.init(topic: "", batches: []) }

    var committedRecords: Int { lock.withLock { _committedRecords } }
    var commits: Int { lock.withLock { _commits } }
    /// What `commitRecord` was given, in order.
    var committed: [(record: SourceRecord, metadata: RecordMetadata?)] { lock.withLock { _committed } }

    func initialize(_ context: any SourceTaskContext) {}
    func start(_ props: [String: String]) throws {}
    func poll() throws -> [SourceRecord]? {
        let batch = lock.withLock { batches.isEmpty ? nil : batches.removeFirst() }
        guard let batch else {
            Thread.sleep(forTimeInterval: 0.02)
            return nil
        }
        return batch.map {
            SourceRecord(
                sourcePartition: ["p": .string("x")], sourceOffset: ["pos": .int64($0)], topic: topic,
                valueSchema: .string, value: .string("record \($0)"))
        }
    }
    func commit() throws { lock.withLock { _commits += 1 } }
    func commitRecord(_ record: SourceRecord, metadata: RecordMetadata?) throws {
        lock.withLock {
            _committedRecords += 1
            _committed.append((record, metadata))
        }
    }
    func stop() throws {}
}

/// An offset store whose first `failures` writes fail as a slow offsets topic's do, then writes to `inner`.
final class FlakyOffsetStore: OffsetBackingStore {
    let inner: any OffsetBackingStore
    let failuresLeft: Mutex<Int>
    init(_ inner: any OffsetBackingStore, failures: Int) {
        self.inner = inner
        failuresLeft = Mutex(failures)
    }
    func get(_ keys: [[UInt8]]) -> [[UInt8]: [UInt8]] { inner.get(keys) }
    func all() -> [[UInt8]: [UInt8]] { inner.all() }
    func set(_ values: [[UInt8]: [UInt8]?]) throws(ConnectError) {
        let fail = failuresLeft.withLock { n -> Bool in
            defer { n -= 1 }
            return n > 0
        }
        if fail { throw ConnectError(.retriable, "Timed out writing to topic offsets") }
        try inner.set(values)
    }
}
