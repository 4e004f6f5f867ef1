import ConnectAPI
import Foundation
import JSON
import Kafka
import Logging
import Synchronization

/// Statuses in a compacted Kafka topic (Connect's `KafkaStatusBackingStore`, `status.storage.topic`), shared by every
/// worker of the cluster: `status-connector-<name>`, `status-task-<name>-<n>` →
/// `{"state","trace","worker_id","generation"}`, `status-topic-<topic>:connector-<name>` →
/// `{"topic":{"name","connector","task","discoverTimestamp"}}`; a deletion is a tombstone. Writes go to the topic and
/// to this worker's view at once; records of other workers arrive through the reader. Of two records for one task or
/// connector, a worker's UNASSIGNED does not replace another worker's state (RUNNING, PAUSED, FAILED, ...) whatever
/// their generations: a worker's UNASSIGNED says it gave up its own work, and the other worker's state is newer news
/// (a frozen worker that comes back at a later generation and stops what it ran must not hide the task another worker
/// took meanwhile; Connect's reader rule compares generations and shows such a task UNASSIGNED).
public final class KafkaStatusBackingStore: StatusBackingStore {
    /// This worker's view of every status, shared with the reader.
    final class Cache: Sendable {
        let state = Mutex(MemoryStatusBackingStore.State())
    }

    private let cache = Cache()
    private let log: KafkaBasedLog
    /// Updates of this worker are computed and written one at a time, so the topic holds them in order.
    private let writeLock = NSLock()
    private let logger: Logger

    public init(topic: String, clients: [String: String], clientId: String, logger: Logger) throws(ConnectError) {
        self.logger = logger
        var props = clients
        props["client.id"] = clientId
        let cache = cache
        log = try KafkaBasedLog(
            topic: topic, producerProperties: props, consumerProperties: props,
            consumed: { m in Self.apply(m, to: cache, logger: logger) }, logger: logger)
    }

    public func start(timeout: Duration) throws(ConnectError) { try log.start(timeout: timeout) }
    public func stop() { log.stop() }

    // MARK: Keys and values

    static func connectorKey(_ name: String) -> String { "status-connector-\(name)" }
    static func taskKey(_ id: ConnectorTaskId) -> String { "status-task-\(id.connector)-\(id.task)" }
    static func topicKey(_ topic: String, connector: String) -> String {
        "status-topic-\(topic):connector-\(connector)"
    }

    /// `{"state":…,"trace":…,"worker_id":…,"generation":…}` in that order, compact, as Connect's converter writes it.
    static func value(_ r: StatusRecord) -> [UInt8] {
        let fields: [(String, JSONValue)] = [
            ("state", .string(r.state.rawValue)), ("trace", r.trace.map { .string($0) } ?? .null),
            ("worker_id", .string(r.workerId)), ("generation", .int(Int64(r.generation))),
        ]
        return JSONWriter.bytes(.object(JSONObject(fields)))
    }

    /// `{"topic":{"name","connector","task","discoverTimestamp"}}` (KIP-558's `TopicStatus`).
    static func topicValue(_ topic: String, task: ConnectorTaskId, at ms: Int64) -> [UInt8] {
        let fields: [(String, JSONValue)] = [
            ("name", .string(topic)), ("connector", .string(task.connector)), ("task", .int(Int64(task.task))),
            ("discoverTimestamp", .int(ms)),
        ]
        return JSONWriter.bytes(.object(JSONObject([("topic", .object(JSONObject(fields)))])))
    }

    static func record(_ bytes: [UInt8]) -> StatusRecord? {
        guard let o = (try? JSONParser.parse(bytes))?.objectValue, let s = o["state"]?.stringValue,
            let state = ConnectorState(rawValue: s)
        else { return nil }
        return StatusRecord(
            state: state, trace: o["trace"]?.stringValue, workerId: o["worker_id"]?.stringValue ?? "",
            generation: Int(o["generation"]?.intValue ?? 0))
    }

    /// A task key's connector and number: the last part after `-` is the number (connector names may hold `-`).
    static func parseTask(_ rest: Substring) -> ConnectorTaskId? {
        guard let dash = rest.lastIndex(of: "-"), let n = Int(rest[rest.index(after: dash)...]) else { return nil }
        return ConnectorTaskId(String(rest[..<dash]), n)
    }

    /// Whether `record` is the UNASSIGNED of a worker that gave the work up, read after another worker's state
    /// (RUNNING, PAUSED, STOPPED, FAILED, ...): it is ignored, whatever the generations (the reader's side of
    /// `StatusStore`'s safe put).
    static func isStaleUnassigned(_ record: StatusRecord?, over current: StatusRecord?) -> Bool {
        guard let record, record.state == .unassigned, let current, current.state != .unassigned else { return false }
        return current.workerId != record.workerId
    }

    /// Applies one record read from the topic.
    static func apply(_ m: KafkaMessage, to cache: Cache, logger: Logger) {
        guard let key = m.key.map({ String(decoding: $0, as: UTF8.self) }) else { return }
        if key.hasPrefix("status-connector-") {
            let name = String(key.dropFirst("status-connector-".count))
            let record = m.value.flatMap(record)
            cache.state.withLock { s in
                if !isStaleUnassigned(record, over: s.connectors[name]) { s.connectors[name] = record }
            }
        } else if key.hasPrefix("status-task-"), let id = parseTask(key.dropFirst("status-task-".count)) {
            let record = m.value.flatMap(record)
            cache.state.withLock { s in
                if !isStaleUnassigned(record, over: s.tasks[id]) { s.tasks[id] = record }
            }
        } else if key.hasPrefix("status-topic-"), let colon = key.firstIndex(of: ":") {
            let topic = String(key[key.index(key.startIndex, offsetBy: "status-topic-".count)..<colon])
            let connector = String(key[key.index(after: colon)...].dropFirst("connector-".count))
            cache.state.withLock { s in
                if m.value == nil {
                    s.topics[connector]?.remove(topic)
                } else {
                    s.topics[connector, default: []].insert(topic)
                }
            }
        } else {
            logger.warning("Discarding record with invalid key from status log: \(key)")
        }
    }

    /// Writes records to the topic; a failure is logged (statuses are rewritten on the next change), never thrown
    /// at the task that reported.
    private func write(_ records: [(key: String, value: [UInt8]?)]) {
        do {
            try log.send(records.map { (key: Array($0.key.utf8), value: $0.value) })
        } catch {
            logger.error("Could not write status records \(records.map(\.key)): \(error.description)")
        }
    }

    // MARK: StatusBackingStore

    public func connector(_ name: String) -> StatusRecord? { cache.state.withLock { $0.connectors[name] } }
    public func task(_ id: ConnectorTaskId) -> StatusRecord? { cache.state.withLock { $0.tasks[id] } }

    public func tasks(of connector: String) -> [ConnectorTaskId: StatusRecord] {
        cache.state.withLock { $0.tasks.tasks(of: connector) }
    }

    public func taskCount(of connector: String, in state: ConnectorState?) -> Int {
        cache.state.withLock { $0.tasks.count(of: connector, in: state) }
    }

    public func all() -> (connectors: [String: StatusRecord], tasks: [ConnectorTaskId: StatusRecord]) {
        cache.state.withLock { ($0.connectors, $0.tasks.all) }
    }

    @discardableResult
    public func updateConnector(
        _ name: String, _ update: (StatusRecord?) -> StatusRecord?
    )
        -> (previous: StatusRecord?, written: StatusRecord?)
    {
        writeLock.lock()
        defer { writeLock.unlock() }
        let result = cache.state.withLock { s -> (StatusRecord?, StatusRecord?) in
            let previous = s.connectors[name]
            guard let record = update(previous) else { return (previous, nil) }
            s.connectors[name] = record
            return (previous, record)
        }
        if let written = result.1 { write([(Self.connectorKey(name), Self.value(written))]) }
        return result
    }

    @discardableResult
    public func updateTask(
        _ id: ConnectorTaskId, _ update: (StatusRecord?) -> StatusRecord?
    )
        -> (previous: StatusRecord?, written: StatusRecord?)
    {
        writeLock.lock()
        defer { writeLock.unlock() }
        let result = cache.state.withLock { s -> (StatusRecord?, StatusRecord?) in
            let previous = s.tasks[id]
            guard let record = update(previous) else { return (previous, nil) }
            s.tasks[id] = record
            return (previous, record)
        }
        if let written = result.1 { write([(Self.taskKey(id), Self.value(written))]) }
        return result
    }

    public func remove(connector: String) {
        writeLock.lock()
        defer { writeLock.unlock() }
        let (tasks, topics) = cache.state.withLock { s -> ([ConnectorTaskId], Set<String>) in
            let tasks = s.tasks.removeAll(of: connector)
            s.connectors[connector] = nil
            return (tasks, s.topics.removeValue(forKey: connector) ?? [])
        }
        write(
            [(Self.connectorKey(connector), nil)] + tasks.map { (Self.taskKey($0), nil) }
                + topics.map { (Self.topicKey($0, connector: connector), nil) })
    }

    public func removeTasks(of connector: String) {
        writeLock.lock()
        defer { writeLock.unlock() }
        let tasks = cache.state.withLock { s in
            s.tasks.removeAll(of: connector)
        }
        write(tasks.map { (Self.taskKey($0), nil) })
    }

    public func removeTask(_ id: ConnectorTaskId) {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard cache.state.withLock({ $0.tasks.removeValue(forKey: id) }) != nil else { return }
        write([(Self.taskKey(id), nil)])
    }

    public func putTopic(_ topic: String, task: ConnectorTaskId) {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard cache.state.withLock({ $0.topics[task.connector, default: []].insert(topic).inserted }) else { return }
        let value = Self.topicValue(topic, task: task, at: Int64(Date().timeIntervalSince1970 * 1000))
        write([(Self.topicKey(topic, connector: task.connector), value)])
    }

    public func topics(of connector: String) -> Set<String> { cache.state.withLock { $0.topics[connector] ?? [] } }

    public func deleteTopics(of connector: String) {
        writeLock.lock()
        defer { writeLock.unlock() }
        let topics = cache.state.withLock { $0.topics.removeValue(forKey: connector) ?? [] }
        write(topics.map { (Self.topicKey($0, connector: connector), nil) })
    }
}
