import ConnectAPI
import Synchronization

/// Where connector and task statuses, and the topics each connector used, are kept (Connect's
/// `StatusBackingStore`): in memory for a standalone worker (`MemoryStatusBackingStore`); the status topic in a
/// cluster, where every worker reads every worker's statuses. Updates are read-modify-write steps applied
/// atomically, so a status is never replaced on the strength of a stale read.
public protocol StatusBackingStore: AnyObject, Sendable {
    func connector(_ name: String) -> StatusRecord?
    func task(_ id: ConnectorTaskId) -> StatusRecord?
    /// The connector's tasks' statuses, by task.
    func tasks(of connector: String) -> [ConnectorTaskId: StatusRecord]
    /// How many of the connector's tasks have a status in `state` (in any state when nil), without building their
    /// records (the worker's per-connector task-count gauges read it on every scrape).
    func taskCount(of connector: String, in state: ConnectorState?) -> Int
    /// Every connector's and task's status.
    func all() -> (connectors: [String: StatusRecord], tasks: [ConnectorTaskId: StatusRecord])

    /// Writes what `update` makes of the connector's current status, in one step; `update` returning nil leaves
    /// it alone. Returns the status it saw and the one written (nil when nothing was).
    @discardableResult
    func updateConnector(
        _ name: String, _ update: (StatusRecord?) -> StatusRecord?
    )
        -> (previous: StatusRecord?, written: StatusRecord?)
    /// As `updateConnector`, for a task.
    @discardableResult
    func updateTask(
        _ id: ConnectorTaskId, _ update: (StatusRecord?) -> StatusRecord?
    )
        -> (previous: StatusRecord?, written: StatusRecord?)

    /// Forgets the connector: its status, its tasks' and its topics.
    func remove(connector: String)
    /// Forgets the connector's tasks' statuses.
    func removeTasks(of connector: String)
    /// Forgets one task's status.
    func removeTask(_ id: ConnectorTaskId)

    /// Notes that the connector's task used `topic` (KIP-558 `TopicStatus`).
    func putTopic(_ topic: String, task: ConnectorTaskId)
    func topics(of connector: String) -> Set<String>
    func deleteTopics(of connector: String)
}

/// Statuses in memory (Connect's `MemoryStatusBackingStore`), for a standalone worker and for tests.
public final class MemoryStatusBackingStore: StatusBackingStore {
    struct State {
        var connectors: [String: StatusRecord] = [:]
        var tasks = TaskStatusTable()
        var topics: [String: Set<String>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func connector(_ name: String) -> StatusRecord? { state.withLock { $0.connectors[name] } }
    public func task(_ id: ConnectorTaskId) -> StatusRecord? { state.withLock { $0.tasks[id] } }

    public func tasks(of connector: String) -> [ConnectorTaskId: StatusRecord] {
        state.withLock { $0.tasks.tasks(of: connector) }
    }

    public func taskCount(of connector: String, in state: ConnectorState?) -> Int {
        self.state.withLock { $0.tasks.count(of: connector, in: state) }
    }

    public func all() -> (connectors: [String: StatusRecord], tasks: [ConnectorTaskId: StatusRecord]) {
        state.withLock { ($0.connectors, $0.tasks.all) }
    }

    @discardableResult
    public func updateConnector(
        _ name: String, _ update: (StatusRecord?) -> StatusRecord?
    )
        -> (previous: StatusRecord?, written: StatusRecord?)
    {
        state.withLock { s in
            let previous = s.connectors[name]
            guard let record = update(previous) else { return (previous, nil) }
            s.connectors[name] = record
            return (previous, record)
        }
    }

    @discardableResult
    public func updateTask(
        _ id: ConnectorTaskId, _ update: (StatusRecord?) -> StatusRecord?
    )
        -> (previous: StatusRecord?, written: StatusRecord?)
    {
        state.withLock { s in
            let previous = s.tasks[id]
            guard let record = update(previous) else { return (previous, nil) }
            s.tasks[id] = record
            return (previous, record)
        }
    }

    public func remove(connector: String) {
        state.withLock { s in
            s.connectors[connector] = nil
            s.tasks.removeAll(of: connector)
            s.topics[connector] = nil
        }
    }

    public func removeTasks(of connector: String) {
        state.withLock { s in _ = s.tasks.removeAll(of: connector) }
    }

    public func removeTask(_ id: ConnectorTaskId) { state.withLock { _ = $0.tasks.removeValue(forKey: id) } }

    public func putTopic(_ topic: String, task: ConnectorTaskId) {
        state.withLock { _ = $0.topics[task.connector, default: []].insert(topic) }
    }

    public func topics(of connector: String) -> Set<String> { state.withLock { $0.topics[connector] ?? [] } }

    public func deleteTopics(of connector: String) { state.withLock { _ = $0.topics.removeValue(forKey: connector) } }
}

/// Task statuses kept by connector, then task number, as Connect's status stores keep theirs (a `Table` of
/// connector, task and status), so a connector's tasks are found without looking at every other connector's:
/// listings of many connectors (`GET /connectors?expand=status`) stay linear.
struct TaskStatusTable {
    private var byConnector: [String: [Int: StatusRecord]] = [:]

    subscript(id: ConnectorTaskId) -> StatusRecord? {
        get { byConnector[id.connector]?[id.task] }
        set {
            if let newValue {
                byConnector[id.connector, default: [:]][id.task] = newValue
            } else if byConnector[id.connector]?.removeValue(forKey: id.task) != nil,
                byConnector[id.connector]?.isEmpty == true
            {
                byConnector[id.connector] = nil
            }
        }
    }

    /// Removes one task's status; returns it.
    @discardableResult
    mutating func removeValue(forKey id: ConnectorTaskId) -> StatusRecord? {
        let previous = self[id]
        self[id] = nil
        return previous
    }

    /// How many of the connector's tasks have a status in `state` (in any state when nil).
    func count(of connector: String, in state: ConnectorState?) -> Int {
        guard let tasks = byConnector[connector] else { return 0 }
        guard let state else { return tasks.count }
        var n = 0
        for record in tasks.values where record.state == state { n += 1 }
        return n
    }

    /// The connector's tasks' statuses, by task.
    func tasks(of connector: String) -> [ConnectorTaskId: StatusRecord] {
        guard let tasks = byConnector[connector] else { return [:] }
        return Dictionary(uniqueKeysWithValues: tasks.map { (ConnectorTaskId(connector, $0.key), $0.value) })
    }

    /// Removes the connector's tasks' statuses; returns the tasks that had one.
    @discardableResult
    mutating func removeAll(of connector: String) -> [ConnectorTaskId] {
        (byConnector.removeValue(forKey: connector) ?? [:]).keys.map { ConnectorTaskId(connector, $0) }
    }

    /// Every task's status.
    var all: [ConnectorTaskId: StatusRecord] {
        var out: [ConnectorTaskId: StatusRecord] = [:]
        for (connector, tasks) in byConnector {
            for (task, status) in tasks { out[ConnectorTaskId(connector, task)] = status }
        }
        return out
    }
}
