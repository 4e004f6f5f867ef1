import ConnectAPI
import DebeziumCore
import Foundation
import Logging
import Postgres

/// Streams changes from the replication slot with pgoutput and turns them into change events
/// (`PostgresStreamingChangeEventSource`).
///
/// Delivery is at least once and exact across restarts: each record's offset holds its transaction's commit LSN
/// (`lsn_commit`) and its own LSN (`lsn_proc`); transactions arrive in commit order, so on a restart every change at
/// or before the committed pair is skipped. The server is told an LSN is flushed (and may recycle the WAL before it)
/// only once Connect committed the offsets of every change before it.
final class PostgresStreamingSource {
    private let config: PostgresConnectorConfig
    private let builder: PostgresEventBuilder
    private let catalogConnection: PostgresConnection
    private let logger: Logger
    private var repl: PostgresConnection?
    private var relations: [UInt32: PostgresTable?] = [:]
    private var catalog: [TableId: (oid: UInt32, columns: [(name: String, info: CatalogColumn)])]
    /// The open transaction: xid, commit LSN, commit time (µs since the Unix epoch).
    private var transaction: (xid: UInt32, commit: LogSequenceNumber, time: Int64)?
    /// Changes at or before this (commit LSN, change LSN) were delivered already.
    private var resumeAfter: (commit: LogSequenceNumber, change: LogSequenceNumber)?
    /// The newest change handed to Connect.
    private var lastEmitted: (commit: LogSequenceNumber, change: LogSequenceNumber)?
    /// Transactions fully read (commit LSN, end LSN), oldest first, not yet confirmed to the server.
    private var completed: [(commit: LogSequenceNumber, end: LogSequenceNumber)] = []
    private var allCommitted = true
    private var received = LogSequenceNumber.invalid
    private var keepaliveEnd = LogSequenceNumber.invalid
    private(set) var confirmed = LogSequenceNumber.invalid
    private var lastStatus = ContinuousClock.now
    /// Events read from the stream (metrics).
    private(set) var eventsSeen = 0
    private(set) var committedTransactions = 0
    /// When the newest change read was committed in the database (µs since the epoch), for the lag.
    private(set) var lastChangeMicros: Int64?

    init(
        config: PostgresConnectorConfig, builder: PostgresEventBuilder, catalogConnection: PostgresConnection,
        catalog: [TableId: (oid: UInt32, columns: [(name: String, info: CatalogColumn)])], resumeAfter: PostgresOffset?,
        logger: Logger
    ) {
        self.config = config
        self.builder = builder
        self.catalogConnection = catalogConnection
        self.catalog = catalog
        self.logger = logger
        if let o = resumeAfter, let commit = o.lsnCommit, let change = o.lsnProc {
            self.resumeAfter = (commit, change)
        }
    }

    var isConnected: Bool { repl != nil }

    /// Opens the replication connection and starts streaming from the slot's confirmed position.
    func connect() throws(ConnectError) {
        do {
            var params = config.connection
            params["replication"] = "database"
            let c = try PostgresConnection(parameters: params)
            let slot = c.quoteIdentifier(config.slotName)
            let publication = config.publicationName.replacingOccurrences(of: "'", with: "''")
            try c.startCopyBoth(
                "START_REPLICATION SLOT \(slot) LOGICAL 0/0 (\"proto_version\" '1', \"publication_names\" '\(publication)')"
            )
            repl = c
            relations = [:]
            transaction = nil
            // Changes already handed out in this run are not handed out again.
            if let lastEmitted { resumeAfter = lastEmitted }
            logger.info(
                "Streaming changes from replication slot '\(config.slotName)' of \(config.connection["dbname"] ?? "")")
        } catch {
            throw ConnectError(
                .debeziumRetriable, "Failed to start replication stream from slot '\(config.slotName)'", cause: error)
        }
    }

    func close() { repl = nil }

    /// Reads changes for up to `timeoutMs`, returning as soon as a batch of `max` is ready or the stream is idle.
    func poll(max: Int, timeoutMs: Int64) throws(ConnectError) -> [SourceRecord] {
        if repl == nil { try connect() }
        guard let repl else { return [] }
        var out: [SourceRecord] = []
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(timeoutMs))
        do {
            while out.count < max {
                let remaining = deadline - ContinuousClock.now
                let wait =
                    out.isEmpty
                    ? Swift.max(
                        0,
                        Int32(
                            remaining.components.seconds * 1000 + remaining.components.attoseconds
                                / 1_000_000_000_000_000)) : 0
                guard let data = try repl.readCopyData(timeoutMilliseconds: wait) else { break }
                try handle(try ReplicationFrame.decode(data), into: &out)
                if ContinuousClock.now >= deadline && !out.isEmpty { break }
            }
            if !out.isEmpty {
                allCommitted = false
            } else if allCommitted, transaction == nil {
                // Nothing handed out is waiting for Connect: everything read so far may be released.
                advanceConfirmed(to: Swift.max(completed.last?.end ?? .invalid, keepaliveEnd))
                completed.removeAll()
            }
            try sendStatusIfDue(force: false)
        } catch let e as PostgresError {
            self.repl = nil
            throw ConnectError(.debeziumRetriable, "The replication stream from PostgreSQL was lost", cause: e)
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
        guard let commit = offset.lsnCommit, let change = offset.lsnProc else { return }
        if let last = lastEmitted, last.commit == commit && last.change == change { allCommitted = true }
        // Every transaction that committed before the committed change's transaction is delivered.
        var target = LogSequenceNumber.invalid
        while let first = completed.first, first.commit < commit || (allCommitted && first.commit == commit) {
            target = first.end
            completed.removeFirst()
        }
        advanceConfirmed(to: target)
        do { try sendStatusIfDue(force: true) } catch {
            repl = nil
            throw ConnectError(.debeziumRetriable, "Reporting the flushed position to PostgreSQL failed", cause: error)
        }
    }

    private func advanceConfirmed(to lsn: LogSequenceNumber) {
        if lsn > confirmed { confirmed = lsn }
    }

    private func sendStatusIfDue(force: Bool) throws(PostgresError) {
        guard let repl else { return }
        let due = ContinuousClock.now - lastStatus >= .milliseconds(config.statusIntervalMs)
        guard force || due else { return }
        try repl.writeCopyData(
            ReplicationFrame.standbyStatus(
                received: Swift.max(received, confirmed), flushed: confirmed,
                nowMicros: PostgresEventBuilder.nowMicros()))
        lastStatus = ContinuousClock.now
    }

    private func handle(_ frame: ReplicationFrame, into out: inout [SourceRecord]) throws {
        switch frame {
        case .keepalive(let walEnd, let replyRequested):
            if walEnd > received { received = walEnd }
            keepaliveEnd = walEnd
            if replyRequested { try sendStatusIfDue(force: true) }
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
            transaction = nil
        case .relation(let r):
            relations[r.oid] = try table(for: r)
        case .insert(let rel, let new):
            guard let (table, offset, source) = try context(rel, lsn, "INSERT"), !config.skipped.contains("c") else {
                return
            }
            out.append(
                try builder.event(
                    .create, table: table, key: try table.key(texts(new)), before: nil,
                    after: try row(table, new), source: source, offset: offset))
        case .update(let rel, let old, let oldIsKey, let new):
            guard let (table, offset, source) = try context(rel, lsn, "UPDATE"), !config.skipped.contains("u") else {
                return
            }
            let newKey = try table.key(texts(new))
            let oldKey = try old.flatMap { v throws -> Struct? in try table.key(texts(v)) }
            let before = try old.map { try row(table, $0) }
            if let oldKey, oldKey != newKey {
                // The primary key changed: a delete of the old key and a create of the new one (Debezium's
                // `__debezium.newkey` / `__debezium.oldkey` headers link them).
                var deleteHeaders = Headers()
                deleteHeaders.add("__debezium.newkey", schema: table.keySchema, value: newKey.map(Value.struct))
                out += try builder.delete(
                    table: table, key: oldKey, before: before, source: source, offset: offset, headers: deleteHeaders)
                var createHeaders = Headers()
                createHeaders.add("__debezium.oldkey", schema: table.keySchema, value: .struct(oldKey))
                out.append(
                    try builder.event(
                        .create, table: table, key: newKey, before: nil, after: try row(table, new), source: source,
                        offset: offset, headers: createHeaders))
            } else {
                _ = oldIsKey
                out.append(
                    try builder.event(
                        .update, table: table, key: newKey, before: before, after: try row(table, new),
                        source: source, offset: offset))
            }
        case .delete(let rel, let old, _):
            guard let (table, offset, source) = try context(rel, lsn, "DELETE"), !config.skipped.contains("d") else {
                return
            }
            out += try builder.delete(
                table: table, key: try table.key(texts(old)), before: try row(table, old), source: source,
                offset: offset)
        case .truncate(let rels, _, _):
            for rel in rels {
                guard let (table, offset, source) = try context(rel, lsn, "TRUNCATE"), !config.skipped.contains("t")
                else { continue }
                out.append(try builder.truncate(table: table, source: source, offset: offset))
            }
        case .other:
            break
        }
    }

    /// The table, offset and source block of a change, or nil when the table is not captured or the change was
    /// delivered before.
    private func context(
        _ relation: UInt32, _ lsn: LogSequenceNumber, _ type: String
    ) throws
        -> (PostgresTable, PostgresOffset, Struct)?
    {
        guard let transaction else { throw ConnectError(.debezium, "\(type) outside a transaction at \(lsn)") }
        guard let entry = relations[relation] else {
            throw ConnectError(.debezium, "\(type) for relation \(relation) before its RELATION message")
        }
        eventsSeen += 1
        lastChangeMicros = transaction.time
        guard let table = entry else { return nil }
        if let r = resumeAfter {
            if transaction.commit < r.commit || (transaction.commit == r.commit && lsn <= r.change) { return nil }
        }
        var offset = PostgresOffset()
        offset.lsn = lsn
        offset.lsnProc = lsn
        offset.lsnCommit = transaction.commit
        offset.txId = Int64(transaction.xid)
        offset.tsMicros = transaction.time
        offset.messageType = type
        lastEmitted = (transaction.commit, lsn)
        let source = try PostgresSourceInfo.value(
            serverName: config.serverName, database: builder.database, table: table.id, changeMicros: transaction.time,
            snapshot: nil, txId: Int64(transaction.xid), lsn: lsn, commitLSN: transaction.commit)
        return (table, offset, source)
    }

    /// The table a RELATION message describes, nil when it is not captured; the catalog is read again when the
    /// message shows columns the cached catalog does not know (DDL since).
    private func table(for r: PgOutputMessage.Relation) throws -> PostgresTable? {
        let id = TableId(schema: r.namespace, table: r.name)
        guard config.filter.captures(id) else { return nil }
        var entry = catalog[id]
        if entry == nil || Set(entry!.columns.map(\.name)) != Set(r.columns.map(\.name)) {
            catalog = try PostgresCatalog.load(catalogConnection)
            entry = catalog[id]
        }
        let info = Dictionary(entry?.columns.map { ($0.name, $0.info) } ?? [], uniquingKeysWith: { a, _ in a })
        return PostgresTable(
            id: id, oid: r.oid, columns: r.columns.map { ($0.name, $0.typeOID, $0.typeModifier) }, catalog: info,
            config: config, sourceSchema: PostgresSourceInfo.schema)
    }

    private func texts(_ values: [PgOutputMessage.TupleValue]) -> [String?] {
        values.map { if case .text(let t) = $0 { t } else { nil } }
    }

    private func row(_ table: PostgresTable, _ values: [PgOutputMessage.TupleValue]) throws(ConnectError) -> Struct {
        var unchanged = Set<Int>()
        for (i, v) in values.enumerated() where v == .unchangedToast { unchanged.insert(i) }
        return try table.row(texts(values), unchanged: unchanged)
    }
}
