import ConnectAPI
import Foundation
import HTTPClient
import JSON
import KafkaProtocol
import Logging
import Synchronization

/// The herder of a worker in a cluster (Connect's `DistributedHerder`): the workers of one `group.id` share the
/// connectors of the config topic, the group's leader assigns them (`WorkerCoordinator`), and each worker runs what
/// it was assigned.
///
/// One thread of its own (the tick loop) does everything that changes what the worker runs: it keeps the group
/// membership, applies assignments (stopping what was revoked, starting what is new), acts on what other workers
/// wrote to the config topic (new and changed connectors, task configurations, target states, restart requests),
/// and runs the requests REST queued, in order. A request waits for its answer at most `requestTimeout`. Reads
/// answer from the config and status topics as this worker last read them (`AbstractHerder`).
///
/// Only the leader writes connector and task configurations: a request another worker receives fails with
/// `NotLeaderException` carrying the leader's URL, and REST forwards it there. A worker running a connector sends
/// the task configurations it generated to the leader (`POST /connectors/{c}/tasks`, signed with the session key
/// under the `sessioned` protocol, KIP-507).
public final class DistributedHerder: AbstractHerder, ConfigUpdateListener, WorkerRebalanceListener, Sendable {
    public let worker: Worker
    public let config: DistributedConfig
    public let kafkaConfigStore: KafkaConfigBackingStore
    public var configStore: any ConfigBackingStore { kafkaConfigStore }
    public let configValidator: ConnectorConfigValidator
    /// This worker's advertised REST URL, ending with `/`.
    public let url: String
    public let member: GroupMember
    public let coordinator: WorkerCoordinator
    /// How long a request waits for the herder (Connect's `DEFAULT_REST_REQUEST_TIMEOUT_MS`).
    public let requestTimeout: Duration
    let logger: Logger
    let commit: String
    let clusterID: @Sendable () -> String?
    /// For requests to other workers (`InterWorkerClient`): the task configurations sent to the leader, and REST
    /// requests forwarded.
    public let http: HTTPClient
    let wake = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)
    let stages = StageTracker()
    let metrics: DistributedHerderMetrics

    typealias Request = @Sendable () -> Void

    struct State {
        var started = false
        var stopping = false
        /// The first assignment was applied (`/health`).
        var ready = false
        /// What the group could not get past, shown by `/health` until a rebalance succeeds.
        var groupError: String?
        var requests: [Request] = []
        var connectorConfigUpdates: Set<String> = []
        var targetStateChanges: Set<String> = []
        var taskConfigUpdates: Set<ConnectorTaskId> = []
        /// Tasks whose configurations a commit removed, to stop before anything else (before a join, and before an
        /// assignment is applied).
        var removedTasks: Set<ConnectorTaskId> = []
        var restartRequests: [String: RestartRequest] = [:]
        var needsReconfigRebalance = false
        /// An assignment received in `poll`, applied by the tick that follows.
        var pendingAssignment: (assignment: ExtendedAssignment, generation: Int32)?
        /// Whether the last assignment was applied (false from a rebalance's start until then).
        var rebalanceResolved = false
        var generation: Int32 = -1
        var leaderUrl: String?
        var isLeader = false
        var scheduledRebalance: ContinuousClock.Instant?
        /// `scheduledRebalance` in epoch ms, for `/status` and `/cluster`.
        var scheduledRebalanceEpochMs: Int64?
        /// Connectors known at the last look at the config state: an addition or removal needs a rebalance.
        var knownConnectors: Set<String> = []
        /// The target state each connector this worker runs was started with or last set to.
        var localTargets: [String: TargetState] = [:]
        /// After a failed read of the config topic: no joining until a read succeeds.
        var canReadConfigs = true
        /// Failed catch-ups in a row (cooperative protocols give up their work after five).
        var unsyncRetries = 0
        /// What this worker started and has not stopped (Connect's `runningAssignment`). For a connector, the config
        /// offset of the state it was started from: a configuration record it already ran with (the rebalance that
        /// followed its creation started it from a state that held the record) restarts nothing, a newer one (even
        /// an identical configuration PUT again, which users do to retry a start) restarts it, as in Connect. For a
        /// task, the configuration it runs: only a changed one restarts it (the leader writes unchanged task
        /// configurations again only when they are inconsistent).
        var runningConnectors: [String: Int64] = [:]
        var runningTasks: [ConnectorTaskId: [String: String]] = [:]
        /// What the herder's thread is doing and since when (epoch ms), for `/health`.
        var tickStage: (String, Int64)?
        /// Per connector, the latest task configurations handed to a forwarder (older ones are dropped).
        var taskConfigSequence: [String: Int] = [:]
    }

    let state = Mutex(State())
    /// `/health` checks waiting for the herder's thread to come round (see `answerLivenessProbes`).
    let livenessProbes = LivenessProbes()

    public init(
        config: DistributedConfig, worker: Worker, configStore: KafkaConfigBackingStore, url: String,
        commit: String = "unknown", clusterID: @escaping @Sendable () -> String?,
        requestTimeout: Duration = .seconds(90), logger: Logger
    ) throws(ConnectError) {
        self.config = config
        self.worker = worker
        self.kafkaConfigStore = configStore
        self.configValidator = ConnectorConfigValidator(
            plugins: worker.plugins, topicCreationEnabled: worker.config.topicCreationEnabled)
        self.url = url
        self.commit = commit
        self.clusterID = clusterID
        self.requestTimeout = requestTimeout
        self.logger = logger
        http = HTTPClient(
            configuration: try InterWorkerClient.configuration(
                config.worker.originals, timeout: requestTimeout + .seconds(5), strict: url.hasPrefix("https:")))
        let servers: [(host: String, port: Int)]
        let security: KafkaSecurity
        do {
            servers = try GroupMembershipConfig.parseServers(config.worker.bootstrapServers)
            security = try KafkaSecurity.from(config.worker.originals)
        } catch {
            throw ConnectError.config("\(error)")
        }
        let wake = wake
        let probes = livenessProbes
        // Connect's member client id: `client.id`, else `connect-<worker id>`.
        let clientId = config.worker.originals["client.id"] ?? "connect-\(worker.statusStore.workerId)"
        let metrics = DistributedHerderMetrics(
            registry: worker.metrics, clientId: clientId, protocolName: config.connectProtocol.configValue.uppercased(),
            scheduledRebalanceMaxDelayMs: config.scheduledRebalanceMaxDelayMs)
        self.metrics = metrics
        member = GroupMember(
            config: GroupMembershipConfig(
                groupId: config.groupId, bootstrapServers: servers, clientId: clientId,
                sessionTimeout: config.sessionTimeout, rebalanceTimeout: config.rebalanceTimeout,
                heartbeatInterval: config.heartbeatInterval, security: security),
            logger: Logger(label: "org.apache.kafka.connect.runtime.distributed.WorkerGroupMember"),
            wakeOwner: { wake.signal() },
            observer: { event in
                metrics.record(event)
                // Each step of a join (a JoinGroup or SyncGroup answered, a round failed) is the herder's thread
                // making progress; heartbeats come from their own thread and say nothing of it.
                if case .heartbeat = event { return }
                probes.answer()
            })
        coordinator = WorkerCoordinator(
            url: url, maxProtocol: config.connectProtocol,
            scheduledRebalanceMaxDelayMs: config.scheduledRebalanceMaxDelayMs,
            configState: { [configStore] in configStore.snapshot() },
            logger: Logger(label: "org.apache.kafka.connect.runtime.distributed.WorkerCoordinator"),
            workersRunningTasks: { [statusStore = worker.statusStore] in
                // Tasks only: a stopping worker writes its tasks' UNASSIGNED, not its connectors'.
                Set(statusStore.all().tasks.values.filter { $0.state == .running }.map(\.workerId))
            },
            onLeaderRound: { [statusStore = worker.statusStore] round in
                metrics.leaderRound(round)
                let generation = round.state.generation
                for url in round.joined {
                    statusStore.publish(cluster: .workerJoined(url: url, generation: generation))
                }
                for gone in round.departed {
                    statusStore.publish(
                        cluster: .workerLost(
                            url: gone.url, cause: gone.timedOut ? "timeout" : "leave", generation: generation))
                }
                if !round.moves.isEmpty {
                    statusStore.publish(cluster: .reassigned(generation: generation, moves: round.moves))
                }
            })
        coordinator.setListener(self)
        configStore.setUpdateListener(self)
    }

    // MARK: Life cycle

    /// Starts the herder's thread; the worker joins the group there and is ready after its first assignment.
    public func start() {
        let first = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard first else { return }
        let known = Set(kafkaConfigStore.snapshot().connectors)
        state.withLock { $0.knownConnectors = known }
        let thread = Thread { [self] in run() }
        thread.name = "DistributedHerder-\(url)"
        thread.start()
    }

    /// Stops the herder: requests still queued are answered that the worker is shutting down; the tasks and
    /// connectors stop (within `task.shutdown.graceful.timeout.ms`), then the worker leaves the group.
    public func stop() {
        let wasRunning = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return s.started && !s.stopping
        }
        guard wasRunning else {
            member.close()
            return
        }
        worker.beginClosing()
        // A rebalance under way ends with its current round: no retries until the rebalance timeout.
        member.interrupt()
        wake.signal()
        finished.wait()
    }

    public func isReady() -> Bool { state.withLock { $0.ready && !$0.stopping && $0.groupError == nil } }

    /// How long `/health` waits for the herder's thread (KIP-1017's 10 s).
    static let healthCheckTimeout = Duration.seconds(10)

    /// Why `/health` answers 500 `unhealthy`: the group could not be joined, or (KIP-1017) a no-op queued on the
    /// herder's thread did not run within 10 s once the worker had started, with what the thread is doing.
    public func unhealthyReason() -> String? {
        if let error = state.withLock({ $0.groupError }) { return error }
        guard state.withLock({ $0.ready && !$0.stopping }) else { return nil }
        let done = DispatchSemaphore(value: 0)
        livenessProbes.add { done.signal() }
        wake.signal()
        guard done.wait(timeout: .now() + .milliseconds(Int(Self.healthCheckTimeout.inMilliseconds))) == .timedOut
        else { return nil }
        var message = "Worker was unable to handle this request and may be unable to handle other requests"
        if let (stage, began) = state.withLock({ $0.tickStage }) {
            message += ". The worker is currently \(stage), which began at \(Timestamps.iso8601(began))."
        }
        return message
    }

    /// Answers the waiting `/health` checks: the herder's thread made progress. KIP-1017 queues a no-op request
    /// behind the others; here a check is also answered at each step of a join (a JoinGroup or SyncGroup answered, a
    /// round failed, a join done), where queued requests wait for the rebalances to end, so a run of rebalances after a
    /// create, each a few seconds on brokers that delay every join, does not make a working worker look stuck. Outside
    /// joins a check is answered once the requests queued before it have run, as Connect's: a request that holds the
    /// thread for 10 s, a JoinGroup the coordinator holds, a task that does not start, still give 500.
    func answerLivenessProbes() { livenessProbes.answer() }

    public var forwardingClient: HTTPClient? { http }

    public func serverInfo() -> ServerInfo {
        ServerInfo(version: ConnectVersion.kafka, commit: commit, kafkaClusterId: clusterID())
    }

    /// Whether this worker led the group in its last rebalance.
    public var isLeader: Bool { state.withLock { $0.isLeader } }
    /// The leader's advertised URL, once known.
    public var leaderUrl: String? { state.withLock { $0.leaderUrl } }
    /// The group generation of the last rebalance this worker completed.
    public var generation: Int32 { state.withLock { $0.generation } }

    var isStopping: Bool { state.withLock { $0.stopping } }

    func run() {
        while !isStopping { tick() }
        halt()
        finished.signal()
    }

    /// Stops everything this worker runs, answers what is still queued, and leaves the group.
    func halt() {
        let queued = state.withLock { s -> [Request] in
            defer { s.requests = [] }
            return s.requests
        }
        for request in queued { request() }
        worker.stopAndAwaitTasks(worker.allTaskIds())
        // Not UNASSIGNED here, unlike Connect: this worker's status writes wait for the broker's acknowledgement
        // (Connect's are asynchronous), so with the broker gone (a Ctrl-C that stops it too) each would hold the
        // shutdown for the producer's timeout. The next owner's RUNNING replaces the state.
        worker.stopAndAwaitConnectors(worker.connectorNames)
        member.close()
        worker.close()
        logger.info("Herder stopped")
    }

    // MARK: The tick

    func tick() {
        livenessProbes.answerCaughtUp()
        if !state.withLock({ $0.canReadConfigs }) {
            guard readConfigToEnd(timeout: config.workerSyncTimeout) else {
                unsyncBackoff()
                return
            }
            state.withLock { s in
                s.canReadConfigs = true
                s.unsyncRetries = 0
            }
        }
        stopRemovedTasks()
        if let due = state.withLock({ $0.scheduledRebalance }), ContinuousClock.now >= due {
            state.withLock {
                $0.scheduledRebalance = nil
                $0.scheduledRebalanceEpochMs = nil
            }
            metrics.scheduledRebalance(nil)
            member.requestRejoin("scheduled rebalance")
        }
        if member.rejoinNeeded {
            setStage("joining group \(config.groupId)")
            metrics.rebalanceStarted()
            state.withLock { $0.rebalanceResolved = false }
            do {
                _ = try member.poll(coordinator, timeout: config.rebalanceTimeout)
                state.withLock { $0.groupError = nil }
                answerLivenessProbes()
            } catch {
                if isStopping { return }
                var message = "Could not join group \(config.groupId): \(error)"
                if case .broker(let code, _) = error, code == .inconsistentGroupProtocol {
                    message +=
                        ". The workers of the group offer no protocol in common: this worker offers \(config.connectProtocol.offered.map(\.protocolName)) (connect.protocol=\(config.connectProtocol.configValue)); set connect.protocol alike on every worker"
                }
                logger.error("\(message)")
                state.withLock { $0.groupError = message }
                // Connect's `WorkerCoordinator.poll`: a member that cannot find or reach its coordinator for longer
                // than the heartbeat interval stops its work rather than run it while another worker may be given
                // it. A JoinGroup that only took long (the group waits for a slow member) keeps it: the member is
                // still known to the coordinator, and revoking everything there made loaded clusters churn.
                if let unreachable = member.coordinatorUnreachableFor, unreachable > config.heartbeatInterval,
                    let revoked = coordinator.revokeAssignment()
                {
                    logger.warning(
                        "Broker coordinator was unreachable; revoking the previous assignment to avoid running tasks while not being a member"
                    )
                    stopWork(revoked, reason: "revoked")
                }
                _ = wake.wait(timeout: .now() + .seconds(1))
                return
            }
        }
        // Removals read while joining stop before the assignment is applied.
        stopRemovedTasks()
        // A worker that is stopping starts nothing more (a rebalance may complete while the stop waits for it).
        if isStopping { return }
        if let (assignment, generation) = state.withLock({ s in
            defer { s.pendingAssignment = nil }
            return s.pendingAssignment
        }) {
            setStage("applying the assignment of generation \(generation)")
            handleRebalanceCompleted(assignment, generation)
        }
        guard state.withLock({ $0.rebalanceResolved }), !member.rejoinNeeded else { return }

        setStage("acting on config topic updates")
        if isLeader { rotateSessionKeyIfNeeded() }
        processConfigUpdates()
        guard !member.rejoinNeeded else { return }
        processRestartRequests()

        let requests = state.withLock { s -> [Request] in
            defer { s.requests = [] }
            return s.requests
        }
        if !requests.isEmpty { setStage("running \(requests.count) queued request(s)") }
        for request in requests { request() }
        livenessProbes.requestsRan(requests.count)
        state.withLock { $0.tickStage = nil }

        let next = state.withLock { $0.scheduledRebalance }
        var wait = Duration.seconds(1)
        if let next { wait = max(.zero, min(wait, next - ContinuousClock.now)) }
        if state.withLock({ $0.requests.isEmpty }) {
            _ = self.wake.wait(timeout: .now() + .milliseconds(Int(wait.inMilliseconds)))
        }
    }

    func setStage(_ stage: String) {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        state.withLock { $0.tickStage = (stage, now) }
    }

    /// After a failed catch-up on the config topic (Connect's `backoff`): eager waits `worker.unsync.backoff.ms`;
    /// cooperative waits `scheduled.rebalance.max.delay.ms / 10 / retries left` (5 retries).
    func unsyncBackoff() {
        let retries = state.withLock { s -> Int in
            s.unsyncRetries += 1
            return s.unsyncRetries
        }
        if coordinator.currentProtocol?.isCooperative ?? config.connectProtocol.isCooperative {
            let left = max(1, 5 - retries + 1)
            backoff(.milliseconds(Int(config.scheduledRebalanceMaxDelayMs) / 10 / left))
        } else {
            backoff(config.workerUnsyncBackoff)
        }
    }

    func backoff(_ d: Duration) {
        logger.info("Backing off for \(d.inMilliseconds) ms before reading the config topic again")
        let deadline = ContinuousClock.now + d
        while !isStopping, ContinuousClock.now < deadline {
            _ = wake.wait(timeout: .now() + .milliseconds(200))
        }
    }

    /// Reads the config topic to its end within `timeout`; false (logged) when it could not.
    func readConfigToEnd(timeout: Duration) -> Bool {
        do throws(ConnectError) {
            try kafkaConfigStore.refresh(timeout: timeout)
            return true
        } catch {
            logger.warning("Didn't reach end of config log quickly enough: \(error.description)")
            return false
        }
    }

    // MARK: Rebalances (WorkerRebalanceListener, on the herder's thread)

    public func onAssigned(_ assignment: ExtendedAssignment, generation: Int32) {
        state.withLock { $0.pendingAssignment = (assignment, generation) }
    }

    public func onRevoked(leader: String, _ revoked: ConnectorsAndTasks) {
        stopWork(revoked, reason: "revoked")
    }

    /// Stops connectors and tasks this worker no longer owns (tasks first, as Connect's `startAndStop`).
    func stopWork(_ work: ConnectorsAndTasks, reason: String) {
        guard !work.isEmpty else { return }
        logger.info("Stopping \(reason) connectors \(work.connectors) and tasks \(work.tasks.map(\.description))")
        worker.stopAndAwaitTasks(work.tasks)
        // A connector that leaves this worker says so (UNASSIGNED) until its next owner starts it; a deleted one
        // (revoked as well, by the rebalance its deletion asks for) has no status left to write.
        let snapshot = kafkaConfigStore.snapshot()
        let leaving = work.connectors.filter { snapshot.contains($0) }
        worker.stopAndAwaitConnectors(leaving, reportUnassigned: true)
        worker.stopAndAwaitConnectors(work.connectors.filter { !snapshot.contains($0) })
        state.withLock { s in
            for c in work.connectors {
                s.localTargets[c] = nil
                s.runningConnectors[c] = nil
            }
            for t in work.tasks { s.runningTasks[t] = nil }
        }
    }

    /// Connect's `handleRebalanceCompleted`: stops what this worker runs but no longer owns, catches up on the config
    /// topic when the leader assigned at a later offset (rejoining without starting anything when it cannot, or when
    /// the topic moved past that offset), starts what it owns but does not run, and asks for the rebalance that
    /// follows a revocation or a delay.
    func handleRebalanceCompleted(_ assignment: ExtendedAssignment, _ generation: Int32) {
        let leader = assignment.leader == member.memberId
        if assignment.error != ExtendedAssignment.noError {
            logger.info(
                "Joined group at generation \(generation) with a config mismatch (leader at offset \(assignment.configOffset)); reading the config topic and rejoining"
            )
            if leader || kafkaConfigStore.snapshot().offset < assignment.configOffset {
                if !readConfigToEnd(timeout: config.workerSyncTimeout) { leaveUnsynced() }
            }
            member.requestRejoin("config mismatch")
            return
        }
        // The whole assignment (for the cooperative protocols: what ran, minus what was revoked, plus what is new).
        let owned = coordinator.assignment?.assigned ?? .empty
        let (runningConnectors, runningTasks) = state.withLock {
            (Set($0.runningConnectors.keys), Set($0.runningTasks.keys))
        }
        let ownedConnectors = Set(owned.connectors)
        let ownedTasks = Set(owned.tasks)
        // Revoked work stops first, whatever happens next.
        stopWork(
            ConnectorsAndTasks(
                connectors: runningConnectors.subtracting(ownedConnectors).sorted(),
                tasks: runningTasks.subtracting(ownedTasks).sorted()), reason: "revoked")
        if kafkaConfigStore.snapshot().offset < assignment.configOffset {
            logger.info(
                "Current config state offset \(kafkaConfigStore.snapshot().offset) is behind group assignment \(assignment.configOffset), reading to end of config log"
            )
            guard readConfigToEnd(timeout: config.workerSyncTimeout) else {
                leaveUnsynced()
                return
            }
        }
        let snapshot = kafkaConfigStore.snapshot()
        guard snapshot.offset == assignment.configOffset else {
            logger.info(
                "Current config state offset \(snapshot.offset) does not match group assignment \(assignment.configOffset). Forcing rebalance."
            )
            member.requestRejoin("the config topic moved past the assignment's offset")
            return
        }
        state.withLock { s in
            s.generation = generation
            s.leaderUrl = assignment.leaderUrl
            s.isLeader = leader
        }
        let connectors = ownedConnectors.subtracting(runningConnectors).sorted()
        let tasks = ownedTasks.subtracting(runningTasks).sorted()
        logger.info(
            "Starting connectors and tasks using config offset \(assignment.configOffset) (generation \(generation), leader \(assignment.leaderUrl)): connectors \(connectors), tasks \(tasks.map(\.description))"
        )
        for c in connectors { startConnector(c, snapshot) }
        for t in tasks { startTask(t, snapshot) }
        state.withLock { s in
            s.rebalanceResolved = true
            s.ready = true
            s.knownConnectors = Set(snapshot.connectors)
            s.scheduledRebalance =
                assignment.delay > 0 ? ContinuousClock.now + .milliseconds(Int(assignment.delay)) : nil
            s.scheduledRebalanceEpochMs =
                assignment.delay > 0 ? Int64(Date().timeIntervalSince1970 * 1000) + Int64(assignment.delay) : nil
        }
        metrics.rebalanceSucceeded(
            protocolName: assignment.version.configValue.uppercased(), leaderURL: assignment.leaderUrl,
            generation: generation, connectors: owned.connectors.count, tasks: owned.tasks.count)
        metrics.scheduledRebalance(state.withLock { $0.scheduledRebalance })
        if !leader { metrics.notLeader() }
        if leader { removeStaleStatuses(snapshot) }
        if !assignment.revoked.isEmpty {
            // The second round of an incremental cooperative rebalance: the revoked work is handed out now.
            member.requestRejoin("revoked work to reassign")
        }
    }

    /// After a failed catch-up: leave the group, and rejoin only once the config topic could be read.
    /// The work is given up too: the others take it once the group rebalances without this worker.
    func leaveUnsynced() {
        member.leave("taking too long to read the log")
        if let revoked = coordinator.revokeAssignment() { stopWork(revoked, reason: "unsynchronized") }
        state.withLock { $0.canReadConfigs = false }
    }

    /// The leader deletes the statuses of connectors and tasks no longer configured (Connect's `onAssigned`).
    func removeStaleStatuses(_ snapshot: ClusterConfigState) {
        let (connectors, tasks) = worker.statusStore.all()
        for name in connectors.keys where !snapshot.contains(name) { worker.statusStore.removeConnector(name) }
        for id in tasks.keys where snapshot.contains(id.connector) && id.task >= snapshot.taskCount(id.connector) {
            if snapshot.targetState(id.connector) != .stopped, !snapshot.inconsistent.contains(id.connector) {
                worker.statusStore.removeTask(id)
            }
        }
    }

    // MARK: Starting work

    /// Starts a connector as the config topic holds it; once it runs, its task configurations go to the leader.
    func startConnector(_ name: String, _ snapshot: ClusterConfigState) {
        guard let config = snapshot.connectorConfig(name) else { return }
        let target = snapshot.targetState(name)
        state.withLock { s in
            s.localTargets[name] = target
            s.runningConnectors[name] = snapshot.offset
        }
        let stage = stages.begin("starting connector \(name)", connector: name)
        worker.startConnector(name, config: config, target: target) { [self] connector, error in
            stages.end(stage)
            guard let connector, error == nil, target == .started else { return }
            reconfigureTasks(name, connector, maxTasks: maxTasks(config))
        }
    }

    func startTask(_ id: ConnectorTaskId, _ snapshot: ClusterConfigState) {
        guard let config = snapshot.connectorConfig(id.connector), let taskConfig = snapshot.taskConfig(id) else {
            logger.warning("Could not start task \(id): its configuration is not in the config topic")
            return
        }
        state.withLock { $0.runningTasks[id] = taskConfig }
        worker.startTask(
            id, connectorConfig: config, taskConfig: taskConfig, target: snapshot.targetState(id.connector))
    }

    /// Asks the running connector for its task configurations (on its thread), then publishes them from the
    /// herder's thread when they changed.
    func reconfigureTasks(_ name: String, _ connector: WorkerConnector, maxTasks: Int) {
        connector.taskConfigs(maxTasks: maxTasks) { [self] result in
            guard case .success(let configs) = result else { return }
            enqueue { [self] in publishTaskConfigs(name, connector, configs) }
        }
    }

    /// On the herder's thread: the leader writes new task configurations with their commit record; another
    /// worker sends them to the leader (Connect's `reconfigureConnector`).
    func publishTaskConfigs(_ name: String, _ connector: WorkerConnector, _ configs: [[String: String]]) {
        let snapshot = kafkaConfigStore.snapshot()
        guard worker.connector(name) === connector, snapshot.contains(name), snapshot.targetState(name) == .started
        else { return }
        if snapshot.taskConfigs[name] == configs && !snapshot.inconsistent.contains(name) { return }
        if isLeader {
            do throws(ConnectError) {
                try kafkaConfigStore.putTaskConfigs(name, configs)
            } catch {
                logger.error(
                    "[\(name)|worker] Could not write the task configurations of \(name): \(error.description)")
            }
            return
        }
        let body = JSONWriter.bytes(
            .array(
                configs.map { c in .object(JSONObject(c.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
                }))
        let sequence = state.withLock { s -> Int in
            s.taskConfigSequence[name, default: 0] += 1
            return s.taskConfigSequence[name]!
        }
        let thread = Thread { [self] in forwardTaskConfigs(name, connector, body, sequence) }
        thread.name = "task-configs-\(name)"
        thread.start()
    }

    /// Sends task configurations to the leader until it took them, the connector stopped here, newer ones were
    /// generated, or the worker stops: 250 ms, doubling to 60 s between attempts (Connect's
    /// `reconfigureConnectorTasksWithRetry`).
    func forwardTaskConfigs(_ name: String, _ connector: WorkerConnector, _ body: [UInt8], _ sequence: Int) {
        var delay = Duration.milliseconds(250)
        while !isStopping, worker.connector(name) === connector,
            state.withLock({ $0.taskConfigSequence[name] }) == sequence
        {
            guard let leader = leaderUrl else {
                Thread.sleep(forTimeInterval: Double(delay.inMilliseconds) / 1000)
                continue
            }
            var headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
            if coordinator.currentProtocol == .sessioned, let key = kafkaConfigStore.sessionKey {
                headers += InternalRequestSignature.headers(for: body, key: key, algorithm: config.signatureAlgorithm)
            }
            // As Connect's: no `forward` parameter, so a worker that is no longer the leader can pass it on.
            let target =
                (leader.hasSuffix("/") ? leader : leader + "/") + "connectors/" + RestPath.encode(name) + "/tasks"
            do {
                let response = try http.execute(
                    HTTPClientRequest(method: "POST", url: target, headers: headers, body: body), timeout: .seconds(90))
                if response.status < 300 { return }
                logger.warning(
                    "[\(name)|worker] The leader (\(leader)) refused the task configurations of \(name): \(response.status) \(response.text)"
                )
            } catch {
                logger.warning("[\(name)|worker] Could not reach the leader (\(leader)) for \(name): \(error)")
            }
            Thread.sleep(forTimeInterval: Double(delay.inMilliseconds) / 1000)
            delay = min(delay * 2, .seconds(60))
        }
    }

    // MARK: Config topic updates (ConfigUpdateListener, on the store's reader thread: noted, acted on in the tick)

    public func onConnectorConfigRemove(_ connector: String) {
        state.withLock { _ = $0.connectorConfigUpdates.insert(connector) }
        wake.signal()
    }

    public func onConnectorConfigUpdate(_ connector: String) {
        state.withLock { _ = $0.connectorConfigUpdates.insert(connector) }
        wake.signal()
    }

    public func onTaskConfigUpdate(_ tasks: [ConnectorTaskId], removed: [ConnectorTaskId]) {
        state.withLock { s in
            s.taskConfigUpdates.formUnion(tasks)
            s.removedTasks.formUnion(removed)
            s.needsReconfigRebalance = true
        }
        wake.signal()
    }

    public func onConnectorTargetStateChange(_ connector: String) {
        state.withLock { _ = $0.targetStateChanges.insert(connector) }
        wake.signal()
    }

    public func onSessionKeyUpdate(_ key: SessionKey) {
        logger.debug("Installed a new session key (\(key.algorithm), created \(key.creationTimestamp))")
    }

    public func onRestartRequest(_ connector: String, _ request: RestartRequest) {
        state.withLock { $0.restartRequests[connector] = request }
        wake.signal()
    }

    public func onLoggingLevelUpdate(_ namespace: String, _ level: String) {
        guard let parsed = ConnectLogHandler.level(named: level) else { return }
        _ = LogLevels.shared.setNamespace(namespace, to: parsed, at: Int64(Date().timeIntervalSince1970 * 1000))
        logger.info("Set the level of logger \(namespace) to \(level) for the whole cluster")
    }

    /// The work this worker was assigned (its last assignment, revocations applied).
    var localWork: ConnectorsAndTasks { coordinator.assignment?.assigned ?? .empty }

    /// The config topic updates noted since the last tick, taken (and cleared) at once.
    func takeConfigUpdates() -> (Set<String>, Set<String>, Set<ConnectorTaskId>, Bool) {
        state.withLock { s in
            defer {
                s.connectorConfigUpdates = []
                s.targetStateChanges = []
                s.taskConfigUpdates = []
                s.needsReconfigRebalance = false
            }
            return (s.connectorConfigUpdates, s.targetStateChanges, s.taskConfigUpdates, s.needsReconfigRebalance)
        }
    }

    /// Bounces connectors this worker owns whose configuration changed, applies target states (a connector resumed
    /// generates its task configurations again), restarts its tasks whose configurations changed, and asks for a
    /// rebalance when connectors came or went or task configurations changed.
    func processConfigUpdates() {
        var (connectorUpdates, targetChanges, taskUpdates, rebalance) = takeConfigUpdates()
        guard !connectorUpdates.isEmpty || !targetChanges.isEmpty || !taskUpdates.isEmpty || rebalance else { return }
        let snapshot = kafkaConfigStore.snapshot()
        let known = state.withLock { s in
            defer { s.knownConnectors = Set(snapshot.connectors) }
            return s.knownConnectors
        }
        let local = localWork
        let localConnectors = Set(local.connectors)
        var restarted: Set<String> = []
        for name in connectorUpdates {
            if known.contains(name) != snapshot.contains(name) { rebalance = true }
            if !snapshot.contains(name) { worker.restartMetrics.remove(connector: name) }
            guard localConnectors.contains(name) else { continue }
            if !snapshot.contains(name) {
                stopWork(ConnectorsAndTasks(connectors: [name], tasks: runningTasks(of: name)), reason: "deleted")
                continue
            }
            let (startedAt, target) = state.withLock { ($0.runningConnectors[name], $0.localTargets[name]) }
            // Started already from a state holding this configuration, with this target (by the rebalance that
            // followed its creation).
            if let startedAt, startedAt >= snapshot.connectorConfigOffsets[name, default: .max],
                target == snapshot.targetState(name)
            {
                continue
            }
            // Also a connector whose start failed before it ran: it is tried again with the new configuration.
            logger.info("[\(name)|worker] Restarting connector \(name) with its new configuration")
            if snapshot.targetState(name) == .stopped {
                stopWork(ConnectorsAndTasks(connectors: [], tasks: runningTasks(of: name)), reason: "stopped")
            }
            worker.stopAndAwaitConnector(name)
            startConnector(name, snapshot)
            restarted.insert(name)
        }
        for name in targetChanges where snapshot.contains(name) && !restarted.contains(name) {
            let target = snapshot.targetState(name)
            let previous = state.withLock { $0.localTargets[name] }
            if localConnectors.contains(name), previous != nil, previous != target,
                target == .stopped || previous == .stopped
            {
                // Into or out of STOPPED: the connector starts anew; its tasks stop now (they are no longer this
                // worker's to run once their configurations are gone) and start from the assignment that follows
                // the task configurations' change.
                stopWork(ConnectorsAndTasks(connectors: [], tasks: runningTasks(of: name)), reason: "stopped")
                worker.stopAndAwaitConnector(name)
                startConnector(name, snapshot)
            } else {
                if localConnectors.contains(name) { state.withLock { $0.localTargets[name] = target } }
                worker.setTargetState(name, target)
                // Started: its task configurations are generated again (Connect's `updateConnectorTasks` on STARTED):
                // they may have changed while it was paused, and a stop then a resume read in one tick left none
                // (unchanged ones are not written again).
                if localConnectors.contains(name), target == .started, let connector = worker.connector(name),
                    let config = snapshot.connectorConfig(name)
                {
                    reconfigureTasks(name, connector, maxTasks: maxTasks(config))
                }
            }
        }
        // Cooperative: tasks this worker owns whose configurations changed restart with them (tasks beyond the new
        // count stop). Eager: the rebalance that follows stops and restarts everything anyway.
        if config.connectProtocol.isCooperative {
            let updated = Set(taskUpdates.map(\.connector))
            let running = state.withLock { $0.runningTasks }
            for id in local.tasks where updated.contains(id.connector) {
                let started = running[id]
                if id.task >= snapshot.taskCount(id.connector) {
                    if started != nil { stopWork(ConnectorsAndTasks(connectors: [], tasks: [id]), reason: "removed") }
                } else if started != snapshot.taskConfig(id) {
                    if started != nil { worker.stopAndAwaitTasks([id]) }
                    startTask(id, snapshot)
                }
            }
        }
        if rebalance { member.requestRejoin("connector or task configurations changed") }
    }

    /// Stops the running tasks whose configurations the config topic removed (a stop, fewer tasks), at once: not
    /// at the next rebalance; before the next join, and before an assignment received while joining is applied. A task removed and configured again before this
    /// worker acts (a stop then a resume) must still stop and start again, as Connect's `stopReconfiguredTasks`
    /// makes it: comparing configurations later would miss that it ever ended, and it would run on without the
    /// status the stop ended.
    func stopRemovedTasks() {
        let removed = state.withLock { s in
            defer { s.removedTasks = [] }
            return s.removedTasks.filter { s.runningTasks[$0] != nil }
        }
        stopWork(ConnectorsAndTasks(connectors: [], tasks: removed.sorted()), reason: "removed")
    }

    /// The tasks of `connector` this worker started and has not stopped.
    func runningTasks(of connector: String) -> [ConnectorTaskId] {
        state.withLock { $0.runningTasks.keys.filter { $0.connector == connector }.sorted() }
    }

    /// Restart requests read from the config topic: each worker restarts what it runs (KIP-745).
    func processRestartRequests() {
        let requests = state.withLock { s in
            defer { s.restartRequests = [:] }
            return s.restartRequests
        }
        let local = localWork
        for (name, request) in requests.sorted(by: { $0.key < $1.key }) {
            guard let plan = try? restartPlan(name, request) else { continue }
            if plan.connector.state == .restarting, local.connectors.contains(name) {
                restartLocalConnector(name)
            }
            for t in plan.tasks where t.status.state == .restarting {
                let id = ConnectorTaskId(name, t.id)
                if local.tasks.contains(id) { restartLocalTask(id) }
            }
        }
    }

    func restartLocalConnector(_ name: String) {
        worker.statusStore.history.recordRestart(.connector(name), reason: "rest")
        worker.statusStore.putConnector(name, .restarting)
        worker.stopAndAwaitConnector(name)
        startConnector(name, kafkaConfigStore.snapshot())
    }

    func restartLocalTask(_ id: ConnectorTaskId) {
        worker.stopAndAwaitTasks([id])
        worker.statusStore.putTask(id, .restarting, restartReason: "rest")
        startTask(id, kafkaConfigStore.snapshot())
    }

    /// The statuses a restart request will give (Connect's `buildRestartPlan`): RESTARTING for what restarts.
    func restartPlan(_ name: String, _ request: RestartRequest) throws(ConnectError) -> ConnectorStateInfo {
        var plan = try connectorStatus(name)
        if !request.onlyFailed || plan.connector.state == .failed { plan.connector.state = .restarting }
        if request.includeTasks {
            for i in plan.tasks.indices where !request.onlyFailed || plan.tasks[i].status.state == .failed {
                plan.tasks[i].status.state = .restarting
            }
        }
        return plan
    }

    /// The leader writes a new session key when there is none, it expired, or it is not what this worker would
    /// make (KIP-507).
    func rotateSessionKeyIfNeeded() {
        guard coordinator.currentProtocol == .sessioned else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        if let key = kafkaConfigStore.sessionKey, key.creationTimestamp + config.keyTTL.inMilliseconds > now,
            key.algorithm == config.keyGenerationAlgorithm, key.key.count == config.keySizeBytes
        {
            return
        }
        var bytes = [UInt8](repeating: 0, count: config.keySizeBytes)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        do throws(ConnectError) {
            try kafkaConfigStore.putSessionKey(
                SessionKey(key: bytes, algorithm: config.keyGenerationAlgorithm, creationTimestamp: now))
            logger.info("Wrote a new session key to the config topic")
        } catch {
            logger.error("Could not write a session key: \(error.description)")
        }
    }
}

/// `/health` checks waiting for the herder's thread (`DistributedHerder.answerLivenessProbes`), each with the number
/// of requests queued before it.
final class LivenessProbes: Sendable {
    private struct State {
        var waiting: [(after: Int, probe: @Sendable () -> Void)] = []
        var queued = 0
        var ran = 0
    }
    private let state = Mutex(State())

    func add(_ probe: @escaping @Sendable () -> Void) { state.withLock { $0.waiting.append(($0.queued, probe)) } }

    func requestQueued() { state.withLock { $0.queued += 1 } }

    /// `count` queued requests ran: answers the checks queued after them.
    func requestsRan(_ count: Int) {
        state.withLock { $0.ran += count }
        answerCaughtUp()
    }

    /// Answers the checks whose earlier requests have all run.
    func answerCaughtUp() { answer { $0.after <= $1 } }

    /// Answers every waiting check (a step of a join).
    func answer() { answer { _, _ in true } }

    private func answer(_ due: ((after: Int, probe: @Sendable () -> Void), Int) -> Bool) {
        let probes = state.withLock { s -> [@Sendable () -> Void] in
            let ran = s.ran
            let now = s.waiting.filter { due($0, ran) }
            s.waiting.removeAll { due($0, ran) }
            return now.map(\.probe)
        }
        for probe in probes { probe() }
    }
}
