import ConnectAPI
import ConnectWorkerKit
import Dispatch
import Foundation
import Logging
import Synchronization
import Testing

@testable import ConnectRuntime

/// A source connector whose next start fails when `failNext` is set (its own, so that suites running at once do not
/// share it).
final class FailOnceConnector: SourceConnector {
    static let failNext = Mutex(false)
    static let configDef = ConfigDef()
    init() {}
    var taskType: any Task.Type { IdleTask.self }
    func start(_ props: [String: String]) throws {
        if Self.failNext.withLock({ f in
            defer { f = false }; return f
        }) {
            throw ConnectError.connect("Could not reach the database at db:5432")
        }
    }
    func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [] }
    func stop() throws {}
}

/// A connector that leaves its worker says so (Connect's `onShutdown`), and readers keep the newer owner's state.
@Suite(.serialized) struct ConnectorShutdownStatusTests {
    let store = StatusStore(workerId: "w1:8083")
    let worker: Worker

    init() throws {
        var plugins = PluginRegistry.builtIn
        plugins.register(connector: FailOnceConnector.self, className: "com.example.FailOnceConnector", type: .source)
        worker = Worker(
            config: try WorkerConfig(["key.converter": "StringConverter", "value.converter": "StringConverter"]),
            plugins: plugins, offsetStore: MemoryOffsetBackingStore(), statusStore: store,
            logger: Logger(label: "test"))
    }

    /// Starts connector `c` and waits for its start to end.
    func start() {
        let done = DispatchSemaphore(value: 0)
        worker.startConnector(
            "c", config: ["name": "c", "connector.class": "com.example.FailOnceConnector"], target: .started
        ) { _, _ in done.signal() }
        done.wait()
    }

    @Test(
        "revoked or stopped with its worker: UNASSIGNED once stopped; a restart's stop writes nothing; a FAILED connector keeps its failure; a removed status is not brought back"
    )
    func unassignedWhenLeaving() {
        start()
        #expect(store.connector("c")?.state == .running)
        worker.stopAndAwaitConnectors(["c"], reportUnassigned: true)
        #expect(store.connector("c")?.state == .unassigned)
        #expect(store.connector("c")?.workerId == "w1:8083")

        start()
        #expect(store.connector("c")?.state == .running)
        worker.stopAndAwaitConnector("c")
        #expect(store.connector("c")?.state == .running)

        FailOnceConnector.failNext.withLock { $0 = true }
        start()
        #expect(store.connector("c")?.state == .failed)
        worker.stopAndAwaitConnectors(["c"], reportUnassigned: true)
        #expect(store.connector("c")?.state == .failed)
        #expect(store.connector("c")?.trace?.contains("Could not reach the database") == true)

        // A deleted connector's status, removed before its stop ends, stays removed.
        start()
        store.removeConnector("c")
        worker.stopAndAwaitConnectors(["c"], reportUnassigned: true)
        #expect(store.connector("c") == nil)
    }

    @Test(
        "a status reader ignores a worker's UNASSIGNED read after another worker's state (RUNNING, PAUSED), whatever the generations"
    )
    func staleUnassigned() {
        let running = StatusRecord(state: .running, trace: nil, workerId: "w2:8083", generation: 5)
        func unassigned(_ worker: String, _ generation: Int) -> StatusRecord {
            StatusRecord(state: .unassigned, trace: nil, workerId: worker, generation: generation)
        }
        #expect(KafkaStatusBackingStore.isStaleUnassigned(unassigned("w1:8083", 4), over: running))
        #expect(KafkaStatusBackingStore.isStaleUnassigned(unassigned("w1:8083", 5), over: running))
        #expect(KafkaStatusBackingStore.isStaleUnassigned(unassigned("w1:8083", 6), over: running))
        #expect(!KafkaStatusBackingStore.isStaleUnassigned(unassigned("w2:8083", 5), over: running))
        #expect(!KafkaStatusBackingStore.isStaleUnassigned(unassigned("w1:8083", 4), over: nil))
        let paused = StatusRecord(state: .paused, trace: nil, workerId: "w2:8083", generation: 5)
        #expect(KafkaStatusBackingStore.isStaleUnassigned(unassigned("w1:8083", 5), over: paused))
        #expect(!KafkaStatusBackingStore.isStaleUnassigned(unassigned("w1:8083", 5), over: unassigned("w2:8083", 5)))
    }

    @Test(
        "a worker's UNASSIGNED replaces only its own status, even at a later generation; its FAILED replaces another worker's of an earlier or the same generation"
    )
    func safePut() {
        let generation = Mutex(7)
        let backing = MemoryStatusBackingStore()
        let store = StatusStore(workerId: "w1:8083", backing: backing, groupGeneration: { generation.withLock { $0 } })
        let id = ConnectorTaskId("c", 0)
        func seed(_ worker: String, _ state: ConnectorState, _ generation: Int) {
            backing.updateTask(id) { _ in
                StatusRecord(state: state, trace: nil, workerId: worker, generation: generation)
            }
        }
        seed("w2:8083", .running, 5)
        store.putTask(id, .unassigned)
        #expect(store.task(id)?.workerId == "w2:8083")
        #expect(store.task(id)?.state == .running)
        store.putTask(id, .failed, trace: "boom")
        #expect(store.task(id)?.state == .failed)
        seed("w2:8083", .running, 8)
        store.putTask(id, .failed, trace: "boom")
        #expect(store.task(id)?.state == .running)
        seed("w2:8083", .unassigned, 8)
        store.putTask(id, .unassigned)
        #expect(store.task(id)?.workerId == "w1:8083")
        seed("w1:8083", .running, 3)
        store.putTask(id, .unassigned)
        #expect(store.task(id)?.state == .unassigned)
    }
}
