import ConnectAPI
import Foundation
import KafkaProtocol
import Logging
import Synchronization

// The REST requests a distributed herder serves: queued to its tick thread, run on the leader where Connect runs
// them there (NotLeaderException otherwise, which REST forwards), waited for at most `requestTimeout`.
extension DistributedHerder {
    /// Queues `body` for the herder's thread and waits for it, at most `requestTimeout`.
    func submit<T: Sendable>(
        _ what: String, connector: String, _ body: @escaping @Sendable () throws(ConnectError) -> T
    ) throws(ConnectError) -> T {
        let done = FutureCallback<T>()
        let queued = state.withLock { s -> Bool in
            guard !s.stopping else { return false }
            livenessProbes.requestQueued()
            s.requests.append {
                do throws(ConnectError) {
                    guard !self.isStopping else { throw ConnectError.connect("The worker is shutting down") }
                    done.complete(.success(try body()))
                } catch {
                    done.fail(error)
                }
            }
            return true
        }
        guard queued else { throw ConnectError.connect("The worker is shutting down") }
        wake.signal()
        let deadline = ContinuousClock.now.advanced(by: requestTimeout)
        guard let outcome = done.wait(until: deadline) else {
            let stage = stages.summary(connector: connector)
            let rebalancing = state.withLock { !$0.rebalanceResolved }
            throw ConnectError.connect(
                ["Request timed out", stage, rebalancing ? "The worker is rebalancing" : nil].compactMap { $0 }
                    .joined(separator: ". "))
        }
        return try outcome.get()
    }

    func enqueue(_ body: @escaping Request) {
        state.withLock {
            livenessProbes.requestQueued()
            $0.requests.append(body)
        }
        wake.signal()
    }

    /// Throws Connect's `NotLeaderException` (REST forwards the request to `requestTarget`) unless this worker leads.
    func requireLeader(_ message: String) throws(ConnectError) {
        let (leader, url) = state.withLock { ($0.isLeader, $0.leaderUrl) }
        guard !leader else { return }
        var e = ConnectError(.notLeader, message)
        e.requestTarget = url
        throw e
    }

    public func putConnectorConfig(
        _ name: String, config: [String: String], allowReplace: Bool, initialState: TargetState?
    ) throws(ConnectError) -> (created: Bool, info: ConnectorInfo) {
        try requireValid(config)
        try validateGroupId(config)
        let result = try applyConfig(
            name, config, allowReplace: allowReplace, initialState: initialState, ifStillConfiguredAs: nil)
        guard let result else { throw ConnectError.connect("Connector \(name) changed while it was reconfigured") }
        return result
    }

    /// On the herder's thread, on the leader: writes a validated configuration; with `base`, only if the stored
    /// configuration is still `base` (nil otherwise: it changed meanwhile).
    func applyConfig(
        _ name: String, _ config: [String: String], allowReplace: Bool, initialState: TargetState?,
        ifStillConfiguredAs base: [String: String]?
    ) throws(ConnectError) -> (created: Bool, info: ConnectorInfo)? {
        try submit("put connector config", connector: name) {
            [self] () throws(ConnectError) -> (created: Bool, info: ConnectorInfo)? in
            try requireLeader("Only the leader can set connector configs.")
            let snapshot = kafkaConfigStore.snapshot()
            let exists = snapshot.contains(name)
            if let base {
                guard exists else { throw ConnectError(.notFound, "Connector \(name) not found") }
                guard snapshot.connectorConfig(name) == base else { return nil }
            }
            if exists && !allowReplace { throw ConnectError(.alreadyExists, "Connector \(name) already exists") }
            try kafkaConfigStore.putConnectorConfig(name, config, targetState: exists ? nil : initialState ?? .started)
            logger.info("[\(name)|worker] \(exists ? "Updated" : "Created") connector \(name)")
            return (
                !exists,
                ConnectorInfo(
                    name: name, config: config, tasks: exists ? snapshot.tasks(name) : [], type: type(of: config))
            )
        }
    }

    /// A sink connector's consumer group may not be the workers' own group (Connect's `validateSinkConnectorConfig`).
    func validateGroupId(_ connectorConfig: [String: String]) throws(ConnectError) {
        guard type(of: connectorConfig) == "sink" else { return }
        let group = connectorConfig["consumer.override.group.id"] ?? "connect-\(connectorConfig["name"] ?? "")"
        if group == config.groupId {
            throw ConnectError(
                .badRequest,
                "Consumer group \(group) of the sink connector conflicts with the Connect worker group \(config.groupId) (group.id); rename the connector or set consumer.override.group.id"
            )
        }
    }

    /// Merges the patch into the configuration as this worker read it, validates, and has the leader write it only
    /// if the stored configuration is still the one merged into (else merges again), so concurrent patches never
    /// lose one another. Not the leader: REST forwards the whole PATCH.
    public func patchConnectorConfig(_ name: String, patch: [String: String?]) throws(ConnectError) -> ConnectorInfo {
        if case .some(.some(let patched)) = patch["name"], patched != name {
            throw ConnectError(
                .badRequest,
                "Connector name configuration (\(patched)) doesn't match connector name in the URL (\(name))")
        }
        try requireLeader("Only the leader can set connector configs.")
        while true {
            let base = try connectorConfig(name)
            var merged = base
            for (k, v) in patch { merged[k] = v }
            try requireValid(merged)
            try validateGroupId(merged)
            if let result = try applyConfig(
                name, merged, allowReplace: true, initialState: nil, ifStillConfiguredAs: base)
            {
                return result.info
            }
        }
    }

    public func deleteConnector(_ name: String) throws(ConnectError) {
        try submit("delete connector", connector: name) { [self] () throws(ConnectError) in
            try requireLeader("Only the leader can delete connector configs.")
            guard kafkaConfigStore.contains(name) else { throw ConnectError(.notFound, "Connector \(name) not found") }
            try kafkaConfigStore.removeConnectorConfig(name)
            logger.info("[\(name)|worker] Deleted connector \(name)")
        }
    }

    public func pauseConnector(_ name: String) throws(ConnectError) { try putTargetState(name, .paused) }
    public func resumeConnector(_ name: String) throws(ConnectError) { try putTargetState(name, .started) }

    /// Any worker writes a paused or started target state (Connect's `pauseConnector` / `resumeConnector`).
    func putTargetState(_ name: String, _ target: TargetState) throws(ConnectError) {
        guard kafkaConfigStore.contains(name) else { throw ConnectError(.notFound, "Unknown connector \(name)") }
        try kafkaConfigStore.putTargetState(name, target)
    }

    /// The leader empties the connector's task configurations, then writes STOPPED (Connect's `stopConnector`).
    public func stopConnector(_ name: String) throws(ConnectError) {
        try submit("stop connector", connector: name) { [self] () throws(ConnectError) in
            try requireLeader("Only the leader can transition connectors to the STOPPED state.")
            guard kafkaConfigStore.contains(name) else { throw ConnectError(.notFound, "Connector \(name) not found") }
            try kafkaConfigStore.putTaskConfigs(name, [])
            try kafkaConfigStore.putTargetState(name, .stopped)
        }
    }

    public func restartConnector(_ name: String, _ request: RestartRequest) throws(ConnectError) -> ConnectorStateInfo?
    {
        if request.isLegacy {
            try submit("restart connector", connector: name) { [self] () throws(ConnectError) in
                guard kafkaConfigStore.contains(name) else {
                    throw ConnectError(.notFound, "Connector \(name) not found")
                }
                if localWork.connectors.contains(name) {
                    restartLocalConnector(name)
                    return
                }
                try requireOwner(
                    coordinator.leaderState?.ownerURL(connector: name),
                    "Cannot restart connector since it is not assigned to this member")
            }
            return nil
        }
        return try submit("restart connector", connector: name) {
            [self] () throws(ConnectError) -> ConnectorStateInfo in
            try requireLeader("Only the leader can process restart requests.")
            guard kafkaConfigStore.contains(name) else { throw ConnectError(.notFound, "Unknown connector: \(name)") }
            let plan = try restartPlan(name, request)
            try kafkaConfigStore.putRestartRequest(name, request)
            return plan
        }
    }

    public func restartTask(_ id: ConnectorTaskId) throws(ConnectError) {
        try submit("restart task", connector: id.connector) { [self] () throws(ConnectError) in
            let snapshot = kafkaConfigStore.snapshot()
            guard snapshot.contains(id.connector) else {
                throw ConnectError(.notFound, "Connector \(id.connector) not found")
            }
            guard snapshot.taskConfig(id) != nil else { throw ConnectError(.notFound, "Task \(id) not found") }
            if localWork.tasks.contains(id) {
                restartLocalTask(id)
                return
            }
            try requireOwner(
                coordinator.leaderState?.ownerURL(task: id),
                "Cannot restart task since it is not assigned to this member")
        }
    }

    /// Not this worker's: the leader names the owner (`NotAssignedException`), any other worker the leader.
    func requireOwner(_ ownerURL: String?, _ message: String) throws(ConnectError) {
        if isLeader {
            var e = ConnectError(.notAssigned, message)
            e.requestTarget = ownerURL
            throw e
        }
        try requireLeader(message)
    }

    public func alterConnectorOffsets(_ name: String, _ offsets: [ConnectorOffset]) throws(ConnectError) -> String {
        try requireOffsets(offsets)
        return try modifyOffsets(name, offsets, verb: "altered")
    }

    public func resetConnectorOffsets(_ name: String) throws(ConnectError) -> String {
        try modifyOffsets(name, nil, verb: "reset")
    }

    /// The leader alters or resets a STOPPED connector's offsets (Connect's `modifyConnectorOffsets`); the
    /// connector's own `alterOffsets` runs on this request's thread, not the herder's.
    ///
    /// Unlike Connect, it first waits for the connector's tasks on the group's workers to have stopped (their status
    /// no longer RUNNING, PAUSED or RESTARTING): a task commits its last offsets before it reports its stop, so an
    /// offsets reset sent right after `PUT /stop` is never overwritten by that last commit. Tasks still running after
    /// `task.shutdown.graceful.timeout.ms` plus `offset.flush.timeout.ms` make it a 409 naming them.
    func modifyOffsets(
        _ name: String, _ offsets: [ConnectorOffset]?, verb: String
    ) throws(ConnectError) -> String {
        let (config, members) = try submit("modify offsets", connector: name) {
            [self] () throws(ConnectError) -> ([String: String], Set<String>) in
            try requireLeader("Only the leader can modify connector offsets.")
            let snapshot = kafkaConfigStore.snapshot()
            let config = try self.config(name, in: snapshot)
            try requireStoppedForOffsets(name, snapshot)
            return (config, memberWorkerIds())
        }
        try awaitTasksStopped(name, on: members)
        let complete = try worker.alterConnectorOffsets(name, config: config, offsets: offsets)
        logger.info("[\(name)|worker] Offsets of connector \(name) \(verb)")
        return Self.offsetsModifiedMessage(complete: complete, verb: verb)
    }

    /// The worker ids (`host:port`) of the group's members, as the leader last assigned work to them.
    func memberWorkerIds() -> Set<String> {
        // An advertised URL is `<scheme>://<worker id>/`.
        let urls = coordinator.leaderState.map { Array($0.urls.values) } ?? [url]
        return Set(
            urls.map { u in
                var id = Substring(u)
                if let r = id.range(of: "://") { id = id[r.upperBound...] }
                while id.hasSuffix("/") { id = id.dropLast() }
                return String(id)
            })
    }

    /// Waits until no task of `name` run by one of `members` shows RUNNING, PAUSED or RESTARTING (a task on a worker
    /// that left the group commits nothing more).
    func awaitTasksStopped(_ name: String, on members: Set<String>) throws(ConnectError) {
        let deadline =
            ContinuousClock.now + worker.config.taskShutdownGracefulTimeout + worker.config.offsetFlushTimeout
        var active: [String] = []
        while true {
            active = worker.statusStore.tasks(name).filter { t in
                [.running, .paused, .restarting].contains(t.status.state) && members.contains(t.status.workerId)
            }.map { "\(name)-\($0.id) on \($0.status.workerId)" }
            if active.isEmpty { return }
            if ContinuousClock.now >= deadline || isStopping { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ConnectError(
            .conflict,
            "Connector \(name) is STOPPED but its tasks have not stopped yet (\(active.joined(separator: ", "))); their last offset commit could overwrite the new offsets. Try again in a few seconds (a worker that died keeps them until the group notices it is gone, after session.timeout.ms)"
        )
    }

    /// The internal endpoint (`POST /connectors/{c}/tasks`): the leader stores task configurations a worker
    /// generated, after checking the request's signature under the `sessioned` protocol.
    public func putTaskConfigs(
        _ name: String, _ configs: [[String: String]], body: [UInt8], headers: [String: String]
    ) throws(ConnectError) {
        if coordinator.currentProtocol == .sessioned {
            try InternalRequestSignature.verify(
                body: body, headers: headers, key: kafkaConfigStore.sessionKey,
                permitted: config.verificationAlgorithms)
        }
        try submit("put task configs", connector: name) { [self] () throws(ConnectError) in
            try requireLeader("This worker is not the leader; task configurations are written by the leader.")
            guard kafkaConfigStore.contains(name) else { throw ConnectError(.notFound, "Connector \(name) not found") }
            var snapshot = kafkaConfigStore.snapshot()
            if snapshot.targetState(name) == .stopped {
                // The worker that sent them may have read a resume this worker's reader has not reached yet.
                _ = readConfigToEnd(timeout: config.workerSyncTimeout)
                snapshot = kafkaConfigStore.snapshot()
            }
            if snapshot.taskConfigs[name] == configs && !snapshot.inconsistent.contains(name) { return }
            // Generated before the connector was stopped: a STOPPED connector keeps no task configurations.
            guard snapshot.targetState(name) != .stopped else {
                logger.info("[\(name)|worker] Ignoring task configurations for \(name): it is STOPPED")
                return
            }
            try kafkaConfigStore.putTaskConfigs(name, configs)
        }
    }

    /// `PUT /admin/loggers/{l}?scope=cluster` (KIP-976): any worker writes the level to the config topic, and
    /// every worker sets it when it reads the record.
    public func setClusterLoggerLevel(_ namespace: String, _ level: String) throws(ConnectError) {
        try kafkaConfigStore.putLoggerLevel(namespace, level)
    }
}

/// Percent-encoding of a path segment for requests between workers.
public enum RestPath {
    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    public static func encode(_ segment: String) -> String {
        var out = ""
        for b in segment.utf8 {
            if unreserved.contains(b) {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }
}

extension DistributedHerder {
    /// `GET /cluster`: the leader's last assignment (members, their URLs and work, since when each is in the
    /// group), the work no member runs now (held back after a worker left, with the time it is reassigned, or new
    /// since that assignment) against the config topic as this worker has read it. Read without the herder's
    /// thread, which a rebalance holds: the view matters most then (`rebalancing` says one is under way).
    public func clusterView() throws(ConnectError) -> ClusterView {
        try requireLeader("Only the leader knows what every worker runs; the request goes to it.")
        guard let leader = coordinator.lastLeaderState else {
            throw ConnectError(
                .conflict, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
        }
        let snapshot = kafkaConfigStore.snapshot()
        var workers: [ClusterView.Worker] = []
        var owned = Set<String>()
        var ownedTasks = Set<ConnectorTaskId>()
        for (id, url) in leader.urls.sorted(by: { $0.value < $1.value }) {
            let connectors = leader.connectorOwners.filter { $0.value == id }.map(\.key).sorted()
            let tasks = leader.taskOwners.filter { $0.value == id }.map(\.key).sorted()
            owned.formUnion(connectors)
            ownedTasks.formUnion(tasks)
            workers.append(
                ClusterView.Worker(
                    workerId: ClusterView.workerId(fromURL: url), url: url, memberId: id,
                    isLeader: id == leader.leaderId, since: leader.memberSince[id], connectors: connectors,
                    tasks: tasks))
        }
        let configuredTasks = snapshot.connectors.flatMap { c in
            (0..<snapshot.taskCount(c)).map { ConnectorTaskId(c, $0) }
        }
        let unassigned = ConnectorsAndTasks(
            connectors: snapshot.connectors.filter { !owned.contains($0) }.sorted(),
            tasks: configuredTasks.filter { !ownedTasks.contains($0) }.sorted())
        return ClusterView(
            mode: "distributed", groupId: config.groupId, generation: leader.generation,
            connectProtocol: ConnectProtocolVersion(protocolName: leader.protocolName)?.configValue,
            configOffset: leader.configOffset, leaderUrl: leader.urls[leader.leaderId], workers: workers,
            unassigned: unassigned, reassignAt: unassigned.isEmpty ? nil : leader.scheduledRebalance,
            rebalancing: !state.withLock { $0.rebalanceResolved } || member.rejoinNeeded,
            configuredProtocol: config.connectProtocol.configValue)
    }

    /// This worker's own part of the cluster view: its assignment, generation and leader (a follower is not told
    /// the other members; the leader's view has them).
    public func localClusterView(partialReason: String?) -> ClusterView? {
        guard let assignment = coordinator.assignment else { return nil }
        let generation = member.generation
        return ClusterView(
            mode: "distributed", groupId: config.groupId, generation: generation >= 0 ? generation : nil,
            connectProtocol: coordinator.currentProtocol?.configValue, configOffset: assignment.configOffset,
            leaderUrl: assignment.leaderUrl.isEmpty ? nil : assignment.leaderUrl,
            workers: [
                ClusterView.Worker(
                    workerId: ClusterView.workerId(fromURL: url), url: url, memberId: member.memberId,
                    isLeader: member.isLeader, since: nil, connectors: assignment.assigned.connectors.sorted(),
                    tasks: assignment.assigned.tasks.sorted())
            ],
            rebalancing: !state.withLock { $0.rebalanceResolved } || member.rejoinNeeded, partialReason: partialReason,
            configuredProtocol: config.connectProtocol.configValue)
    }

    /// An UNASSIGNED status in a cluster: the worker that wrote it gave the work up (it left the group, or the
    /// work moved in a rebalance); the pending scheduled rebalance, if any, says when it is handed out.
    public func rebalanceNote(for status: StatusRecord) -> RebalanceNote? {
        let reassignAt = state.withLock { $0.scheduledRebalanceEpochMs }
        let when =
            reassignAt.map { "the scheduled rebalance reassigns held-back work at \(Timestamps.iso8601($0))" }
            ?? "it is assigned at the next rebalance"
        return RebalanceNote(
            reassignAt: reassignAt,
            message:
                "Given up by worker \(status.workerId) in a rebalance (it left the group or the work moved); \(when)"
        )
    }
}
