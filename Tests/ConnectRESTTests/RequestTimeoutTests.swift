import ConnectAPI
import ConnectREST
import ConnectRuntime
import ConnectWorkerKit
import Foundation
import HTTPServer
import JSON
import Logging
import Testing

/// A source connector whose `start` waits until the test lets it through.
final class BlockedStartConnector: SourceConnector {
    static let className = "com.example.BlockedStartConnector"
    static let release = DispatchSemaphore(value: 0)
    static var configDef: ConfigDef { ConfigDef() }
    var taskType: any Task.Type { NeverPolledTask.self }
    init() {}
    func start(_ props: [String: String]) throws { Self.release.wait() }
    func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [] }
    func stop() throws {}
}

final class NeverPolledTask: SourceTask {
    init() {}
    func initialize(_ context: any SourceTaskContext) {}
    func start(_ props: [String: String]) throws {}
    func poll() throws -> [SourceRecord]? { nil }
    func stop() throws {}
}

@Suite("Connect's request timeout over the real standalone herder", .timeLimit(.minutes(1)))
struct RequestTimeoutTests {
    @Test("a create that waits longer than the request timeout answers 500 Request timed out, naming the stage")
    func createTimesOut() throws {
        var plugins = PluginRegistry.builtIn
        plugins.register(
            connector: BlockedStartConnector.self, className: BlockedStartConnector.className, type: .source)
        let worker = Worker(
            config: try WorkerConfig(["key.converter": "StringConverter", "value.converter": "StringConverter"]),
            plugins: plugins, offsetStore: MemoryOffsetBackingStore(), statusStore: StatusStore(workerId: "w:8083"),
            logger: Logger(label: "test"))
        let herder = StandaloneHerder(
            worker: worker, clusterID: { "c" }, requestTimeout: .milliseconds(300), logger: Logger(label: "test"))
        defer {
            BlockedStartConnector.release.signal()
            herder.stop()
        }
        let server = ConnectRestServer(herder: herder)
        let started = ContinuousClock.now
        let answer = server.handle(
            HTTPRequest(
                method: "POST", path: "/connectors", headers: ["Content-Type": "application/json"],
                body: Array(#"{"name": "blocked", "config": {"connector.class": "BlockedStartConnector"}}"#.utf8)))
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(answer.status == 500)
        let body = try JSONParser.parse(answer.body)
        #expect(body["error_code"] == 500)
        let message = body["message"]?.stringValue ?? ""
        #expect(
            message.hasPrefix("Request timed out. The worker is currently starting connector blocked, which began at "))
        #expect(message.hasSuffix("Z."))
        // The connector exists meanwhile; its start goes on, and once it returns the connector runs.
        #expect(server.handle(HTTPRequest(method: "GET", path: "/connectors/blocked")).status == 200)
        BlockedStartConnector.release.signal()
        var state: ConnectorState?
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while ContinuousClock.now < deadline && state != .running {
            state = try? herder.connectorStatus("blocked").connector.state
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(state == .running)
    }
}
