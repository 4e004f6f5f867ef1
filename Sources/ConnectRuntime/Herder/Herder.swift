import ConnectAPI
import Foundation
import HTTPClient

/// A connector's definition as REST shows it (`ConnectorInfo`).
public struct ConnectorInfo: Sendable, Equatable {
    public var name: String
    public var config: [String: String]
    public var tasks: [ConnectorTaskId]
    /// `source`, `sink` or `unknown`.
    public var type: String

    public init(name: String, config: [String: String], tasks: [ConnectorTaskId], type: String) {
        self.name = name
        self.config = config
        self.tasks = tasks
        self.type = type
    }
}

/// A connector's and its tasks' states (`ConnectorStateInfo`).
public struct ConnectorStateInfo: Sendable, Equatable {
    public var name: String
    public var connector: StatusRecord
    public var tasks: [TaskStateInfo]
    public var type: String

    public init(name: String, connector: StatusRecord, tasks: [TaskStateInfo], type: String) {
        self.name = name
        self.connector = connector
        self.tasks = tasks
        self.type = type
    }
}

public struct TaskStateInfo: Sendable, Equatable {
    public var id: Int
    public var status: StatusRecord

    public init(id: Int, status: StatusRecord) {
        self.id = id
        self.status = status
    }
}

/// A task's configuration (`TaskInfo`).
public struct TaskInfo: Sendable, Equatable {
    public var id: ConnectorTaskId
    public var config: [String: String]

    public init(id: ConnectorTaskId, config: [String: String]) {
        self.id = id
        self.config = config
    }
}

/// What `GET /` reports.
public struct ServerInfo: Sendable, Equatable {
    public var version: String
    public var commit: String
    public var kafkaClusterId: String?

    public init(version: String, commit: String, kafkaClusterId: String?) {
        self.version = version
        self.commit = commit
        self.kafkaClusterId = kafkaClusterId
    }
}

/// Restart options of `POST /connectors/{name}/restart` (KIP-745).
public struct RestartRequest: Sendable, Equatable {
    public var includeTasks: Bool
    public var onlyFailed: Bool

    public init(includeTasks: Bool = false, onlyFailed: Bool = false) {
        self.includeTasks = includeTasks
        self.onlyFailed = onlyFailed
    }

    /// Both false: the legacy synchronous connector-only restart (204).
    public var isLegacy: Bool { !includeTasks && !onlyFailed }
}

/// The operations the REST API drives (`Herder`). Errors are `ConnectError`s whose kind maps to the HTTP status:
/// not found 404, already exists 409, bad request 400, anything else 500.
public protocol Herder: Sendable {
    var plugins: PluginRegistry { get }
    func serverInfo() -> ServerInfo
    /// Whether the worker finished starting (`/health`).
    func isReady() -> Bool
    /// Why a worker that started cannot do its work (`/health` answers 500 `unhealthy` with it); nil when it can.
    func unhealthyReason() -> String?
    /// The client for requests REST forwards to another worker of the cluster; nil: none are forwarded.
    var forwardingClient: HTTPClient? { get }

    func connectors() -> [String]
    func connectorInfo(_ name: String) throws(ConnectError) -> ConnectorInfo
    func connectorConfig(_ name: String) throws(ConnectError) -> [String: String]
    func connectorStatus(_ name: String) throws(ConnectError) -> ConnectorStateInfo
    func taskStatus(_ id: ConnectorTaskId) throws(ConnectError) -> TaskStateInfo
    func taskConfigs(_ name: String) throws(ConnectError) -> [TaskInfo]

    /// Creates or replaces a connector. Returns whether it was created.
    func putConnectorConfig(
        _ name: String, config: [String: String], allowReplace: Bool, initialState: TargetState?
    ) throws(ConnectError) -> (created: Bool, info: ConnectorInfo)
    func deleteConnector(_ name: String) throws(ConnectError)
    func validateConnectorConfig(_ config: [String: String]) throws(ConnectError) -> ConfigInfos

    func pauseConnector(_ name: String) throws(ConnectError)
    func resumeConnector(_ name: String) throws(ConnectError)
    func stopConnector(_ name: String) throws(ConnectError)
    /// Restarts per the request; returns the status with RESTARTING for what will restart (nil for the legacy form).
    func restartConnector(_ name: String, _ request: RestartRequest) throws(ConnectError) -> ConnectorStateInfo?
    func restartTask(_ id: ConnectorTaskId) throws(ConnectError)

    /// Merges a patch into the connector's config (a nil value removes the key), then validates and applies it.
    func patchConnectorConfig(_ name: String, patch: [String: String?]) throws(ConnectError) -> ConnectorInfo

    /// Topics the connector used since it was created or reset (KIP-558); 403 when tracking is off.
    func connectorActiveTopics(_ name: String) throws(ConnectError) -> [String]
    func resetConnectorActiveTopics(_ name: String) throws(ConnectError)

    /// KIP-875 offsets: read any time; altered or reset only while the connector is STOPPED. Alter and reset return
    /// Connect's success message.
    func connectorOffsets(_ name: String) throws(ConnectError) -> [ConnectorOffset]
    func alterConnectorOffsets(_ name: String, _ offsets: [ConnectorOffset]) throws(ConnectError) -> String
    func resetConnectorOffsets(_ name: String) throws(ConnectError) -> String

    /// Failures and restarts of a connector and of each of its tasks (an extension).
    func connectorHistory(_ name: String) throws(ConnectError) -> ConnectorHistory
    func taskHistory(_ id: ConnectorTaskId) throws(ConnectError) -> [HistoryEntry]

    /// The internal `POST /connectors/{c}/tasks` of a cluster: task configurations a worker generated, for the
    /// leader to store; `body` and `headers` (lower-cased names) are the request's, for its signature (KIP-507).
    func putTaskConfigs(
        _ name: String, _ configs: [[String: String]], body: [UInt8], headers: [String: String]
    ) throws(ConnectError)

    /// `PUT /admin/loggers/{logger}?scope=cluster` (KIP-976): the level for every worker of the cluster.
    func setClusterLoggerLevel(_ namespace: String, _ level: String) throws(ConnectError)

    /// `GET /cluster` (an extension): the workers and what each runs. In a cluster only the leader answers (not
    /// the leader: `notLeader`, which REST forwards); before its first assignment, a conflict.
    func clusterView() throws(ConnectError) -> ClusterView

    /// What this worker alone knows of its cluster (its group, generation, leader and own assignment), for
    /// `GET /cluster?scope=worker` and for `GET /cluster` when the leader does not answer (`partialReason` says
    /// why). Nil when it knows nothing yet, or has no view of its own (standalone: the whole view is its own).
    func localClusterView(partialReason: String?) -> ClusterView?

    /// Why an UNASSIGNED status waits, for `/status` (nil when there is nothing to say: standalone).
    func rebalanceNote(for status: StatusRecord) -> RebalanceNote?
}

extension Herder {
    public func unhealthyReason() -> String? { nil }

    public func clusterView() throws(ConnectError) -> ClusterView {
        throw ConnectError(.notFound, "This worker does not describe its cluster")
    }
    public var forwardingClient: HTTPClient? { nil }
    public func localClusterView(partialReason: String?) -> ClusterView? { nil }
    public func rebalanceNote(for status: StatusRecord) -> RebalanceNote? { nil }

    /// A standalone worker takes no task configurations from outside: Connect's `StandaloneHerder` message, as a
    /// 400 (Connect's `UnsupportedOperationException` is a 500; the request is the client's mistake, not the
    /// worker's).
    public func putTaskConfigs(
        _ name: String, _ configs: [[String: String]], body: [UInt8], headers: [String: String]
    ) throws(ConnectError) {
        throw ConnectError(
            .badRequest, "Kafka Connect in standalone mode does not support externally setting task configurations.")
    }

    /// A standalone worker is its own cluster: the level is set here only.
    public func setClusterLoggerLevel(_ namespace: String, _ level: String) throws(ConnectError) {
        guard let parsed = ConnectLogHandler.level(named: level) else {
            throw ConnectError(.badRequest, "Invalid log level '\(level)'.")
        }
        _ = LogLevels.shared.setNamespace(namespace, to: parsed, at: Int64(Date().timeIntervalSince1970 * 1000))
    }
}

/// A connector's failure history and its tasks', by task number.
public struct ConnectorHistory: Sendable, Equatable {
    public var connector: [HistoryEntry]
    public var tasks: [Int: [HistoryEntry]]

    public init(connector: [HistoryEntry], tasks: [Int: [HistoryEntry]]) {
        self.connector = connector
        self.tasks = tasks
    }
}
