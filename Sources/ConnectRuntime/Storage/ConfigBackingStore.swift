import ConnectAPI
import Synchronization

/// Where connector configurations, their target states and their task configurations are kept (Connect's
/// `ConfigBackingStore`): in memory for a standalone worker (`MemoryConfigBackingStore`); the compacted config
/// topic in a cluster. Configurations are stored as given, with `${provider:path:key}` references unresolved.
public protocol ConfigBackingStore: AnyObject, Sendable {
    /// A consistent view of everything stored (Connect's `ClusterConfigState`).
    func snapshot() -> ClusterConfigState
    func contains(_ connector: String) -> Bool
    /// Writes a connector's configuration; `targetState`, when given, is written with it (a new connector's
    /// initial state; an existing one keeps its own otherwise).
    func putConnectorConfig(
        _ connector: String, _ config: [String: String], targetState: TargetState?)
        throws(ConnectError)
    /// Removes the connector, its target state and its task configurations.
    func removeConnectorConfig(_ connector: String) throws(ConnectError)
    /// Replaces the connector's task configurations (task `i` is `configs[i]`).
    func putTaskConfigs(_ connector: String, _ configs: [[String: String]]) throws(ConnectError)
    func removeTaskConfigs(_ connector: String) throws(ConnectError)
    func putTargetState(_ connector: String, _ state: TargetState) throws(ConnectError)
}

/// Everything a `ConfigBackingStore` holds at one moment (Connect's `ClusterConfigState`).
public struct ClusterConfigState: Sendable, Equatable {
    /// Connector names in the order they were created.
    public var connectors: [String] = []
    public var connectorConfigs: [String: [String: String]] = [:]
    /// Per connector, the config offset just after its latest configuration record: a worker that started it from
    /// a state at or past this offset runs its latest configuration.
    public var connectorConfigOffsets: [String: Int64] = [:]
    public var targetStates: [String: TargetState] = [:]
    public var taskConfigs: [String: [[String: String]]] = [:]
    /// Connectors whose task records are incomplete (compaction, a leader that died writing them): they count no
    /// tasks until they publish their task configurations again.
    public var inconsistent: Set<String> = []
    /// The offset in the config topic this state was read to (Connect's config offset; -1: nothing read).
    public var offset: Int64 = -1

    public init() {}

    public func contains(_ connector: String) -> Bool { connectorConfigs[connector] != nil }
    public func connectorConfig(_ connector: String) -> [String: String]? { connectorConfigs[connector] }
    /// STARTED unless the connector was paused or stopped.
    public func targetState(_ connector: String) -> TargetState { targetStates[connector] ?? .started }
    public func taskCount(_ connector: String) -> Int { taskConfigs[connector]?.count ?? 0 }
    public func tasks(_ connector: String) -> [ConnectorTaskId] {
        (0..<taskCount(connector)).map { ConnectorTaskId(connector, $0) }
    }
    public func taskConfig(_ id: ConnectorTaskId) -> [String: String]? {
        guard let configs = taskConfigs[id.connector], configs.indices.contains(id.task) else { return nil }
        return configs[id.task]
    }
}

/// What a shared config store tells its herder as records arrive from the cluster (Connect's
/// `ConfigBackingStore.UpdateListener`), on the store's reader thread; the herder should only note them and act on
/// its own thread.
public protocol ConfigUpdateListener: AnyObject, Sendable {
    func onConnectorConfigRemove(_ connector: String)
    func onConnectorConfigUpdate(_ connector: String)
    /// `tasks`: every task the commit touched (the tasks that were and the tasks that are); `removed`: those of them
    /// the connector no longer has (all of them for a stopped connector).
    func onTaskConfigUpdate(_ tasks: [ConnectorTaskId], removed: [ConnectorTaskId])
    func onConnectorTargetStateChange(_ connector: String)
    func onSessionKeyUpdate(_ key: SessionKey)
    func onRestartRequest(_ connector: String, _ request: RestartRequest)
    func onLoggingLevelUpdate(_ namespace: String, _ level: String)
}

/// The key internal requests are signed with (KIP-507), as the leader writes it to the config topic.
public struct SessionKey: Sendable, Equatable {
    public var key: [UInt8]
    public var algorithm: String
    /// Epoch milliseconds.
    public var creationTimestamp: Int64

    public init(key: [UInt8], algorithm: String, creationTimestamp: Int64) {
        self.key = key
        self.algorithm = algorithm
        self.creationTimestamp = creationTimestamp
    }
}

/// Configurations in memory (Connect's `MemoryConfigBackingStore`), for a standalone worker and for tests.
public final class MemoryConfigBackingStore: ConfigBackingStore {
    private let state = Mutex(ClusterConfigState())

    public init() {}

    public func snapshot() -> ClusterConfigState { state.withLock { $0 } }
    public func contains(_ connector: String) -> Bool { state.withLock { $0.contains(connector) } }

    public func putConnectorConfig(
        _ connector: String, _ config: [String: String], targetState: TargetState?
    )
        throws(ConnectError)
    {
        state.withLock { s in
            if s.connectorConfigs[connector] == nil { s.connectors.append(connector) }
            s.connectorConfigs[connector] = config
            if let targetState { s.targetStates[connector] = targetState }
        }
    }

    public func removeConnectorConfig(_ connector: String) throws(ConnectError) {
        state.withLock { s in
            s.connectors.removeAll { $0 == connector }
            s.connectorConfigs[connector] = nil
            s.targetStates[connector] = nil
            s.taskConfigs[connector] = nil
        }
    }

    public func putTaskConfigs(_ connector: String, _ configs: [[String: String]]) throws(ConnectError) {
        state.withLock { $0.taskConfigs[connector] = configs }
    }

    public func removeTaskConfigs(_ connector: String) throws(ConnectError) {
        state.withLock { _ = $0.taskConfigs.removeValue(forKey: connector) }
    }

    public func putTargetState(_ connector: String, _ state: TargetState) throws(ConnectError) {
        self.state.withLock { $0.targetStates[connector] = state }
    }
}
