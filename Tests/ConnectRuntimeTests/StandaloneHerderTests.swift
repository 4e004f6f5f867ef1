import ConnectAPI
import ConnectWorkerKit
import Foundation
import Logging
import Synchronization
import Testing

@testable import ConnectRuntime

/// A source connector whose behaviour the test sets: failing starts, and how many task configs it returns.
final class ScriptedConnector: SourceConnector {
    static let failuresLeft = Mutex(0)
    static let taskCount = Mutex(0)
    static let configDef = ConfigDef()

    init() {}
    var taskType: any Task.Type { IdleTask.self }

    func start(_ props: [String: String]) throws {
        let fail = Self.failuresLeft.withLock { n -> Bool in
            defer { n = max(0, n - 1) }
            return n > 0
        }
        if fail { throw ConnectError.connect("Could not reach the database at db:5432") }
    }

    func taskConfigs(maxTasks: Int) throws -> [[String: String]] {
        Array(repeating: [:], count: Self.taskCount.withLock { $0 })
    }

    func stop() throws {}
}

/// A source connector whose `start` waits until the test opens the gate named by its `gate` key; it notes its stop.
final class GatedConnector: SourceConnector {
    static let gates = Mutex<[String: DispatchSemaphore]>([:])
    static let stopped = Mutex<Set<String>>([])
    /// The gates whose connector's `start` is running (and waiting).
    static let entered = Mutex<Set<String>>([])
    static let configDef = ConfigDef()
    private var gate = ""

    static func gate(_ name: String) -> DispatchSemaphore {
        gates.withLock { g in
            if let s = g[name] { return s }
            let s = DispatchSemaphore(value: 0)
            g[name] = s
            return s
        }
    }

    init() {}
    var taskType: any Task.Type { IdleTask.self }
    func start(_ props: [String: String]) throws {
        gate = props["gate"] ?? ""
        _ = Self.entered.withLock { $0.insert(gate) }
        Self.gate(gate).wait()
    }
    func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [] }
    func stop() throws { _ = Self.stopped.withLock { $0.insert(gate) } }
}

final class IdleTask: SourceTask {
    init() {}
    func initialize(_ context: any SourceTaskContext) {}
    func start(_ props: [String: String]) throws {}
    func poll() throws -> [SourceRecord]? { nil }
    func stop() throws {}
}

@Suite(.serialized) struct StandaloneHerderTests {
    let herder: StandaloneHerder

    init() throws {
        var plugins = PluginRegistry.builtIn
        plugins.register(connector: ScriptedConnector.self, className: "com.example.ScriptedConnector", type: .source)
        plugins.register(connector: GatedConnector.self, className: "com.example.GatedConnector", type: .source)
        let worker = Worker(
            config: try WorkerConfig(["key.converter": "StringConverter", "value.converter": "StringConverter"]),
            plugins: plugins, offsetStore: MemoryOffsetBackingStore(), statusStore: StatusStore(workerId: "host:8083"),
            logger: Logger(label: "test"))
        herder = StandaloneHerder(worker: worker, clusterID: { "c" }, logger: Logger(label: "test"))
        ScriptedConnector.failuresLeft.withLock { $0 = 0 }
        ScriptedConnector.taskCount.withLock { $0 = 0 }
    }

    let config = ["name": "c", "connector.class": "com.example.ScriptedConnector"]

    @Test("GET /cluster of a standalone worker: a cluster of one, running its connectors and tasks")
    func clusterOfOne() throws {
        ScriptedConnector.taskCount.withLock { $0 = 1 }
        _ = try herder.putConnectorConfig("c", config: config, allowReplace: false, initialState: nil)
        let view = try herder.clusterView()
        #expect(view.mode == "standalone" && view.groupId == nil && view.unassigned.isEmpty)
        #expect(view.workers.count == 1)
        #expect(view.workers.first?.workerId == "host:8083" && view.workers.first?.isLeader == true)
        #expect(view.workers.first?.connectors == ["c"])
        #expect(view.workers.first?.tasks == [ConnectorTaskId("c", 0)])
    }

    @Test("a connector that fails to start is FAILED with a readable trace, and a restart brings it back")
    func failedStartThenRestart() throws {
        ScriptedConnector.failuresLeft.withLock { $0 = 1 }
        let (created, _) = try herder.putConnectorConfig("c", config: config, allowReplace: false, initialState: nil)
        #expect(created)
        let failed = try herder.connectorStatus("c")
        #expect(failed.connector.state == .failed)
        #expect(failed.connector.workerId == "host:8083")
        #expect(
            failed.connector.trace?.hasPrefix(
                "org.apache.kafka.connect.errors.ConnectException: Could not reach the database at db:5432") == true)
        #expect(failed.connector.trace?.contains("\tat com.example.ScriptedConnector.start [connector c]") == true)
        #expect(try herder.restartConnector("c", RestartRequest()) == nil)
        #expect(try herder.connectorStatus("c").connector.state == .running)
        #expect(try herder.connectorStatus("c").connector.trace == nil)
    }

    /// The connector's state once it is `state` (pause, resume and stop are applied on the connector's own thread,
    /// as Connect answers them 202 Accepted), or the last one seen after 5 s.
    func connectorState(becoming state: ConnectorState) throws -> ConnectorState? {
        var seen: ConnectorState?
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while ContinuousClock.now < deadline {
            seen = try herder.connectorStatus("c").connector.state
            if seen == state { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return seen
    }

    @Test("pause, resume and stop set the connector's state; STOPPED has no tasks")
    func targetStates() throws {
        _ = try herder.putConnectorConfig("c", config: config, allowReplace: false, initialState: .paused)
        #expect(try herder.connectorStatus("c").connector.state == .paused)
        try herder.resumeConnector("c")
        #expect(try connectorState(becoming: .running) == .running)
        try herder.stopConnector("c")
        let stopped = try herder.connectorStatus("c")
        #expect(stopped.connector.state == .stopped)
        #expect(stopped.tasks.isEmpty)
        #expect(try herder.connectorInfo("c").tasks.isEmpty)
        try herder.resumeConnector("c")
        #expect(try connectorState(becoming: .running) == .running)
    }

    @Test("a connector that makes more tasks than tasks.max fails with Connect's message")
    func tasksMaxEnforced() throws {
        ScriptedConnector.taskCount.withLock { $0 = 3 }
        var c = config
        c["tasks.max"] = "2"
        _ = try herder.putConnectorConfig("c", config: c, allowReplace: false, initialState: nil)
        let status = try herder.connectorStatus("c")
        #expect(status.connector.state == .failed)
        #expect(status.connector.trace?.contains("has generated 3 tasks, which is greater than 2") == true)
    }

    @Test("create, duplicate, replace and delete follow Connect's codes and messages")
    func crud() throws {
        _ = try herder.putConnectorConfig("c", config: config, allowReplace: false, initialState: nil)
        #expect {
            _ = try herder.putConnectorConfig("c", config: config, allowReplace: false, initialState: nil)
        } throws: {
            ($0 as? ConnectError)?.kind == .alreadyExists
                && ($0 as? ConnectError)?.message == "Connector c already exists"
        }
        let (created, _) = try herder.putConnectorConfig("c", config: config, allowReplace: true, initialState: nil)
        #expect(!created)
        #expect(herder.connectors() == ["c"])
        try herder.deleteConnector("c")
        #expect(herder.connectors().isEmpty)
        #expect {
            _ = try herder.connectorStatus("c")
        } throws: {
            ($0 as? ConnectError)?.kind == .notFound
                && ($0 as? ConnectError)?.message == "No status found for connector c"
        }
        #expect {
            try herder.pauseConnector("c")
        } throws: { ($0 as? ConnectError)?.message == "Unknown connector c" }
    }

    @Test("an invalid config is rejected before anything starts")
    func invalid() {
        #expect {
            _ = try herder.putConnectorConfig(
                "d", config: ["name": "d", "connector.class": "DatagenConnector"], allowReplace: false,
                initialState: nil)
        } throws: { ($0 as? ConnectError)?.kind == .badRequest }
        #expect(herder.connectors().isEmpty)
    }

    func gated(_ gate: String) -> [String: String] {
        ["name": gate, "connector.class": "com.example.GatedConnector", "gate": gate]
    }

    /// Runs `body` on a thread of its own; the result arrives in the returned box.
    func inBackground<T: Sendable>(_ body: @escaping @Sendable () -> T) -> ResultSlot<T> {
        let slot = ResultSlot<T>()
        Thread { slot.set(body()) }.start()
        return slot
    }

    @Test("stop answers once the connector is STOPPED, so its offsets can be reset right away")
    func stopThenOffsets() throws {
        _ = try herder.putConnectorConfig("c", config: config, allowReplace: false, initialState: nil)
        try herder.stopConnector("c")
        #expect(try herder.connectorStatus("c").connector.state == .stopped)
        #expect(
            try herder.resetConnectorOffsets("c").contains("offsets for this connector have been reset successfully"))
    }

    @Test(
        "a create still waiting for a start that hangs answers once the connector is deleted; the late start is stopped"
    )
    func deleteDuringHungStart() throws {
        let gate = "g-\(UInt32.random(in: 0...UInt32.max))"
        let creating = inBackground { () -> String in
            do {
                _ = try herder.putConnectorConfig(gate, config: gated(gate), allowReplace: false, initialState: nil)
                return "created"
            } catch { return (error as? ConnectError)?.message ?? "\(error)" }
        }
        // The start must hang already: a delete before it begins stops a connector that never started.
        #expect(eventually { GatedConnector.entered.withLock { $0.contains(gate) } })
        try herder.deleteConnector(gate)
        #expect(eventually(1) { creating.get() != nil })
        #expect(creating.get() == "Connector \(gate) not found")
        GatedConnector.gate(gate).signal()
        #expect(eventually { GatedConnector.stopped.withLock { $0.contains(gate) } })
    }

    @Test("stopping the herder answers a waiting request at once that the worker is shutting down")
    func stopDuringHungStart() throws {
        let gate = "h-\(UInt32.random(in: 0...UInt32.max))"
        let creating = inBackground { () -> String in
            do {
                _ = try herder.putConnectorConfig(gate, config: gated(gate), allowReplace: false, initialState: nil)
                return "created"
            } catch { return (error as? ConnectError)?.message ?? "\(error)" }
        }
        #expect(eventually { GatedConnector.entered.withLock { $0.contains(gate) } })
        let started = ContinuousClock.now
        herder.stop()
        #expect(ContinuousClock.now - started < .seconds(8))
        #expect(eventually(1) { creating.get() == "The worker is shutting down" })
        GatedConnector.gate(gate).signal()
    }

    @Test("concurrent updates of one connector all answer at once, and concurrent patches keep one another's keys")
    func concurrentUpdates() throws {
        _ = try herder.putConnectorConfig("c", config: config, allowReplace: false, initialState: nil)
        for round in 0..<5 {
            let started = ContinuousClock.now
            let puts = (1...2).map { n in
                inBackground { () -> Bool in
                    var c = self.config
                    c["tasks.max"] = String(n)
                    return (try? self.herder.putConnectorConfig("c", config: c, allowReplace: true, initialState: nil))
                        != nil
                }
            }
            #expect(eventually(5) { puts.allSatisfy { $0.get() != nil } })
            #expect(puts.allSatisfy { $0.get() == true })
            let patches = ["x.a\(round)", "x.b\(round)"].map { key in
                inBackground { (try? self.herder.patchConnectorConfig("c", patch: [key: "1"])) != nil }
            }
            #expect(eventually(5) { patches.allSatisfy { $0.get() != nil } })
            #expect(patches.allSatisfy { $0.get() == true })
            let stored = try herder.connectorConfig("c")
            #expect(stored["x.a\(round)"] == "1" && stored["x.b\(round)"] == "1")
            #expect(ContinuousClock.now - started < .seconds(10))
        }
        #expect {
            _ = try herder.patchConnectorConfig("c", patch: ["name": "other"])
        } throws: {
            ($0 as? ConnectError)?.message
                == "Connector name configuration (other) doesn't match connector name in the URL (c)"
        }
    }

    /// Polls `condition` every 10 ms until it holds or `seconds` pass.
    func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }
}

/// A slot one thread fills and another reads.
final class ResultSlot<Value: Sendable>: Sendable {
    private let slot = Mutex<Value?>(nil)
    init() {}
    func set(_ value: Value) { slot.withLock { $0 = value } }
    func get() -> Value? { slot.withLock { $0 } }
}
