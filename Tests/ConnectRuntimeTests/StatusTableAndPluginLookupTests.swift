import ConnectAPI
import Testing

@testable import ConnectRuntime

private final class Instance {}

@Suite("Task statuses kept by connector, and plug-ins found by class name or alias")
struct StatusTableAndPluginLookupTests {
    @Test("a connector's tasks are its own; removing them reports which had a status and leaves no empty entry")
    func taskStatusTable() {
        var table = TaskStatusTable()
        let running = StatusRecord(state: .running, workerId: "w:8083")
        table[ConnectorTaskId("a", 0)] = running
        table[ConnectorTaskId("a", 1)] = running
        table[ConnectorTaskId("ab", 0)] = running
        table[ConnectorTaskId("ab", 1)] = StatusRecord(state: .failed, workerId: "w:8083")
        #expect(table.count(of: "ab", in: nil) == 2 && table.count(of: "ab", in: .failed) == 1)
        #expect(table.count(of: "ab", in: .paused) == 0 && table.count(of: "nobody", in: nil) == 0)
        table[ConnectorTaskId("ab", 1)] = nil
        #expect(Set(table.tasks(of: "a").keys) == [ConnectorTaskId("a", 0), ConnectorTaskId("a", 1)])
        #expect(table.tasks(of: "nobody").isEmpty)
        #expect(table.removeValue(forKey: ConnectorTaskId("a", 1)) == running)
        #expect(table.removeValue(forKey: ConnectorTaskId("a", 1)) == nil)
        #expect(table.removeAll(of: "a") == [ConnectorTaskId("a", 0)])
        #expect(table.removeAll(of: "a").isEmpty)
        #expect(table.all == [ConnectorTaskId("ab", 0): running])
        table[ConnectorTaskId("ab", 0)] = nil
        #expect(table.all.isEmpty)
    }

    @Test("the memory status store forgets a connector's tasks and topics, not another's")
    func memoryStore() {
        let store = MemoryStatusBackingStore()
        let running = StatusRecord(state: .running, workerId: "w:8083")
        store.updateTask(ConnectorTaskId("a", 0)) { _ in running }
        store.updateTask(ConnectorTaskId("b", 0)) { _ in running }
        #expect(store.taskCount(of: "a", in: .running) == 1 && store.taskCount(of: "a", in: .unassigned) == 0)
        store.putTopic("t", task: ConnectorTaskId("a", 0))
        store.remove(connector: "a")
        #expect(store.tasks(of: "a").isEmpty)
        #expect(store.topics(of: "a").isEmpty)
        #expect(store.tasks(of: "b") == [ConnectorTaskId("b", 0): running])
        store.removeTasks(of: "b")
        #expect(store.all().tasks.isEmpty)
    }

    @Test("find: exact class names only among the asked types, aliases only when one plug-in has them")
    func pluginLookup() {
        func plugin(_ className: String, _ type: PluginType) -> PluginDesc {
            PluginDesc(className: className, type: type, version: nil, configDef: ConfigDef(), make: { Instance() })
        }
        var registry = PluginRegistry()
        registry.register(plugin("com.a.FileStreamSinkConnector", .sink))
        registry.register(plugin("com.b.FileStreamSinkConnector", .sink))
        registry.register(plugin("com.c.JdbcSourceConnector", .source))
        #expect(registry.find("com.c.JdbcSourceConnector", types: [.source])?.className == "com.c.JdbcSourceConnector")
        #expect(registry.find("com.c.JdbcSourceConnector", types: [.sink]) == nil, "an exact name of another type")
        #expect(registry.find("JdbcSource", types: [.source, .sink])?.className == "com.c.JdbcSourceConnector")
        #expect(registry.find("JdbcSourceConnector", types: [.source])?.className == "com.c.JdbcSourceConnector")
        #expect(registry.find("FileStreamSink", types: [.sink]) == nil, "two plug-ins share the alias")
        #expect(
            registry.find("com.a.FileStreamSinkConnector", types: [.sink])?.className == "com.a.FileStreamSinkConnector"
        )
        #expect(plugin("x.Connector", .sink).shortAlias == nil, "no alias when the name is the suffix itself")
    }
}
