import Foundation
import Logging
import Synchronization

/// Settings of a group membership (the group keys of Kafka's `GroupRebalanceConfig`).
public struct GroupMembershipConfig: Sendable {
    public var groupId: String
    public var bootstrapServers: [(host: String, port: Int)]
    public var clientId: String
    public var sessionTimeout: Duration
    public var rebalanceTimeout: Duration
    public var heartbeatInterval: Duration
    /// How long one ordinary request may take (`request.timeout.ms`).
    public var requestTimeout: Duration
    /// The wait after a failed attempt before the next (`retry.backoff.ms`).
    public var retryBackoff: Duration
    /// `security.protocol` and its SASL settings.
    public var security: KafkaSecurity

    public init(
        groupId: String, bootstrapServers: [(host: String, port: Int)], clientId: String,
        sessionTimeout: Duration = .seconds(10), rebalanceTimeout: Duration = .seconds(60),
        heartbeatInterval: Duration = .seconds(3), requestTimeout: Duration = .seconds(40),
        retryBackoff: Duration = .milliseconds(100), security: KafkaSecurity = .plaintext
    ) {
        self.security = security
        self.groupId = groupId
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
        self.sessionTimeout = sessionTimeout
        self.rebalanceTimeout = rebalanceTimeout
        self.heartbeatInterval = heartbeatInterval
        self.requestTimeout = requestTimeout
        self.retryBackoff = retryBackoff
    }

    /// `host:port,host:port` as `bootstrap.servers` writes it (an optional `PROTOCOL://` prefix is dropped).
    public static func parseServers(_ text: String) throws(KafkaProtocolError) -> [(host: String, port: Int)] {
        var out: [(String, Int)] = []
        for item in text.split(separator: ",") {
            var s = item.trimmingCharacters(in: .whitespaces)
            if let r = s.range(of: "://") { s = String(s[r.upperBound...]) }
            guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]) else {
                throw .config("Invalid url in bootstrap.servers: \(item)")
            }
            var host = String(s[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            out.append((host, port))
        }
        guard !out.isEmpty else { throw .config("bootstrap.servers is empty") }
        return out
    }
}

/// A member of a Kafka group speaking any protocol type (the role of Kafka's `AbstractCoordinator`): finds the
/// group's coordinator, joins (the two-step join of JoinGroup v4+), syncs (the leader computes the assignments
/// through its `GroupProtocol`), heartbeats from a thread of its own, rejoins when the coordinator asks, and leaves.
/// librdkafka cannot do this for a protocol type other than `consumer`, which Kafka Connect's `connect` groups
/// need.
///
/// Driven by one owner thread calling `poll`; the heartbeat thread only heartbeats and raises flags. Errors the
/// member recovers from itself (a moved coordinator, a rebalance under way, an expired membership) are retried
/// inside `poll`; what it cannot recover from (`INCONSISTENT_GROUP_PROTOCOL`, authorization, a bad session
/// timeout) is thrown.
public final class GroupMember: Sendable {
    /// What the member reports as it goes, for its owner's coordinator metrics (Kafka's `GroupCoordinatorMetrics`).
    public enum Event: Sendable {
        /// A JoinGroup was answered after this long.
        case joined(Duration)
        /// A SyncGroup was answered after this long.
        case synced(Duration)
        /// A heartbeat was answered after this long.
        case heartbeat(Duration)
        /// A rebalance succeeded after this long (from the first JoinGroup to the assignment).
        case rebalanced(Duration)
        /// A rebalance attempt failed.
        case rebalanceFailed
    }

    public enum Phase: Sendable, Equatable {
        /// Not in the group (never joined, left, or its membership expired).
        case unjoined
        /// A JoinGroup/SyncGroup round is under way.
        case rebalancing
        /// In the group with an assignment; heartbeating.
        case stable
    }

    struct State: Sendable {
        var coordinator: BrokerConnection?
        var memberId = ""
        var generation: Int32 = -1
        var protocolName: String?
        var leaderId: String?
        var phase = Phase.unjoined
        var rejoinNeeded = true
        var rejoinReason = "initial join"
        /// When a heartbeat last succeeded.
        var lastHeartbeat = ContinuousClock.now
        var closed = false
        /// The owner is shutting down: `poll` returns at once.
        var interrupted = false
        /// Since when no broker could name and connect the coordinator (nil: it was found, or not yet looked for).
        var coordinatorUnreachableSince: ContinuousClock.Instant?
    }

    public let config: GroupMembershipConfig
    private let state = Mutex(State())
    private let logger: Logger
    /// Called (from any thread) when the member needs its owner to call `poll` soon: a rebalance began.
    private let wakeOwner: @Sendable () -> Void
    private let observer: @Sendable (Event) -> Void
    private let heartbeatStop = DispatchSemaphore(value: 0)

    public init(
        config: GroupMembershipConfig, logger: Logger, wakeOwner: @escaping @Sendable () -> Void = {},
        observer: @escaping @Sendable (Event) -> Void = { _ in }
    ) {
        self.config = config
        self.logger = logger
        self.wakeOwner = wakeOwner
        self.observer = observer
        let thread = Thread { [self] in heartbeatLoop() }
        thread.name = "heartbeat-\(config.groupId)"
        thread.start()
    }

    public var phase: Phase { state.withLock { $0.phase } }
    public var generation: Int32 { state.withLock { $0.generation } }
    public var memberId: String { state.withLock { $0.memberId } }
    public var leaderId: String? { state.withLock { $0.leaderId } }
    public var isLeader: Bool { state.withLock { $0.leaderId != nil && $0.leaderId == $0.memberId } }
    public var rejoinNeeded: Bool { state.withLock { $0.rejoinNeeded || $0.phase != .stable } }
    /// How long since a heartbeat last succeeded.
    public var sinceLastHeartbeat: Duration { ContinuousClock.now - state.withLock { $0.lastHeartbeat } }
    /// How long the coordinator could not be found or connected (nil when the last attempt reached it): what
    /// Connect's `WorkerCoordinator.poll` revokes the assignment for, unlike a JoinGroup that only took long.
    public var coordinatorUnreachableFor: Duration? {
        state.withLock { $0.coordinatorUnreachableSince }.map { ContinuousClock.now - $0 }
    }

    /// Asks for a rebalance at the next `poll` (Kafka's `requestRejoin`).
    public func requestRejoin(_ reason: String) {
        state.withLock { s in
            s.rejoinNeeded = true
            s.rejoinReason = reason
        }
        wakeOwner()
    }

    /// Joins or rejoins if needed, calling the protocol's callbacks on this thread; returns once the member is
    /// stable, or throws what it cannot recover from. Waits at most `timeout` for the coordinator and the join
    /// (a join in progress is completed even if it takes longer, as a JoinGroup cannot be abandoned half-way).
    public func poll(_ proto: some GroupProtocol, timeout: Duration) throws(KafkaProtocolError) -> Bool {
        guard rejoinNeeded else { return false }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !state.withLock({ $0.closed || $0.interrupted }) {
            let started = ContinuousClock.now
            do {
                try joinAndSync(proto, deadline: deadline)
                observer(.rebalanced(ContinuousClock.now - started))
                return true
            } catch {
                observer(.rebalanceFailed)
                switch error {
                case .broker(let code, _) where Self.fatal.contains(code):
                    throw error
                case .config:
                    throw error
                default:
                    if state.withLock({ $0.interrupted }) { throw error }
                    logger.info("Group \(config.groupId): \(error); retrying")
                    guard ContinuousClock.now < deadline else { throw error }
                    Thread.sleep(forTimeInterval: Double(config.retryBackoff.inWholeMilliseconds) / 1000)
                }
            }
        }
        throw .network("The group member of \(config.groupId) is closed")
    }

    static let fatal: Set<KafkaErrorCode> = [
        .inconsistentGroupProtocol, .invalidSessionTimeout, .invalidGroupId, .groupAuthorizationFailed,
        .groupMaxSizeReached,
    ]

    /// The coordinator, found and connected within `deadline`.
    private func coordinator(until deadline: ContinuousClock.Instant) throws(KafkaProtocolError) -> BrokerConnection {
        if let c = state.withLock({ $0.coordinator }), c.isOpen { return c }
        var lastError = KafkaProtocolError.network("no broker answered")
        for (host, port) in config.bootstrapServers {
            do throws(KafkaProtocolError) {
                let bootstrap = try BrokerConnection(
                    host: host, port: port, clientId: config.clientId, timeout: remaining(deadline),
                    security: config.security)
                defer { bootstrap.close() }
                let found = try bootstrap.send(
                    FindCoordinatorRequest(groupId: config.groupId), timeout: remaining(deadline))
                guard found.errorCode == .none else {
                    throw KafkaProtocolError.broker(found.errorCode, message: found.errorMessage)
                }
                let c = try BrokerConnection(
                    host: found.host, port: Int(found.port), clientId: config.clientId, timeout: remaining(deadline),
                    security: config.security)
                state.withLock { s in
                    s.coordinator = c
                    s.coordinatorUnreachableSince = nil
                }
                logger.info("Discovered group coordinator \(found.host):\(found.port) (id: \(found.nodeId))")
                return c
            } catch {
                lastError = error
            }
        }
        state.withLock { s in
            if s.coordinatorUnreachableSince == nil { s.coordinatorUnreachableSince = ContinuousClock.now }
        }
        throw lastError
    }

    private func remaining(_ deadline: ContinuousClock.Instant) -> Duration {
        max(.milliseconds(100), min(config.requestTimeout, deadline - ContinuousClock.now))
    }

    /// Forgets the coordinator (it moved or the connection broke); the next call finds it again.
    private func coordinatorLost(_ why: String) {
        state.withLock { s in
            s.coordinator?.close()
            s.coordinator = nil
        }
        logger.info("Group coordinator of \(config.groupId) is unavailable or invalid: \(why); will rediscover")
    }

    private func handle(_ code: KafkaErrorCode, in request: String) throws(KafkaProtocolError) {
        switch code {
        case .none: return
        case .notCoordinator, .coordinatorNotAvailable:
            coordinatorLost("\(code) from \(request)")
        case .unknownMemberId:
            state.withLock { s in
                s.memberId = ""
                s.generation = -1
            }
        case .illegalGeneration:
            state.withLock { $0.generation = -1 }
        default: break
        }
        throw .broker(code, message: "\(request) failed")
    }

    private func joinAndSync(_ proto: some GroupProtocol, deadline: ContinuousClock.Instant) throws(KafkaProtocolError)
    {
        let coordinator = try coordinator(until: deadline)
        let (generation, memberId, reason) = state.withLock { s in (s.generation, s.memberId, s.rejoinReason) }
        // Heartbeats go on while the owner prepares (an eager worker stops all its work here), so a slow stop does
        // not cost the membership.
        proto.onJoinPrepare(generation: generation, memberId: memberId)
        state.withLock { $0.phase = .rebalancing }
        logger.info("(Re-)joining group \(config.groupId): \(reason)")
        var join = JoinGroupRequest(
            groupId: config.groupId, sessionTimeoutMs: Int32(config.sessionTimeout.inWholeMilliseconds),
            rebalanceTimeoutMs: Int32(config.rebalanceTimeout.inWholeMilliseconds), memberId: memberId,
            protocolType: proto.protocolType, protocols: proto.joinProtocols())
        // A JoinGroup waits for every member to join: up to the rebalance timeout, and a margin for the network.
        let joinTimeout = max(config.requestTimeout, config.rebalanceTimeout + .seconds(5))
        var joinStarted = ContinuousClock.now
        var joined = try coordinator.send(join, timeout: joinTimeout)
        if joined.errorCode == KafkaErrorCode.memberIdRequired {
            // The two-step join (KIP-394): retry at once with the member id the coordinator gave.
            join.memberId = joined.memberId
            state.withLock { $0.memberId = joined.memberId }
            joinStarted = ContinuousClock.now
            joined = try coordinator.send(join, timeout: joinTimeout)
        }
        observer(.joined(ContinuousClock.now - joinStarted))
        try handle(joined.errorCode, in: JoinGroupRequest.name)
        state.withLock { s in
            s.memberId = joined.memberId
            s.generation = joined.generationId
            s.protocolName = joined.protocolName
            s.leaderId = joined.leader
        }
        logger.info(
            "Joined group \(config.groupId) at generation \(joined.generationId) as \(joined.memberId) with protocol \(joined.protocolName); leader \(joined.leader)"
        )
        var assignments: [(memberId: String, assignment: [UInt8])] = []
        if joined.leader == joined.memberId {
            let byMember: [String: [UInt8]]
            do {
                byMember = try proto.performAssignment(
                    leaderId: joined.leader, protocolName: joined.protocolName, generation: joined.generationId,
                    members: joined.members)
            } catch {
                throw .config("The group leader could not compute an assignment: \(error)")
            }
            assignments = byMember.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        let syncStarted = ContinuousClock.now
        let synced = try coordinator.send(
            SyncGroupRequest(
                groupId: config.groupId, generationId: joined.generationId, memberId: joined.memberId,
                assignments: assignments), timeout: remaining(deadline))
        observer(.synced(ContinuousClock.now - syncStarted))
        try handle(synced.errorCode, in: SyncGroupRequest.name)
        state.withLock { s in
            s.phase = .stable
            s.rejoinNeeded = false
            s.lastHeartbeat = ContinuousClock.now
        }
        proto.onJoinComplete(
            generation: joined.generationId, memberId: joined.memberId, protocolName: joined.protocolName,
            assignment: synced.assignment)
    }

    /// Makes `poll` return as soon as the round under way (JoinGroup, then SyncGroup) is answered, without retrying
    /// or starting another: the owner is shutting down. The round is not cut off, so the member leaves the group from
    /// a settled state (`close`); brokers differ in how they treat a member that leaves with its JoinGroup pending
    /// (Tansu keeps it as the group's leader, and the others wait on it).
    public func interrupt() {
        state.withLock { $0.interrupted = true }
    }

    /// Leaves the group (LeaveGroup), so the others rebalance at once; the member may join again with `poll`. The
    /// request goes to the coordinator over the member's connection, or a new one when that one was cut off.
    ///
    /// When the group is rebalancing (a Heartbeat first answers REBALANCE_IN_PROGRESS), no LeaveGroup is sent and
    /// the coordinator ends the member at its session timeout: a member that leaves while its group rebalances stays
    /// in Tansu's group as a leader that never syncs, and no later generation completes (found by
    /// `scripts/test-chaos`: a worker stopped just after another's JoinGroup left the cluster with no assignment for
    /// minutes). Apache Kafka processes such a leave; there skipping it delays the next rebalance by up to the
    /// session timeout, in the rare case of a stop during a rebalance: a bounded wait against an unbounded wedge.
    /// The Heartbeat waits at most the heartbeat interval; without an answer the member leaves as usual.
    public func leave(_ reason: String) {
        let (known, memberId, generation) = state.withLock { s -> (Bool, String, Int32) in
            defer {
                s.phase = .unjoined
                s.generation = -1
                s.memberId = ""
                s.leaderId = nil
                s.rejoinNeeded = true
                s.rejoinReason = "rejoining after leaving: \(reason)"
            }
            return (s.phase != .unjoined && !s.memberId.isEmpty, s.memberId, s.generation)
        }
        guard known,
            let coordinator = try? coordinator(until: ContinuousClock.now.advanced(by: config.requestTimeout))
        else { return }
        if let beat = try? coordinator.send(
            HeartbeatRequest(groupId: config.groupId, generationId: generation, memberId: memberId),
            timeout: config.heartbeatInterval), beat.errorCode == .rebalanceInProgress
        {
            logger.info(
                "Member \(memberId) leaving group \(config.groupId) while it rebalances: its session ends it (\(reason))"
            )
            return
        }
        logger.info("Member \(memberId) leaving group \(config.groupId): \(reason)")
        _ = try? coordinator.send(
            LeaveGroupRequest(groupId: config.groupId, memberId: memberId), timeout: config.requestTimeout)
    }

    /// Leaves the group and stops the heartbeat thread.
    public func close() {
        leave("the member is closing")
        state.withLock { s in
            s.closed = true
            s.coordinator?.close()
            s.coordinator = nil
        }
        heartbeatStop.signal()
    }

    private func heartbeatLoop() {
        while heartbeatStop.wait(timeout: .now() + .milliseconds(Int(config.heartbeatInterval.inWholeMilliseconds)))
            == .timedOut
        {
            let (coordinator, generation, memberId, phase) = state.withLock {
                ($0.coordinator, $0.generation, $0.memberId, $0.phase)
            }
            if phase == .stable, sinceLastHeartbeat > config.sessionTimeout {
                // The coordinator has surely given this member up: its generation is over.
                state.withLock { s in
                    s.phase = .unjoined
                    s.generation = -1
                }
                requestRejoin("no heartbeat succeeded for longer than the session timeout")
                continue
            }
            guard phase == .stable, let coordinator else { continue }
            do {
                let sent = ContinuousClock.now
                let r = try coordinator.send(
                    HeartbeatRequest(groupId: config.groupId, generationId: generation, memberId: memberId),
                    timeout: config.requestTimeout)
                observer(.heartbeat(ContinuousClock.now - sent))
                switch r.errorCode {
                case .none:
                    state.withLock { $0.lastHeartbeat = ContinuousClock.now }
                case .rebalanceInProgress:
                    requestRejoin("the group is rebalancing")
                case .illegalGeneration, .unknownMemberId:
                    // Only for the membership the heartbeat was sent for: a rebalance may have completed since.
                    let current = state.withLock { s -> Bool in
                        guard s.generation == generation, s.memberId == memberId else { return false }
                        if r.errorCode == .unknownMemberId { s.memberId = "" }
                        s.generation = -1
                        s.phase = .unjoined
                        return true
                    }
                    if current {
                        requestRejoin("heartbeat answered \(r.errorCode): this member's generation is over")
                    }
                case .notCoordinator, .coordinatorNotAvailable:
                    coordinatorLost("\(r.errorCode) from Heartbeat")
                    requestRejoin("the group coordinator moved")
                default:
                    logger.warning("Heartbeat of \(memberId) in group \(config.groupId) failed: \(r.errorCode)")
                }
            } catch {
                coordinatorLost("heartbeat failed: \(error)")
                requestRejoin("the group coordinator is unreachable")
            }
        }
    }
}
