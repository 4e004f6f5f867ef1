import ConnectAPI
import Foundation
import KafkaProtocol
import Logging
import Synchronization

/// What a worker does when its group membership changes (Connect's `WorkerRebalanceListener`). Called on the
/// herder's thread, from inside `GroupMember.poll`.
public protocol WorkerRebalanceListener: AnyObject, Sendable {
    /// A rebalance completed: `assignment` is the leader's answer (for cooperative protocols only what is new, and
    /// what to revoke), at `generation`.
    func onAssigned(_ assignment: ExtendedAssignment, generation: Int32)
    /// Everything in `revoked` must stop now (eager: before every rejoin; cooperative: when the membership was lost).
    func onRevoked(leader: String, _ revoked: ConnectorsAndTasks)
}

struct WeakListener {
    weak var value: (any WorkerRebalanceListener)?
}

/// Who runs what, as the leader last assigned it (Connect's `WorkerCoordinator.LeaderState`): used to send a
/// restart to the worker that runs the connector or task, and for `GET /cluster`.
public struct LeaderState: Sendable, Equatable {
    /// Member id → advertised URL.
    public var urls: [String: String] = [:]
    /// Connector → member id.
    public var connectorOwners: [String: String] = [:]
    /// Task → member id.
    public var taskOwners: [ConnectorTaskId: String] = [:]
    /// Member id → epoch ms since which this leader has seen it in the group.
    public var memberSince: [String: Int64] = [:]
    public var leaderId = ""
    public var generation: Int32 = -1
    public var protocolName = ""
    public var configOffset: Int64 = -1
    /// Epoch ms of the rebalance scheduled to reassign held-back work (KIP-415's delay); nil: none.
    public var scheduledRebalance: Int64?

    public init() {}

    public func ownerURL(connector: String) -> String? { connectorOwners[connector].flatMap { urls[$0] } }
    public func ownerURL(task: ConnectorTaskId) -> String? { taskOwners[task].flatMap { urls[$0] } }
}

/// What made a rebalance, as the leader that assigned it sees it (an extension: Connect does not say).
public enum RebalanceCause: String, Sendable, CaseIterable {
    /// A worker vanished without stopping its work (killed, frozen past its session, cut off).
    case timeout
    /// A worker left the group, its work stopped.
    case leave
    /// A worker joined the group.
    case join
    /// Connectors or tasks were created, changed or deleted.
    case configChange = "config_change"
    /// The scheduled rebalance handed out work held back after a worker left (KIP-415).
    case scheduled
    /// The second round of an incremental cooperative rebalance, handing out what the first revoked.
    case revocation
    /// The leader changed: the previous leader left or was lost (this leader did not see the group before).
    case leaderChange = "leader_change"
    case other
}

/// One assignment this worker made as the group's leader, for the cluster metrics and lifecycle events.
public struct LeaderRound: Sendable {
    public var cause: RebalanceCause
    /// Advertised URLs of the workers new to the group since this leader's previous assignment.
    public var joined: [String]
    /// Advertised URLs of the workers gone since then, and whether each left its work running (a timeout).
    public var departed: [(url: String, timedOut: Bool)]
    /// Connectors and tasks now run by another worker than at this leader's previous assignment.
    public var moves: [WorkMove] = []
    /// Who runs what now.
    public var state: LeaderState
    /// Configured connectors and tasks at the assignment's config offset.
    public var configured: ConnectorsAndTasks
}

/// The worker's side of the `connect` group sub-protocol (Connect's `WorkerCoordinator`): the metadata it offers
/// (`default`, `compatible`, `sessioned`, as `connect.protocol` allows), the leader's assignment with the
/// incremental cooperative assignor (KIP-415) or the eager one, and the assignment this worker runs, kept across
/// rebalances for the cooperative protocols (the previous one minus what was revoked plus what was assigned).
public final class WorkerCoordinator: GroupProtocol, Sendable {
    public let protocolType = "connect"
    private let url: String
    private let maxProtocol: ConnectProtocolVersion
    private let configState: @Sendable () -> ClusterConfigState
    private let listener = Mutex(WeakListener())
    private let logger: Logger
    private let now: @Sendable () -> Int64
    /// Whether the worker with this id (`host:port`) still shows work RUNNING in the status topic.
    private let workersRunningTasks: @Sendable () -> Set<String>
    private let onLeaderRound: @Sendable (LeaderRound) -> Void

    struct State {
        /// What this worker runs: the last assignment, augmented (full set, nothing revoked).
        var assignmentSnapshot: ExtendedAssignment?
        /// The generation this member last completed a rebalance in.
        var lastCompletedGeneration: Int32 = -1
        var assignor: IncrementalCooperativeAssignor
        var leaderState: LeaderState?
        /// The last `leaderState` this member made, kept through rebalances (for `GET /cluster`).
        var lastLeaderState: LeaderState?
        var currentProtocol: ConnectProtocolVersion?
        /// Whether this leader's previous assignment revoked work (the next round hands it out).
        var lastRoundRevoked = false
        /// The URL of the worker that last ran each connector and task, as this leader assigned them (kept while
        /// work is held back, so its move shows when it is handed out).
        var lastConnectorURLs: [String: String] = [:]
        var lastTaskURLs: [ConnectorTaskId: String] = [:]
    }

    private let state: Mutex<State>

    /// `url`: this worker's advertised REST URL (ending with `/`); `configState`: the config store's snapshot now;
    /// `workersRunningTasks`: the worker ids (`host:port`) with RUNNING task statuses (a worker gone from the group
    /// that still has some vanished without stopping: a timeout, not a leave);
    /// `onLeaderRound`: each assignment this worker makes as leader.
    public init(
        url: String, maxProtocol: ConnectProtocolVersion, scheduledRebalanceMaxDelayMs: Int32,
        configState: @escaping @Sendable () -> ClusterConfigState, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        workersRunningTasks: @escaping @Sendable () -> Set<String> = { [] },
        onLeaderRound: @escaping @Sendable (LeaderRound) -> Void = { _ in }
    ) {
        self.url = url
        self.maxProtocol = maxProtocol
        self.configState = configState
        self.logger = logger
        self.now = now
        self.workersRunningTasks = workersRunningTasks
        self.onLeaderRound = onLeaderRound
        state = Mutex(State(assignor: IncrementalCooperativeAssignor(maxDelay: scheduledRebalanceMaxDelayMs)))
    }

    /// Who hears of assignments and revocations (held weakly: the herder owns the coordinator).
    public func setListener(_ l: any WorkerRebalanceListener) { listener.withLock { $0.value = l } }

    /// The sub-protocol the group chose in the last rebalance.
    public var currentProtocol: ConnectProtocolVersion? { state.withLock { $0.currentProtocol } }
    /// What this worker runs by its last assignment.
    public var assignment: ExtendedAssignment? { state.withLock { $0.assignmentSnapshot } }
    /// On the leader: who runs what.
    public var leaderState: LeaderState? { state.withLock { $0.leaderState } }
    /// The last assignment this member made as leader, also while a rebalance is under way (`leaderState` is nil
    /// then, as Connect's).
    public var lastLeaderState: LeaderState? { state.withLock { $0.lastLeaderState } }

    /// Gives up the whole assignment (the member lost its coordinator or left the group): returns what must stop.
    public func revokeAssignment() -> ConnectorsAndTasks? {
        state.withLock { s in
            defer { s.assignmentSnapshot = nil }
            return s.assignmentSnapshot?.assigned
        }
    }

    public func joinProtocols() -> [JoinGroupRequest.GroupProtocolEntry] {
        let offset = configState().offset
        let snapshot = state.withLock { $0.assignmentSnapshot }
        return maxProtocol.offered.map { version in
            let metadata = WorkerMetadata(
                version: version, url: url, configOffset: offset,
                allocation: version.isCooperative
                    ? snapshot.map {
                        var a = $0; a.version = version; return a
                    } : nil)
            return JoinGroupRequest.GroupProtocolEntry(
                name: version.protocolName, metadata: ConnectProtocol.encode(metadata))
        }
    }

    public func onJoinPrepare(generation: Int32, memberId: String) {
        let (revoke, leader) = state.withLock { s -> (ConnectorsAndTasks?, String) in
            s.leaderState = nil
            guard let snapshot = s.assignmentSnapshot else { return (nil, "") }
            // Eager: everything stops before every join. Cooperative: work keeps running across a rebalance,
            // unless this member lost its membership (its generation is gone), when another may already run it.
            let eager = !(s.currentProtocol ?? maxProtocol).isCooperative
            guard eager || generation < 0 else { return (nil, "") }
            s.assignmentSnapshot = nil
            return (snapshot.assigned, snapshot.leader)
        }
        if let revoke, !revoke.isEmpty {
            logger.info("Revoking the previous assignment before rejoining (\(revoke.count) connectors and tasks)")
            listener.withLock { $0.value }?.onRevoked(leader: leader, revoke)
        }
    }

    public func performAssignment(
        leaderId: String, protocolName: String, generation: Int32, members: [JoinGroupRequest.Member]
    ) throws -> [String: [UInt8]] {
        guard let version = ConnectProtocolVersion(protocolName: protocolName) else {
            throw KafkaProtocolError.config("Unknown Connect protocol \(protocolName)")
        }
        var metadata: [String: WorkerMetadata] = [:]
        for m in members { metadata[m.memberId] = try ConnectProtocol.decodeMetadata(m.metadata) }
        let leaderUrl = metadata[leaderId]?.url ?? url
        let maxOffset = metadata.values.map(\.configOffset).max() ?? -1
        // Connect's `ensureLeaderConfig`: the leader assigns from a configuration at least as recent as any member's.
        let snapshot = configState()
        guard snapshot.offset >= maxOffset else {
            logger.info(
                "Was selected to perform assignments, but do not have latest config found in sync request. Returning an empty configuration to trigger re-sync (leader at \(snapshot.offset), a member at \(maxOffset))."
            )
            let mismatch = ExtendedAssignment(
                version: version, error: ExtendedAssignment.configMismatch, leader: leaderId, leaderUrl: leaderUrl,
                configOffset: maxOffset)
            return metadata.mapValues { _ in ConnectProtocol.encode(mismatch) }
        }
        var configured: [String: Int] = [:]
        for c in snapshot.connectors {
            configured[c] = snapshot.inconsistent.contains(c) ? 0 : snapshot.taskCount(c)
        }
        let (assignments, recent, revokedLastRound, lastURLs) = state.withLock {
            s -> ([String: ExtendedAssignment], LeaderState?, Bool, Owners) in
            let round = AssignmentRound(
                leaderId: leaderId, leaderUrl: leaderUrl, configOffset: snapshot.offset, version: version,
                members: metadata, configured: configured, generation: generation,
                lastCompletedGeneration: s.lastCompletedGeneration, now: now())
            let out = version.isCooperative ? s.assignor.assign(round) : EagerAssignor.assign(round)
            var leaderState = LeaderState()
            let now = round.now
            leaderState.memberSince = Dictionary(
                uniqueKeysWithValues: metadata.keys.map { ($0, s.leaderState?.memberSince[$0] ?? now) })
            leaderState.leaderId = leaderId
            leaderState.generation = generation
            leaderState.protocolName = protocolName
            leaderState.configOffset = snapshot.offset
            leaderState.scheduledRebalance =
                version.isCooperative && s.assignor.scheduledRebalance > 0 ? s.assignor.scheduledRebalance : nil
            for (id, m) in metadata {
                leaderState.urls[id] = m.url
                let had = version.isCooperative ? (m.allocation?.assigned ?? .empty) : .empty
                let a = out[id]
                let revoked = a?.revoked ?? .empty
                for c in had.connectors where !revoked.connectors.contains(c) { leaderState.connectorOwners[c] = id }
                for t in had.tasks where !revoked.tasks.contains(t) { leaderState.taskOwners[t] = id }
                for c in a?.assigned.connectors ?? [] { leaderState.connectorOwners[c] = id }
                for t in a?.assigned.tasks ?? [] { leaderState.taskOwners[t] = id }
            }
            // The previous assignment counts only when it was the group's last (this member led it).
            let recent = s.lastLeaderState.flatMap { $0.generation == s.lastCompletedGeneration ? $0 : nil }
            let revokedLastRound = s.lastRoundRevoked
            s.lastRoundRevoked = out.values.contains { !$0.revoked.isEmpty }
            let lastURLs = Owners(connectors: s.lastConnectorURLs, tasks: s.lastTaskURLs)
            if recent == nil {
                s.lastConnectorURLs = [:]
                s.lastTaskURLs = [:]
            }
            let configuredNow = Set(snapshot.connectors)
            s.lastConnectorURLs = s.lastConnectorURLs.filter { configuredNow.contains($0.key) }
            s.lastTaskURLs = s.lastTaskURLs.filter { (configured[$0.key.connector] ?? 0) > $0.key.task }
            for (c, owner) in leaderState.connectorOwners { s.lastConnectorURLs[c] = leaderState.urls[owner] }
            for (t, owner) in leaderState.taskOwners { s.lastTaskURLs[t] = leaderState.urls[owner] }
            s.leaderState = leaderState
            s.lastLeaderState = leaderState
            return (out, recent, revokedLastRound, lastURLs)
        }
        let summary = assignments.sorted { $0.key < $1.key }.map {
            "\($0.key) +\($0.value.assigned.count) -\($0.value.revoked.count)"
        }.joined(separator: ", ")
        logger.info(
            "Assigned generation \(generation) at config offset \(snapshot.offset) with protocol \(protocolName): \(summary)"
        )
        if let leaderState = state.withLock({ $0.leaderState }) {
            let round = leaderRound(
                leaderState, recent: recent, lastURLs: lastURLs, revokedLastRound: revokedLastRound,
                configured: ConnectorsAndTasks(
                    connectors: snapshot.connectors,
                    tasks: configured.flatMap { c, n in (0..<n).map { ConnectorTaskId(c, $0) } }.sorted()))
            let joined = round.joined.isEmpty ? "" : "; joined \(round.joined)"
            let gone =
                round.departed.isEmpty
                ? "" : "; gone \(round.departed.map { "\($0.url) (\($0.timedOut ? "timed out" : "left"))" })"
            logger.info("Rebalance of generation \(generation): \(round.cause.rawValue)\(joined)\(gone)")
            onLeaderRound(round)
        }
        return assignments.mapValues(ConnectProtocol.encode)
    }

    /// Who last ran each connector and task (advertised URLs).
    struct Owners {
        var connectors: [String: String]
        var tasks: [ConnectorTaskId: String]
    }

    /// Why the group rebalanced, from this leader's previous assignment (`recent`: nil when another leader made
    /// the group's last one): departures first (a worker that left its work RUNNING timed out), then joins, a
    /// config change, a due scheduled rebalance, a second cooperative round.
    private func leaderRound(
        _ current: LeaderState, recent: LeaderState?, lastURLs: Owners, revokedLastRound: Bool,
        configured: ConnectorsAndTasks
    ) -> LeaderRound {
        var round = LeaderRound(cause: .other, joined: [], departed: [], state: current, configured: configured)
        let running = workersRunningTasks()
        guard let recent else {
            // A new leader did not see the group before; workers with RUNNING tasks that are not members now
            // vanished (the old leader among them, when it crashed).
            let members = Set(current.urls.values.map(ClusterView.workerId(fromURL:)))
            round.departed = running.subtracting(members).sorted().map { ("http://\($0)/", true) }
            round.cause = round.departed.isEmpty ? .leaderChange : .timeout
            return round
        }
        round.joined = current.urls.filter { recent.urls[$0.key] == nil }.map(\.value).sorted()
        round.departed = recent.urls.filter { current.urls[$0.key] == nil }.map(\.value).sorted().map {
            ($0, running.contains(ClusterView.workerId(fromURL: $0)))
        }
        for (c, owner) in current.connectorOwners.sorted(by: { $0.key < $1.key }) {
            if let from = lastURLs.connectors[c], let to = current.urls[owner], from != to {
                round.moves.append(WorkMove(connector: c, task: nil, from: from, to: to))
            }
        }
        for (t, owner) in current.taskOwners.sorted(by: { $0.key < $1.key }) {
            if let from = lastURLs.tasks[t], let to = current.urls[owner], from != to {
                round.moves.append(WorkMove(connector: t.connector, task: t.task, from: from, to: to))
            }
        }
        if round.departed.contains(where: \.timedOut) {
            round.cause = .timeout
        } else if !round.departed.isEmpty {
            round.cause = .leave
        } else if !round.joined.isEmpty {
            round.cause = .join
        } else if current.configOffset != recent.configOffset {
            round.cause = .configChange
        } else if let due = recent.scheduledRebalance, now() >= due {
            round.cause = .scheduled
        } else if revokedLastRound {
            round.cause = .revocation
        }
        return round
    }

    public func onJoinComplete(generation: Int32, memberId: String, protocolName: String, assignment: [UInt8]) {
        let decoded: ExtendedAssignment
        do {
            decoded = try ConnectProtocol.decodeAssignment(assignment)
        } catch {
            logger.error("Could not read the assignment of generation \(generation): \(error); rejoining")
            decoded = ExtendedAssignment(
                version: .eager, error: ExtendedAssignment.configMismatch, leader: "", leaderUrl: "", configOffset: -1)
        }
        let version = ConnectProtocolVersion(protocolName: protocolName) ?? .eager
        state.withLock { s in
            s.currentProtocol = version
            if decoded.error == ExtendedAssignment.noError {
                // Cooperative: the new assignment adds to what still runs; eager: it is the whole set.
                var full = decoded
                if version.isCooperative, let previous = s.assignmentSnapshot {
                    let revoked = WorkSet(decoded.revoked)
                    let kept = WorkSet(previous.assigned).subtracting(revoked)
                    full.assigned = kept.union(WorkSet(decoded.assigned)).sorted
                }
                full.revoked = .empty
                s.assignmentSnapshot = full
                s.lastCompletedGeneration = generation
            }
        }
        listener.withLock { $0.value }?.onAssigned(decoded, generation: generation)
    }
}
