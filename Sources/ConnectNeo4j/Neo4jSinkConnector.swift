import ConnectAPI
import Foundation
import Logging

/// The Neo4j sink with the Cypher template strategy, under both of Neo4j's class names: the course's
/// `streams.kafka.connect.sink.Neo4jSinkConnector` runs each topic's statement as `UNWIND $events AS event
/// <statement>` with the record values as `events`; `org.neo4j.connectors.kafka.sink.Neo4jConnector` (5.x) also
/// binds `__value`, `__key`, `__timestamp` and `__header`, with `event` the value as before.
public class Neo4jSinkConnector: SinkConnector {
    public class var className: String { "streams.kafka.connect.sink.Neo4jSinkConnector" }
    /// The neo4j-streams release whose keys this follows.
    public class var version: String? { "4.1.2" }
    public static var configDef: ConfigDef { Neo4jSinkConfig.configDef }
    /// Whether the statements also see `__key`, `__value`, `__timestamp` and `__header`.
    class var bindsMessage: Bool { false }

    private var props: [String: String] = [:]

    public required init() {}

    public var taskType: any Task.Type { Neo4jSinkTask.self }

    public func start(_ props: [String: String]) throws {
        _ = try Neo4jSinkConfig(props)
        self.props = props
    }

    public func taskConfigs(maxTasks: Int) throws -> [[String: String]] {
        let own = props.merging([Neo4jSinkTask.bindsMessageKey: String(Self.bindsMessage)]) { $1 }
        return Array(repeating: own, count: max(1, maxTasks))
    }

    public func stop() throws {}

    /// The URI and a statement for each topic, under their keys.
    public func validate(_ props: [String: String]) -> [String: [String]] {
        guard (try? Neo4jSinkConfig.configDef.parse(props)) != nil else { return [:] }
        do { _ = try Neo4jSinkConfig(props) } catch {
            return [error.configKey ?? "neo4j.server.uri": [error.message]]
        }
        return [:]
    }

    /// A sink keeps its position in the consumer group only.
    public func alterOffsets(
        _ config: [String: String], _ offsets: [(partition: OffsetMap, offset: OffsetMap?)]
    ) throws -> Bool { true }
}

/// `org.neo4j.connectors.kafka.sink.Neo4jConnector`, Neo4j's 5.x connector: the same Cypher strategy, with the
/// record's key, value, timestamp and headers bound too.
public final class Neo4jConnector: Neo4jSinkConnector {
    public override class var className: String { "org.neo4j.connectors.kafka.sink.Neo4jConnector" }
    public override class var version: String? { "5.1.0" }
    override class var bindsMessage: Bool { true }
}

/// Writes each `put` topic by topic, `neo4j.batch.size` records per transaction (`BEGIN`, the statement with the
/// batch as `$events`, `COMMIT`). A lost connection or a transient error (`Neo.TransientError.*`) is tried again
/// `neo4j.retry.max.attemps` times; a statement error (a syntax error, a type, a constraint: `BoltError.isDataError`)
/// fails the task with Neo4j's code and message or, with an errant record reporter, sends the batch's records there;
/// a failure of the login, a privilege, the database or the cluster fails the task.
/// What it wrote, retried and was refused is in `SinkWriterMetrics`.
public final class Neo4jSinkTask: SinkTask {
    static let bindsMessageKey = "neo4j.__bind.message"

    private var config: Neo4jSinkConfig!
    private var bindsMessage = false
    private var connection: BoltConnection?
    private var context: (any SinkTaskContext)?
    private var metrics: SinkWriterMetrics?
    private let logger = Logger(label: "streams.kafka.connect.sink.Neo4jSinkTask")

    public init() {}

    public func initialize(_ context: any SinkTaskContext) { self.context = context }

    public func start(_ props: [String: String]) throws {
        config = try Neo4jSinkConfig(props)
        bindsMessage = props[Self.bindsMessageKey] == "true"
        metrics = SinkWriterMetrics(server: context?.mbeanServer)
        logger.info("Starting the Neo4j sink task for \(config.host):\(config.port)")
    }

    public func stop() throws {
        connection?.close()
        connection = nil
    }

    /// The statement run for a batch of `topic`.
    func statement(_ topic: String) -> String? {
        guard let cypher = config.cypher[topic] else { return nil }
        if bindsMessage {
            return
                "UNWIND $events AS __message WITH __message.value AS event, __message.value AS __value, __message.key AS __key, __message.timestamp AS __timestamp, __message.headers AS __header "
                + cypher
        }
        return "UNWIND $events AS event " + cypher
    }

    public func put(_ records: [SinkRecord]) throws {
        var start = 0
        while start < records.count {
            // Consecutive records of one topic, up to a batch: the topic's order is kept.
            let topic = records[start].topic
            var end = start
            while end < records.count, records[end].topic == topic, end - start < config.batchSize { end += 1 }
            let batch = Array(records[start..<end]).filter { $0.value != nil }
            start = end
            guard !batch.isEmpty else { continue }
            guard let statement = statement(topic) else {
                throw ConnectError(
                    .connect, "No Cypher statement for the topic '\(topic)' (neo4j.topic.cypher.\(topic))")
            }
            try write(batch, statement)
        }
    }

    private func write(_ batch: [SinkRecord], _ statement: String) throws {
        let events = PackValue.list(batch.map(event))
        let began = ContinuousClock.now
        var attempt = 0
        while true {
            do {
                let c = try connection ?? connect()
                connection = c
                do {
                    try c.begin(database: config.database)
                    _ = try c.run(statement, [("events", events)])
                    try c.commit()
                } catch {
                    // A refused BEGIN, RUN or COMMIT leaves the connection FAILED until a RESET; one that fails too
                    // is dropped.
                    if !error.isConnectionError {
                        do { try c.reset() } catch {
                            c.close()
                            connection = nil
                        }
                    }
                    throw error
                }
                metrics?.written(batch.count, duration: ContinuousClock.now - began)
                return
            } catch let error as BoltError where error.isTransient && attempt < config.retries {
                attempt += 1
                metrics?.retried(reason: error.code ?? "connection")
                if error.isConnectionError {
                    connection?.close()
                    connection = nil
                }
                logger.warning(
                    "Writing \(batch.count) records to Neo4j failed, attempt \(attempt)/\(config.retries + 1): \(error.description)"
                )
                Thread.sleep(forTimeInterval: Double(min(config.retryBackoffMs, 10_000)) / 1000)
            } catch let error as BoltError {
                metrics?.failed(batch.count, reason: error.code ?? (error.isConnectionError ? "connection" : "unknown"))
                if error.isConnectionError {
                    connection?.close()
                    connection = nil
                    throw ConnectError(
                        .connect,
                        "Neo4j at \(config.host):\(config.port) could not be reached after \(attempt + 1) attempts",
                        cause: ConnectError(.io, error.description))
                }
                // Only what the statement made of these records goes to the errant record reporter; a refused
                // login, a missing privilege or a cluster without a leader would refuse every record alike.
                guard error.isDataError, let reporter = context?.errantRecordReporter else {
                    throw ConnectError(
                        .connect, "Error executing the Cypher statement of topic \(batch[0].topic)",
                        cause: ConnectError(.io, error.description))
                }
                for record in batch { try reporter.report(record, error: ConnectError(.io, error.description)) }
                return
            }
        }
    }

    private func connect() throws(BoltError) -> BoltConnection {
        let c = try BoltConnection(
            host: config.host, port: config.port, tls: config.tls, auth: config.auth,
            userAgent: "swift-connect-neo4j-sink/\(Neo4jSinkConnector.version ?? "")",
            timeout: .milliseconds(config.timeoutMs), statementTimeout: .milliseconds(config.batchTimeoutMs))
        logger.info(
            "Connected to \(c.serverAgent) at \(config.host):\(config.port) over Bolt \(c.version.major).\(c.version.minor)"
        )
        return c
    }

    /// What a record binds: its value, or with the 5.x connector `{key, value, timestamp, headers}`.
    private func event(_ record: SinkRecord) -> PackValue {
        let value = Self.pack(record.value)
        guard bindsMessage else { return value }
        var headers: [(String, PackValue)] = []
        for h in record.headers { headers.append((h.key, Self.pack(h.value))) }
        return .map([
            ("key", Self.pack(record.key)), ("value", value), ("timestamp", record.timestamp.map { .int($0) } ?? .null),
            ("headers", .map(headers)),
        ])
    }

    /// Connect data as PackStream: structs and maps as maps (keys as text), arrays as lists, Decimals as doubles,
    /// Date, Time and Timestamp as their milliseconds.
    static func pack(_ value: Value?) -> PackValue {
        guard let value else { return .null }
        switch value {
        case .int8(let v): return .int(Int64(v))
        case .int16(let v): return .int(Int64(v))
        case .int32(let v): return .int(Int64(v))
        case .int64(let v): return .int(v)
        case .float32(let v): return .float(Double(v))
        case .float64(let v): return .float(v)
        case .boolean(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .bytes(let b): return .bytes(b)
        case .array(let items): return .list(items.map(pack))
        case .map(let entries):
            return .map(entries.map { (ValueFormatter.string($0.key), pack($0.value)) })
        case .struct(let s): return .map(s.schema.fields.map { ($0.name, pack(s.get($0))) })
        case .decimal(let d):
            if let u = d.unscaledInt64 { return .float(Double(u) / pow(10, Double(d.scale))) }
            return .float(Double(d.description) ?? .nan)
        case .timestamp(let ms): return .int(ms)
        }
    }
}
