import ConnectAPI
import Foundation
import JSON
import Kafka
import Logging
import Synchronization

/// Connector configurations, task configurations and target states in the compacted, single-partition config topic
/// (Connect's `KafkaConfigBackingStore`, `config.storage.topic`), with Connect's keys and compact JSON values:
/// `connector-<name>` → `{"properties":{…}}`, `task-<name>-<n>` → `{"properties":{…}}`, `commit-<name>` →
/// `{"tasks":n}` (task records take effect only with their commit), `target-state-<name>` →
/// `{"state":…,"state.v2":…}`, `session-key`, `restart-connector-<name>`, `logger-cluster-<namespace>`. Every worker
/// replays the whole topic; the config offset (last record read + 1) is what group members compare. The leader
/// writes what only a leader may write; any worker writes target states and cluster log levels.
public final class KafkaConfigBackingStore: ConfigBackingStore {
    struct Inner {
        var state = ClusterConfigState()
        /// Task records read but not yet committed, by connector and task number.
        var deferred: [String: [Int: [String: String]]] = [:]
        var sessionKey: SessionKey?
        /// After start-up, restart requests and cluster log levels are acted on (older ones in the log are not).
        var started = false
    }

    final class Cache: Sendable {
        let inner = Mutex(Inner())
        let listener = Mutex<(any ConfigUpdateListener)?>(nil)
    }

    private let cache = Cache()
    private let log: KafkaBasedLog
    private let logger: Logger
    public let topic: String
    /// How long a write and the read that follows may take (Connect's `READ_WRITE_TOTAL_TIMEOUT_MS`).
    static let readWriteTimeout = Duration.seconds(30)

    public init(topic: String, clients: [String: String], clientId: String, logger: Logger) throws(ConnectError) {
        self.topic = topic
        self.logger = logger
        var props = clients
        props["client.id"] = clientId
        let cache = cache
        log = try KafkaBasedLog(
            topic: topic, producerProperties: props, consumerProperties: props,
            consumed: { m in Self.apply(m, to: cache, logger: logger) }, logger: logger)
    }

    /// Who hears of records as they arrive.
    public func setUpdateListener(_ listener: any ConfigUpdateListener) { cache.listener.withLock { $0 = listener } }

    /// Reads the topic to its end (the config topic has one partition); only then does the store answer.
    public func start(timeout: Duration) throws(ConnectError) {
        try log.start(timeout: timeout)
        cache.inner.withLock { $0.started = true }
    }

    public func stop() { log.stop() }

    /// Reads what others wrote up to now (Connect's `refresh`).
    public func refresh(timeout: Duration) throws(ConnectError) { try log.readToEnd(timeout: timeout) }

    public var sessionKey: SessionKey? { cache.inner.withLock { $0.sessionKey } }

    // MARK: Record values

    static func properties(_ config: [String: String]) -> [UInt8] {
        let props = JSONObject(config.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })
        return JSONWriter.bytes(.object(JSONObject([("properties", .object(props))])))
    }

    static func object(_ fields: [(String, JSONValue)]) -> [UInt8] { JSONWriter.bytes(.object(JSONObject(fields))) }

    /// `state` carries PAUSED for STOPPED, for readers older than Connect 3.5; `state.v2` the real state.
    static func targetStateValue(_ s: TargetState) -> [UInt8] {
        object([("state", .string(s == .stopped ? "PAUSED" : s.rawValue)), ("state.v2", .string(s.rawValue))])
    }

    // MARK: Replay (Connect's ConsumeCallback)

    static func apply(_ m: KafkaMessage, to cache: Cache, logger: Logger) {
        guard let key = m.key.map({ String(decoding: $0, as: UTF8.self) }) else { return }
        var value: JSONObject?
        if let bytes = m.value {
            guard let parsed = (try? JSONParser.parse(bytes))?.objectValue else {
                logger.error("Failed to convert config data to Kafka Connect format for key \(key); skipping it")
                return
            }
            value = parsed
        }
        var notify: [(any ConfigUpdateListener) -> Void] = []
        cache.inner.withLock { inner in
            inner.state.offset = m.offset + 1
            if key.hasPrefix("target-state-") {
                let name = String(key.dropFirst("target-state-".count))
                let before = inner.state.targetState(name)
                if let value {
                    let text = value["state.v2"]?.stringValue ?? value["state"]?.stringValue ?? ""
                    guard let s = TargetState(rawValue: text) else {
                        logger.error("Invalid target state for connector \(name): \(text)")
                        return
                    }
                    inner.state.targetStates[name] = s
                } else {
                    inner.state.targetStates[name] = nil
                }
                if inner.state.contains(name) && before != inner.state.targetState(name) {
                    notify.append { $0.onConnectorTargetStateChange(name) }
                }
            } else if key.hasPrefix("connector-") {
                let name = String(key.dropFirst("connector-".count))
                if let value {
                    let isNew = !inner.state.contains(name)
                    inner.state.connectorConfigs[name] = Self.stringMap(value["properties"])
                    inner.state.connectorConfigOffsets[name] = m.offset + 1
                    if isNew { inner.state.connectors.append(name) }
                    notify.append { $0.onConnectorConfigUpdate(name) }
                } else {
                    inner.state.connectors.removeAll { $0 == name }
                    inner.state.connectorConfigs[name] = nil
                    inner.state.connectorConfigOffsets[name] = nil
                    inner.state.targetStates[name] = nil
                    inner.state.taskConfigs[name] = nil
                    inner.state.inconsistent.remove(name)
                    inner.deferred[name] = nil
                    notify.append { $0.onConnectorConfigRemove(name) }
                }
            } else if key.hasPrefix("task-") {
                guard let id = KafkaStatusBackingStore.parseTask(key.dropFirst("task-".count)) else {
                    logger.error("Ignoring task configuration because \(key) couldn't be parsed as a task id")
                    return
                }
                guard let value else {
                    logger.error("Ignoring task configuration for \(id) because it is unexpectedly null")
                    return
                }
                inner.deferred[id.connector, default: [:]][id.task] = Self.stringMap(value["properties"])
            } else if key.hasPrefix("commit-") {
                let name = String(key.dropFirst("commit-".count))
                guard inner.state.contains(name), let count = value?["tasks"]?.intValue.map(Int.init) else {
                    inner.deferred[name] = nil
                    return
                }
                let deferred = inner.deferred.removeValue(forKey: name) ?? [:]
                if (0..<count).allSatisfy({ deferred[$0] != nil }) {
                    // The tasks that were and the tasks that are: a connector going to fewer tasks (none, as a stop
                    // makes it) names the ones that end, so the workers running them stop them at once.
                    let before = inner.state.taskCount(name)
                    inner.state.taskConfigs[name] = (0..<count).map { deferred[$0] ?? [:] }
                    inner.state.inconsistent.remove(name)
                    let ids = (0..<max(count, before)).map { ConnectorTaskId(name, $0) }
                    let removed = Array(ids[count...])
                    notify.append { $0.onTaskConfigUpdate(ids, removed: removed) }
                } else {
                    logger.error(
                        "We have received a commit of \(count) tasks for connector \(name) but only some of its task configurations; it is inconsistent until it publishes them again"
                    )
                    inner.state.taskConfigs[name] = []
                    inner.state.inconsistent.insert(name)
                }
            } else if key == "session-key" {
                guard let value, let encoded = value["key"]?.stringValue, let bytes = Data(base64Encoded: encoded)
                else { return }
                let k = SessionKey(
                    key: Array(bytes), algorithm: value["algorithm"]?.stringValue ?? "HmacSHA256",
                    creationTimestamp: value["creation-timestamp"]?.intValue ?? 0)
                inner.sessionKey = k
                notify.append { $0.onSessionKeyUpdate(k) }
            } else if key.hasPrefix("restart-connector-") {
                let name = String(key.dropFirst("restart-connector-".count))
                guard inner.started, let value else { return }
                let request = RestartRequest(
                    includeTasks: value["include-tasks"]?.boolValue ?? false,
                    onlyFailed: value["only-failed"]?.boolValue ?? false)
                notify.append { $0.onRestartRequest(name, request) }
            } else if key.hasPrefix("logger-cluster-") {
                let namespace = String(key.dropFirst("logger-cluster-".count))
                guard inner.started, let level = value?["level"]?.stringValue else { return }
                notify.append { $0.onLoggingLevelUpdate(namespace, level) }
            } else if !key.hasPrefix("tasks-fencing-") {
                logger.error("Discarding config update record with invalid key: \(key)")
            }
        }
        // As Connect's store: the listener hears of records read after start-up, not of the replay before it.
        guard !notify.isEmpty, cache.inner.withLock({ $0.started }), let listener = cache.listener.withLock({ $0 })
        else { return }
        for n in notify { n(listener) }
    }

    static func stringMap(_ json: JSONValue?) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in json?.objectValue ?? JSONObject() { if let s = v.scalarText { out[k] = s } }
        return out
    }

    // MARK: ConfigBackingStore

    public func snapshot() -> ClusterConfigState { cache.inner.withLock { $0.state } }
    public func contains(_ connector: String) -> Bool { cache.inner.withLock { $0.state.contains(connector) } }

    private func write(_ records: [(String, [UInt8]?)]) throws(ConnectError) {
        try log.send(records.map { (key: Array($0.0.utf8), value: $0.1) }, timeout: Self.readWriteTimeout)
        try log.readToEnd(timeout: Self.readWriteTimeout)
    }

    /// The leader writes the target state first when one is given (KIP-980's `initial_state`), then the config.
    public func putConnectorConfig(
        _ connector: String, _ config: [String: String], targetState: TargetState?
    )
        throws(ConnectError)
    {
        var records: [(String, [UInt8]?)] = []
        if let targetState { records.append(("target-state-\(connector)", Self.targetStateValue(targetState))) }
        records.append(("connector-\(connector)", Self.properties(config)))
        try write(records)
    }

    public func removeConnectorConfig(_ connector: String) throws(ConnectError) {
        try write([("connector-\(connector)", nil), ("target-state-\(connector)", nil)])
    }

    /// Task records, then (once they were read back) the commit record that makes them effective.
    public func putTaskConfigs(_ connector: String, _ configs: [[String: String]]) throws(ConnectError) {
        try log.readToEnd(timeout: Self.readWriteTimeout)
        if !configs.isEmpty {
            try write(configs.enumerated().map { ("task-\(connector)-\($0.offset)", Self.properties($0.element)) })
        }
        try write([("commit-\(connector)", Self.object([("tasks", .int(Int64(configs.count)))]))])
    }

    /// A STOPPED connector has no tasks: a commit of zero.
    public func removeTaskConfigs(_ connector: String) throws(ConnectError) { try putTaskConfigs(connector, []) }

    public func putTargetState(_ connector: String, _ state: TargetState) throws(ConnectError) {
        try write([("target-state-\(connector)", Self.targetStateValue(state))])
    }

    public func putSessionKey(_ key: SessionKey) throws(ConnectError) {
        try write([
            (
                "session-key",
                Self.object([
                    ("key", .string(Data(key.key).base64EncodedString())), ("algorithm", .string(key.algorithm)),
                    ("creation-timestamp", .int(key.creationTimestamp)),
                ])
            )
        ])
    }

    public func putRestartRequest(_ connector: String, _ request: RestartRequest) throws(ConnectError) {
        try write([
            (
                "restart-connector-\(connector)",
                Self.object([
                    ("include-tasks", .bool(request.includeTasks)), ("only-failed", .bool(request.onlyFailed)),
                ])
            )
        ])
    }

    public func putLoggerLevel(_ namespace: String, _ level: String) throws(ConnectError) {
        try write([("logger-cluster-\(namespace)", Self.object([("level", .string(level))]))])
    }
}
