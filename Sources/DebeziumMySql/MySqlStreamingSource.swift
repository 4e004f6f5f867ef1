import ConnectAPI
import DebeziumCore
import Foundation
import Logging
import MariaDB

/// Reads the binlog as a replica from a position and turns row events of captured tables into change events
/// (`BinlogStreamingChangeEventSource`).
///
/// Each record's offset names the start of its transaction (`file`, `pos`) and how much of the transaction was
/// emitted with it (`event` rows events, then `row` rows of the next), so a restart reads the transaction again
/// and skips exactly what was delivered. Table structures come from the server's catalog and are read again after
/// DDL; a rows event whose column count no longer matches the catalog fails the task, naming the table.
final class MySqlStreamingSource {
    private let config: MySqlConnectorConfig
    private let builder: ChangeEventBuilder
    private let source: MySqlSourceInfo
    private let logger: Logger
    private var client: BinlogClient?
    private var catalog: MariaDBConnection?
    /// Where the next (re)connect starts and what it skips: the last returned record's offset, or the start.
    private var resume: MySqlOffset
    private var failedConnects = 0

    // Stream state.
    private var file = ""
    private var transactionStart: UInt64 = 0
    private var gtid: String?
    private var gtids: String?
    private var rowsEventIndex = 0
    private var thread: Int64?
    private var query: String?
    private var tableMaps: [UInt64: TableMapEvent] = [:]
    /// Tables built for the last table map of each table.
    private var tables: [TableId: (map: TableMapEvent, table: MySqlTable)] = [:]
    /// Table structures as of the stream's position: from the schema history or the snapshot, then after each DDL
    /// from the catalog.
    private var known: [TableId: [MySqlColumn]]
    private let history: KafkaSchemaHistory?
    private let schemaEvents: MySqlSchemaChangeEvents
    /// Debezium's streaming metrics: connection, transactions, filtered changes.
    var metrics: DebeziumConnectorMetrics?
    /// The binlog file and position of the last event read (`BinlogFilename`, `BinlogPosition`).
    private(set) var position: (file: String, position: UInt64) = ("", 0)

    init(
        config: MySqlConnectorConfig, builder: ChangeEventBuilder, source: MySqlSourceInfo, start: MySqlOffset,
        known: [TableId: [MySqlColumn]], history: KafkaSchemaHistory?, schemaEvents: MySqlSchemaChangeEvents,
        logger: Logger
    ) {
        self.known = known
        self.history = history
        self.schemaEvents = schemaEvents
        self.config = config
        self.builder = builder
        self.source = source
        self.logger = logger
        resume = start
    }

    private func connection() throws(MariaDBError) -> MariaDBConnection {
        try MariaDBConnection(
            host: config.hostname, port: config.port, user: config.user, password: config.password,
            connectTimeout: config.connectTimeoutSeconds, readTimeout: 60)
    }

    private func connect() throws(ConnectError) {
        do {
            let heartbeat = min(5, max(0.1, Double(config.pollIntervalMs) / 1000))
            client = try BinlogClient(
                connection: try connection(), serverId: config.serverId,
                start: .position(file: resume.file, position: resume.position), heartbeatSeconds: heartbeat)
            file = resume.file
            transactionStart = resume.position
            position = (resume.file, resume.position)
            // The position the stream starts from, until the first event moves it (Debezium shows it on connect).
            metrics?.logPosition(file: resume.file, position: resume.position)
            metrics?.connected(true)
            gtids = resume.gtids
            rowsEventIndex = 0
            tableMaps = [:]
            failedConnects = 0
            let skipping =
                resume.event > 0 || resume.row > 0
                ? ", skipping \(resume.event) rows events and \(resume.row) rows already delivered" : ""
            logger.info(
                "Reading the binlog from \(resume.file):\(resume.position) as replica \(config.serverId)\(skipping)")
        } catch {
            throw failure("Failed to read the binlog from \(resume.file):\(resume.position): \(error.message)", error)
        }
    }

    /// A ConnectError for a server error: retriable for a lost or refused connection, after a pause.
    private func failure(_ message: String, _ error: MariaDBError) -> ConnectError {
        client = nil
        catalog = nil
        metrics?.connected(false)
        guard error.isConnectionError else { return ConnectError(.debezium, message, cause: error) }
        failedConnects += 1
        Thread.sleep(forTimeInterval: min(10, 0.5 * Double(failedConnects)))
        return ConnectError(.debeziumRetriable, message, cause: error)
    }

    func close() {
        client = nil
        catalog = nil
        metrics?.closed()
    }

    private var lastLagCheck: ContinuousClock.Instant?
    private var lastBytesBehind: Int64?

    /// Binlog bytes written after the last event read: the rest of its file and every later file (`SHOW BINARY
    /// LOGS`), asked of the server at most every five seconds; nil before the first read or when the server does
    /// not answer.
    func bytesBehind() -> Int64? {
        // Not while the stream is down (the query would wait on the same lost server), nor for a user the server
        // does not let list its binlogs.
        guard !position.file.isEmpty, client != nil, !binlogListRefused else { return nil }
        if let last = lastLagCheck, ContinuousClock.now - last < .seconds(5) { return lastBytesBehind }
        lastLagCheck = ContinuousClock.now
        do {
            if catalog == nil { catalog = try connection() }
            let logs = try catalog!.query("SHOW BINARY LOGS").strings.compactMap { row -> (String, Int64)? in
                guard row.count >= 2, let name = row[0], let size = row[1].flatMap({ Int64($0) }) else { return nil }
                return (name, size)
            }
            guard let current = logs.firstIndex(where: { $0.0 == position.file }) else {
                lastBytesBehind = nil
                return nil
            }
            var behind = max(0, logs[current].1 - Int64(position.position))
            for log in logs[(current + 1)...] { behind += log.1 }
            lastBytesBehind = behind
        } catch {
            catalog = nil
            lastBytesBehind = nil
            if error.code == 1227 || error.code == 1044 {
                binlogListRefused = true
                logger.warning(
                    "Cannot list the binlog files for the bytes behind the server (\(error.message)): grant the user BINLOG MONITOR (MariaDB) or REPLICATION CLIENT (MySQL) to get swift_connect_source_task_behind_source_bytes"
                )
            }
        }
        return lastBytesBehind
    }
    private var binlogListRefused = false

    /// Reads events for up to `timeoutMs`, returning once a transaction ends with a batch of `max` ready, or the time
    /// is up; a heartbeat from the idle server ends a poll that has records.
    func poll(max: Int, timeoutMs: Int64) throws(ConnectError) -> [SourceRecord] {
        if client == nil { try connect() }
        guard let client else { return [] }
        var out: [SourceRecord] = []
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(timeoutMs))
        do {
            while ContinuousClock.now < deadline {
                let bytes = try client.next()
                guard !bytes.isEmpty else { continue }
                let (header, event) = try BinlogEvent.parse(bytes, checksumSize: client.checksumSize)
                if header.nextPosition > 0 {
                    position = (file, UInt64(header.nextPosition))
                    metrics?.logPosition(file: file, position: UInt64(header.nextPosition))
                }
                let ended = try handle(header, event, into: &out)
                if case .heartbeat = event, !out.isEmpty { break }
                if ended && out.count >= max { break }
            }
        } catch let e as MariaDBError {
            // The batch is dropped: it is read again after the reconnect, from the last returned record.
            throw failure("The binlog stream from \(config.hostname):\(config.port) was lost: \(e.message)", e)
        } catch let e as BinlogError {
            throw ConnectError(.debezium, "Cannot read binlog event at \(file):\(transactionStart): \(e)")
        } catch let e as ConnectError {
            throw e
        } catch {
            throw ConnectError.wrap(error)
        }
        if out.isEmpty, let beat = heartbeat() { out.append(beat) }
        if let last = out.last?.sourceOffset, let offset = MySqlOffset(last) { resume = offset }
        return out
    }

    private var inTransaction = false
    /// Whether the current transaction changed a captured table (Debezium counts only those as committed).
    private var emittedInTransaction = false
    private var lastHeartbeat = ContinuousClock.now

    /// With `heartbeat.interval.ms`, a heartbeat record (`__debezium-heartbeat.<prefix>`, key
    /// `io.debezium.connector.common.ServerNameKey`, value `io.debezium.connector.common.Heartbeat`) between
    /// transactions when the interval passed: its offset moves the committed position on while only tables the
    /// connector does not capture change, so the binlogs it would restart from are not ones the server purged.
    private func heartbeat() -> SourceRecord? {
        guard config.heartbeatIntervalMs > 0, !inTransaction, !file.isEmpty,
            ContinuousClock.now - lastHeartbeat >= .milliseconds(config.heartbeatIntervalMs)
        else { return nil }
        lastHeartbeat = ContinuousClock.now
        var offset = MySqlOffset(file: file, position: transactionStart)
        offset.gtids = gtids
        offset.tsSeconds = ChangeEventBuilder.nowMicros() / 1_000_000
        var key = Struct(schema: Self.heartbeatKey)
        try? key.put("serverName", .string(config.serverName))
        var value = Struct(schema: Self.heartbeatValue)
        try? value.put("ts_ms", .int64(ChangeEventBuilder.nowMicros() / 1000))
        return SourceRecord(
            sourcePartition: builder.partition, sourceOffset: offset.map,
            topic: "\(config.heartbeatTopicPrefix).\(config.serverName)", keySchema: Self.heartbeatKey,
            key: .struct(key), valueSchema: Self.heartbeatValue, value: .struct(value))
    }

    static let heartbeatKey = SchemaBuilder.struct().name("io.debezium.connector.common.ServerNameKey")
        .field("serverName", .string).build()
    static let heartbeatValue = SchemaBuilder.struct().name("io.debezium.connector.common.Heartbeat")
        .field("ts_ms", .int64).build()

    /// Acts on one event; returns true at the end of a transaction.
    private func handle(
        _ header: BinlogEventHeader, _ event: BinlogEvent, into out: inout [SourceRecord]
    ) throws
        -> Bool
    {
        let start = UInt64(header.nextPosition) &- UInt64(header.eventLength)
        switch event {
        case .rotate(let f, _):
            file = f
            return false
        case .gtid(let g, let standalone):
            beginTransaction(at: start)
            gtid = g
            gtids = g
            if standalone { thread = nil }
            return false
        case .query(let threadId, let database, let sql, _):
            thread = Int64(threadId)
            let statement = sql.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
            if statement == "BEGIN" {
                if gtid == nil { beginTransaction(at: start) }
                return false
            }
            if statement == "COMMIT" {
                if emittedInTransaction { metrics?.transactionCommitted(id: gtid) }
                endTransaction(next: UInt64(header.nextPosition))
                return true
            }
            // DDL (or a statement-based change): table structures may have changed.
            let verb = statement.prefix { !$0.isWhitespace }
            if ["INSERT", "UPDATE", "DELETE", "REPLACE"].contains(verb) {
                // A change written as a statement (binlog_format STATEMENT or MIXED in that session) has no rows.
                logger.warning(
                    "Encountered change event for a statement in '\(database)' at \(file):\(start): the binlog probably contains events generated with statement or mixed based replication format; the change is not captured. Set binlog_format=ROW globally and restart the clients that still use another format: \(sql.prefix(200))"
                )
                endTransaction(next: UInt64(header.nextPosition))
                return true
            }
            if let table = Self.truncated(sql, database: database) {
                try truncate(table, header: header, into: &out)
            } else {
                try schemaChanged(header, database: database, sql: sql, into: &out)
            }
            endTransaction(next: UInt64(header.nextPosition))
            return true
        case .xid:
            if emittedInTransaction { metrics?.transactionCommitted(id: gtid) }
            endTransaction(next: UInt64(header.nextPosition))
            return true
        case .tableMap(let map):
            tableMaps[map.tableId] = map
            return false
        case .rowsQuery(let sql):
            query = sql
            return false
        case .rows(let rows):
            defer { rowsEventIndex += 1 }
            try emit(rows, header: header, start: start, into: &out)
            return false
        case .formatDescription, .heartbeat, .other:
            return false
        }
    }

    private func beginTransaction(at position: UInt64) {
        inTransaction = true
        emittedInTransaction = false
        transactionStart = position
        thread = nil
        rowsEventIndex = 0
        query = nil
    }

    private func endTransaction(next: UInt64) {
        // A restart position is the start of a transaction: once this one is done, the next one's start.
        inTransaction = false
        emittedInTransaction = false
        transactionStart = next
        rowsEventIndex = 0
        gtid = nil
        query = nil
    }

    /// Reads the captured tables' structures again after a DDL statement; tables that appeared, changed or went
    /// away are written to the schema history and, with `include.schema.changes`, to the schema change topic, with
    /// the offset after the statement.
    private func schemaChanged(
        _ header: BinlogEventHeader, database: String, sql: String, into out: inout [SourceRecord]
    ) throws {
        let lower = sql.lowercased()
        guard ["create", "alter", "drop", "rename", "truncate"].contains(where: { lower.contains($0) }) else { return }
        tables = [:]
        if catalog == nil { catalog = try connection() }
        var now: [TableId: [MySqlColumn]] = [:]
        for id in try MySqlCatalog.tables(catalog!) where config.filter.captures(id) {
            now[id] = try MySqlCatalog.columns(catalog!, id)
        }
        var changes: [MySqlTableChange] = []
        for (id, columns) in now.sorted(by: { $0.key < $1.key }) where known[id] != columns {
            changes.append(MySqlTableChange(kind: known[id] == nil ? .create : .alter, id: id, columns: columns))
        }
        for id in known.keys.sorted() where now[id] == nil {
            changes.append(MySqlTableChange(kind: .drop, id: id, columns: []))
        }
        known = now
        guard !changes.isEmpty else { return }
        logger.info(
            "Schema change in '\(database)': \(changes.map { "\($0.kind.rawValue) \($0.id)" }.joined(separator: ", "))")
        var offset = MySqlOffset(file: file, position: UInt64(header.nextPosition))
        offset.gtids = gtids
        offset.tsSeconds = Int64(header.timestamp)
        offset.serverId = Int64(header.serverId)
        let db = changes.first?.id.schema ?? database
        try history?.record(database: db, ddl: sql, changes: changes, position: offset.map)
        guard config.includeSchemaChanges else { return }
        let s = try source.value(
            serverName: config.serverName, database: db, table: changes.first?.id.table,
            changeMicros: Int64(header.timestamp) * 1_000_000, snapshot: nil, serverId: Int64(header.serverId),
            gtid: gtid, file: file, pos: UInt64(header.nextPosition) &- UInt64(header.eventLength), row: 0,
            thread: thread, query: nil)
        out.append(try schemaEvents.record(database: db, ddl: sql, changes: changes, source: s, offset: offset.map))
    }

    /// The table a `TRUNCATE [TABLE] [db.]name` statement empties, nil for any other statement.
    static func truncated(_ sql: String, database: String) -> TableId? {
        var words = sql.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard words.first?.uppercased() == "TRUNCATE" else { return nil }
        words.removeFirst()
        if words.first?.uppercased() == "TABLE" { words.removeFirst() }
        guard let name = words.first, words.count == 1 else { return nil }
        let parts = name.split(separator: ".", maxSplits: 1).map { $0.trimmingCharacters(in: ["`"]) }
        return parts.count == 2
            ? TableId(schema: parts[0], table: parts[1]) : TableId(schema: database, table: parts[0])
    }

    /// A truncate event (`op` `t`, no key, no rows) for a captured table, unless `skipped.operations` holds `t`
    /// (its default), with the offset after the statement.
    private func truncate(_ id: TableId, header: BinlogEventHeader, into out: inout [SourceRecord]) throws {
        guard !config.skipped.contains("t"), config.filter.captures(id) else { return }
        let columns: [MySqlColumn]
        if let k = known[id] {
            columns = k
        } else {
            if catalog == nil { catalog = try connection() }
            columns = try MySqlCatalog.columns(catalog!, id)
        }
        let table = MySqlTable(id: id, columns: columns, config: config, sourceSchema: source.schema)
        var offset = MySqlOffset(file: file, position: UInt64(header.nextPosition))
        offset.gtids = gtids
        offset.tsSeconds = Int64(header.timestamp)
        offset.serverId = Int64(header.serverId)
        let s = try source.value(
            serverName: config.serverName, database: id.schema, table: id.table,
            changeMicros: Int64(header.timestamp) * 1_000_000, snapshot: nil, serverId: Int64(header.serverId),
            gtid: gtid, file: file, pos: UInt64(header.nextPosition) &- UInt64(header.eventLength), row: 0,
            thread: thread, query: config.includeQuery ? "TRUNCATE TABLE \(id)" : nil)
        out.append(try builder.truncate(table: table, source: s, offset: offset.map))
    }

    /// The table of a rows event, nil when it is not captured.
    private func table(_ map: TableMapEvent, columnCount: Int) throws -> MySqlTable? {
        let id = TableId(schema: map.database, table: map.table)
        guard config.filter.captures(id) else { return nil }
        if let cached = tables[id], cached.map == map { return cached.table }
        var columns = try structure(of: id, for: map, reload: false)
        if columns == nil { columns = try structure(of: id, for: map, reload: true) }
        guard let columns else {
            throw ConnectError(
                .debezium,
                "The binlog's rows event for \(id) has \(columnCount) columns of types \(map.types) that do not match the table's known structure: its structure changed after the change was written. Set binlog_row_metadata=FULL on the server (the binlog then names the columns) and restart with snapshot.mode=always"
            )
        }
        let t = MySqlTable(id: id, columns: columns, config: config, sourceSchema: source.schema)
        tables[id] = (map, t)
        return t
    }

    /// The columns a rows event of `map` was written with: matched by name when the binlog names them
    /// (`binlog_row_metadata=FULL`), by position and type otherwise; nil when the known structure (the schema
    /// history's or, with `reload`, the catalog's now) does not fit.
    private func structure(of id: TableId, for map: TableMapEvent, reload: Bool) throws -> [MySqlColumn]? {
        var candidates = known[id] ?? []
        if reload || known[id] == nil {
            if catalog == nil { catalog = try connection() }
            let now = try MySqlCatalog.columns(catalog!, id)
            // By name, a column the history knows comes first (it is as of the stream's position), then the
            // catalog's (a column added since); by position, only the catalog's.
            candidates = map.columnNames.isEmpty ? now : candidates + now
        }
        if !map.columnNames.isEmpty {
            guard map.columnNames.count == map.types.count else { return nil }
            var out: [MySqlColumn] = []
            var unknown = 0
            for (i, name) in map.columnNames.enumerated() {
                if let c = candidates.first(where: {
                    $0.name == name && MySqlTable.binlogType($0) == MySqlTable.realType(map, i)
                }) {
                    out.append(c)
                } else {
                    unknown += 1
                    out.append(MySqlTable.synthesized(map, i))
                }
            }
            // The catalog is read once more before a column is described by the binlog alone.
            return unknown > 0 && !reload ? nil : out
        }
        guard candidates.count == map.types.count,
            candidates.indices.allSatisfy({ MySqlTable.binlogType(candidates[$0]) == MySqlTable.realType(map, $0) })
        else { return nil }
        return candidates
    }

    private func emit(
        _ rows: RowsEvent, header: BinlogEventHeader, start: UInt64, into out: inout [SourceRecord]
    )
        throws
    {
        guard let map = tableMaps[rows.tableId] else {
            throw ConnectError(
                .debezium, "Rows event at \(file):\(start) for table id \(rows.tableId) has no table map")
        }
        guard let table = try table(map, columnCount: rows.columnCount) else {
            metrics?.filtered()
            return
        }
        emittedInTransaction = true
        // A restart within this transaction skips what was delivered before it.
        let replaying = file == resume.file && transactionStart == resume.position
        if replaying && rowsEventIndex < resume.event { return }
        let skipRows = replaying && rowsEventIndex == resume.event ? resume.row : 0
        let images = try rows.rows(table: map, unsigned: table.unsigned)
        let step = rows.kind == .update ? 2 : 1
        let count = images.count / step
        let micros = Int64(header.timestamp) * 1_000_000
        for i in 0..<count where i >= skipRows {
            var offset = MySqlOffset(file: file, position: transactionStart)
            offset.event = rowsEventIndex
            offset.gtids = gtids
            offset.tsSeconds = Int64(header.timestamp)
            offset.serverId = Int64(header.serverId)
            let s = try source.value(
                serverName: config.serverName, database: table.id.schema, table: table.id.table, changeMicros: micros,
                snapshot: nil,
                serverId: Int64(header.serverId), gtid: gtid, file: file, pos: start, row: i, thread: thread,
                query: config.includeQuery ? query : nil)
            var records: [SourceRecord] = []
            switch rows.kind {
            case .write:
                guard !config.skipped.contains("c") else { continue }
                records = [
                    try builder.event(
                        .create, table: table, key: try table.key(images[i]), before: nil,
                        after: try table.row(images[i]), source: s, offset: [:])
                ]
            case .delete:
                guard !config.skipped.contains("d") else { continue }
                records = try builder.delete(
                    table: table, key: try table.key(images[i]), before: try table.row(images[i]), source: s,
                    offset: [:])
            case .update:
                guard !config.skipped.contains("u") else { continue }
                let (old, new) = (images[2 * i], images[2 * i + 1])
                let oldKey = try table.key(old)
                let newKey = try table.key(new)
                if let oldKey, oldKey != newKey {
                    // The primary key changed: a delete of the old key and a create of the new one, linked by
                    // Debezium's `__debezium.newkey` / `__debezium.oldkey` headers.
                    var deleteHeaders = Headers()
                    deleteHeaders.add("__debezium.newkey", schema: table.keySchema, value: newKey.map(Value.struct))
                    records = try builder.delete(
                        table: table, key: oldKey, before: try table.row(old), source: s, offset: [:],
                        headers: deleteHeaders)
                    var createHeaders = Headers()
                    createHeaders.add("__debezium.oldkey", schema: table.keySchema, value: .struct(oldKey))
                    records.append(
                        try builder.event(
                            .create, table: table, key: newKey, before: nil, after: try table.row(new), source: s,
                            offset: [:], headers: createHeaders))
                } else {
                    records = [
                        try builder.event(
                            .update, table: table, key: newKey, before: try table.row(old),
                            after: try table.row(new), source: s, offset: [:])
                    ]
                }
            }
            // Only the row's last record says the row is done: a restart after an earlier one emits the row again.
            for (n, var r) in records.enumerated() {
                offset.row = n == records.count - 1 ? i + 1 : i
                r.sourceOffset = offset.map
                out.append(r)
            }
        }
    }
}
