import ConnectAPI
import ConnectRuntime
import KafkaProtocol
import Logging
import Synchronization
import Testing

@Suite("The leader's account of each rebalance: its cause, who joined or left, what moved")
final class LeaderRoundTests: Sendable {
    let clock = Mutex<Int64>(1_000_000)
    let running = Mutex<Set<String>>([])
    let rounds = Mutex<[LeaderRound]>([])

    static func config(offset: Int64) -> ClusterConfigState {
        var s = ClusterConfigState()
        s.connectors = ["c"]
        s.connectorConfigs = ["c": ["connector.class": "X"]]
        s.taskConfigs = ["c": [[:], [:]]]
        s.targetStates = ["c": .started]
        s.offset = offset
        return s
    }

    func coordinator() -> WorkerCoordinator {
        WorkerCoordinator(
            url: "http://a:8083/", maxProtocol: .sessioned, scheduledRebalanceMaxDelayMs: 60_000,
            configState: { Self.config(offset: 5) }, logger: Logger(label: "test"),
            now: { [self] in clock.withLock { $0 } },
            workersRunningTasks: { [self] in running.withLock { $0 } },
            onLeaderRound: { [self] round in rounds.withLock { $0.append(round) } })
    }

    /// One rebalance with `members` (id, url, allocation); completes it for the leader `m1`; returns the assignments.
    func rebalance(
        _ c: WorkerCoordinator, generation: Int32, _ members: [(String, String, ExtendedAssignment?)]
    ) throws -> [String: ExtendedAssignment] {
        let encoded = members.map { id, url, allocation in
            JoinGroupRequest.Member(
                memberId: id,
                metadata: ConnectProtocol.encode(
                    WorkerMetadata(version: .sessioned, url: url, configOffset: 5, allocation: allocation)))
        }
        let out = try c.performAssignment(
            leaderId: "m1", protocolName: "sessioned", generation: generation, members: encoded)
        c.onJoinComplete(generation: generation, memberId: "m1", protocolName: "sessioned", assignment: out["m1"]!)
        return try out.mapValues { try ConnectProtocol.decodeAssignment($0) }
    }

    @Test(
        "first round: a leader change; a member gone with its tasks RUNNING: timeout, held back; then scheduled, moved")
    func timeoutThenScheduled() throws {
        let c = coordinator()
        let first = try rebalance(c, generation: 1, [("m1", "http://a:8083/", nil), ("m2", "http://b:8083/", nil)])
        #expect(rounds.withLock { $0.last?.cause } == .leaderChange)
        // A new leader that finds a worker with RUNNING tasks outside the group counts a timeout.
        let other = coordinator()
        running.withLock { $0 = ["z:8083"] }
        _ = try rebalance(other, generation: 1, [("m1", "http://a:8083/", nil)])
        #expect(rounds.withLock { $0.last?.cause } == .timeout)
        #expect(rounds.withLock { $0.last?.departed.map(\.url) } == ["http://z:8083/"])
        running.withLock { $0 = [] }
        var m1 = first["m1"]!
        m1.revoked = .empty
        // b vanishes with its tasks RUNNING in the status topic.
        running.withLock { $0 = ["b:8083"] }
        _ = try rebalance(c, generation: 2, [("m1", "http://a:8083/", m1)])
        let lost = try #require(rounds.withLock { $0.last })
        #expect(lost.cause == .timeout)
        #expect(lost.departed.map(\.url) == ["http://b:8083/"])
        #expect(lost.departed.map(\.timedOut) == [true])
        #expect(lost.moves.isEmpty)
        #expect(lost.state.scheduledRebalance == 1_060_000)
        // The delay runs out: the held-back work goes to a, and the round says so.
        clock.withLock { $0 = 1_061_000 }
        _ = try rebalance(c, generation: 3, [("m1", "http://a:8083/", m1)])
        let scheduled = try #require(rounds.withLock { $0.last })
        #expect(scheduled.cause == .scheduled)
        let moved = Set(
            scheduled.moves.map { "\($0.connector)-\($0.task.map(String.init) ?? "c"):\($0.from)>\($0.to)" })
        let expected = Set(
            first["m2"]!.assigned.tasks.map { "c-\($0.task):http://b:8083/>http://a:8083/" }
                + first["m2"]!.assigned.connectors.map { "\($0)-c:http://b:8083/>http://a:8083/" })
        #expect(!expected.isEmpty)
        #expect(moved == expected)
    }

    @Test("a member gone with nothing RUNNING left; a new member joined")
    func leaveAndJoin() throws {
        let c = coordinator()
        let first = try rebalance(c, generation: 1, [("m1", "http://a:8083/", nil), ("m2", "http://b:8083/", nil)])
        var m1 = first["m1"]!
        m1.revoked = .empty
        _ = try rebalance(c, generation: 2, [("m1", "http://a:8083/", m1)])
        #expect(rounds.withLock { $0.last?.cause } == .leave)
        #expect(rounds.withLock { $0.last?.departed.map(\.timedOut) } == [false])
        _ = try rebalance(c, generation: 3, [("m1", "http://a:8083/", m1), ("m3", "http://c:8083/", nil)])
        #expect(rounds.withLock { $0.last?.cause } == .join)
        #expect(rounds.withLock { $0.last?.joined } == ["http://c:8083/"])
    }
}
