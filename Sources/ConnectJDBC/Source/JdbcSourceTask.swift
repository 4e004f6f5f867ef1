import ConnectAPI
import DebeziumCore
import Foundation
import Logging
import Synchronization

/// Reads its tables (or the query) in turn, as Confluent's `JdbcSourceTask` does: each table is queried when
/// `poll.interval.ms` has passed since its last query ran dry; a query's rows go out `batch.max.rows` per poll,
/// each record carrying the offset after its row, so a restart resumes after the last row Kafka has.
///
/// A lost connection is logged and the query tried again after `connection.backoff.ms` (`query.retry.attempts`
/// times; -1, the default, for ever); any other SQL error (a missing column, a syntax error in `query`) fails the
/// task with the database's message.
public final class JdbcSourceTask: SourceTask {
    private var config: JdbcSourceConfig!
    private var dialect: (any DatabaseDialect)!
    private var session: (any SqlSession)?
    private var context: (any SourceTaskContext)?
    private var queriers: [TableQuerier] = []
    private var failedAttempts = 0
    private let stopping = Atomic<Bool>(false)
    private let logger = Logger(label: "io.confluent.connect.jdbc.source.JdbcSourceTask")

    public init() {}

    public func initialize(_ context: any SourceTaskContext) { self.context = context }

    public func start(_ props: [String: String]) throws {
        config = try JdbcSourceConfig(props)
        dialect = config.dialect
        logger.info("Starting JDBC source task")
        let session = try Self.connect(config, logger: logger)
        self.session = session
        let reader = context?.offsetStorageReader
        if !config.query.isEmpty {
            let partition: OffsetMap = ["query": .string("query")]
            queriers = [
                try TableQuerier(
                    table: nil, partition: partition, topic: config.topicPrefix,
                    offset: try initialOffset(reader?.offset(for: partition), session), config: config,
                    incrementing: config.incrementingColumn)
            ]
        } else {
            guard !config.tables.isEmpty else {
                throw ConnectError.invalidConfig(JdbcSourceConfig.tablesKey, nil, "Invalid configuration: no tables")
            }
            for name in config.tables {
                let table = dialect.tableId(name)
                let names =
                    [table.catalog, table.schema, table.table].compactMap { $0 } + config.timestampColumns
                    + [config.incrementingColumn]
                if !config.quoteIdentifiers,
                    let bad = names.first(where: { !$0.isEmpty && !JdbcSinkTask.isPlainIdentifier($0) })
                {
                    // Unquoted, a name would be SQL.
                    throw ConnectError.invalidConfig(
                        "quote.sql.identifiers", "never",
                        "'\(bad)' is not a plain SQL identifier: it cannot be written unquoted")
                }
                // Protocol 1 keys the fully qualified name; protocol 0 (older releases) the table alone.
                let partition: OffsetMap = ["protocol": .string("1"), "table": .string(table.unquoted)]
                let stored = reader?.offset(for: partition) ?? reader?.offset(for: ["table": .string(table.table)])
                let incrementing = try incrementingColumn(table, session)
                try validateNonNull(table, incrementing: incrementing, session)
                queriers.append(
                    try TableQuerier(
                        table: table, partition: partition, topic: config.topicPrefix + table.table,
                        offset: try initialOffset(stored, session), config: config, incrementing: incrementing))
            }
        }
        logger.info("Started JDBC source task")
    }

    /// Opens a session, trying `connection.attempts` times `connection.backoff.ms` apart (Confluent's
    /// `CachedConnectionProvider`).
    static func connect(_ config: JdbcSourceConfig, logger: Logger) throws -> any SqlSession {
        var attempt = 1
        while true {
            do {
                return try config.dialect.openSession(config.url, user: config.user, password: config.password)
            } catch {
                logger.info(
                    "Unable to connect to database on attempt \(attempt)/\(config.connectionAttempts). Will retry in \(config.connectionBackoffMs) ms. \(error.description)"
                )
                guard attempt < config.connectionAttempts else {
                    throw ConnectError(
                        .connect,
                        "Failed to connect to \(config.url.host):\(config.url.port) after \(attempt) attempts",
                        cause: ConnectError(.io, error.description))
                }
                attempt += 1
                Thread.sleep(forTimeInterval: Double(config.connectionBackoffMs) / 1000)
            }
        }
    }

    /// The stored offset, else where the mode starts: incrementing after -1, timestamps after `timestamp.initial`
    /// (-1: the database's now) or the epoch.
    private func initialOffset(_ stored: OffsetMap?, _ session: any SqlSession) throws -> SourceOffset {
        if let stored { return SourceOffset(stored) }
        var offset = SourceOffset()
        if config.mode.usesIncrementing { offset.incrementing = -1 }
        if config.mode.usesTimestamp {
            if let initial = config.timestampInitial {
                offset.timestampMicros = initial == -1 ? try session.currentTimeMicros() : initial * 1000
            } else {
                offset.timestampMicros = 0
            }
        }
        return offset
    }

    private func incrementingColumn(_ table: TableId, _ session: any SqlSession) throws -> String {
        guard config.mode.usesIncrementing else { return "" }
        if !config.incrementingColumn.isEmpty { return config.incrementingColumn }
        guard let column = try session.autoIncrementColumn(of: table) else {
            throw ConnectError(
                .connect,
                "Cannot make incremental queries on \(table.unquoted): it has no auto-increment column and incrementing.column.name is not set"
            )
        }
        return column
    }

    /// Confluent's `validate.non.null`: incrementing and timestamp columns must be NOT NULL, or rows would be
    /// skipped silently.
    private func validateNonNull(_ table: TableId, incrementing: String, _ session: any SqlSession) throws {
        guard config.validateNonNull, config.mode != .bulk else { return }
        let nullable = try session.nullability(of: table)
        if !incrementing.isEmpty {
            guard let isNullable = nullable[incrementing] else {
                throw ConnectError(.connect, "Incrementing column \(incrementing) not found in \(table.unquoted)")
            }
            if isNullable {
                throw ConnectError(
                    .connect,
                    "Cannot make incremental queries using incrementing column \(incrementing) on \(table.unquoted) because this column is nullable."
                )
            }
        }
        if config.mode.usesTimestamp, config.timestampColumns.allSatisfy({ nullable[$0] ?? true }) {
            throw ConnectError(
                .connect,
                "Cannot make incremental queries using timestamp columns \(config.timestampColumns.joined(separator: ",")) on \(table.unquoted) because all of these columns are nullable."
            )
        }
    }

    public func poll() throws -> [SourceRecord]? {
        guard !stopping.load(ordering: .relaxed) else {
            // Closed on the task's own thread, once stop() was asked.
            session = nil
            return nil
        }
        guard !queriers.isEmpty else { return nil }
        let now = ContinuousClock.now
        // The querier due first (Confluent's priority queue by next update time).
        let index = queriers.indices.min { queriers[$0].nextRun < queriers[$1].nextRun }!
        if queriers[index].nextRun > now {
            // Short sleeps, so a stop is not held up.
            Thread.sleep(forTimeInterval: min(0.1, Double((queriers[index].nextRun - now).inMilliseconds) / 1000))
            return nil
        }
        do {
            let session = try self.session ?? Self.connect(config, logger: logger)
            self.session = session
            let records = try queriers[index].next(session, dialect: dialect, config: config, logger: logger)
            failedAttempts = 0
            return records.isEmpty ? nil : records
        } catch let failure as SQLFailure where failure.isTransient {
            session = nil
            queriers[index].reset(after: config.connectionBackoffMs)
            failedAttempts += 1
            let name = queriers[index].name
            logger.error(
                "SQL exception while running query for table: \(name), \(failure.description). Attempting retry \(failedAttempts) of \(config.queryRetryAttempts < 0 ? "unlimited" : String(config.queryRetryAttempts)) attempts."
            )
            if config.queryRetryAttempts >= 0 && failedAttempts > config.queryRetryAttempts {
                throw ConnectError(
                    .connect, "Failed to query table \(name) after \(failedAttempts) attempts",
                    cause: ConnectError(.io, failure.description))
            }
            return nil
        } catch let failure as SQLFailure {
            throw ConnectError(
                .connect, "Failed to run query for table \(queriers[index].name)",
                cause: ConnectError(.io, failure.description))
        }
    }

    public func stop() throws {
        stopping.store(true, ordering: .relaxed)
        logger.info("Stopping JDBC source task")
    }
}

/// Confluent's `TimestampIncrementingOffset`: the incrementing value and the timestamp (milliseconds and the
/// nanoseconds of that second, as `java.sql.Timestamp` keeps them) of the last row sent.
struct SourceOffset: Equatable, Sendable {
    var incrementing: Int64?
    var timestampMicros: Int64?

    init() {}

    /// From a stored offset map; numbers of any integer kind are read.
    init(_ map: OffsetMap) {
        func int(_ v: Value?) -> Int64? {
            switch v {
            case .int64(let i): return i
            case .int32(let i): return Int64(i)
            case .int16(let i): return Int64(i)
            case .int8(let i): return Int64(i)
            case .float64(let d): return Int64(exactly: d)
            case .string(let s): return Int64(s)
            default: return nil
            }
        }
        incrementing = int(map["incrementing"])
        if let ms = int(map["timestamp"]) {
            // timestamp_nanos holds the whole fraction of the second; microseconds are kept.
            let nanos = int(map["timestamp_nanos"]).map { $0 % 1_000_000_000 }
            let seconds = Temporal.floorDiv(ms, 1000)
            timestampMicros = nanos.map { seconds * 1_000_000 + $0 / 1000 } ?? ms * 1000
        }
    }

    /// `{"incrementing": N}`, `{"timestamp": ms, "timestamp_nanos": n}` or both; nil in bulk mode.
    var map: OffsetMap? {
        var out: OffsetMap = [:]
        if let incrementing { out["incrementing"] = .int64(incrementing) }
        if let micros = timestampMicros {
            out["timestamp"] = .int64(Temporal.floorDiv(micros, 1000))
            out["timestamp_nanos"] = .int32(Int32(Temporal.floorMod(micros, 1_000_000) * 1000))
        }
        return out.isEmpty ? nil : out
    }
}
