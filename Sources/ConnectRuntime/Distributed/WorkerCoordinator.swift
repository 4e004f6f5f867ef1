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
    }

    private let state: Mutex<State>

    /// `url`: this worker's advertised REST URL (ending with `/`); `configState`: the config store's snapshot now.
    public init(
        url: String, maxProtocol: ConnectProtocolVersion, scheduledRebalanceMaxDelayMs: Int32,
        configState: @escaping @Sendable () -> ClusterConfigState, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.url = url
        self.maxProtocol = maxProtocol
        self.configState = configState
        self.logger = logger
        self.now = now
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
        let assignments = state.withLock { s -> [String: ExtendedAssignment] in
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
            s.leaderState = leaderState
            s.lastLeaderState = leaderState
            return out
        }
        let summary = assignments.sorted { $0.key < $1.key }.map {
            "\($0.key) +\($0.value.assigned.count) -\($0.value.revoked.count)"
        }.joined(separator: ", ")
        logger.info(
            "Assigned generation \(generation) at config offset \(snapshot.offset) with protocol \(protocolName): \(summary)"
        )
        return assignments.mapValues(ConnectProtocol.encode)
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
