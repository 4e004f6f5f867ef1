import ConnectAPI
import Testing

@testable import ConnectRuntime

/// A group of workers running what the leader's assignments tell them, round after round.
struct SimulatedGroup {
    var assignor: IncrementalCooperativeAssignor
    var running: [String: ConnectorsAndTasks] = [:]
    var configured: [String: Int]
    var generation: Int32 = 0
    var now: Int64 = 1_000_000
    var lastDelay: Int32 = 0

    init(maxDelay: Int32, configured: [String: Int], workers: [String]) {
        assignor = IncrementalCooperativeAssignor(maxDelay: maxDelay)
        self.configured = configured
        for w in workers { running[w] = .empty }
    }

    /// One rebalance: every worker reports what it runs, the leader assigns, each applies its assignment.
    mutating func round() -> [String: ExtendedAssignment] {
        let members = running.mapValues {
            WorkerMetadata(
                version: .sessioned, url: "http://w/", configOffset: 1,
                allocation: ExtendedAssignment(
                    version: .sessioned, leader: "", leaderUrl: "", configOffset: 1, assigned: $0))
        }
        generation += 1
        let out = assignor.assign(
            AssignmentRound(
                leaderId: running.keys.sorted()[0], leaderUrl: "http://w/", configOffset: 1, version: .sessioned,
                members: members, configured: configured, generation: generation,
                lastCompletedGeneration: generation - 1, now: now))
        for (id, a) in out {
            var r = running[id] ?? .empty
            r.connectors.removeAll { a.revoked.connectors.contains($0) }
            r.tasks.removeAll { a.revoked.tasks.contains($0) }
            r.connectors += a.assigned.connectors
            r.tasks += a.assigned.tasks
            running[id] = r
            lastDelay = a.delay
        }
        return out
    }

    /// Rounds until one revokes nothing (members rejoin at once after stopping what was revoked).
    mutating func settle() {
        for _ in 0..<10 {
            let out = round()
            if out.values.allSatisfy({ $0.revoked.isEmpty }) { return }
        }
    }

    var connectorsPerWorker: [Int] { running.keys.sorted().map { running[$0]!.connectors.count } }
    var tasksPerWorker: [Int] { running.keys.sorted().map { running[$0]!.tasks.count } }
    var everything: [String] {
        running.values.flatMap { $0.connectors + $0.tasks.map(\.description) }.sorted()
    }
    var configuredEverything: [String] {
        configured.flatMap { c, n in [c] + (0..<n).map { "\(c)-\($0)" } }.sorted()
    }
}

@Suite("Incremental cooperative and eager assignment")
struct AssignorTests {
    let three = ["a": 2, "b": 2, "c": 2]

    @Test("three connectors of two tasks on three workers: one connector and two tasks each, nothing twice")
    func balancedFirstAssignment() {
        var g = SimulatedGroup(maxDelay: 300_000, configured: three, workers: ["w1", "w2", "w3"])
        let out = g.round()
        #expect(out.values.allSatisfy { $0.revoked.isEmpty && $0.delay == 0 })
        #expect(g.connectorsPerWorker == [1, 1, 1])
        #expect(g.tasksPerWorker == [2, 2, 2])
        #expect(g.everything == g.configuredEverything)
    }

    @Test("a worker that joins takes its share: revoked from the others first, assigned in the next round")
    func joinRebalances() {
        var g = SimulatedGroup(maxDelay: 300_000, configured: ["a": 3, "b": 3], workers: ["w1", "w2"])
        _ = g.round()
        #expect(g.tasksPerWorker == [3, 3])
        g.running["w3"] = .empty
        let revoking = g.round()
        #expect(revoking.values.contains { !$0.revoked.isEmpty })
        #expect(revoking["w3"]?.assigned.isEmpty == true)
        g.settle()
        #expect(g.tasksPerWorker == [2, 2, 2])
        #expect(g.connectorsPerWorker.sorted() == [0, 1, 1])
        #expect(g.everything == g.configuredEverything)
    }

    @Test("a worker that leaves: its work is held back for the delay, then given to the others")
    func leaveWaitsForTheDelay() {
        var g = SimulatedGroup(maxDelay: 10_000, configured: three, workers: ["w1", "w2", "w3"])
        _ = g.round()
        let gone = g.running.removeValue(forKey: "w3")!
        _ = g.round()
        #expect(g.lastDelay == 10_000)
        #expect(g.everything.count == g.configuredEverything.count - gone.count)
        g.now += 4_000
        _ = g.round()
        #expect(g.lastDelay == 6_000)
        g.now += 6_000
        _ = g.round()
        #expect(g.lastDelay == 0)
        #expect(g.everything == g.configuredEverything)
        #expect(g.tasksPerWorker == [3, 3])
    }

    @Test("a worker that returns within the delay gets the held-back work")
    func returningWorkerGetsItsWorkBack() {
        var g = SimulatedGroup(maxDelay: 10_000, configured: three, workers: ["w1", "w2", "w3"])
        _ = g.round()
        let gone = g.running.removeValue(forKey: "w3")!
        _ = g.round()
        g.now += 3_000
        g.running["w3-new"] = .empty
        _ = g.round()
        #expect(g.running["w3-new"]!.isEmpty)
        g.now += 7_000
        _ = g.round()
        #expect(Set(g.running["w3-new"]!.connectors) == Set(gone.connectors))
        #expect(Set(g.running["w3-new"]!.tasks) == Set(gone.tasks))
        #expect(g.everything == g.configuredEverything)
    }

    @Test("with no delay, lost work is reassigned at once")
    func zeroDelay() {
        var g = SimulatedGroup(maxDelay: 0, configured: three, workers: ["w1", "w2", "w3"])
        _ = g.round()
        g.running.removeValue(forKey: "w2")
        _ = g.round()
        #expect(g.everything == g.configuredEverything)
    }

    @Test("deleted connectors and work running twice are revoked")
    func deletedAndDuplicated() {
        var g = SimulatedGroup(maxDelay: 300_000, configured: three, workers: ["w1", "w2", "w3"])
        _ = g.round()
        g.configured["c"] = nil
        let dup = g.running["w1"]!.tasks[0]
        g.running["w2"]!.tasks.append(dup)
        let out = g.round()
        let revoked = out.values.flatMap { $0.revoked.connectors + $0.revoked.tasks.map(\.description) }
        #expect(revoked.contains("c") && revoked.contains("c-0") && revoked.contains("c-1"))
        #expect(revoked.filter { $0 == dup.description }.count == 2)
        g.settle()
        #expect(g.everything == g.configuredEverything)
    }

    @Test("the eager assignor gives every member its whole set, round-robin by name")
    func eager() {
        let out = EagerAssignor.assign(
            AssignmentRound(
                leaderId: "m1", leaderUrl: "http://w/", configOffset: 4, version: .eager,
                members: [
                    "m1": WorkerMetadata(version: .eager, url: "u1", configOffset: 4),
                    "m2": WorkerMetadata(version: .eager, url: "u2", configOffset: 4),
                ],
                configured: ["b": 1, "a": 2], generation: 1, lastCompletedGeneration: 0, now: 0))
        #expect(
            out["m1"]?.assigned
                == ConnectorsAndTasks(connectors: ["a"], tasks: [ConnectorTaskId("a", 0), ConnectorTaskId("b", 0)]))
        #expect(out["m2"]?.assigned == ConnectorsAndTasks(connectors: ["b"], tasks: [ConnectorTaskId("a", 1)]))
    }
}
