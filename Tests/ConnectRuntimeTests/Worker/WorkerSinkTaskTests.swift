import ConnectAPI
import Foundation
import Kafka
import Testing

@testable import ConnectRuntime

@Suite("WorkerSinkTask's loop on librdkafka's mock cluster", .serialized, .timeLimit(.minutes(2)))
struct WorkerSinkTaskTests {
    let fixture: TaskLoopFixture
    init() throws { fixture = try TaskLoopFixture() }

    func values(_ n: Int) -> [String] { (0..<n).map { "v\($0)" } }

    @Test("records are put in order and, after preCommit, committed to the group; stop commits, closes, stops")
    func putsAndCommits() throws {
        let (name, topic) = (fixture.unique("sink"), fixture.unique("in"))
        try fixture.produce(topic, values(20))
        let plugin = FakeSinkTask()
        let task = try fixture.sinkTask(name, topic: topic, task: plugin)
        task.start()
        #expect(fixture.eventually { plugin.put.count == 20 })
        #expect(plugin.put == values(20))
        #expect(fixture.eventually { fixture.status.task(task.id)?.state == .running })
        #expect(fixture.eventually { (try? fixture.committed(name, topic)) == 20 })
        task.stop()
        #expect(task.awaitStop(timeoutMs: 10_000))
        #expect(plugin.stopped)
        #expect(plugin.closed == [TopicPartition(topic, 0)])
        #expect(fixture.status.task(task.id)?.state == .unassigned)
    }

    @Test("a flush that fails rewinds to the last committed offsets, so what the task lost is put again")
    func failedFlushRewinds() throws {
        let (name, topic) = (fixture.unique("sink"), fixture.unique("in"))
        try fixture.produce(topic, values(10))
        let plugin = FakeSinkTask(flushFailures: 1)
        let task = try fixture.sinkTask(name, topic: topic, task: plugin)
        task.start()
        defer {
            task.stop()
            task.awaitStop(timeoutMs: 10_000)
        }
        #expect(fixture.eventually { (try? fixture.committed(name, topic)) == 10 })
        // Everything was put twice: once before the failed flush, again after the rewind.
        #expect(plugin.put == values(10) + values(10))
        #expect((fixture.taskMetric("offset_commit_failure_percentage", name) ?? 0) > 0)
    }

    @Test("a retriable put failure redelivers the same batch after the backoff, and nothing is lost")
    func retriablePutRedelivers() throws {
        let (name, topic) = (fixture.unique("sink"), fixture.unique("in"))
        try fixture.produce(topic, values(5))
        let plugin = FakeSinkTask(retriablePutFailures: 2)
        let task = try fixture.sinkTask(name, topic: topic, task: plugin)
        task.start()
        defer {
            task.stop()
            task.awaitStop(timeoutMs: 10_000)
        }
        #expect(fixture.eventually { (try? fixture.committed(name, topic)) == 5 })
        #expect(plugin.put == values(5))
        #expect(fixture.status.task(task.id)?.state == .running)
    }

    @Test("a paused task puts nothing and reports PAUSED; resumed, it puts what arrived meanwhile")
    func pauseAndResume() throws {
        let (name, topic) = (fixture.unique("sink"), fixture.unique("in"))
        try fixture.produce(topic, values(5))
        let plugin = FakeSinkTask()
        let task = try fixture.sinkTask(name, topic: topic, task: plugin, initialState: .paused)
        task.start()
        defer {
            task.stop()
            task.awaitStop(timeoutMs: 10_000)
        }
        #expect(fixture.eventually { fixture.status.task(task.id)?.state == .paused })
        Thread.sleep(forTimeInterval: 1)
        #expect(plugin.put.isEmpty)
        task.transition(to: .started)
        #expect(fixture.eventually { plugin.put == values(5) })
        #expect(fixture.status.task(task.id)?.state == .running)
    }

    @Test("a commit the broker refuses counts as failed; the next one commits everything")
    func refusedCommitIsRetried() throws {
        let (name, topic) = (fixture.unique("sink"), fixture.unique("in"))
        try fixture.produce(topic, values(8))
        fixture.cluster.failNext(.offsetCommit, with: [.groupAuthorizationFailed, .groupAuthorizationFailed])
        let plugin = FakeSinkTask()
        let task = try fixture.sinkTask(name, topic: topic, task: plugin)
        task.start()
        defer {
            task.stop()
            task.awaitStop(timeoutMs: 10_000)
        }
        #expect(fixture.eventually { (fixture.taskMetric("offset_commit_failure_percentage", name) ?? 0) > 0 })
        #expect(fixture.eventually { (try? fixture.committed(name, topic)) == 8 })
        #expect(plugin.put == values(8))
    }

    @Test("a cancelled task commits nothing more, not even on its way out, and reports no status")
    func cancelledCommitsNothing() throws {
        let (name, topic) = (fixture.unique("sink"), fixture.unique("in"))
        try fixture.produce(topic, values(6))
        let plugin = FakeSinkTask()
        // Commits only at the interval, an hour away: the final commit on stop is the only one it would make.
        let task = try fixture.sinkTask(name, topic: topic, task: plugin, commitIntervalMs: 3_600_000)
        task.start()
        #expect(fixture.eventually { plugin.put.count == 6 })
        task.cancel()
        #expect(task.awaitStop(timeoutMs: 10_000))
        #expect(try fixture.committed(name, topic) == nil)
        #expect(fixture.status.task(task.id)?.state == .running)
    }
}
