import ConnectAPI
import Foundation
import Logging

/// `io.confluent.connect.jdbc.JdbcSinkConnector`: writes records to PostgreSQL, MySQL or MariaDB tables, as
/// Confluent's JDBC sink does (`insert.mode`, `pk.mode`, `auto.create`, `auto.evolve`, `delete.enabled`), with
/// libpq and libmariadb in place of JDBC drivers.
public final class JdbcSinkConnector: SinkConnector {
    public static let className = "io.confluent.connect.jdbc.JdbcSinkConnector"
    /// The Confluent release whose keys and behaviour this follows.
    public static var version: String? { "10.8.0" }
    public static var configDef: ConfigDef { JdbcSinkConfig.configDef }

    private var props: [String: String] = [:]

    public init() {}

    public var taskType: any Task.Type { JdbcSinkTask.self }

    public func start(_ props: [String: String]) throws {
        _ = try JdbcSinkConfig(props)
        self.props = props
    }

    public func taskConfigs(maxTasks: Int) throws -> [[String: String]] {
        Array(repeating: props, count: max(1, maxTasks))
    }

    public func stop() throws {}

    /// The cross-key rules (`delete.enabled` needs `pk.mode=record_key`, the URL's form), under their keys.
    public func validate(_ props: [String: String]) -> [String: [String]] {
        guard (try? JdbcSinkConfig.configDef.parse(props)) != nil else { return [:] }
        do { _ = try JdbcSinkConfig(props) } catch {
            return [error.configKey ?? "connection.url": [error.message]]
        }
        return [:]
    }

    /// A sink keeps its position in the consumer group only.
    public func alterOffsets(
        _ config: [String: String], _ offsets: [(partition: OffsetMap, offset: OffsetMap?)]
    ) throws -> Bool { true }
}

/// Writes each `put` in one transaction: consecutive records of one table and kind become one multi-row statement
/// of up to `batch.size` rows, each key at most once (Confluent's `BufferedRecords` flushes on the same changes). A lost connection is
/// retried `max.retries` times (the batch is redelivered); a statement the database refuses (a constraint, a type)
/// is not: with an errant record reporter (a dead letter queue or `errors.log.enable`) the batch is written again a
/// record at a time and each refused record is reported, else the task fails with the database's message.
public final class JdbcSinkTask: SinkTask {
    private var config: JdbcSinkConfig!
    private var dialect: (any DatabaseDialect)!
    private var session: (any SqlSession)?
    private var context: (any SinkTaskContext)?
    private var retriesLeft = 0
    /// Columns of the tables written so far, as the database has them.
    private var tables: [TableId: Set<String>] = [:]
    /// Positions in the current write's batch of the records reported before any statement ran (a row that cannot be
    /// built, a name that cannot be written).
    private var reportedInWrite: Set<Int> = []
    private var metrics: SinkWriterMetrics?
    /// When the batch being written was first put: a redelivery after a retriable failure keeps it.
    private var batchStarted: ContinuousClock.Instant?
    private let logger = Logger(label: "io.confluent.connect.jdbc.sink.JdbcSinkTask")

    public init() {}

    public func initialize(_ context: any SinkTaskContext) { self.context = context }

    public func start(_ props: [String: String]) throws {
        config = try JdbcSinkConfig(props)
        dialect = config.dialect
        retriesLeft = config.maxRetries
        metrics = SinkWriterMetrics(server: context?.mbeanServer)
        logger.info("Starting JDBC Sink task: \(dialect.name) on \(config.url.host):\(config.url.port)")
    }

    public func stop() throws { session = nil }

    public func put(_ records: [SinkRecord]) throws {
        guard !records.isEmpty else { return }
        let began = batchStarted ?? ContinuousClock.now
        batchStarted = began
        do {
            do {
                try write(records)
                metrics?.written(records.count - reportedInWrite.count, duration: ContinuousClock.now - began)
            } catch let failure as SQLFailure where failure.isDataError {
                guard let reporter = context?.errantRecordReporter else {
                    metrics?.failed(records.count, reason: failure.reason)
                    throw ConnectError(
                        .connect, "Writing records failed", cause: ConnectError(.io, failure.description))
                }
                let written = try writeOneByOne(records, reporter)
                metrics?.written(written, duration: ContinuousClock.now - began)
            }
            retriesLeft = config.maxRetries
            batchStarted = nil
        } catch let failure as SQLFailure where failure.isTransient {
            if failure.isConnectionError {
                session = nil
                tables = [:]
            }
            guard retriesLeft > 0 else {
                metrics?.failed(records.count, reason: failure.reason)
                throw ConnectError(
                    .connect,
                    "Writing \(records.count) records failed and max.retries=\(config.maxRetries) tries were used up: the database at \(config.url.host):\(config.url.port) is unreachable",
                    cause: ConnectError(.io, failure.description))
            }
            retriesLeft -= 1
            metrics?.retried(reason: failure.reason)
            logger.warning(
                "Write of \(records.count) records failed, remainingRetries=\(retriesLeft): \(failure.description)")
            Thread.sleep(forTimeInterval: Double(min(config.retryBackoffMs, 10_000)) / 1000)
            throw ConnectError(.retriable, failure.description)
        } catch let failure as SQLFailure {
            // Not the data: the login, the database, a permission, the server's state. Retrying record by record
            // would only repeat it.
            metrics?.failed(records.count, reason: failure.reason)
            throw ConnectError(
                .connect, "Writing records failed", cause: ConnectError(.io, failure.description))
        } catch let error as ConnectError where error.kind != .retriable {
            // The destination table cannot take the records (missing, lacking fields, no name): counted as such.
            metrics?.failed(records.count - reportedInWrite.count, reason: "table")
            throw error
        }
    }

    /// The batch again, a record at a time but in one transaction, each record behind a savepoint: the records the
    /// database refuses are rolled back alone and reported once the rest is committed; those the conversion
    /// reported already are not written again. Any other failure rolls everything back and is thrown.
    /// - Returns: how many records were written.
    private func writeOneByOne(_ records: [SinkRecord], _ reporter: any ErrantRecordReporter) throws -> Int {
        let alreadyReported = reportedInWrite
        var single: [(record: SinkRecord, statements: [String])] = []
        for (i, record) in records.enumerated() where !alreadyReported.contains(i) {
            let statements = try statements(for: [record])
            if !statements.isEmpty { single.append((record, statements)) }
        }
        guard let session else { return 0 }
        var refused: [(SinkRecord, SQLFailure)] = []
        try inTransaction(session) {
            for (record, statements) in single {
                try session.execute("SAVEPOINT connect_record")
                do {
                    for s in statements { try session.execute(s) }
                    try session.execute("RELEASE SAVEPOINT connect_record")
                } catch let failure as SQLFailure where failure.isDataError {
                    try session.execute("ROLLBACK TO SAVEPOINT connect_record")
                    refused.append((record, failure))
                }
            }
        }
        for (record, failure) in refused {
            metrics?.failed(1, reason: failure.reason)
            try reporter.report(record, error: ConnectError(.io, failure.description))
        }
        return single.count - refused.count
    }

    private func inTransaction(_ session: any SqlSession, _ body: () throws -> Void) throws {
        try session.execute("BEGIN")
        do {
            try body()
            try session.execute("COMMIT")
        } catch {
            try? session.execute("ROLLBACK")
            throw error
        }
    }

    /// The rows of `records` in order, grouped into statements, in one transaction.
    private func write(_ records: [SinkRecord]) throws {
        let statements = try statements(for: records)
        guard !statements.isEmpty, let session else { return }
        try inTransaction(session) { for s in statements { try session.execute(s) } }
    }

    /// The statements that write `records` in order (consecutive rows of one table and kind in one statement);
    /// records that cannot become rows are reported here. Creates or alters tables as needed, outside any
    /// transaction.
    private func statements(for records: [SinkRecord]) throws -> [String] {
        let session = try self.session ?? dialect.openSession(config.url, user: config.user, password: config.password)
        self.session = session
        var statements: [String] = []
        reportedInWrite = []
        var run: (table: String, delete: Bool, columns: [String], rows: [[String]], keys: Int, seen: Set<[String]>)?
        func close() {
            guard let r = run else { return }
            statements.append(contentsOf: self.statements(r.table, r.delete, r.columns, r.keys, r.rows))
            run = nil
        }
        for (i, record) in records.enumerated() {
            let isDelete = record.value == nil && config.deleteEnabled
            let row: RecordRow
            let tableName = config.tableName(record.topic)
            guard !tableName.isEmpty else {
                throw ConnectError(
                    .connect,
                    "Destination table name for topic '\(record.topic)' is empty using the format string '\(config.tableNameFormat)'"
                )
            }
            let table = dialect.tableId(tableName, foldingUnquoted: !config.quoteIdentifiers)
            var literals: [String] = []
            do {
                // What this record alone decides (its fields, names and values) goes to the error handling.
                row = try RecordRow(record, config: config, isDelete: isDelete)
                if !config.quoteIdentifiers,
                    let bad =
                        ([table.catalog, table.schema, table.table].compactMap { $0 }
                        + (row.keyColumns + row.valueColumns).map(\.name)).first(where: { !Self.isPlainIdentifier($0) })
                {
                    // Unquoted, a name from the data would be SQL: only plain identifiers are written that way.
                    throw ConnectError(
                        .data,
                        "'\(bad)' is not a plain SQL identifier and quote.sql.identifiers=never: it cannot be written unquoted"
                    )
                }
                for (value, column) in zip(row.keyValues, row.keyColumns) {
                    literals.append(try dialect.literal(value, column.schema, session))
                }
                if !isDelete {
                    for (value, column) in zip(row.values, row.valueColumns) {
                        literals.append(try dialect.literal(value, column.schema, session))
                    }
                }
            } catch {
                metrics?.failed(1, reason: "invalid-record")
                guard let reporter = context?.errantRecordReporter else { throw error }
                try reporter.report(record, error: error)
                reportedInWrite.insert(i)
                continue
            }
            if !isDelete { try ensureTable(table, row, session) }
            let quoted = dialect.quote(table, always: config.quoteIdentifiers)
            let columns = (row.keyColumns + (isDelete ? [] : row.valueColumns)).map {
                dialect.quote($0.name, always: config.quoteIdentifiers)
            }
            // A key seen already in the statement starts a new one: PostgreSQL refuses to upsert one row twice in a
            // command, and the later change must win.
            let key = Array(literals.prefix(row.keyColumns.count))
            if let r = run, r.table == quoted, r.delete == isDelete, r.columns == columns,
                r.rows.count < config.batchSize, key.isEmpty || !r.seen.contains(key)
            {
                run!.rows.append(literals)
                run!.seen.insert(key)
            } else {
                close()
                run = (quoted, isDelete, columns, [literals], row.keyColumns.count, [key])
            }
        }
        close()
        return statements
    }

    /// Letters, digits, `_` and `$`, not starting with a digit.
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") }
    }

    private func statements(
        _ table: String, _ delete: Bool, _ columns: [String], _ keys: Int, _ rows: [[String]]
    )
        -> [String]
    {
        let keyNames = Array(columns.prefix(keys))
        let valueNames = Array(columns.dropFirst(keys))
        if delete { return [dialect.delete(table: table, keys: keyNames, rows: rows)] }
        switch config.insertMode {
        case .insert: return [dialect.insert(table: table, columns: columns, rows: rows)]
        case .upsert: return [dialect.upsert(table: table, keys: keyNames, columns: valueNames, rows: rows)]
        case .update: return rows.map { dialect.update(table: table, keys: keyNames, columns: valueNames, row: $0) }
        }
    }

    /// Creates the table (`auto.create`) or adds missing columns (`auto.evolve`), or fails naming what is missing.
    private func ensureTable(_ table: TableId, _ row: RecordRow, _ session: any SqlSession) throws {
        let fields = row.keyColumns + row.valueColumns
        if let known = tables[table], fields.allSatisfy({ known.contains($0.name) }) { return }
        let quoted = dialect.quote(table, always: config.quoteIdentifiers)
        let quote = { (f: (name: String, schema: Schema)) in
            (name: self.dialect.quote(f.name, always: self.config.quoteIdentifiers), schema: f.schema)
        }
        guard let existing = try session.columns(of: table) else {
            guard config.autoCreate else {
                throw ConnectError(.connect, "Table \(table) is missing and auto-creation is disabled")
            }
            let keys = row.keyColumns.map { dialect.quote($0.name, always: config.quoteIdentifiers) }
            let sql = try dialect.createTable(table: quoted, fields: fields.map(quote), keys: keys)
            logger.info("Creating table with sql: \(sql)")
            try session.execute(sql)
            tables[table] = Set(fields.map(\.name))
            return
        }
        // Confluent's `missingFields` also accepts a column that matches in lower case (unquoted names fold).
        let lower = Set(existing.map { $0.lowercased() })
        let missing = fields.filter { !existing.contains($0.name) && !lower.contains($0.name.lowercased()) }
        if missing.isEmpty {
            tables[table] = existing
            return
        }
        guard config.autoEvolve else {
            throw ConnectError(
                .connect,
                "Table \(table) is missing fields (\(missing.map(\.name).joined(separator: ", "))) and auto-evolution is disabled"
            )
        }
        for f in missing where !f.schema.isOptional && f.schema.defaultValue == nil {
            throw ConnectError(
                .connect,
                "Cannot ALTER TABLE \(table) to add missing field \(f.name), as the field is not optional and does not have a default value"
            )
        }
        let statements = try dialect.addColumns(table: quoted, fields: missing.map(quote))
        logger.info(
            "Amending table to add missing fields:\(missing.map(\.name)) maxRetries:\(config.maxRetries) with SQL: \(statements)"
        )
        for statement in statements { try session.execute(statement) }
        tables[table] = existing.union(missing.map(\.name))
    }
}
