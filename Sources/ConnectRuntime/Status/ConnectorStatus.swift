import ConnectAPI

/// A task's identity: connector name and task number; `description` is Connect's `<connector>-<task>`.
public struct ConnectorTaskId: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var connector: String
    public var task: Int

    public init(_ connector: String, _ task: Int) {
        self.connector = connector
        self.task = task
    }

    public var description: String { "\(connector)-\(task)" }

    public static func < (a: ConnectorTaskId, b: ConnectorTaskId) -> Bool {
        (a.connector, a.task) < (b.connector, b.task)
    }
}

/// Connector and task states, as Connect's `AbstractStatus.State`.
public enum ConnectorState: String, Sendable {
    case unassigned = "UNASSIGNED"
    case running = "RUNNING"
    case paused = "PAUSED"
    case failed = "FAILED"
    case restarting = "RESTARTING"
    case stopped = "STOPPED"
    case destroyed = "DESTROYED"
}

/// What the user asked a connector to be (`TargetState`).
public enum TargetState: String, Sendable {
    case started = "STARTED"
    case paused = "PAUSED"
    case stopped = "STOPPED"
}

/// One status record (`ConnectorStatus` / `TaskStatus`).
public struct StatusRecord: Sendable, Equatable {
    public var state: ConnectorState
    public var trace: String?
    public var workerId: String
    public var generation: Int

    /// A sink task's lag (an extension shown in `/status`); ERR once the task failed.
    public var lag: LagSummary?
    /// Why an UNASSIGNED connector or task waits (an extension shown in `/status`), added by the herder.
    public var rebalance: RebalanceNote?

    public init(state: ConnectorState, trace: String? = nil, workerId: String, generation: Int = 0) {
        self.state = state
        self.trace = trace
        self.workerId = workerId
        self.generation = generation
    }

    /// For a failure: its class, stage and who can fix it, read from the trace.
    public var failure: FailureSummary? {
        guard state == .failed, let trace, !trace.isEmpty else { return nil }
        return FailureSummary(trace: trace)
    }
}

/// Why a connector or task is UNASSIGNED in a cluster: the worker that gave it up (the status's `workerId`) left
/// the group or had it moved in a rebalance, and the scheduled rebalance (KIP-415's
/// `scheduled.rebalance.max.delay.ms`) that hands out held-back work, if one is pending.
public struct RebalanceNote: Sendable, Equatable {
    /// Epoch ms at which the pending scheduled rebalance reassigns held-back work; nil: none is pending (the work
    /// is handed out at the next rebalance).
    public var reassignAt: Int64?
    public var message: String

    public init(reassignAt: Int64?, message: String) {
        self.reassignAt = reassignAt
        self.message = message
    }
}

/// Receives lifecycle changes from connectors and tasks (`ConnectorStatus.Listener`, `TaskStatus.Listener`).
public protocol StatusListener: Sendable {
    func onStartup(_ id: ConnectorTaskId)
    func onPause(_ id: ConnectorTaskId)
    func onResume(_ id: ConnectorTaskId)
    func onFailure(_ id: ConnectorTaskId, _ error: ConnectError)
    func onShutdown(_ id: ConnectorTaskId)
    /// A task used a topic for the first time (KIP-558 active topics).
    func onActiveTopic(_ id: ConnectorTaskId, _ topic: String)
    /// A sink task's lag as it stands (nil: the task stopped).
    func onLag(_ id: ConnectorTaskId, _ lag: LagSummary?)
    /// A sink task's consumer was given or lost partitions (`topic-partition` names).
    func onRebalance(_ id: ConnectorTaskId, assigned: [String], revoked: [String])
}

extension StatusListener {
    public func onActiveTopic(_ id: ConnectorTaskId, _ topic: String) {}
    public func onLag(_ id: ConnectorTaskId, _ lag: LagSummary?) {}
    public func onRebalance(_ id: ConnectorTaskId, assigned: [String], revoked: [String]) {}
}

/// A change the status store saw, as its observers receive it (the metrics reporter's lifecycle events, the restart
/// policy).
public enum StatusEvent: Sendable, Equatable {
    /// A connector's new state, with the one it left (nil: it had none).
    case connector(String, state: ConnectorState, previous: ConnectorState?, trace: String?)
    /// A task's new state; `reason` says who asked for a restart (`rest`, `policy`).
    case task(ConnectorTaskId, state: ConnectorState, previous: ConnectorState?, trace: String?, reason: String?)
    /// The connector and its tasks were deleted.
    case connectorDeleted(String)
    /// A sink task's lag verdict changed.
    case lagVerdict(ConnectorTaskId, verdict: LagVerdict, previous: LagVerdict?, lag: LagSummary)
    /// A sink task's partitions changed.
    case rebalance(ConnectorTaskId, assigned: [String], revoked: [String])
    /// The cluster's membership or assignment changed (published by the group's leader only).
    case cluster(ClusterEvent)
}

/// A change of a cluster's membership or assignment, as the leader that assigned the work saw it (an extension:
/// lifecycle events on the metrics topic).
public enum ClusterEvent: Sendable, Equatable {
    /// A worker (its advertised URL) joined the group at `generation`.
    case workerJoined(url: String, generation: Int32)
    /// A worker left the group (`leave`) or vanished with its work running (`timeout`).
    case workerLost(url: String, cause: String, generation: Int32)
    /// Work moved from one worker to another at `generation`.
    case reassigned(generation: Int32, moves: [WorkMove])
}

/// A connector (`task` nil) or task that moved from one worker to another (advertised URLs).
public struct WorkMove: Sendable, Equatable {
    public var connector: String
    public var task: Int?
    public var from: String
    public var to: String

    public init(connector: String, task: Int?, from: String, to: String) {
        self.connector = connector
        self.task = task
        self.from = from
        self.to = to
    }
}
