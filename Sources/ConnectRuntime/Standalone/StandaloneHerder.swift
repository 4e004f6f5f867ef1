import ConnectAPI
import Foundation
import Kafka
import Logging

/// The standalone herder: one worker, connector configurations in memory, every operation serialised by one lock
/// (as Connect's `StandaloneHerder` synchronises its methods).
///
/// `@unchecked Sendable`: all mutable state, and every call into the worker, is guarded by `lock`.
public final class StandaloneHerder: Herder, @unchecked Sendable {
    public let worker: Worker
    public var plugins: PluginRegistry { worker.plugins }
    private let validator: ConnectorConfigValidator
    private let lock = NSRecursiveLock()
    private let logger: Logger
    private let commit: String
    private let clusterID: @Sendable () -> String?

    struct ConnectorState {
        var config: [String: String]
        var target: TargetState
        var taskConfigs: [[String: String]]
    }

    private var state: [String: ConnectorState] = [:]
    private var order: [String] = []
    private var ready = false
    private var stopped = false
    /// Times of the restart policy's restarts, per task.
    private var policyRestarts: [ConnectorTaskId: [Int64]] = [:]
    private let restartMetrics: RestartMetrics
    private let nowMs: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    public init(
        worker: Worker, commit: String = "unknown", clusterID: @escaping @Sendable () -> String?, logger: Logger
    ) {
        self.worker = worker
        self.validator = ConnectorConfigValidator(plugins: worker.plugins)
        self.commit = commit
        self.clusterID = clusterID
        self.logger = logger
        self.restartMetrics = RestartMetrics(registry: worker.metrics)
        worker.statusStore.observeTaskFailures { [weak self] id in
            guard let herder = self else { return }
            // Off the failing task's thread: the herder may be holding its lock waiting for that thread.
            DispatchQueue.global().async { herder.taskFailed(id) }
        }
    }

    /// Applies the connector's restart policy to a task that just failed.
    private func taskFailed(_ id: ConnectorTaskId) {
        lock.withLock {
            guard !stopped, let e = state[id.connector] else { return }
            let policy = RestartPolicy(e.config)
            guard policy.enabled else { return }
            let recent = policy.inWindow(policyRestarts[id] ?? [], now: nowMs())
            policyRestarts[id] = recent
            guard recent.count < policy.maxRestarts else {
                worker.statusStore.annotateFailure(id, policy.givingUpNote)
                worker.statusStore.history.recordGivenUp(.task(id))
                logger.error("[\(id.connector)|task-\(id.task)] \(policy.givingUpNote)")
                return
            }
            let delay = policy.backoffMs(restartsInWindow: recent.count)
            logger.info(
                "[\(id.connector)|task-\(id.task)] Restarting failed task \(id) in \(delay) ms (errors.restart.policy, restart \(recent.count + 1) of at most \(policy.maxRestarts) within \(policy.windowMs) ms)"
            )
            let generation = worker.statusStore.task(id)?.generation
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(delay))) { [weak self] in
                self?.policyRestart(id, ifGeneration: generation)
            }
        }
    }

    private func policyRestart(_ id: ConnectorTaskId, ifGeneration generation: Int?) {
        lock.withLock {
            // Only if nothing happened to the task meanwhile (no manual restart, no deletion).
            guard !stopped, state[id.connector] != nil, let status = worker.statusStore.task(id),
                status.state == .failed, status.generation == generation
            else { return }
            policyRestarts[id, default: []].append(nowMs())
            restartTaskUnlocked(id, reason: "policy")
        }
    }

    private func locked<T>(_ body: () throws(ConnectError) -> T) throws(ConnectError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    public func markReady() { lock.withLock { ready = true } }
    public func isReady() -> Bool { lock.withLock { ready && !stopped } }

    public func serverInfo() -> ServerInfo {
        ServerInfo(version: ConnectVersion.kafka, commit: commit, kafkaClusterId: clusterID())
    }

    public func connectors() -> [String] { lock.withLock { order } }

    private func entry(_ name: String) throws(ConnectError) -> ConnectorState {
        guard let e = state[name] else { throw ConnectError(.notFound, "Connector \(name) not found") }
        return e
    }

    private func type(of config: [String: String]) -> String {
        guard let cls = config["connector.class"], let p = plugins.find(cls, types: [.source, .sink]) else {
            return "unknown"
        }
        return p.type.rawValue
    }

    public func connectorInfo(_ name: String) throws(ConnectError) -> ConnectorInfo {
        try locked { () throws(ConnectError) in
            let e = try entry(name)
            return ConnectorInfo(
                name: name, config: e.config, tasks: e.taskConfigs.indices.map { ConnectorTaskId(name, $0) },
                type: type(of: e.config))
        }
    }

    public func connectorConfig(_ name: String) throws(ConnectError) -> [String: String] {
        try locked { () throws(ConnectError) in try entry(name).config }
    }

    public func connectorStatus(_ name: String) throws(ConnectError) -> ConnectorStateInfo {
        try locked { () throws(ConnectError) in
            // As Connect's AbstractHerder: the status store answers, so an unknown connector has no status.
            guard let e = state[name], let status = worker.statusStore.connector(name) else {
                throw ConnectError(.notFound, "No status found for connector \(name)")
            }
            let tasks =
                e.target == .stopped
                ? [] : worker.statusStore.tasks(name).map { TaskStateInfo(id: $0.id, status: $0.status) }
            return ConnectorStateInfo(name: name, connector: status, tasks: tasks, type: type(of: e.config))
        }
    }

    public func patchConnectorConfig(_ name: String, patch: [String: String?]) throws(ConnectError) -> ConnectorInfo {
        var config = try locked { () throws(ConnectError) in try entry(name).config }
        for (k, v) in patch { config[k] = v }
        return try putConnectorConfig(name, config: config, allowReplace: true, initialState: nil).info
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
        let config = try locked { () throws(ConnectError) in try entry(name).config }
        return try worker.connectorOffsets(name, config: config)
    }

    public func alterConnectorOffsets(_ name: String, _ offsets: [ConnectorOffset]) throws(ConnectError) -> String {
        guard !offsets.isEmpty else {
            throw ConnectError(.badRequest, "Partitions / offsets need to be provided for an alter offsets request")
        }
        return try modifyOffsets(name, offsets, verb: "altered")
    }

    public func resetConnectorOffsets(_ name: String) throws(ConnectError) -> String {
        try modifyOffsets(name, nil, verb: "reset")
    }

    private func modifyOffsets(
        _ name: String, _ offsets: [ConnectorOffset]?, verb: String
    ) throws(ConnectError) -> String {
        try locked { () throws(ConnectError) in
            let e = try entry(name)
            guard e.target == .stopped, worker.statusStore.connector(name)?.state == .stopped else {
                throw ConnectError(
                    .badRequest,
                    "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/\(name)/stop' endpoint"
                )
            }
            let complete = try worker.alterConnectorOffsets(name, config: e.config, offsets: offsets)
            logger.info("[\(name)|worker] Offsets of connector \(name) \(verb)")
            return complete
                ? "The offsets for this connector have been \(verb) successfully"
                : "The Connect framework-managed offsets for this connector have been \(verb) successfully. However, if this connector manages offsets externally, they will need to be manually \(verb) in the system that the connector uses."
        }
    }

    public func connectorHistory(_ name: String) throws(ConnectError) -> ConnectorHistory {
        try locked { () throws(ConnectError) in
            let e = try entry(name)
            let history = worker.statusStore.history
            let ids = Set(history.tasks(of: name)).union(e.taskConfigs.indices)
            return ConnectorHistory(
                connector: history.entries(.connector(name)),
                tasks: Dictionary(
                    uniqueKeysWithValues: ids.map { ($0, history.entries(.task(ConnectorTaskId(name, $0)))) }))
        }
    }

    public func taskHistory(_ id: ConnectorTaskId) throws(ConnectError) -> [HistoryEntry] {
        try locked { () throws(ConnectError) in
            let e = try entry(id.connector)
            let entries = worker.statusStore.history.entries(.task(id))
            guard e.taskConfigs.indices.contains(id.task) || !entries.isEmpty else {
                throw ConnectError(.notFound, "Task \(id) not found")
            }
            return entries
        }
    }

    public func taskStatus(_ id: ConnectorTaskId) throws(ConnectError) -> TaskStateInfo {
        try locked { () throws(ConnectError) in
            _ = try entry(id.connector)
            guard let s = worker.statusStore.task(id) else {
                throw ConnectError(.notFound, "No status found for task \(id)")
            }
            return TaskStateInfo(id: id.task, status: s)
        }
    }

    public func taskConfigs(_ name: String) throws(ConnectError) -> [TaskInfo] {
        try locked { () throws(ConnectError) in
            try entry(name).taskConfigs.enumerated().map {
                TaskInfo(id: ConnectorTaskId(name, $0.offset), config: $0.element)
            }
        }
    }

    public func validateConnectorConfig(_ config: [String: String]) throws(ConnectError) -> ConfigInfos {
        let transformer = worker.configTransformer
        let resolved = try transformer.transform(config)
        return try validator.validate(resolved).redacted(raw: config, resolved: resolved, transformer: transformer)
    }

    public func putConnectorConfig(
        _ name: String, config: [String: String], allowReplace: Bool, initialState: TargetState?
    ) throws(ConnectError) -> (created: Bool, info: ConnectorInfo) {
        let infos = try validateConnectorConfig(config)
        if infos.errorCount > 0 { throw ConnectError(.badRequest, ConnectorConfigValidator.invalidMessage(infos)) }
        return try locked { () throws(ConnectError) in
            let existing = state[name]
            if existing != nil && !allowReplace {
                throw ConnectError(.alreadyExists, "Connector \(name) already exists")
            }
            let target = existing?.target ?? initialState ?? .started
            if existing != nil {
                stopConnectorAndTasks(name)
            } else {
                order.append(name)
            }
            state[name] = ConnectorState(config: config, target: target, taskConfigs: [])
            logger.info("[\(name)|worker] \(existing == nil ? "Created" : "Updated") connector \(name)")
            startConnectorAndTasks(name)
            return (existing == nil, try connectorInfoUnlocked(name))
        }
    }

    private func connectorInfoUnlocked(_ name: String) throws(ConnectError) -> ConnectorInfo {
        let e = try entry(name)
        return ConnectorInfo(
            name: name, config: e.config, tasks: e.taskConfigs.indices.map { ConnectorTaskId(name, $0) },
            type: type(of: e.config))
    }

    /// Starts a connector and, unless it is STOPPED or failed, its tasks. Failures show in the status, not here.
    private func startConnectorAndTasks(_ name: String) {
        guard let e = state[name] else { return }
        do {
            try worker.startConnector(name, config: e.config, target: e.target)
            try startTasks(name)
        } catch {
            logger.error("[\(name)|worker] Connector \(name) failed: \(error.description)")
        }
    }

    /// Asks the running connector for task configurations and starts those tasks.
    private func startTasks(_ name: String) throws(ConnectError) {
        guard var e = state[name], e.target != .stopped else { return }
        let maxTasks = Int(e.config["tasks.max"]?.trimmingSpaces ?? "1") ?? 1
        e.taskConfigs = try worker.connectorTaskConfigs(name, maxTasks: maxTasks)
        state[name] = e
        for (i, taskConfig) in e.taskConfigs.enumerated() {
            worker.startTask(
                ConnectorTaskId(name, i), connectorConfig: e.config, taskConfig: taskConfig, target: e.target)
        }
    }

    private func stopConnectorAndTasks(_ name: String) {
        worker.stopAndAwaitTasks(worker.taskIds(name))
        worker.stopConnector(name)
        worker.statusStore.removeTasks(name)
    }

    public func deleteConnector(_ name: String) throws(ConnectError) {
        try locked { () throws(ConnectError) in
            _ = try entry(name)
            stopConnectorAndTasks(name)
            state[name] = nil
            order.removeAll { $0 == name }
            worker.statusStore.removeConnector(name)
            restartMetrics.remove(connector: name)
            policyRestarts = policyRestarts.filter { $0.key.connector != name }
            logger.info("[\(name)|worker] Deleted connector \(name)")
        }
    }

    public func pauseConnector(_ name: String) throws(ConnectError) { try setTarget(name, .paused) }
    public func resumeConnector(_ name: String) throws(ConnectError) { try setTarget(name, .started) }
    public func stopConnector(_ name: String) throws(ConnectError) { try setTarget(name, .stopped) }

    private func setTarget(_ name: String, _ target: TargetState) throws(ConnectError) {
        try locked { () throws(ConnectError) in
            guard var e = state[name] else {
                throw ConnectError(
                    .notFound, target == .stopped ? "Connector \(name) not found" : "Unknown connector \(name)")
            }
            let previous = e.target
            guard previous != target else { return }
            e.target = target
            state[name] = e
            if target == .stopped || previous == .stopped {
                // Stopping shuts tasks down and empties their configurations; leaving STOPPED starts everything anew.
                stopConnectorAndTasks(name)
                state[name]?.taskConfigs = []
                startConnectorAndTasks(name)
            } else {
                worker.setConnectorTarget(name, target)
            }
        }
    }

    public func restartConnector(_ name: String, _ request: RestartRequest) throws(ConnectError) -> ConnectorStateInfo?
    {
        try locked { () throws(ConnectError) in
            guard state[name] != nil else { throw ConnectError(.notFound, "Connector \(name) not found") }
            if request.isLegacy {
                restartConnectorOnly(name)
                return nil
            }
            var plan = try connectorStatus(name)
            let restartConnector = !request.onlyFailed || plan.connector.state == .failed
            let tasksToRestart =
                request.includeTasks
                ? plan.tasks.filter { !request.onlyFailed || $0.status.state == .failed }.map(\.id) : []
            if restartConnector { plan.connector.state = .restarting }
            for i in plan.tasks.indices where tasksToRestart.contains(plan.tasks[i].id) {
                plan.tasks[i].status.state = .restarting
            }
            if restartConnector && request.includeTasks && !request.onlyFailed {
                stopConnectorAndTasks(name)
                startConnectorAndTasks(name)
            } else {
                if restartConnector { restartConnectorOnly(name) }
                for t in tasksToRestart { restartTaskUnlocked(ConnectorTaskId(name, t)) }
            }
            return plan
        }
    }

    /// Restarts the connector alone; tasks keep running, unless it has none yet (it had failed before making any),
    /// in which case they are created now.
    private func restartConnectorOnly(_ name: String) {
        guard let e = state[name] else { return }
        worker.statusStore.history.recordRestart(.connector(name), reason: "rest")
        worker.stopConnector(name)
        do {
            try worker.startConnector(name, config: e.config, target: e.target)
            if e.taskConfigs.isEmpty { try startTasks(name) }
        } catch {
            logger.error("[\(name)|worker] Restart of connector \(name) failed: \(error.description)")
        }
    }

    public func restartTask(_ id: ConnectorTaskId) throws(ConnectError) {
        try locked { () throws(ConnectError) in
            guard let e = state[id.connector] else {
                throw ConnectError(.notFound, "Connector \(id.connector) not found")
            }
            guard e.taskConfigs.indices.contains(id.task) else { throw ConnectError(.notFound, "Task \(id) not found") }
            restartTaskUnlocked(id)
        }
    }

    private func restartTaskUnlocked(_ id: ConnectorTaskId, reason: String = "rest") {
        guard let e = state[id.connector], e.taskConfigs.indices.contains(id.task) else { return }
        worker.stopAndAwaitTasks([id])
        worker.statusStore.putTask(id, .restarting, restartReason: reason)
        restartMetrics.restarted(id, reason: reason)
        worker.startTask(id, connectorConfig: e.config, taskConfig: e.taskConfigs[id.task], target: e.target)
    }

    /// Stops every connector and task: tasks stop and commit their offsets first, then connectors.
    public func stop() {
        lock.withLock {
            stopped = true
            let all = order
            worker.stopAndAwaitTasks(all.flatMap { worker.taskIds($0) })
            for name in all { worker.stopConnector(name) }
            worker.close()
        }
    }
}
