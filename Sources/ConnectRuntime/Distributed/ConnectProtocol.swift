import ConnectAPI
import KafkaProtocol

/// The `connect` group sub-protocols (Connect's `ConnectProtocolCompatibility`): `default` (eager, version 0),
/// `compatible` (incremental cooperative, version 1), `sessioned` (cooperative with signed internal requests,
/// version 2). `connect.protocol` names them `eager`, `compatible`, `sessioned`.
public enum ConnectProtocolVersion: Int16, Sendable, CaseIterable, Comparable {
    case eager = 0
    case compatible = 1
    case sessioned = 2

    /// The JoinGroup protocol name.
    public var protocolName: String {
        switch self {
        case .eager: "default"
        case .compatible: "compatible"
        case .sessioned: "sessioned"
        }
    }

    /// The `connect.protocol` value.
    public var configValue: String {
        switch self {
        case .eager: "eager"
        case .compatible: "compatible"
        case .sessioned: "sessioned"
        }
    }

    public init?(protocolName: String) {
        guard let v = Self.allCases.first(where: { $0.protocolName == protocolName }) else { return nil }
        self = v
    }

    public init?(configValue: String) {
        guard let v = Self.allCases.first(where: { $0.configValue == configValue.lowercased() }) else { return nil }
        self = v
    }

    /// The protocols a worker configured with this one offers, most preferred first.
    public var offered: [ConnectProtocolVersion] { Self.allCases.filter { $0 <= self }.reversed() }

    public var isCooperative: Bool { self != .eager }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Connectors and tasks, as an assignment lists them.
public struct ConnectorsAndTasks: Sendable, Equatable {
    public var connectors: [String]
    public var tasks: [ConnectorTaskId]

    public init(connectors: [String] = [], tasks: [ConnectorTaskId] = []) {
        self.connectors = connectors
        self.tasks = tasks
    }

    public static let empty = ConnectorsAndTasks()
    public var isEmpty: Bool { connectors.isEmpty && tasks.isEmpty }
    public var count: Int { connectors.count + tasks.count }

    /// The entries of a connector-assignment array: per connector, -1 (the connector itself) first when it is
    /// listed, then its task numbers; connectors in the order they first appear (Connect's `Assignment.asMap`).
    func entries() -> [(connector: String, tasks: [Int32])] {
        var order: [String] = []
        var byName: [String: [Int32]] = [:]
        func add(_ name: String, _ id: Int32) {
            if byName[name] == nil { order.append(name) }
            byName[name, default: []].append(id)
        }
        for c in connectors { add(c, ConnectProtocol.connectorTask) }
        for t in tasks { add(t.connector, Int32(t.task)) }
        return order.map { ($0, byName[$0] ?? []) }
    }

    init(entries: [(connector: String, tasks: [Int32])]) {
        self.init()
        for (name, ids) in entries {
            for id in ids {
                if id == ConnectProtocol.connectorTask {
                    connectors.append(name)
                } else {
                    tasks.append(ConnectorTaskId(name, Int(id)))
                }
            }
        }
    }
}

/// One worker's assignment as the leader sends it (Connect's `ExtendedAssignment`; V0 is the eager
/// `ConnectProtocol.Assignment`): the leader, the config offset it was computed at, what to run (the whole set
/// for eager, only what is new for cooperative), what to stop, and the scheduled rebalance delay.
public struct ExtendedAssignment: Sendable, Equatable {
    public var version: ConnectProtocolVersion
    public var error: Int16
    /// The leader's member id.
    public var leader: String
    public var leaderUrl: String
    public var configOffset: Int64
    public var assigned: ConnectorsAndTasks
    public var revoked: ConnectorsAndTasks
    /// Milliseconds until the leader means to reassign lost work (cooperative only).
    public var delay: Int32

    public static let noError: Int16 = 0
    /// The leader could not read the config topic up to the highest offset a member reported.
    public static let configMismatch: Int16 = 1

    public init(
        version: ConnectProtocolVersion, error: Int16 = noError, leader: String, leaderUrl: String,
        configOffset: Int64, assigned: ConnectorsAndTasks = .empty, revoked: ConnectorsAndTasks = .empty,
        delay: Int32 = 0
    ) {
        self.version = version
        self.error = error
        self.leader = leader
        self.leaderUrl = leaderUrl
        self.configOffset = configOffset
        self.assigned = assigned
        self.revoked = revoked
        self.delay = delay
    }
}

/// A worker's JoinGroup metadata (Connect's `WorkerState`, and for cooperative protocols the assignment it runs).
public struct WorkerMetadata: Sendable, Equatable {
    public var version: ConnectProtocolVersion
    /// The advertised REST URL, ending with `/`.
    public var url: String
    /// The config topic offset this worker has read to (-1: nothing read).
    public var configOffset: Int64
    /// What the worker runs now, as a full assignment (cooperative only; nil before its first assignment).
    public var allocation: ExtendedAssignment?

    public init(
        version: ConnectProtocolVersion, url: String, configOffset: Int64, allocation: ExtendedAssignment? = nil
    ) {
        self.version = version
        self.url = url
        self.configOffset = configOffset
        self.allocation = allocation
    }
}

/// The byte layouts of the `connect` sub-protocols (Connect's `ConnectProtocol` and
/// `IncrementalCooperativeConnectProtocol`): Kafka's classic types, fields in schema order. Readers are tolerant as
/// Connect's are: missing trailing fields take their defaults, extra trailing bytes are ignored, and any version
/// number is read with the cooperative layout.
public enum ConnectProtocol {
    /// The task number that stands for the Connector instance itself in an assignment.
    static let connectorTask: Int32 = -1

    public static func encode(_ m: WorkerMetadata) -> [UInt8] {
        var w = ByteWriter()
        w.int16(m.version.rawValue)
        w.string(m.url)
        w.int64(m.configOffset)
        if m.version.isCooperative { w.nullableBytes(m.allocation.map(encode)) }
        return w.bytes
    }

    public static func decodeMetadata(_ bytes: [UInt8]) throws(KafkaProtocolError) -> WorkerMetadata {
        var r = ByteReader(bytes)
        let version = try r.int16()
        let url = try r.string()
        let offset = try r.int64()
        let allocation = r.isAtEnd ? nil : try r.nullableBytes()
        return WorkerMetadata(
            version: ConnectProtocolVersion(rawValue: min(version, 2)) ?? .eager, url: url, configOffset: offset,
            allocation: try allocation.map { bytes throws(KafkaProtocolError) in try decodeAssignment(bytes) })
    }

    public static func encode(_ a: ExtendedAssignment) -> [UInt8] {
        var w = ByteWriter()
        w.int16(a.version.rawValue)
        w.int16(a.error)
        w.string(a.leader)
        w.string(a.leaderUrl)
        w.int64(a.configOffset)
        func list(_ w: inout ByteWriter, _ set: ConnectorsAndTasks) {
            w.array(set.entries()) { w, e in
                w.string(e.connector)
                w.array(e.tasks) { w, id in w.int32(id) }
            }
        }
        list(&w, a.assigned)
        if a.version.isCooperative {
            list(&w, a.revoked)
            w.int32(a.delay)
        }
        return w.bytes
    }

    public static func decodeAssignment(_ bytes: [UInt8]) throws(KafkaProtocolError) -> ExtendedAssignment {
        var r = ByteReader(bytes)
        let version = try r.int16()
        let error = try r.int16()
        let leader = try r.string()
        let leaderUrl = try r.string()
        let offset = try r.int64()
        func list(_ r: inout ByteReader) throws(KafkaProtocolError) -> ConnectorsAndTasks {
            guard !r.isAtEnd else { return .empty }
            let entries = try r.nullableArray { (r: inout ByteReader) throws(KafkaProtocolError) in
                (try r.string(), try r.array { (r: inout ByteReader) throws(KafkaProtocolError) in try r.int32() })
            }
            return ConnectorsAndTasks(entries: (entries ?? []).map { (connector: $0.0, tasks: $0.1) })
        }
        let assigned = try list(&r)
        let revoked = try list(&r)
        let delay = r.remaining >= 4 ? try r.int32() : 0
        return ExtendedAssignment(
            version: ConnectProtocolVersion(rawValue: min(version, 2)) ?? .eager, error: error, leader: leader,
            leaderUrl: leaderUrl, configOffset: offset, assigned: assigned, revoked: revoked, delay: delay)
    }
}
