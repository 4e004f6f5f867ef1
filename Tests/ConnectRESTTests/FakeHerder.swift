import ConnectAPI
import ConnectRuntime
import ConnectWorkerKit
import HTTPClient
import Synchronization

/// An in-memory herder for REST tests: connectors are configs with a settable status.
final class FakeHerder: Herder {
    struct State {
        var configs: [String: [String: String]] = [:]
        var order: [String] = []
        var statuses: [String: ConnectorStateInfo] = [:]
        var paused: Set<String> = []
        var restarts: [String] = []
        var stopped: Set<String> = []
        var topics: [String: [String]] = [:]
        var offsets: [String: [ConnectorOffset]] = [:]
    }

    let state = Mutex(State())
    /// When set, `clusterView` names this unreachable URL as the leader (a leader that died).
    let deadLeader = Mutex<String?>(nil)
    let history = FailureHistory(now: { 1_700_000_000_000 })
    var plugins: PluginRegistry { .builtIn }
    let validator = ConnectorConfigValidator(plugins: .builtIn)

    func serverInfo() -> ServerInfo { ServerInfo(version: "3.9.0", commit: "abc123", kafkaClusterId: "cluster-1") }
    func isReady() -> Bool { true }
    /// Two workers; the second left with a task, which waits for the scheduled rebalance.
    func clusterView() throws(ConnectError) -> ClusterView {
        if let dead = deadLeader.withLock({ $0 }) {
            var e = ConnectError(.notLeader, "Only the leader knows what every worker runs")
            e.requestTarget = dead
            throw e
        }
        return ClusterView(
            mode: "distributed", groupId: "connect-cluster", generation: 7, connectProtocol: "sessioned",
            configOffset: 12, leaderUrl: "http://10.0.0.1:8083/",
            workers: [
                ClusterView.Worker(
                    workerId: ClusterView.workerId(fromURL: "http://10.0.0.1:8083/"), url: "http://10.0.0.1:8083/",
                    memberId: "connect-1", isLeader: true, since: 1_700_000_000_000, connectors: ["dg"],
                    tasks: [ConnectorTaskId("dg", 0)])
            ], unassigned: ConnectorsAndTasks(tasks: [ConnectorTaskId("dg", 1)]), reassignAt: 1_700_000_300_000,
            configuredProtocol: "sessioned")
    }
    var forwardingClient: HTTPClient? { deadLeader.withLock { $0 } == nil ? nil : HTTPClient() }
    func localClusterView(partialReason: String?) -> ClusterView? {
        ClusterView(
            mode: "distributed", groupId: "connect-cluster", generation: 7, leaderUrl: "http://10.0.0.1:8083/",
            workers: [
                ClusterView.Worker(
                    workerId: "10.0.0.2:8083", url: "http://10.0.0.2:8083/", memberId: "connect-2", isLeader: false,
                    since: nil, connectors: [], tasks: [ConnectorTaskId("dg", 2)])
            ], partialReason: partialReason)
    }
    func connectors() -> [String] { state.withLock { $0.order } }

    func setStatus(_ name: String, connector: ConnectorState, tasks: [(ConnectorState, String?)]) {
        state.withLock { s in
            s.statuses[name] = ConnectorStateInfo(
                name: name, connector: StatusRecord(state: connector, workerId: "w:8083"),
                tasks: tasks.enumerated().map {
                    TaskStateInfo(
                        id: $0.offset,
                        status: StatusRecord(state: $0.element.0, trace: $0.element.1, workerId: "w:8083"))
                },
                type: "source")
        }
    }

    private func config(_ name: String) throws(ConnectError) -> [String: String] {
        guard let c = state.withLock({ $0.configs[name] }) else {
            throw ConnectError(.notFound, "Connector \(name) not found")
        }
        return c
    }

    func connectorInfo(_ name: String) throws(ConnectError) -> ConnectorInfo {
        ConnectorInfo(name: name, config: try config(name), tasks: [ConnectorTaskId(name, 0)], type: "source")
    }
    func connectorConfig(_ name: String) throws(ConnectError) -> [String: String] { try config(name) }
    func connectorStatus(_ name: String) throws(ConnectError) -> ConnectorStateInfo {
        _ = try config(name)
        guard let s = state.withLock({ $0.statuses[name] }) else {
            throw ConnectError(.notFound, "No status found for connector \(name)")
        }
        return s
    }
    func connectorHistory(_ name: String) throws(ConnectError) -> ConnectorHistory {
        _ = try config(name)
        return ConnectorHistory(
            connector: history.entries(.connector(name)),
            tasks: [0: history.entries(.task(ConnectorTaskId(name, 0)))])
    }
    func taskHistory(_ id: ConnectorTaskId) throws(ConnectError) -> [HistoryEntry] {
        _ = try config(id.connector)
        guard id.task == 0 else { throw ConnectError(.notFound, "Task \(id) not found") }
        return history.entries(.task(id))
    }
    func taskStatus(_ id: ConnectorTaskId) throws(ConnectError) -> TaskStateInfo {
        guard let t = try connectorStatus(id.connector).tasks.first(where: { $0.id == id.task }) else {
            throw ConnectError(.notFound, "No status found for task \(id)")
        }
        return t
    }
    func taskConfigs(_ name: String) throws(ConnectError) -> [TaskInfo] {
        [TaskInfo(id: ConnectorTaskId(name, 0), config: try config(name))]
    }

    func putConnectorConfig(
        _ name: String, config: [String: String], allowReplace: Bool, initialState: TargetState?
    ) throws(ConnectError) -> (created: Bool, info: ConnectorInfo) {
        let infos = try validator.validate(config)
        if infos.errorCount > 0 { throw ConnectError(.badRequest, ConnectorConfigValidator.invalidMessage(infos)) }
        let created = try state.withLock { s throws(ConnectError) -> Bool in
            let exists = s.configs[name] != nil
            if exists && !allowReplace { throw ConnectError(.alreadyExists, "Connector \(name) already exists") }
            if !exists { s.order.append(name) }
            s.configs[name] = config
            return !exists
        }
        return (created, try connectorInfo(name))
    }

    func deleteConnector(_ name: String) throws(ConnectError) {
        _ = try config(name)
        state.withLock { s in
            s.configs[name] = nil
            s.order.removeAll { $0 == name }
        }
    }

    func validateConnectorConfig(_ config: [String: String]) throws(ConnectError) -> ConfigInfos {
        try validator.validate(config)
    }
    func pauseConnector(_ name: String) throws(ConnectError) {
        guard state.withLock({ $0.configs[name] }) != nil else {
            throw ConnectError(.notFound, "Unknown connector \(name)")
        }
        state.withLock { _ = $0.paused.insert(name) }
    }
    func resumeConnector(_ name: String) throws(ConnectError) {
        guard state.withLock({ $0.configs[name] }) != nil else {
            throw ConnectError(.notFound, "Unknown connector \(name)")
        }
        state.withLock { _ = $0.paused.remove(name) }
    }
    func stopConnector(_ name: String) throws(ConnectError) {
        _ = try config(name)
        state.withLock { _ = $0.stopped.insert(name) }
    }
    func patchConnectorConfig(_ name: String, patch: [String: String?]) throws(ConnectError) -> ConnectorInfo {
        var config = try config(name)
        for (k, v) in patch { config[k] = v }
        return try putConnectorConfig(name, config: config, allowReplace: true, initialState: nil).info
    }
    func connectorActiveTopics(_ name: String) throws(ConnectError) -> [String] {
        state.withLock { $0.topics[name] ?? [] }
    }
    func resetConnectorActiveTopics(_ name: String) throws(ConnectError) {
        state.withLock { $0.topics[name] = [] }
    }
    func connectorOffsets(_ name: String) throws(ConnectError) -> [ConnectorOffset] {
        _ = try config(name)
        return state.withLock { $0.offsets[name] ?? [] }
    }
    private func requireStopped(_ name: String) throws(ConnectError) {
        _ = try config(name)
        guard state.withLock({ $0.stopped.contains(name) }) else {
            throw ConnectError(
                .badRequest,
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/\(name)/stop' endpoint"
            )
        }
    }
    func alterConnectorOffsets(_ name: String, _ offsets: [ConnectorOffset]) throws(ConnectError) -> String {
        try requireStopped(name)
        state.withLock { $0.offsets[name] = offsets }
        return "The offsets for this connector have been altered successfully"
    }
    func resetConnectorOffsets(_ name: String) throws(ConnectError) -> String {
        try requireStopped(name)
        state.withLock { $0.offsets[name] = [] }
        return "The offsets for this connector have been reset successfully"
    }
    func restartConnector(_ name: String, _ request: RestartRequest) throws(ConnectError) -> ConnectorStateInfo? {
        _ = try config(name)
        state.withLock { $0.restarts.append(name) }
        if request.isLegacy { return nil }
        var s = try connectorStatus(name)
        s.connector.state = .restarting
        return s
    }
    func restartTask(_ id: ConnectorTaskId) throws(ConnectError) {
        _ = try taskStatus(id)
        state.withLock { $0.restarts.append(id.description) }
    }
}
