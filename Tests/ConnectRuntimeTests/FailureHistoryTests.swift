import ConnectAPI
import Synchronization
import Testing

@testable import ConnectRuntime

@Suite("Failure history and the restart policy")
struct FailureHistoryTests {
    let id = ConnectorTaskId("sink", 0)
    let boom = "org.apache.kafka.connect.errors.ConnectException: boom\n\tat Sink.put [TASK_PUT]"

    func history() -> (FailureHistory, SleepRecordingClock) {
        let clock = SleepRecordingClock()
        clock.now.withLock { $0 = 1_000 }
        return (FailureHistory(limit: 4, now: { clock.now.withLock { $0 } }), clock)
    }

    @Test("the same failure again is one entry with a count; a different one is a new entry")
    func grouping() {
        let (h, clock) = history()
        h.recordFailure(.task(id), trace: boom)
        clock.now.withLock { $0 = 2_000 }
        h.recordRestart(.task(id), reason: "policy")
        h.recordFailure(.task(id), trace: boom + "\n\tat elsewhere")
        h.recordFailure(.task(id), trace: "org.apache.kafka.connect.errors.DataException: other")
        let entries = h.entries(.task(id))
        #expect(entries.map(\.kind) == [.failure, .restart, .failure])
        #expect(entries[0].count == 2 && entries[0].firstSeen == 1_000 && entries[0].lastSeen == 2_000)
        #expect(entries[0].trace?.hasSuffix("elsewhere") == true)
        #expect(entries[0].failure?.stage == "TASK_PUT")
    }

    @Test("outcomes follow the story: failed, restarted, running again; or given up")
    func outcomes() {
        let (h, _) = history()
        h.recordFailure(.task(id), trace: boom)
        #expect(h.entries(.task(id)).first?.outcome == "failed")
        h.recordRestart(.task(id), reason: "rest")
        #expect(h.entries(.task(id)).first?.outcome == "restarted")
        h.recordRunning(.task(id))
        #expect(h.entries(.task(id)).map(\.outcome) == ["running again", "running again"])
        h.recordFailure(.task(id), trace: "org.apache.kafka.connect.errors.ConnectException: again")
        h.recordGivenUp(.task(id))
        #expect(h.entries(.task(id)).last?.outcome == "given up")
    }

    @Test("history is bounded and goes with its connector")
    func bounded() {
        let (h, _) = history()
        for i in 0..<10 { h.recordFailure(.task(id), trace: "org.apache.kafka.connect.errors.ConnectException: \(i)") }
        #expect(h.entries(.task(id)).count == 4)
        #expect(h.entries(.task(id)).first?.trace?.hasSuffix(": 6") == true)
        h.recordFailure(.connector("sink"), trace: boom)
        #expect(h.tasks(of: "sink") == [0])
        h.remove(connector: "sink")
        #expect(h.entries(.task(id)).isEmpty && h.entries(.connector("sink")).isEmpty)
    }

    @Test("the restart policy doubles its backoff up to the maximum and counts restarts within its window")
    func policy() throws {
        let p = try RestartPolicy([
            "errors.restart.policy": "exponential", "errors.restart.backoff.initial.ms": "500",
            "errors.restart.backoff.max.ms": "3000", "errors.restart.max.restarts": "3",
            "errors.restart.window.ms": "10000",
        ])
        #expect(p.enabled && p.maxRestarts == 3)
        #expect((0..<5).map { p.backoffMs(restartsInWindow: $0) } == [500, 1000, 2000, 3000, 3000])
        #expect(p.inWindow([1_000, 5_000, 12_000], now: 14_000) == [5_000, 12_000])
        #expect(try !RestartPolicy([:]).enabled)
        #expect(p.givingUpNote.contains("errors.restart.max.restarts=3"))
    }
}
