import ConnectAPI
import Foundation
import Kafka
import Logging
import Synchronization
import Testing

@testable import ConnectRuntime

@Suite("WorkerSourceTask's loop on librdkafka's mock cluster", .serialized, .timeLimit(.minutes(2)))
struct WorkerSourceTaskTests {
    let fixture: TaskLoopFixture
    init() throws { fixture = try TaskLoopFixture() }

    @Test("offsets of acknowledged records are written, then commitRecord and commit tell the task")
    func acknowledgedOffsetsAreCommitted() throws {
        let (name, topic) = (fixture.unique("source"), fixture.unique("out"))
        try fixture.cluster.createTopic(topic)
        let plugin = FakeSourceTask(topic: topic, batches: [[1, 2, 3], [4, 5]])
        let task = try fixture.sourceTask(name, task: plugin)
        task.start()
        #expect(fixture.eventually { fixture.sourceOffset(name) == 5 })
        #expect(plugin.committedRecords == 5)
        #expect(fixture.eventually { plugin.commits >= 1 })
        task.stop()
        #expect(task.awaitStop(timeoutMs: 10_000))
        #expect(fixture.status.task(task.id)?.state == .unassigned)
    }

    @Test("commitRecord gets each record as the task gave it, with the metadata of where the transformed record went")
    func commitRecordGetsThePreTransformRecord() throws {
        let (name, topic, routed) = (fixture.unique("source"), fixture.unique("out"), fixture.unique("routed"))
        try fixture.cluster.createTopic(routed)
        let plugin = FakeSourceTask(topic: topic, batches: [[1, 2, 3]])
        let task = try fixture.sourceTask(
            name, task: plugin,
            extra: [
                "transforms": "route,hoist",
                "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
                "transforms.route.regex": ".*", "transforms.route.replacement": routed,
                "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Value",
                "transforms.hoist.field": "line",
            ])
        task.start()
        defer {
            task.stop()
            task.awaitStop(timeoutMs: 10_000)
        }
        #expect(fixture.eventually { plugin.committedRecords == 3 })
        let committed = plugin.committed
        #expect(committed.map(\.record.topic) == [topic, topic, topic])
        #expect(committed.map(\.record.value) == [.string("record 1"), .string("record 2"), .string("record 3")])
        #expect(committed.map { $0.metadata?.topic } == [routed, routed, routed])
        #expect(fixture.eventually { fixture.sourceOffset(name) == 3 })
    }

    @Test(
        "offset commits that fail (a slow offsets topic) leave the task RUNNING, and the offsets go with the next commit"
    )
    func failedCommitsAreRetried() throws {
        let (name, topic) = (fixture.unique("source"), fixture.unique("out"))
        try fixture.cluster.createTopic(topic)
        let plugin = FakeSourceTask(topic: topic, batches: [[1, 2, 3]])
        let flaky = FlakyOffsetStore(fixture.offsets, failures: 3)
        let task = try fixture.sourceTask(name, task: plugin, offsetStore: flaky)
        task.start()
        defer {
            task.stop()
            task.awaitStop(timeoutMs: 10_000)
        }
        #expect(fixture.eventually { fixture.sourceOffset(name) == 3 })
        #expect(flaky.failuresLeft.withLock { $0 } < 0)
        #expect(fixture.status.task(task.id)?.state == .running)
        #expect(fixture.eventually { plugin.commits >= 1 })
    }

    @Test(
        "a topic whose creation timed out is tried again after a back-off, the rest of the batch with it, before the next poll"
    )
    func topicCreationTimeoutIsRetried() throws {
        let (name, topic) = (fixture.unique("source"), fixture.unique("created"))
        let plugin = FakeSourceTask(topic: topic, batches: [[1, 2, 3], [4]])
        let attempts = Mutex(0)
        let cluster = fixture.cluster
        let creation = try #require(
            try TopicCreation(
                connectorConfig: [
                    "topic.creation.default.replication.factor": "1", "topic.creation.default.partitions": "1",
                ], workerEnabled: true))
        let creator = SourceTopicCreator(
            creation: creation,
            makeAdmin: {
                // The first two attempts find a broker that does not answer in time.
                let n = attempts.withLock {
                    $0 += 1; return $0
                }
                if n <= 2 { throw KafkaError(kind: .timedOut, message: "Timed out creating topics", isRetriable: true) }
                // Then the broker has the topic (the mock cluster answers no CreateTopics): the admin finds it.
                try cluster.createTopic(topic)
                return try KafkaAdmin(config: KafkaClientConfig(["bootstrap.servers": cluster.bootstrapServers]))
            }, logger: Logger(label: "test"))
        let task = try fixture.sourceTask(name, task: plugin, topicCreator: creator)
        task.start()
        defer {
            task.stop()
            task.awaitStop(timeoutMs: 10_000)
        }
        #expect(fixture.eventually { fixture.sourceOffset(name) == 4 })
        #expect(attempts.withLock { $0 } == 3)
        #expect(fixture.status.task(task.id)?.state == .running)
    }

    @Test("produce requests the broker refuses for a while are retried; offsets wait for the acknowledgements")
    func refusedProducesAreRetried() throws {
        let (name, topic) = (fixture.unique("source"), fixture.unique("out"))
        try fixture.cluster.createTopic(topic)
        fixture.cluster.failNext(.produce, with: [.notEnoughReplicas, .notEnoughReplicas, .notEnoughReplicas])
        let plugin = FakeSourceTask(topic: topic, batches: [[1, 2, 3]])
        let task = try fixture.sourceTask(name, task: plugin)
        task.start()
        defer {
            task.stop()
            task.awaitStop(timeoutMs: 10_000)
        }
        #expect(fixture.eventually { fixture.sourceOffset(name) == 3 })
        #expect(plugin.committedRecords == 3)
        #expect(fixture.status.task(task.id)?.state == .running)
    }

    @Test(
        "with the broker down nothing is acknowledged, no offset is written, and stop gives up within the flush timeout"
    )
    func brokerDownCommitsNothing() throws {
        let (name, topic) = (fixture.unique("source"), fixture.unique("out"))
        try fixture.cluster.createTopic(topic)
        let plugin = FakeSourceTask(topic: topic, batches: [[1, 2]])
        let task = try fixture.sourceTask(name, task: plugin, flushTimeoutMs: 1000)
        task.start()
        #expect(fixture.eventually { fixture.sourceOffset(name) == 2 })
        fixture.cluster.setBroker(1, up: false)
        let plugin2 = FakeSourceTask(topic: topic, batches: [[3, 4]])
        let task2 = try fixture.sourceTask(fixture.unique("source"), task: plugin2, flushTimeoutMs: 1000)
        task.stop()
        task.awaitStop(timeoutMs: 10_000)
        task2.start()
        Thread.sleep(forTimeInterval: 1)
        let started = ContinuousClock.now
        task2.stop()
        #expect(task2.awaitStop(timeoutMs: 10_000))
        #expect(ContinuousClock.now - started < .seconds(4))
        #expect(fixture.sourceOffset(task2.id.connector) == nil)
        #expect(plugin2.committedRecords == 0)
        fixture.cluster.setBroker(1, up: true)
    }

    @Test("pausing flushes and commits what is in flight before reporting PAUSED; resumed, it polls again")
    func pauseFlushesFirst() throws {
        let (name, topic) = (fixture.unique("source"), fixture.unique("out"))
        try fixture.cluster.createTopic(topic)
        let plugin = FakeSourceTask(topic: topic, batches: [[1, 2, 3]])
        // Offsets are flushed every hour: only pausing writes them.
        let task = try fixture.sourceTask(name, task: plugin, flushIntervalMs: 3_600_000)
        task.start()
        defer {
            task.stop()
            task.awaitStop(timeoutMs: 10_000)
        }
        #expect(fixture.eventually { plugin.committedRecords == 3 })
        #expect(fixture.sourceOffset(name) == nil)
        task.transition(to: .paused)
        #expect(fixture.eventually { fixture.status.task(task.id)?.state == .paused })
        #expect(fixture.sourceOffset(name) == 3)
        task.transition(to: .started)
        #expect(fixture.eventually { fixture.status.task(task.id)?.state == .running })
    }

    @Test("a cancelled task writes no offsets, not even on its way out, and reports no status")
    func cancelledWritesNoOffsets() throws {
        let (name, topic) = (fixture.unique("source"), fixture.unique("out"))
        try fixture.cluster.createTopic(topic)
        let plugin = FakeSourceTask(topic: topic, batches: [[1, 2, 3]])
        let task = try fixture.sourceTask(name, task: plugin, flushIntervalMs: 3_600_000)
        task.start()
        #expect(fixture.eventually { plugin.committedRecords == 3 })
        task.cancel()
        #expect(task.awaitStop(timeoutMs: 10_000))
        #expect(fixture.sourceOffset(name) == nil)
        #expect(fixture.status.task(task.id)?.state == .running)
    }

    @Test("a retriable transform failure in a long backoff ends as soon as the task is asked to stop")
    func stopEndsBackoff() throws {
        var plugins = PluginRegistry.framework
        plugins.register(transformation: RetriableFailureTransform.self, className: RetriableFailureTransform.className)
        let fixture = try TaskLoopFixture(plugins: plugins)
        let (name, topic) = (fixture.unique("source"), fixture.unique("out"))
        try fixture.cluster.createTopic(topic)
        let plugin = FakeSourceTask(topic: topic, batches: [[1]])
        let task = try fixture.sourceTask(
            name, task: plugin,
            extra: [
                "transforms": "fail", "transforms.fail.type": RetriableFailureTransform.className,
                "errors.retry.timeout": "600000", "errors.retry.delay.max.ms": "60000",
            ])
        task.start()
        // 300, 600, 1200 ms: after three retries it waits 2.4 s.
        #expect(fixture.eventually { task.metrics.errors.retries.value >= 3 })
        let started = ContinuousClock.now
        task.stop()
        #expect(task.awaitStop(timeoutMs: 10_000))
        #expect(ContinuousClock.now - started < .milliseconds(500))
    }
}

/// A transform that always fails with a retriable error.
final class RetriableFailureTransform: Transformation {
    static let className = "com.example.RetriableFailureTransform"
    static var configDef: ConfigDef { ConfigDef() }
    init() {}
    func configure(_ configs: [String: String]) throws {}
    func apply<R: ConnectRecord>(_ record: R) throws -> R? { throw ConnectError(.retriable, "lookup unavailable") }
    func close() {}
}
