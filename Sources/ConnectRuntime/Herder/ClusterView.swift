import ConnectAPI
import Foundation

/// What `GET /cluster` shows (an extension: Connect has no endpoint that lists its workers): the group, its
/// generation and sub-protocol, every worker with what it runs, and the work no worker runs yet, with the time the
/// scheduled rebalance hands it out when it is held back for `scheduled.rebalance.max.delay.ms` after a worker left
/// (KIP-415). In a cluster the leader builds it from its last assignment (the others forward the request to it); a
/// standalone worker is a cluster of one.
public struct ClusterView: Sendable, Equatable {
    /// One worker of the group.
    public struct Worker: Sendable, Equatable {
        /// `host:port` of its advertised REST URL, as statuses' `worker_id`.
        public var workerId: String
        /// Its advertised REST URL; nil for a standalone worker that does not know it.
        public var url: String?
        /// Its group member id (nil standalone).
        public var memberId: String?
        public var isLeader: Bool
        /// Epoch ms since which the leader has seen it in the group (since this leader led, for older members).
        public var since: Int64?
        public var connectors: [String]
        public var tasks: [ConnectorTaskId]

        public init(
            workerId: String, url: String?, memberId: String?, isLeader: Bool, since: Int64?, connectors: [String],
            tasks: [ConnectorTaskId]
        ) {
            self.workerId = workerId
            self.url = url
            self.memberId = memberId
            self.isLeader = isLeader
            self.since = since
            self.connectors = connectors
            self.tasks = tasks
        }
    }

    /// `distributed` or `standalone`.
    public var mode: String
    public var groupId: String?
    public var generation: Int32?
    /// The group's sub-protocol: `eager` (Connect's `default`), `compatible` or `sessioned`.
    public var connectProtocol: String?
    /// The answering worker's own `connect.protocol` setting; the group runs `connectProtocol`, the newest one every
    /// member offers, so a worker set to `eager` among `sessioned` ones shows as a difference here. Nil standalone.
    public var configuredProtocol: String?
    /// The config topic offset the assignment was made at.
    public var configOffset: Int64?
    public var leaderUrl: String?
    public var workers: [Worker]
    /// Configured work no worker runs: held back after a worker left, or new since the last rebalance.
    public var unassigned: ConnectorsAndTasks
    /// Epoch ms of the scheduled rebalance that reassigns the held-back work; nil when none is scheduled.
    public var reassignAt: Int64?
    /// Whether a rebalance is under way (the view is the last completed one's).
    public var rebalancing: Bool
    /// Why the view holds only the answering worker (the leader did not answer the forwarded request, as after
    /// it died, until the group elects another); nil for the leader's full view.
    public var partialReason: String?

    public init(
        mode: String, groupId: String? = nil, generation: Int32? = nil, connectProtocol: String? = nil,
        configOffset: Int64? = nil, leaderUrl: String? = nil, workers: [Worker],
        unassigned: ConnectorsAndTasks = .empty, reassignAt: Int64? = nil, rebalancing: Bool = false,
        partialReason: String? = nil, configuredProtocol: String? = nil
    ) {
        self.mode = mode
        self.groupId = groupId
        self.generation = generation
        self.connectProtocol = connectProtocol
        self.configOffset = configOffset
        self.leaderUrl = leaderUrl
        self.workers = workers
        self.unassigned = unassigned
        self.reassignAt = reassignAt
        self.rebalancing = rebalancing
        self.partialReason = partialReason
        self.configuredProtocol = configuredProtocol
    }

    /// `host:port` of a URL such as `http://10.0.0.5:8083/`, as Connect's `worker_id`.
    public static func workerId(fromURL url: String) -> String {
        var s = Substring(url)
        if let scheme = s.range(of: "://") { s = s[scheme.upperBound...] }
        if let slash = s.firstIndex(of: "/") { s = s[..<slash] }
        return String(s)
    }
}
