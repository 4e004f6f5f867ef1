import ConnectAPI
import ConnectMetrics
import Foundation
import Kafka
import Logging
import Synchronization

/// The standalone herder (Connect's `StandaloneHerder`): one worker, connector configurations in a
/// `ConfigBackingStore` (in memory), statuses in the worker's `StatusStore`.
///
/// A connector's own code (`start`, `taskConfigs`, `stop`, `alterOffsets`) never runs under a herder lock: the worker
/// runs each connector on a thread of its own, and the herder continues (task configurations, task starts) from its
/// callbacks. Operations on one connector run one at a time under that connector's lock (`PerConnectorLocks`), which
/// is held for bounded work: stopping within the stop timeouts, and starting tasks (building their clients,
/// converters and transforms); reads take no connector lock. A request that waits for a
/// connector (creating it, the legacy restart) waits at most `requestTimeout` (Connect's 90 s) and then fails with
/// Connect's "Request timed out", naming what the worker is doing; the work itself goes on.
public final class StandaloneHerder: AbstractHerder, Sendable {
    public let worker: Worker
    public let configStore: any ConfigBackingStore
    /// How long a request waits for the work it started (Connect's `DEFAULT_REST_REQUEST_TIMEOUT_MS`).
    public let requestTimeout: Duration
    public let configValidator: ConnectorConfigValidator
    private let logger: Logger
    private let commit: String
    private let clusterID: @Sendable () -> String?
    private let locks = PerConnectorLocks()
    private let stages = StageTracker()
    private let nowMs: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    private struct State {
        var ready = false
        var stopped = false
        /// Completions requests may be waiting for, by connector.
        var pending: [String: [FutureCallback<Void>]] = [:]
        /// Times of the restart policy's restarts, per task.
        var policyRestarts: [ConnectorTaskId: [Int64]] = [:]
    }

    private let state = Mutex(State())

    public init(
        worker: Worker, configStore: any ConfigBackingStore = MemoryConfigBackingStore(), commit: String = "unknown",
        clusterID: @escaping @Sendable () -> String?, requestTimeout: Duration = .seconds(90), logger: Logger
    ) {
        self.worker = worker
        self.configStore = configStore
        self.configValidator = ConnectorConfigValidator(
            plugins: worker.plugins, topicCreationEnabled: worker.config.topicCreationEnabled)
        self.commit = commit
        self.clusterID = clusterID
        self.requestTimeout = requestTimeout
        self.logger = logger
        Self.registerClusterMetrics(worker.metrics)
        worker.statusStore.observeTaskFailures { [weak self] id in
            guard let herder = self else { return }
            // Off the failing task's thread: the herder may be waiting for that thread to finish.
            DispatchQueue.global().async { herder.taskFailed(id) }
        }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    public func markReady() { state.withLock { $0.ready = true } }
    public func isReady() -> Bool { state.withLock { $0.ready && !$0.stopped } }

    /// `GET /cluster`: a standalone worker is a cluster of one, running what it runs.
    public func clusterView() throws(ConnectError) -> ClusterView {
        ClusterView(
            mode: "standalone",
            workers: [
                ClusterView.Worker(
                    workerId: worker.statusStore.workerId, url: nil, memberId: nil, isLeader: true, since: nil,
                    connectors: worker.connectorNames.sorted(), tasks: worker.allTaskIds())
            ])
    }

    public func serverInfo() -> ServerInfo {
        ServerInfo(version: ConnectVersion.kafka, commit: commit, kafkaClusterId: clusterID())
    }

    // MARK: Writes (one at a time per connector)

    /// Runs `body` holding the connector's lock; a lock not had by `deadline` is Connect's request timeout.
    private func withConnector<T>(
        _ name: String, deadline: ContinuousClock.Instant, _ body: () throws(ConnectError) -> T
    ) throws(ConnectError) -> T {
        guard !isStopped else { throw shuttingDown }
        guard let result = try locks.withLock(name, deadline: deadline, body) else { throw requestTimedOut(name) }
        return result
    }

    private var shuttingDown: ConnectError { ConnectError.connect("The worker is shutting down") }

    /// Connect's error for a request whose work did not finish within `requestTimeout` (a 500): `Request timed out`,
    /// then what the worker is doing for that connector, when known.
    private func requestTimedOut(_ name: String) -> ConnectError {
        ConnectError.connect(
            ["Request timed out", stages.summary(connector: name)].compactMap { $0 }.joined(separator: ". "))
    }

    /// Waits for `done` until `deadline`; returns its value or rethrows its error.
    @discardableResult
    private func awaitCompletion<T>(
        _ done: FutureCallback<T>, until deadline: ContinuousClock.Instant, _ name: String
    ) throws(ConnectError) -> T {
        guard let outcome = done.wait(until: deadline) else { throw requestTimedOut(name) }
        return try outcome.get()
    }

    /// A completion a request may wait for, on the connector's work: it is completed when the work is done, when
    /// the connector is stopped first (`completePending`), or, with an error, when the herder stops.
    private func pendingCompletion(_ name: String) -> FutureCallback<Void> {
        let done = FutureCallback<Void>()
        state.withLock { s in
            s.pending[name, default: []].removeAll { $0.isCompleted }
            s.pending[name, default: []].append(done)
        }
        return done
    }

    /// The connector was stopped: requests waiting for work it will not do now stop waiting.
    private func completePending(_ name: String) {
        for done in state.withLock({ $0.pending.removeValue(forKey: name) ?? [] }) { done.complete() }
    }

    /// Runs `body` on a thread of its own: continuations that may wait for a connector's lock, so they never hold
    /// a thread of a shared pool.
    private func detached(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    public func putConnectorConfig(
        _ name: String, config: [String: String], allowReplace: Bool, initialState: TargetState?
    ) throws(ConnectError) -> (created: Bool, info: ConnectorInfo) {
        try requireValid(config)
        let result = try applyConfig(
            name, config, allowReplace: allowReplace, initialState: initialState, ifStillConfiguredAs: nil)
        guard let result else { throw ConnectError.connect("Connector \(name) changed while it was reconfigured") }
        return result
    }

    /// Stores and starts a validated configuration, holding the connector's lock, and waits for the start. With
    /// `base`, only if the stored configuration is still `base` (nil otherwise: it changed meanwhile).
    private func applyConfig(
        _ name: String, _ config: [String: String], allowReplace: Bool, initialState: TargetState?,
        ifStillConfiguredAs base: [String: String]?
    ) throws(ConnectError) -> (created: Bool, info: ConnectorInfo)? {
        let deadline = ContinuousClock.now.advanced(by: requestTimeout)
        let applied = try withConnector(name, deadline: deadline) {
            () throws(ConnectError) -> (Bool, FutureCallback<Void>)? in
            let exists = configStore.contains(name)
            if let base {
                guard exists else { throw ConnectError(.notFound, "Connector \(name) not found") }
                guard configStore.snapshot().connectorConfig(name) == base else { return nil }
            }
            if exists && !allowReplace { throw ConnectError(.alreadyExists, "Connector \(name) already exists") }
            if exists {
                stopConnectorAndTasks(name)
                worker.statusStore.removeTasks(name)
            }
            try configStore.putConnectorConfig(name, config, targetState: exists ? nil : initialState ?? .started)
            logger.info("[\(name)|worker] \(exists ? "Updated" : "Created") connector \(name)")
            return (!exists, startConnector(name))
        }
        guard let (created, started) = applied else { return nil }
        try awaitCompletion(started, until: deadline, name)
        // Read under the connector's lock, so a delete running meanwhile has finished: then Connect's 404.
        return (
            created, try withConnector(name, deadline: deadline) { () throws(ConnectError) in try connectorInfo(name) }
        )
    }

    /// Merges `patch` into the stored configuration (a nil value removes the key), validates and applies it. The
    /// merge is checked against the configuration still stored when it is applied, and made again if another
    /// change came first, so concurrent patches never lose one another (the validation, which runs connector code,
    /// stays outside the connector's lock).
    public func patchConnectorConfig(_ name: String, patch: [String: String?]) throws(ConnectError) -> ConnectorInfo {
        if case .some(.some(let patched)) = patch["name"], patched != name {
            throw ConnectError(
                .badRequest,
                "Connector name configuration (\(patched)) doesn't match connector name in the URL (\(name))")
        }
        while true {
            let base = try connectorConfig(name)
            var config = base
            for (k, v) in patch { config[k] = v }
            try requireValid(config)
            if let result = try applyConfig(
                name, config, allowReplace: true, initialState: nil, ifStillConfiguredAs: base)
            {
                return result.info
            }
        }
    }

    /// Starts the connector as stored (holding its lock); completes once its start has run and, when it runs, its
    /// tasks are configured and started, or once it was stopped before that. What fails shows in the statuses.
    private func startConnector(_ name: String) -> FutureCallback<Void> {
        let done = pendingCompletion(name)
        let snapshot = configStore.snapshot()
        guard let config = snapshot.connectorConfig(name) else {
            done.complete()
            return done
        }
        let target = snapshot.targetState(name)
        let stage = stages.begin("starting connector \(name)", connector: name)
        worker.startConnector(name, config: config, target: target) { [self] connector, error in
            stages.end(stage)
            guard let connector, error == nil, target != .stopped else { return done.complete() }
            reconfigureTasks(name, connector, maxTasks: maxTasks(config), then: done)
        }
        return done
    }

    /// Asks the running connector for its task configurations (on its own thread), then, holding its lock on a thread
    /// of its own, replaces its tasks when they changed or are not running (Connect's `updateConnectorTasks`).
    private func reconfigureTasks(
        _ name: String, _ connector: WorkerConnector, maxTasks: Int, then done: FutureCallback<Void>
    ) {
        let stage = stages.begin("generating task configurations for connector \(name)", connector: name)
        connector.taskConfigs(maxTasks: maxTasks) { [self] result in
            stages.end(stage)
            guard case .success(let configs) = result else { return done.complete() }
            detached("herder-\(name)") { [self] in
                defer { done.complete() }
                do {
                    try withConnector(name, deadline: ContinuousClock.now.advanced(by: requestTimeout)) {
                        () throws(ConnectError) in
                        try applyTaskConfigs(name, connector, configs)
                    }
                } catch {
                    logger.error(
                        "[\(name)|worker] Could not start the tasks of connector \(name): \(ConnectError.describe(error))"
                    )
                }
            }
        }
    }

    /// Holding the connector's lock: stores and starts the tasks, unless the connector was replaced, deleted or
    /// stopped meanwhile, or the same tasks already run. Tasks beyond the new count lose their statuses; the others
    /// keep theirs (RESTARTING after a restart) until they report.
    private func applyTaskConfigs(
        _ name: String, _ connector: WorkerConnector, _ configs: [[String: String]]
    )
        throws(ConnectError)
    {
        guard !isStopped, worker.connector(name) === connector else { return }
        let snapshot = configStore.snapshot()
        guard let config = snapshot.connectorConfig(name), snapshot.targetState(name) != .stopped else { return }
        let running = worker.taskIds(name)
        let wanted = configs.indices.map { ConnectorTaskId(name, $0) }
        if snapshot.taskConfigs[name] == configs && running == wanted { return }
        if !running.isEmpty {
            let stage = stages.begin("stopping the tasks of connector \(name)", connector: name)
            worker.stopAndAwaitTasks(running)
            stages.end(stage)
        }
        for (id, _) in worker.statusStore.tasks(name) where id >= configs.count {
            worker.statusStore.removeTask(ConnectorTaskId(name, id))
        }
        try configStore.putTaskConfigs(name, configs)
        let target = snapshot.targetState(name)
        for (id, taskConfig) in zip(wanted, configs) {
            worker.startTask(id, connectorConfig: config, taskConfig: taskConfig, target: target)
        }
    }

    /// Holding the connector's lock: stops its tasks (cancelling what overruns), then the connector.
    /// Stops the connector and its tasks; with `completing`, requests waiting for its work stop waiting (a delete
    /// completes them itself once the configuration is gone, so a waiting create answers 404, not success).
    private func stopConnectorAndTasks(_ name: String, completing: Bool = true) {
        let stage = stages.begin("stopping connector \(name) and its tasks", connector: name)
        worker.stopAndAwaitTasks(worker.taskIds(name))
        worker.stopAndAwaitConnector(name)
        if completing { completePending(name) }
        stages.end(stage)
    }

    public func deleteConnector(_ name: String) throws(ConnectError) {
        try withConnector(name, deadline: ContinuousClock.now.advanced(by: requestTimeout)) { () throws(ConnectError) in
            guard configStore.contains(name) else { throw ConnectError(.notFound, "Connector \(name) not found") }
            stopConnectorAndTasks(name, completing: false)
            defer { completePending(name) }
            try configStore.removeConnectorConfig(name)
            worker.statusStore.removeConnector(name)
            stages.forget(connector: name)
            state.withLock { $0.policyRestarts = $0.policyRestarts.filter { $0.key.connector != name } }
            logger.info("[\(name)|worker] Deleted connector \(name)")
        }
    }

    public func pauseConnector(_ name: String) throws(ConnectError) { try setTarget(name, .paused) }
    public func resumeConnector(_ name: String) throws(ConnectError) { try setTarget(name, .started) }
    public func stopConnector(_ name: String) throws(ConnectError) { try setTarget(name, .stopped) }

    private func setTarget(_ name: String, _ target: TargetState) throws(ConnectError) {
        try withConnector(name, deadline: ContinuousClock.now.advanced(by: requestTimeout)) { () throws(ConnectError) in
            let snapshot = configStore.snapshot()
            guard snapshot.contains(name) else {
                throw ConnectError(
                    .notFound, target == .stopped ? "Connector \(name) not found" : "Unknown connector \(name)")
            }
            let previous = snapshot.targetState(name)
            guard previous != target else { return }
            try configStore.putTargetState(name, target)
            if target == .stopped || previous == .stopped {
                // Stopping shuts tasks down and empties their configurations (the connector is STOPPED when this
                // returns); leaving STOPPED starts everything anew without waiting for the connector's own code.
                stopConnectorAndTasks(name)
                worker.statusStore.removeTasks(name)
                try configStore.removeTaskConfigs(name)
                _ = startConnector(name)
            } else {
                worker.setTargetState(name, target)
            }
        }
    }

    public func restartConnector(_ name: String, _ request: RestartRequest) throws(ConnectError) -> ConnectorStateInfo?
    {
        let deadline = ContinuousClock.now.advanced(by: requestTimeout)
        if request.isLegacy {
            // Connect answers the legacy restart once the connector has started again.
            let started = try withConnector(name, deadline: deadline) {
                () throws(ConnectError) -> FutureCallback<Void> in
                guard configStore.contains(name) else { throw ConnectError(.notFound, "Connector \(name) not found") }
                return restartConnectorOnly(name)
            }
            try awaitCompletion(started, until: deadline, name)
            return nil
        }
        return try withConnector(name, deadline: deadline) { () throws(ConnectError) -> ConnectorStateInfo in
            guard configStore.contains(name) else { throw ConnectError(.notFound, "Connector \(name) not found") }
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
                // Everything restarts: the statuses say RESTARTING until the new instances report (Connect's
                // onRestart).
                let stage = stages.begin("restarting connector \(name) and its tasks", connector: name)
                // Every task of the connector restarts, a FAILED one whose thread has ended included.
                worker.stopAndAwaitTasks(worker.taskIds(name))
                for t in plan.tasks {
                    worker.statusStore.putTask(ConnectorTaskId(name, t.id), .restarting, restartReason: "rest")
                }
                worker.statusStore.history.recordRestart(.connector(name), reason: "rest")
                worker.statusStore.putConnector(name, .restarting)
                worker.stopAndAwaitConnector(name)
                completePending(name)
                stages.end(stage)
                _ = startConnector(name)
            } else {
                if restartConnector { _ = restartConnectorOnly(name) }
                for t in tasksToRestart { restartTaskLocked(ConnectorTaskId(name, t)) }
            }
            return plan
        }
    }

    /// Holding the connector's lock: restarts the connector alone (RESTARTING until it reports). Its tasks keep
    /// running unless its new task configurations differ, or it has none yet (it had failed before making any).
    private func restartConnectorOnly(_ name: String) -> FutureCallback<Void> {
        worker.statusStore.history.recordRestart(.connector(name), reason: "rest")
        worker.statusStore.putConnector(name, .restarting)
        worker.stopAndAwaitConnector(name)
        completePending(name)
        return startConnector(name)
    }

    public func restartTask(_ id: ConnectorTaskId) throws(ConnectError) {
        try withConnector(id.connector, deadline: ContinuousClock.now.advanced(by: requestTimeout)) {
            () throws(ConnectError) in
            let snapshot = configStore.snapshot()
            guard snapshot.contains(id.connector) else {
                throw ConnectError(.notFound, "Connector \(id.connector) not found")
            }
            guard snapshot.taskConfig(id) != nil else { throw ConnectError(.notFound, "Task \(id) not found") }
            restartTaskLocked(id)
        }
    }

    /// Holding the connector's lock: stops the task (cancelling it when it overruns) and starts it again.
    private func restartTaskLocked(_ id: ConnectorTaskId, reason: String = "rest") {
        let snapshot = configStore.snapshot()
        guard let config = snapshot.connectorConfig(id.connector), let taskConfig = snapshot.taskConfig(id) else {
            return
        }
        let stage = stages.begin("restarting task \(id)", connector: id.connector)
        defer { stages.end(stage) }
        worker.stopAndAwaitTasks([id])
        worker.statusStore.putTask(id, .restarting, restartReason: reason)
        worker.startTask(
            id, connectorConfig: config, taskConfig: taskConfig, target: snapshot.targetState(id.connector))
    }

    public func alterConnectorOffsets(_ name: String, _ offsets: [ConnectorOffset]) throws(ConnectError) -> String {
        try requireOffsets(offsets)
        return try modifyOffsets(name, offsets, verb: "altered")
    }

    public func resetConnectorOffsets(_ name: String) throws(ConnectError) -> String {
        try modifyOffsets(name, nil, verb: "reset")
    }

    /// Alters or resets a STOPPED connector's offsets (as Connect checks: its target state is STOPPED and it has no
    /// tasks). The connector's `alterOffsets` and the writes run on a thread of their own, waited for until the
    /// request's deadline.
    private func modifyOffsets(
        _ name: String, _ offsets: [ConnectorOffset]?, verb: String
    ) throws(ConnectError) -> String {
        let deadline = ContinuousClock.now.advanced(by: requestTimeout)
        return try withConnector(name, deadline: deadline) { () throws(ConnectError) -> String in
            let snapshot = configStore.snapshot()
            let config = try config(name, in: snapshot)
            try requireStoppedForOffsets(name, snapshot)
            let stage = stages.begin("modifying the offsets of connector \(name)", connector: name)
            let done = FutureCallback<Bool>()
            detached("offsets-\(name)") { [worker] in
                do throws(ConnectError) {
                    done.complete(.success(try worker.alterConnectorOffsets(name, config: config, offsets: offsets)))
                } catch {
                    done.fail(error)
                }
            }
            let complete = try awaitCompletion(done, until: deadline, name)
            stages.end(stage)
            logger.info("[\(name)|worker] Offsets of connector \(name) \(verb)")
            return Self.offsetsModifiedMessage(complete: complete, verb: verb)
        }
    }

    // MARK: Restart policy

    /// Applies the connector's restart policy to a task that just failed.
    private func taskFailed(_ id: ConnectorTaskId) {
        guard !isStopped, let config = configStore.snapshot().connectorConfig(id.connector),
            let policy = try? RestartPolicy(config), policy.enabled
        else { return }
        let now = nowMs()
        let recent = state.withLock { s -> [Int64] in
            let recent = policy.inWindow(s.policyRestarts[id] ?? [], now: now)
            s.policyRestarts[id] = recent
            return recent
        }
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
        // The failed instance: a restart of any other (by hand, after a reconfiguration) makes this one moot.
        let failed = worker.taskInstance(id)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(delay))) { [weak self] in
            guard let herder = self else { return }
            herder.detached("restart-policy-\(id)") { herder.policyRestart(id, ifInstance: failed) }
        }
    }

    private func policyRestart(_ id: ConnectorTaskId, ifInstance failed: ObjectIdentifier?) {
        try? withConnector(id.connector, deadline: ContinuousClock.now.advanced(by: requestTimeout)) {
            guard let failed, worker.taskInstance(id) == failed, worker.statusStore.task(id)?.state == .failed,
                let config = configStore.snapshot().connectorConfig(id.connector),
                (try? RestartPolicy(config))?.enabled == true
            else { return }
            state.withLock { $0.policyRestarts[id, default: []].append(nowMs()) }
            restartTaskLocked(id, reason: "policy")
        }
    }

    // MARK: Shutdown

    /// Stops every connector and task: requests still waiting are answered that the worker is shutting down;
    /// operations under way on a connector finish first (its lock is taken); then tasks stop and commit their
    /// offsets (within `task.shutdown.graceful.timeout.ms` in all, cancelling what overruns), then connectors.
    /// Nothing starts after.
    public func stop() {
        let pending = state.withLock { s in
            s.stopped = true
            defer { s.pending = [:] }
            return s.pending.values.flatMap { $0 }
        }
        for done in pending { done.fail(shuttingDown) }
        worker.beginClosing()
        let names = configStore.snapshot().connectors
        let deadline = ContinuousClock.now.advanced(by: worker.config.taskShutdownGracefulTimeout)
        locks.withAll(names, deadline: deadline) {
            worker.stopAndAwaitTasks(worker.allTaskIds())
            worker.stopAndAwaitConnectors(worker.connectorNames)
        }
        worker.close()
    }
}

extension StandaloneHerder {
    /// A standalone worker is a cluster of one (as its `GET /cluster`): it leads, nothing waits, it never
    /// rebalances, so cluster dashboards and alerts read the same series for both modes.
    static func registerClusterMetrics(_ registry: MetricsRegistry) {
        for cause in RebalanceCause.allCases {
            registry.group(ConnectMetricsCatalog.clusterRebalanceGroup, tags: [("cause", cause.rawValue)])
                .add("rebalances-total", .gauge { 0 })
        }
        let k = registry.group(ConnectMetricsCatalog.clusterGroup)
        k.add("leader", .gauge { 1 })
        k.add("workers", .gauge { 1 })
        for zero in [
            "unassigned-connectors", "unassigned-tasks", "unassigned-oldest-seconds", "assignment-skew-tasks",
            "scheduled-rebalance-seconds", "scheduled-rebalance-max-delay-seconds", "task-unassigned-seconds-max",
            "task-unassigned-seconds-total",
        ] {
            k.add(zero, .gauge { 0 })
        }
    }
}
