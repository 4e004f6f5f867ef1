import ConnectAPI
import DebeziumCore
import Foundation
import Logging
import Postgres

/// Streams changes from the replication slot with pgoutput and turns them into change events
/// (`PostgresStreamingChangeEventSource`).
///
/// Delivery is at least once and exact across restarts: each record's offset holds its transaction's commit LSN
/// (`lsn_commit`), its own LSN (`lsn_proc`) and its place among the records of that LSN (`event`); transactions
/// arrive in commit order, so on a restart every record at or before the committed position is skipped. The server
/// is told an LSN is flushed (and may recycle the WAL before it) only once Connect committed the offsets of every
/// record before it.
final class PostgresStreamingSource {
    private let config: PostgresConnectorConfig
    private let builder: PostgresEventBuilder
    private var catalogConnection: PostgresConnection?
    private let logger: Logger
    private var repl: PostgresConnection?
    private var relations: [UInt32: PostgresTable?] = [:]
    /// The open transaction: xid, commit LSN, commit time (µs since the Unix epoch).
    private var transaction: (xid: UInt32, commit: LogSequenceNumber, time: Int64)?
    /// Records at or before this position were delivered already (by an earlier run, or returned by this one
    /// before a reconnect).
    private var resumeAfter: StreamPosition?
    /// The newest record `poll` returned.
    private var lastReturned: StreamPosition?
    /// The LSN of the last record built and its place at that LSN.
    private var lastEvent: (lsn: LogSequenceNumber, event: Int)?
    /// Transactions fully read (commit LSN, end LSN), oldest first, not yet confirmed to the server.
    private var completed: [(commit: LogSequenceNumber, end: LogSequenceNumber)] = []
    /// Whether Connect committed everything `poll` returned.
    private var allCommitted = true
    private var received = LogSequenceNumber.invalid
    private var keepaliveEnd = LogSequenceNumber.invalid
    private(set) var confirmed = LogSequenceNumber.invalid
    private var lastStatus = ContinuousClock.now
    private var failedConnects = 0
    /// No reconnect before this (a pause that grows with each failed connect, or `slot.retry.delay.ms`).
    private var reconnectAt: ContinuousClock.Instant?
    /// Reconnects refused because the slot was still active for another process.
    private var slotBusyTries = 0
    /// How long the connector has listened without hearing from the server (a change or a keepalive), for
    /// `wal.receiver.timeout.ms`: only time spent waiting on the stream counts, not a pause or a slow send.
    private var silentFor = Duration.zero
    /// `silentFor` when a keepalive was asked for; the server then has half the timeout to answer.
    private var keepaliveAskedAt: Duration?
    /// `wal.receiver.timeout.ms`, or by default 60 s on PostgreSQL 15 and later and never before: older servers send
    /// nothing, keepalives included, while they decode a long transaction of tables not published.
    private var receiverTimeoutMs: Int64 = 0
    /// The stream was declared lost for silence: the old walsender may hold the slot a while yet, so "slot active"
    /// on the reconnects that follow does not use up `slot.max.retries`.
    private var lostToSilence = false
    /// Events read from the stream (metrics).
    private(set) var eventsSeen = 0
    private(set) var committedTransactions = 0
    /// Debezium's streaming metrics: connection, transactions, filtered changes.
    var metrics: DebeziumConnectorMetrics?
    /// Whether the current transaction changed a captured table.
    private var capturedInTransaction = false
    /// Slots no client reads, noted with the WAL lag (`bytesBehind`).
    var health: ReplicationHealth?
    /// When the newest change read was committed in the database (µs since the epoch), for the lag.
    private(set) var lastChangeMicros: Int64?

    init(config: PostgresConnectorConfig, builder: PostgresEventBuilder, resumeAfter: PostgresOffset?, logger: Logger) {
        self.config = config
        self.builder = builder
        self.logger = logger
        self.resumeAfter = resumeAfter?.position
    }

    /// Opens the replication connection and starts streaming from the slot's confirmed position. A connection
    /// error is retriable (after a pause that grows with each failure, up to 10 s); so is a slot still active for
    /// another process (the walsender of a lost connection that has not noticed yet), `slot.max.retries` times
    /// `slot.retry.delay.ms` apart, as Debezium retries it; any other error fails the task.
    func connect() throws(ConnectError) {
        do {
            var params = config.connection
            params["replication"] = "database"
            let c = try PostgresConnection(parameters: params)
            let slot = c.quoteIdentifier(config.slotName)
            // pgoutput reads the list as identifiers: quoted, so the name keeps its case.
            let publication = c.quoteIdentifier(config.publicationName).replacingOccurrences(of: "'", with: "''")
            try c.startCopyBoth(
                "START_REPLICATION SLOT \(slot) LOGICAL 0/0 (\"proto_version\" '1', \"publication_names\" '\(publication)')"
            )
            repl = c
            relations = [:]
            transaction = nil
            lastEvent = nil
            failedConnects = 0
            slotBusyTries = 0
            reconnectAt = nil
            silentFor = .zero
            keepaliveAskedAt = nil
            lostToSilence = false
            receiverTimeoutMs = config.receiverTimeoutMs ?? (c.serverVersion >= 150000 ? 60000 : 0)
            metrics?.connected(true)
            // What this run returned is not returned again.
            if let lastReturned, resumeAfter.map({ lastReturned > $0 }) ?? true { resumeAfter = lastReturned }
            logger.info("Streaming changes from replication slot '\(config.slotName)' of \(builder.database)")
        } catch  where error.sqlState == "55006" {
            repl = nil
            metrics?.connected(false)
            if !lostToSilence { slotBusyTries += 1 }
            guard slotBusyTries <= config.slotMaxRetries else {
                throw ConnectError(
                    .debezium,
                    "Failed to start replication stream from slot '\(config.slotName)': it stayed active for another process through slot.max.retries=\(config.slotMaxRetries) attempts; another connector with the same slot.name holds it, or the server still serves a connection that is gone",
                    cause: error)
            }
            reconnectAt = ContinuousClock.now.advanced(by: .milliseconds(config.slotRetryDelayMs))
            throw ConnectError(
                .debeziumRetriable,
                "Replication slot '\(config.slotName)' is still active for another process; trying again in \(config.slotRetryDelayMs) ms (attempt \(slotBusyTries) of \(config.slotMaxRetries))",
                cause: error)
        } catch {
            throw failure("Failed to start replication stream from slot '\(config.slotName)'", error)
        }
    }

    /// A ConnectError for a PostgreSQL error: retriable for a lost or refused connection, reconnecting after a
    /// pause.
    private func failure(_ message: String, _ error: PostgresError) -> ConnectError {
        repl = nil
        metrics?.connected(false)
        guard error.isConnectionError else { return ConnectError(.debezium, message, cause: error) }
        failedConnects += 1
        reconnectAt = ContinuousClock.now.advanced(by: .milliseconds(min(10_000, 500 * failedConnects)))
        return ConnectError(.debeziumRetriable, message, cause: error)
    }

    /// Called while the task is paused: the server hears from the connector as `status.update.interval.ms` says,
    /// so its `wal_sender_timeout` does not end the stream. Nothing is read meanwhile, so no silence is counted.
    func whilePaused() {
        guard repl != nil else { return }
        do { try sendStatus(force: false) } catch {
            _ = failure("The replication stream from PostgreSQL was lost while the task was paused", error)
            logger.warning("The replication stream from PostgreSQL was lost while the task was paused: \(error)")
        }
    }

    /// Fails when the server stayed silent for half of `wal.receiver.timeout.ms` of listening, then did not answer
    /// a keepalive request within the other half (PostgreSQL's own walreceiver does the same): a frozen server or a
    /// cut without a reset leaves the TCP connection open, and a read would wait for ever.
    private func checkSilence() throws(PostgresError) {
        guard receiverTimeoutMs > 0 else { return }
        let half = Duration.milliseconds(receiverTimeoutMs / 2)
        if let asked = keepaliveAskedAt {
            guard silentFor - asked >= half else { return }
            lostToSilence = true
            throw PostgresError(
                "no message from the server in \(receiverTimeoutMs) ms (wal.receiver.timeout.ms), not even the keepalive asked for: the server or the network stopped answering",
                sqlState: "08006")
        }
        if silentFor >= half {
            keepaliveAskedAt = silentFor
            try sendStatus(force: true, replyRequested: true)
        }
    }

    func close() {
        repl = nil
        catalogConnection = nil
        metrics?.closed()
    }

    private var lastLagCheck: ContinuousClock.Instant?
    private var lastBytesBehind: Int64?

    /// The WAL the replication slot holds back on the server (`pg_current_wal_lsn()` minus the slot's
    /// `restart_lsn`), asked at most every five seconds; nil when the server does not answer. Notes the WAL other,
    /// inactive, slots hold back in `health` on the way.
    func bytesBehind() -> Int64? {
        // Not while the stream is down: the query would wait on the same lost server.
        guard repl != nil else { return nil }
        if let last = lastLagCheck, ContinuousClock.now - last < .seconds(5) { return lastBytesBehind }
        lastLagCheck = ContinuousClock.now
        do {
            if catalogConnection == nil { catalogConnection = try PostgresConnection(parameters: config.connection) }
            let c = catalogConnection!
            let r = try c.query(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = \(c.quoteLiteral(config.slotName))",
                timeoutMilliseconds: 2000)
            lastBytesBehind = r.rows.first?.first.flatMap { $0 }.flatMap { Int64($0) }
            if let health {
                let inactive = try c.query(
                    "SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE NOT active AND restart_lsn IS NOT NULL AND slot_name <> \(c.quoteLiteral(config.slotName)) ORDER BY slot_name",
                    timeoutMilliseconds: 2000)
                health.inactiveSlots(
                    inactive.rows.compactMap { row in
                        guard let name = row[0], let bytes = row[1].flatMap({ Int64($0) }) else { return nil }
                        return (name, bytes)
                    })
            }
        } catch {
            catalogConnection = nil
            lastBytesBehind = nil
        }
        return lastBytesBehind
    }

    /// Reads changes for up to `timeoutMs`, returning once a batch of `max` is ready or the time is up.
    func poll(max: Int, timeoutMs: Int64) throws(ConnectError) -> [SourceRecord] {
        if repl == nil {
            if let at = reconnectAt, ContinuousClock.now < at {
                // Waits in steps of the poll interval, so a stop is not held up by a long pause.
                let left = Swift.min(at - ContinuousClock.now, .milliseconds(config.pollIntervalMs))
                Thread.sleep(
                    forTimeInterval: Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
                return []
            }
            try connect()
        }
        guard let repl else { return [] }
        var out: [SourceRecord] = []
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(timeoutMs))
        do {
            while out.count < max {
                let remaining = deadline - ContinuousClock.now
                if remaining <= .zero && !out.isEmpty { break }
                let ms = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
                let wait = out.isEmpty ? Int32(clamping: Swift.max(0, ms)) : 0
                let listening = ContinuousClock.now
                guard let data = try repl.readCopyData(timeoutMilliseconds: wait) else {
                    silentFor += ContinuousClock.now - listening
                    break
                }
                silentFor = .zero
                keepaliveAskedAt = nil
                try handle(try ReplicationFrame.decode(data), into: &out)
                // Changes of tables not captured, or skipped after a restart, do not hold the poll past its time.
                if ContinuousClock.now >= deadline { break }
            }
            if let last = out.last?.sourceOffset.flatMap({ PostgresOffset($0).position }) {
                lastReturned = last
                allCommitted = false
            } else if allCommitted, transaction == nil {
                // Nothing returned is waiting for Connect: everything read so far may be released.
                advanceConfirmed(to: Swift.max(completed.last?.end ?? .invalid, keepaliveEnd))
                completed.removeAll()
            }
            try sendStatus(force: false)
            try checkSilence()
        } catch let e as PostgresError {
            // The batch is dropped: the records are read again after the reconnect, from the last returned one.
            throw failure("The replication stream from PostgreSQL was lost", e)
        } catch let e as PgOutputMessage.DecodeError {
            throw ConnectError(.debezium, "Cannot decode a pgoutput message: \(e.description)")
        } catch let e as ConnectError {
            throw e
        } catch {
            throw ConnectError.wrap(error)
        }
        return out
    }

    /// Called after Connect committed offsets: `offset` is the newest committed one.
    func committed(_ offset: PostgresOffset) throws(ConnectError) {
        guard let position = offset.position else { return }
        if let lastReturned, position >= lastReturned { allCommitted = true }
        // Every transaction that committed before the committed record's one is delivered; so is that one when
        // everything returned is committed.
        var target = LogSequenceNumber.invalid
        while let first = completed.first,
            first.commit < position.commit || (allCommitted && first.commit == position.commit)
        {
            target = first.end
            completed.removeFirst()
        }
        advanceConfirmed(to: target)
        do { try sendStatus(force: true) } catch { throw failure("Reporting the flushed position failed", error) }
    }

    private func advanceConfirmed(to lsn: LogSequenceNumber) {
        if lsn > confirmed { confirmed = lsn }
    }

    /// Sends a standby status update when `force`d or when `status.update.interval.ms` has passed since the last.
    private func sendStatus(force: Bool, replyRequested: Bool = false) throws(PostgresError) {
        guard let repl else { return }
        let due = ContinuousClock.now - lastStatus >= .milliseconds(config.statusIntervalMs)
        guard force || due else { return }
        try repl.writeCopyData(
            ReplicationFrame.standbyStatus(
                received: Swift.max(received, confirmed), flushed: confirmed,
                nowMicros: PostgresEventBuilder.nowMicros(), replyRequested: replyRequested))
        lastStatus = ContinuousClock.now
    }

    private func handle(_ frame: ReplicationFrame, into out: inout [SourceRecord]) throws {
        switch frame {
        case .keepalive(let walEnd, let replyRequested):
            if walEnd > received { received = walEnd }
            keepaliveEnd = walEnd
            if replyRequested { try sendStatus(force: true) }
        case .xLogData(let start, let walEnd, let payload):
            if walEnd > received { received = walEnd }
            try handle(try PgOutputMessage.decode(payload), at: start, into: &out)
        }
    }

    private func handle(_ message: PgOutputMessage, at lsn: LogSequenceNumber, into out: inout [SourceRecord]) throws {
        switch message {
        case .begin(let finalLSN, let commitTime, let xid):
            transaction = (xid, finalLSN, commitTime + PostgresEpoch.offsetMicros)
        case .commit(let commitLSN, let endLSN, _):
            completed.append((commitLSN, endLSN))
            committedTransactions += 1
            // Debezium counts the transactions that changed a captured table.
            if capturedInTransaction { metrics?.transactionCommitted(id: transaction.map { String($0.xid) }) }
            capturedInTransaction = false
            transaction = nil
        case .relation(let r):
            relations[r.oid] = try table(for: r)
        case .insert(let rel, let new):
            guard let (table, offset, source) = try context(rel, lsn, "INSERT", op: "c") else { return }
            emit(
                [
                    try builder.event(
                        .create, table: table, key: try table.key(texts(new)), before: nil,
                        after: try row(table, new, keyOnly: false), source: source, offset: offset)
                ], offset, into: &out)
        case .update(let rel, let old, let oldIsKey, let new):
            guard let (table, offset, source) = try context(rel, lsn, "UPDATE", op: "u") else { return }
            let newKey = try table.key(texts(new))
            // The old key, when the old tuple holds every primary key column (replica identity DEFAULT or FULL;
            // an index that is not the key leaves them out).
            let oldKey = try old.flatMap { v throws -> Struct? in try table.key(texts(v)) }
            let before = try old.map { try row(table, $0, keyOnly: oldIsKey) }
            if let oldKey, oldKey != newKey {
                // The primary key changed: a delete of the old key and a create of the new one (Debezium's
                // `__debezium.newkey` / `__debezium.oldkey` headers link them).
                var deleteHeaders = Headers()
                deleteHeaders.add("__debezium.newkey", schema: table.keySchema, value: newKey.map(Value.struct))
                var records = try builder.delete(
                    table: table, key: oldKey, before: before, source: source, offset: offset, headers: deleteHeaders)
                var createHeaders = Headers()
                createHeaders.add("__debezium.oldkey", schema: table.keySchema, value: .struct(oldKey))
                records.append(
                    try builder.event(
                        .create, table: table, key: newKey, before: nil, after: try row(table, new, keyOnly: false),
                        source: source, offset: offset, headers: createHeaders))
                emit(records, offset, into: &out)
            } else {
                emit(
                    [
                        try builder.event(
                            .update, table: table, key: newKey, before: before,
                            after: try row(table, new, keyOnly: false), source: source, offset: offset)
                    ], offset, into: &out)
            }
        case .delete(let rel, let old, let oldIsKey):
            guard let (table, offset, source) = try context(rel, lsn, "DELETE", op: "d") else { return }
            emit(
                try builder.delete(
                    table: table, key: try table.key(texts(old)), before: try row(table, old, keyOnly: oldIsKey),
                    source: source, offset: offset), offset, into: &out)
        case .truncate(let rels, _, _):
            for rel in rels {
                guard let (table, offset, source) = try context(rel, lsn, "TRUNCATE", op: "t") else { continue }
                emit([try builder.truncate(table: table, source: source, offset: offset)], offset, into: &out)
            }
        case .other:
            break
        }
    }

    /// Gives each record of a change its own place at the change's LSN, and keeps those a restart already
    /// delivered out.
    private func emit(_ records: [SourceRecord], _ offset: PostgresOffset, into out: inout [SourceRecord]) {
        guard let lsn = offset.lsnProc else { return }
        var event = lastEvent.map { $0.lsn == lsn ? $0.event + 1 : 0 } ?? 0
        for var record in records {
            var o = offset
            o.event = event
            lastEvent = (lsn, event)
            event += 1
            if let r = resumeAfter, let p = o.position, p <= r { continue }
            record.sourceOffset = o.map
            out.append(record)
        }
    }

    /// The table, offset and source block of a change, or nil when the table is not captured or the operation is
    /// in `skipped.operations`.
    private func context(
        _ relation: UInt32, _ lsn: LogSequenceNumber, _ type: String, op: String
    ) throws
        -> (PostgresTable, PostgresOffset, Struct)?
    {
        guard let transaction else { throw ConnectError(.debezium, "\(type) outside a transaction at \(lsn)") }
        guard let entry = relations[relation] else {
            throw ConnectError(.debezium, "\(type) for relation \(relation) before its RELATION message")
        }
        eventsSeen += 1
        lastChangeMicros = transaction.time
        guard let table = entry, !config.skipped.contains(op) else {
            metrics?.filtered()
            return nil
        }
        capturedInTransaction = true
        if let r = resumeAfter, (transaction.commit, lsn) < (r.commit, r.change) { return nil }
        var offset = PostgresOffset()
        offset.lsn = lsn
        offset.lsnProc = lsn
        offset.lsnCommit = transaction.commit
        offset.txId = Int64(transaction.xid)
        offset.tsMicros = transaction.time
        offset.messageType = type
        let source = try PostgresSourceInfo.value(
            serverName: config.serverName, database: builder.database, table: table.id, changeMicros: transaction.time,
            snapshot: nil, txId: Int64(transaction.xid), lsn: lsn, commitLSN: transaction.commit)
        return (table, offset, source)
    }

    /// The table a RELATION message describes, nil when it is not captured. The catalog is read each time: the
    /// server sends RELATION again after DDL, and nullability or the primary key may have changed.
    private func table(for r: PgOutputMessage.Relation) throws -> PostgresTable? {
        let id = TableId(schema: r.namespace, table: r.name)
        guard config.filter.captures(id) else { return nil }
        let catalog = try readCatalog()
        let info = Dictionary(catalog[id]?.columns.map { ($0.name, $0.info) } ?? [], uniquingKeysWith: { a, _ in a })
        return PostgresTable(
            id: id, oid: r.oid, columns: r.columns.map { ($0.name, $0.typeOID, $0.typeModifier) }, catalog: info,
            config: config, sourceSchema: PostgresSourceInfo.schema)
    }

    private func readCatalog() throws(PostgresError) -> [TableId: (
        oid: UInt32, columns: [(name: String, info: CatalogColumn)]
    )] {
        if catalogConnection == nil { catalogConnection = try PostgresConnection(parameters: config.connection) }
        do {
            return try PostgresCatalog.load(catalogConnection!)
        } catch {
            catalogConnection = nil
            throw error
        }
    }

    private func texts(_ values: [PgOutputMessage.TupleValue]) -> [String?] {
        values.map { if case .text(let t) = $0 { t } else { nil } }
    }

    private func row(
        _ table: PostgresTable, _ values: [PgOutputMessage.TupleValue], keyOnly: Bool
    ) throws(ConnectError)
        -> Struct
    {
        var unchanged = Set<Int>()
        for (i, v) in values.enumerated() where v == .unchangedToast { unchanged.insert(i) }
        return try table.row(texts(values), unchanged: unchanged, keyOnly: keyOnly)
    }
}
