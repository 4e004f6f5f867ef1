import ConnectMetrics
import KafkaProtocol
import Synchronization

extension Duration {
    /// In milliseconds, with fractions.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1_000_000_000_000_000
    }
}

/// A distributed worker's rebalance metrics: `connect-worker-rebalance-metrics` (Connect's
/// `DistributedHerder.HerderMetrics`) and `connect-coordinator-metrics` tagged with the member's client id (Kafka's
/// `GroupCoordinatorMetrics` with Connect's `WorkerCoordinatorMetrics`), under Connect's names and semantics.
final class DistributedHerderMetrics: Sendable {
    struct State {
        var protocolName = "SESSIONED"
        var leaderName = ""
        var epoch: Int32 = -1
        var rebalanceStarted: ContinuousClock.Instant?
        var lastRebalanceCompleted: ContinuousClock.Instant?
        var lastHeartbeat: ContinuousClock.Instant?
        var assignedConnectors = 0
        var assignedTasks = 0
        // The cluster as this worker last assigned it as leader (zero on the others).
        var isLeader = false
        var workers = 0
        var unassignedConnectors = 0
        /// Unassigned tasks and since when the leader has seen them so.
        var unassignedSince: [ConnectorTaskId: ContinuousClock.Instant] = [:]
        var skew = 0
        var scheduledRebalance: ContinuousClock.Instant?
    }

    /// A class, so the gauges' closures can hold it.
    final class Box: Sendable {
        let m = Mutex(State())
        func withLock<T>(_ body: (inout State) -> T) -> T { m.withLock { body(&$0) } }
    }

    private let state = Box()
    private let completedRebalances: Sensor
    private let rebalanceTime: Sensor
    private let heartbeatTime: Sensor
    private let heartbeats: Sensor
    private let joinTime: Sensor
    private let joins: Sensor
    private let syncTime: Sensor
    private let syncs: Sensor
    private let rebalanceLatency: Sensor
    private let rebalances: Sensor
    private let failedRebalances: Sensor
    private let rebalanceCauses: [RebalanceCause: AtomicCounter]
    private let taskUnassignedTime: Sensor

    init(registry: MetricsRegistry, clientId: String, protocolName: String, scheduledRebalanceMaxDelayMs: Int32) {
        state.withLock { $0.protocolName = protocolName }
        let r = registry.group(ConnectMetricsCatalog.rebalanceGroup)
        let state = state
        r.add("connect-protocol", .text { state.withLock { $0.protocolName } })
        r.add("leader-name", .text { state.withLock { $0.leaderName } })
        r.add("epoch", .gauge { Double(state.withLock { $0.epoch }) })
        r.add("rebalancing", .gauge { state.withLock { $0.rebalanceStarted != nil } ? 1 : 0 })
        r.add(
            "time-since-last-rebalance-ms",
            .gauge {
                guard let last = state.withLock({ $0.lastRebalanceCompleted }) else { return .infinity }
                return (ContinuousClock.now - last).milliseconds
            })
        completedRebalances = registry.sensor(r, [("completed-rebalances-total", .total)])
        rebalanceTime = registry.sensor(r, [("rebalance-max-time-ms", .max), ("rebalance-avg-time-ms", .avg)])

        let c = registry.group(ConnectMetricsCatalog.connectCoordinatorGroup, tags: [("client-id", clientId)])
        c.add("assigned-connectors", .gauge { Double(state.withLock { $0.assignedConnectors }) })
        c.add("assigned-tasks", .gauge { Double(state.withLock { $0.assignedTasks }) })
        heartbeatTime = registry.sensor(c, [("heartbeat-response-time-max", .max)])
        heartbeats = registry.sensor(c, [("heartbeat-rate", .rate), ("heartbeat-total", .total)])
        joinTime = registry.sensor(c, [("join-time-avg", .avg), ("join-time-max", .max)])
        joins = registry.sensor(c, [("join-rate", .rate), ("join-total", .total)])
        syncTime = registry.sensor(c, [("sync-time-avg", .avg), ("sync-time-max", .max)])
        syncs = registry.sensor(c, [("sync-rate", .rate), ("sync-total", .total)])
        rebalanceLatency = registry.sensor(
            c,
            [
                ("rebalance-latency-avg", .avg), ("rebalance-latency-max", .max), ("rebalance-latency-total", .total),
            ])
        rebalances = registry.sensor(c, [("rebalance-total", .total)])
        failedRebalances = registry.sensor(c, [("failed-rebalance-total", .total)])
        let succeeded = rebalances
        let failed = failedRebalances
        // Kafka's Rate(TimeUnit.HOURS) over the window: events per second times 3600.
        c.add("rebalance-rate-per-hour", .gauge { succeeded.measure(.rate) * 3600 })
        c.add("failed-rebalance-rate-per-hour", .gauge { failed.measure(.rate) * 3600 })
        c.add(
            "last-rebalance-seconds-ago",
            .gauge {
                guard let last = state.withLock({ $0.lastRebalanceCompleted }) else { return -1 }
                return Double((ContinuousClock.now - last).components.seconds)
            })
        c.add(
            "last-heartbeat-seconds-ago",
            .gauge {
                guard let last = state.withLock({ $0.lastHeartbeat }) else { return -1 }
                return Double((ContinuousClock.now - last).components.seconds)
            })

        var causes: [RebalanceCause: AtomicCounter] = [:]
        for cause in RebalanceCause.allCases {
            let counter = AtomicCounter()
            registry.group(ConnectMetricsCatalog.clusterRebalanceGroup, tags: [("cause", cause.rawValue)])
                .add("rebalances-total", .gauge { Double(counter.value) })
            causes[cause] = counter
        }
        rebalanceCauses = causes
        let k = registry.group(ConnectMetricsCatalog.clusterGroup)
        k.add("leader", .gauge { state.withLock { $0.isLeader } ? 1 : 0 })
        k.add("workers", .gauge { Double(state.withLock { $0.workers }) })
        k.add("unassigned-connectors", .gauge { Double(state.withLock { $0.unassignedConnectors }) })
        k.add("unassigned-tasks", .gauge { Double(state.withLock { $0.unassignedSince.count }) })
        k.add(
            "unassigned-oldest-seconds",
            .gauge {
                guard let oldest = state.withLock({ $0.unassignedSince.values.min() }) else { return 0 }
                return (ContinuousClock.now - oldest).milliseconds / 1000
            })
        k.add("assignment-skew-tasks", .gauge { Double(state.withLock { $0.skew }) })
        k.add(
            "scheduled-rebalance-seconds",
            .gauge {
                guard let due = state.withLock({ $0.scheduledRebalance }) else { return 0 }
                return max(0, (due - ContinuousClock.now).milliseconds / 1000)
            })
        k.add("scheduled-rebalance-max-delay-seconds", .gauge { Double(scheduledRebalanceMaxDelayMs) / 1000 })
        taskUnassignedTime = registry.sensor(
            k, [("task-unassigned-seconds-max", .max), ("task-unassigned-seconds-total", .total)])
    }

    /// An assignment this worker made as leader: its cause, the group's size and skew, and which tasks wait (the
    /// time a task waited is recorded when it is handed out again).
    func leaderRound(_ round: LeaderRound) {
        rebalanceCauses[round.cause]?.increment()
        let now = ContinuousClock.now
        let owned = Set(round.state.taskOwners.keys)
        let waiting = Set(round.configured.tasks).subtracting(owned)
        var perWorker = Dictionary(uniqueKeysWithValues: round.state.urls.keys.map { ($0, 0) })
        for owner in round.state.taskOwners.values { perWorker[owner, default: 0] += 1 }
        let served = state.withLock { s -> [Duration] in
            s.isLeader = true
            s.workers = round.state.urls.count
            s.unassignedConnectors =
                Set(round.configured.connectors).subtracting(round.state.connectorOwners.keys)
                .count
            s.skew = (perWorker.values.max() ?? 0) - (perWorker.values.min() ?? 0)
            var served: [Duration] = []
            for (task, since) in s.unassignedSince where !waiting.contains(task) {
                s.unassignedSince[task] = nil
                if owned.contains(task) { served.append(now - since) }
            }
            for task in waiting where s.unassignedSince[task] == nil { s.unassignedSince[task] = now }
            return served
        }
        for d in served { taskUnassignedTime.record(d.milliseconds / 1000) }
    }

    /// The scheduled rebalance this worker's last assignment announced (nil: none).
    func scheduledRebalance(_ due: ContinuousClock.Instant?) {
        state.withLock { $0.scheduledRebalance = due }
    }

    /// This worker is not (or no longer) the leader: the leader's gauges read 0 here.
    func notLeader() {
        state.withLock { s in
            s.isLeader = false
            s.workers = 0
            s.unassignedConnectors = 0
            s.unassignedSince = [:]
            s.skew = 0
        }
    }

    /// The herder saw that a rebalance is needed (Connect's `rebalanceStarted`).
    func rebalanceStarted() {
        state.withLock { s in if s.rebalanceStarted == nil { s.rebalanceStarted = .now } }
    }

    /// The herder applied an assignment (Connect's `rebalanceSucceeded`).
    func rebalanceSucceeded(protocolName: String, leaderURL: String, generation: Int32, connectors: Int, tasks: Int) {
        let started = state.withLock { s -> ContinuousClock.Instant? in
            defer {
                s.rebalanceStarted = nil
                s.lastRebalanceCompleted = .now
                s.protocolName = protocolName
                s.leaderName = leaderURL
                s.epoch = generation
                s.assignedConnectors = connectors
                s.assignedTasks = tasks
            }
            return s.rebalanceStarted
        }
        completedRebalances.record()
        if let started { rebalanceTime.record((ContinuousClock.now - started).milliseconds) }
    }

    /// What the group member reported.
    func record(_ event: GroupMember.Event) {
        switch event {
        case .joined(let d):
            joinTime.record(d.milliseconds)
            joins.record()
        case .synced(let d):
            syncTime.record(d.milliseconds)
            syncs.record()
        case .heartbeat(let d):
            heartbeatTime.record(d.milliseconds)
            heartbeats.record()
            state.withLock { $0.lastHeartbeat = .now }
        case .rebalanced(let d):
            rebalanceLatency.record(d.milliseconds)
            rebalances.record()
        case .rebalanceFailed:
            failedRebalances.record()
        }
    }
}
