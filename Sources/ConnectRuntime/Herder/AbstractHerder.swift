import ConnectAPI

/// What both herders answer the same way, from the configurations they hold and the worker's statuses (the read
/// side of Connect's `AbstractHerder`): connector and task definitions, statuses, active topics, offsets, failure
/// histories and validation. Reads take no herder lock and never wait for the herder's thread.
public protocol AbstractHerder: Herder {
    var worker: Worker { get }
    var configStore: any ConfigBackingStore { get }
    var configValidator: ConnectorConfigValidator { get }
}

extension AbstractHerder {
    public var plugins: PluginRegistry { worker.plugins }

    public func connectors() -> [String] { configStore.snapshot().connectors }

    func config(_ name: String, in snapshot: ClusterConfigState) throws(ConnectError) -> [String: String] {
        guard let config = snapshot.connectorConfig(name) else {
            throw ConnectError(.notFound, "Connector \(name) not found")
        }
        return config
    }

    /// `source`, `sink` or `unknown`, from the connector class.
    func type(of config: [String: String]) -> String {
        guard let cls = config["connector.class"], let p = plugins.find(cls, types: [.source, .sink]) else {
            return "unknown"
        }
        return p.type.rawValue
    }

    public func connectorInfo(_ name: String) throws(ConnectError) -> ConnectorInfo {
        let snapshot = configStore.snapshot()
        let config = try config(name, in: snapshot)
        return ConnectorInfo(name: name, config: config, tasks: snapshot.tasks(name), type: type(of: config))
    }

    public func connectorConfig(_ name: String) throws(ConnectError) -> [String: String] {
        try config(name, in: configStore.snapshot())
    }

    public func connectorStatus(_ name: String) throws(ConnectError) -> ConnectorStateInfo {
        let snapshot = configStore.snapshot()
        // As Connect's AbstractHerder: the status store answers, so an unknown connector has no status.
        guard let config = snapshot.connectorConfig(name), let status = worker.statusStore.connector(name) else {
            throw ConnectError(.notFound, "No status found for connector \(name)")
        }
        let tasks =
            snapshot.targetState(name) == .stopped
            ? [] : worker.statusStore.tasks(name).map { TaskStateInfo(id: $0.id, status: noted($0.status)) }
        return ConnectorStateInfo(name: name, connector: noted(status), tasks: tasks, type: type(of: config))
    }

    public func taskStatus(_ id: ConnectorTaskId) throws(ConnectError) -> TaskStateInfo {
        _ = try config(id.connector, in: configStore.snapshot())
        guard let s = worker.statusStore.task(id) else {
            throw ConnectError(.notFound, "No status found for task \(id)")
        }
        return TaskStateInfo(id: id.task, status: noted(s))
    }

    /// An UNASSIGNED status with the herder's note on why it waits (not one with a trace: a task cancelled for
    /// overrunning its stop says so itself).
    private func noted(_ status: StatusRecord) -> StatusRecord {
        guard status.state == .unassigned, status.trace?.isEmpty ?? true, let note = rebalanceNote(for: status)
        else { return status }
        var s = status
        s.rebalance = note
        return s
    }

    public func taskConfigs(_ name: String) throws(ConnectError) -> [TaskInfo] {
        let snapshot = configStore.snapshot()
        _ = try config(name, in: snapshot)
        return (snapshot.taskConfigs[name] ?? []).enumerated().map {
            TaskInfo(id: ConnectorTaskId(name, $0.offset), config: $0.element)
        }
    }

    public func connectorActiveTopics(_ name: String) throws(ConnectError) -> [String] {
        guard worker.config.topicTrackingEnabled else { throw ConnectError(.forbidden, "Topic tracking is disabled.") }
        return worker.statusStore.activeTopics(name)
    }

    public func resetConnectorActiveTopics(_ name: String) throws(ConnectError) {
        guard worker.config.topicTrackingEnabled else { throw ConnectError(.forbidden, "Topic tracking is disabled.") }
        guard worker.config.topicTrackingResetAllowed else {
            throw ConnectError(.forbidden, "Topic tracking reset is disabled.")
        }
        worker.statusStore.resetActiveTopics(name)
    }

    public func connectorOffsets(_ name: String) throws(ConnectError) -> [ConnectorOffset] {
        try worker.connectorOffsets(name, config: try connectorConfig(name))
    }

    public func connectorHistory(_ name: String) throws(ConnectError) -> ConnectorHistory {
        let snapshot = configStore.snapshot()
        _ = try config(name, in: snapshot)
        let history = worker.statusStore.history
        let ids = Set(history.tasks(of: name)).union(0..<snapshot.taskCount(name))
        return ConnectorHistory(
            connector: history.entries(.connector(name)),
            tasks: Dictionary(uniqueKeysWithValues: ids.map { ($0, history.entries(.task(ConnectorTaskId(name, $0)))) })
        )
    }

    public func taskHistory(_ id: ConnectorTaskId) throws(ConnectError) -> [HistoryEntry] {
        let snapshot = configStore.snapshot()
        _ = try config(id.connector, in: snapshot)
        let entries = worker.statusStore.history.entries(.task(id))
        guard snapshot.taskConfig(id) != nil || !entries.isEmpty else {
            throw ConnectError(.notFound, "Task \(id) not found")
        }
        return entries
    }

    public func validateConnectorConfig(_ config: [String: String]) throws(ConnectError) -> ConfigInfos {
        let transformer = worker.configTransformer
        let resolved = try transformer.transform(config)
        return try configValidator.validate(resolved).redacted(
            raw: config, resolved: resolved, transformer: transformer)
    }

    /// Validates a configuration a request wants to store: a 400 with Connect's message when any key is wrong.
    func requireValid(_ config: [String: String]) throws(ConnectError) {
        let infos = try validateConnectorConfig(config)
        if infos.errorCount > 0 { throw ConnectError(.badRequest, ConnectorConfigValidator.invalidMessage(infos)) }
    }

    /// KIP-875's precondition, as Connect checks it: the connector's target state is STOPPED and it has no tasks.
    func requireStoppedForOffsets(_ name: String, _ snapshot: ClusterConfigState) throws(ConnectError) {
        guard snapshot.targetState(name) == .stopped, snapshot.taskCount(name) == 0 else {
            throw ConnectError(
                .badRequest,
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/\(name)/stop' endpoint"
            )
        }
    }

    /// Connect's answer to an alter or reset (`verb`): whether the connector's own `alterOffsets` confirmed it.
    static func offsetsModifiedMessage(complete: Bool, verb: String) -> String {
        complete
            ? "The offsets for this connector have been \(verb) successfully"
            : "The Connect framework-managed offsets for this connector have been \(verb) successfully. However, if this connector manages offsets externally, they will need to be manually \(verb) in the system that the connector uses."
    }

    /// An alter needs offsets; both forms go to the herder's `modifyOffsets`.
    func requireOffsets(_ offsets: [ConnectorOffset]) throws(ConnectError) {
        guard !offsets.isEmpty else {
            throw ConnectError(.badRequest, "Partitions / offsets need to be provided for an alter offsets request")
        }
    }

    /// The maximum number of tasks the connector asks for (`tasks.max`, 1 when unreadable).
    func maxTasks(_ config: [String: String]) -> Int {
        Int((try? ConnectorConfig.parse(config, keysStartingWith: "tasks.max"))?.int("tasks.max") ?? 1)
    }
}
