import ConnectAPI

/// What the leader knows when it assigns: the members with their metadata, and the configuration to spread.
public struct AssignmentRound: Sendable {
    public var leaderId: String
    public var leaderUrl: String
    /// The config offset the assignment is computed at.
    public var configOffset: Int64
    /// The protocol the coordinator chose.
    public var version: ConnectProtocolVersion
    /// Member id → metadata.
    public var members: [String: WorkerMetadata]
    /// Connector name → task count (an inconsistent connector counts no tasks).
    public var configured: [String: Int]
    /// The generation this round completes, and the one the leader itself last completed (-1: none).
    public var generation: Int32
    public var lastCompletedGeneration: Int32
    /// Epoch milliseconds.
    public var now: Int64

    public init(
        leaderId: String, leaderUrl: String, configOffset: Int64, version: ConnectProtocolVersion,
        members: [String: WorkerMetadata], configured: [String: Int], generation: Int32,
        lastCompletedGeneration: Int32, now: Int64
    ) {
        self.leaderId = leaderId
        self.leaderUrl = leaderUrl
        self.configOffset = configOffset
        self.version = version
        self.members = members
        self.configured = configured
        self.generation = generation
        self.lastCompletedGeneration = lastCompletedGeneration
        self.now = now
    }

    /// Every configured connector and task, connectors by name, tasks by connector and number.
    var configuredWork: WorkSet {
        var w = WorkSet()
        for (name, count) in configured.sorted(by: { $0.key < $1.key }) {
            w.connectors.insert(name)
            for t in 0..<count { w.tasks.insert(ConnectorTaskId(name, t)) }
        }
        return w
    }
}

/// Connectors and tasks as sets, for the assignors' arithmetic.
struct WorkSet: Sendable, Equatable {
    var connectors: Set<String> = []
    var tasks: Set<ConnectorTaskId> = []

    init() {}
    init(_ c: ConnectorsAndTasks) {
        connectors = Set(c.connectors)
        tasks = Set(c.tasks)
    }

    var isEmpty: Bool { connectors.isEmpty && tasks.isEmpty }

    func union(_ o: WorkSet) -> WorkSet {
        var w = self
        w.connectors.formUnion(o.connectors)
        w.tasks.formUnion(o.tasks)
        return w
    }

    func subtracting(_ o: WorkSet) -> WorkSet {
        var w = self
        w.connectors.subtract(o.connectors)
        w.tasks.subtract(o.tasks)
        return w
    }

    func intersection(_ o: WorkSet) -> WorkSet {
        var w = self
        w.connectors.formIntersection(o.connectors)
        w.tasks.formIntersection(o.tasks)
        return w
    }

    /// In a stable order: connectors by name, tasks by connector and number.
    var sorted: ConnectorsAndTasks { ConnectorsAndTasks(connectors: connectors.sorted(), tasks: tasks.sorted()) }
}

/// The leader's assignor for the cooperative protocols (KIP-415, Connect's `IncrementalCooperativeAssignor`), a value
/// type holding the leader's memory between rounds. Each round it revokes what was deleted or runs twice, holds back
/// the work of a worker that left for `scheduled.rebalance.max.delay.ms` (so a worker that returns gets it back),
/// then hands new and lost work to the least loaded workers, and, once nothing is held back, revokes from
/// over-loaded workers so that every worker ends with ⌊N/W⌋ or ⌊N/W⌋+1 connectors and tasks. Revoked work is
/// reassigned in the round that follows (the members rejoin at once after stopping it).
public struct IncrementalCooperativeAssignor: Sendable {
    public let maxDelay: Int32

    /// What the leader handed out last round (member id → its complete assignment).
    var previousAssignment: [String: WorkSet] = [:]
    /// Work of departed workers held back for the scheduled rebalance delay.
    var heldBack = WorkSet()
    var previousGenerationId: Int32 = -1
    var previousMembers: Set<String> = []
    var previousRevocation = WorkSet()
    var scheduledRebalance: Int64 = 0
    var delay: Int32 = 0
    var candidateWorkersForReassignment: Set<String> = []
    var numSuccessiveRevokingRebalances = 0

    public init(maxDelay: Int32) { self.maxDelay = maxDelay }

    /// One assignment per member: what is new for it, what it must stop, and the common delay.
    public mutating func assign(_ round: AssignmentRound) -> [String: ExtendedAssignment] {
        let memberIds = round.members.keys.sorted()
        let current: [String: WorkSet] = round.members.mapValues { WorkSet($0.allocation?.assigned ?? .empty) }
        let configured = round.configuredWork
        let active = current.values.reduce(WorkSet()) { $0.union($1) }

        // The leader's memory is only good for the generation it assigned last.
        if previousGenerationId != round.lastCompletedGeneration {
            previousAssignment = [:]
            heldBack = WorkSet()
            previousRevocation = WorkSet()
        }
        var previous = previousAssignment.values.reduce(heldBack) { $0.union($1) }
        // A revocation the members have not carried out yet: start from what really runs.
        if !previousRevocation.intersection(active).isEmpty { previous = active }
        let revokedLastRound = !previousRevocation.isEmpty
        previousRevocation = WorkSet()

        let deleted = previous.union(active).subtracting(configured)
        var duplicated = WorkSet()
        var seen = WorkSet()
        for id in memberIds {
            guard let w = current[id] else { continue }
            duplicated = duplicated.union(seen.intersection(w))
            seen = seen.union(w)
        }
        var toRevoke: [String: WorkSet] = [:]
        var next: [String: WorkSet] = [:]
        for id in memberIds {
            let w = current[id] ?? WorkSet()
            let revoke = w.intersection(deleted.union(duplicated))
            if !revoke.isEmpty { toRevoke[id] = revoke }
            next[id] = w.subtracting(revoke)
        }
        // Duplicated work is revoked from everyone that runs it, and assigned anew in the next round, once stopped.
        let lost = previous.subtracting(active).subtracting(deleted)
        var created = configured.subtracting(previous).subtracting(active)
        heldBack = WorkSet()

        // Lost work: reassigned, or held back for the scheduled rebalance delay.
        let memberSet = Set(memberIds)
        if lost.isEmpty && !revokedLastRound {
            clearDelay()
        } else if !lost.isEmpty {
            if scheduledRebalance == 0 && previousMembers.isSubset(of: memberSet) {
                // Every worker is still here: something was missed, not lost.
                created = created.union(lost)
            } else if maxDelay == 0 {
                created = created.union(lost)
            } else if scheduledRebalance > 0 && round.now >= scheduledRebalance {
                let candidates = candidateWorkersForReassignment.intersection(memberSet).filter {
                    (next[$0] ?? WorkSet()).isEmpty
                }.sorted()
                if candidates.isEmpty {
                    created = created.union(lost)
                } else {
                    var i = 0
                    for c in lost.connectors.sorted() {
                        next[candidates[i % candidates.count], default: WorkSet()].connectors.insert(c)
                        i += 1
                    }
                    for t in lost.tasks.sorted() {
                        next[candidates[i % candidates.count], default: WorkSet()].tasks.insert(t)
                        i += 1
                    }
                }
                clearDelay()
            } else {
                if scheduledRebalance == 0 {
                    scheduledRebalance = round.now + Int64(maxDelay)
                    delay = maxDelay
                } else {
                    delay = Int32(clamping: max(0, min(Int64(maxDelay), scheduledRebalance - round.now)))
                }
                candidateWorkersForReassignment.formUnion(memberIds.filter { (next[$0] ?? WorkSet()).isEmpty })
                heldBack = lost
            }
        }

        // Balance by revoking from over-loaded workers, only when nothing is held back.
        var balancing = false
        if scheduledRebalance == 0 && created.isEmpty {
            var revocations = Self.balancingRevocations(next, \.connectors)
            for (id, tasks) in Self.balancingRevocations(next, \.tasks) {
                revocations[id, default: WorkSet()].tasks = tasks.tasks
            }
            if !revocations.isEmpty {
                if numSuccessiveRevokingRebalances > 0 && maxDelay > 0 {
                    // Revoked for balance last round too: wait a little before revoking again.
                    let backoff = min(Int64(maxDelay), Int64(pow40(numSuccessiveRevokingRebalances)))
                    scheduledRebalance = round.now + backoff
                    delay = Int32(clamping: backoff)
                    numSuccessiveRevokingRebalances = 0
                } else {
                    balancing = true
                    numSuccessiveRevokingRebalances += 1
                    for (id, r) in revocations {
                        toRevoke[id, default: WorkSet()] = toRevoke[id, default: WorkSet()].union(r)
                        next[id] = (next[id] ?? WorkSet()).subtracting(r)
                    }
                }
            }
        }
        if !balancing && toRevoke.isEmpty { numSuccessiveRevokingRebalances = 0 }

        // New work to the least loaded, connectors and tasks each on their own.
        Self.fillLeastLoaded(&next, memberIds, created.connectors.sorted(), \.connectors)
        Self.fillLeastLoaded(&next, memberIds, created.tasks.sorted(), \.tasks)

        previousAssignment = next
        previousGenerationId = round.generation
        previousMembers = memberSet
        previousRevocation = toRevoke.values.reduce(WorkSet()) { $0.union($1) }

        var out: [String: ExtendedAssignment] = [:]
        for id in memberIds {
            let newlyAssigned = (next[id] ?? WorkSet()).subtracting(current[id] ?? WorkSet())
            out[id] = ExtendedAssignment(
                version: round.version, leader: round.leaderId, leaderUrl: round.leaderUrl,
                configOffset: round.configOffset, assigned: newlyAssigned.sorted,
                revoked: (toRevoke[id] ?? WorkSet()).sorted, delay: delay)
        }
        return out
    }

    private mutating func clearDelay() {
        scheduledRebalance = 0
        delay = 0
        candidateWorkersForReassignment = []
    }

    /// 40^(n-1) ms: Connect's exponential backoff between successive balancing revocations (1 ms × 40ⁿ).
    private func pow40(_ n: Int) -> Double {
        var v = 1.0
        for _ in 0..<n { v *= 40 }
        return v
    }

    /// What over-loaded workers give up so that each ends with ⌊N/W⌋ or ⌊N/W⌋+1 items of one kind, exactly N mod W
    /// of them with the +1.
    static func balancingRevocations<T: Hashable & Comparable>(
        _ next: [String: WorkSet], _ kind: WritableKeyPath<WorkSet, Set<T>>
    ) -> [String: WorkSet] {
        let ids = next.keys.sorted()
        guard !ids.isEmpty else { return [:] }
        let total = ids.reduce(0) { $0 + (next[$1]?[keyPath: kind].count ?? 0) }
        let floor = total / ids.count
        var extra = total % ids.count
        var out: [String: WorkSet] = [:]
        // The most loaded keep the +1 slots first, so as little as possible moves.
        for id in ids.sorted(by: { (next[$0]?[keyPath: kind].count ?? 0) > (next[$1]?[keyPath: kind].count ?? 0) }) {
            let items = (next[id]?[keyPath: kind] ?? []).sorted()
            var allowed = floor
            if extra > 0 && items.count > floor {
                allowed += 1
                extra -= 1
            }
            guard items.count > allowed else { continue }
            var r = WorkSet()
            r[keyPath: kind] = Set(items.suffix(items.count - allowed))
            out[id] = r
        }
        return out
    }

    /// Gives each item to a worker with the fewest of that kind (ties by member id).
    static func fillLeastLoaded<T: Hashable>(
        _ next: inout [String: WorkSet], _ ids: [String], _ items: [T], _ kind: WritableKeyPath<WorkSet, Set<T>>
    ) {
        guard !ids.isEmpty else { return }
        for item in items {
            let target = ids.min {
                let (a, b) = (next[$0]?[keyPath: kind].count ?? 0, next[$1]?[keyPath: kind].count ?? 0)
                return a != b ? a < b : $0 < $1
            }!
            next[target, default: WorkSet()][keyPath: kind].insert(item)
        }
    }
}

/// The leader's assignor for the eager protocol (Connect's `EagerAssignor`): every member stops everything before
/// a rebalance and gets its whole set: connectors by name, round-robin over members by member id, then tasks by
/// connector and number, continuing the same round-robin.
public enum EagerAssignor {
    public static func assign(_ round: AssignmentRound) -> [String: ExtendedAssignment] {
        let ids = round.members.keys.sorted()
        guard !ids.isEmpty else { return [:] }
        var sets = Dictionary(uniqueKeysWithValues: ids.map { ($0, ConnectorsAndTasks()) })
        var i = 0
        let work = round.configuredWork.sorted
        for c in work.connectors {
            sets[ids[i % ids.count]]?.connectors.append(c)
            i += 1
        }
        for t in work.tasks {
            sets[ids[i % ids.count]]?.tasks.append(t)
            i += 1
        }
        return sets.mapValues {
            ExtendedAssignment(
                version: .eager, leader: round.leaderId, leaderUrl: round.leaderUrl, configOffset: round.configOffset,
                assigned: $0)
        }
    }
}
