import ConnectAPI
import DebeziumCore
import Foundation
import Logging

/// One table (or the query) of a JDBC source task: its offset, its next query time, and the rows of its last
/// query not yet sent (Confluent's `TableQuerier` with `TimestampIncrementingCriteria`). The whole result is read
/// at once, as the JDBC drivers Confluent runs on read it by default.
struct TableQuerier {
    let table: TableId?
    let partition: OffsetMap
    let topic: String
    let incrementingColumn: String
    private(set) var offset: SourceOffset
    private(set) var nextRun = ContinuousClock.now
    private var pending: SqlRows?
    private var position = 0
    private var mappings: [(index: Int, mapping: ColumnMapping)] = []
    private var schema: Schema?
    private var warned: Set<String> = []

    init(
        table: TableId?, partition: OffsetMap, topic: String, offset: SourceOffset, config: JdbcSourceConfig,
        incrementing: String
    ) throws {
        self.table = table
        self.partition = partition
        self.topic = topic
        self.offset = offset
        self.incrementingColumn = incrementing
    }

    /// The table's name for messages, or `query`.
    var name: String { table?.unquoted ?? "query" }

    /// Runs the query again after `ms` (after a failure): the rows not sent are dropped, the offset kept.
    mutating func reset(after ms: Int64) {
        pending = nil
        position = 0
        nextRun = ContinuousClock.now.advanced(by: .milliseconds(ms))
    }

    /// The next records: runs the query when no rows are waiting, then hands out up to `batch.max.rows`; when the
    /// rows run out, the next query is `poll.interval.ms` away.
    mutating func next(
        _ session: any SqlSession, dialect: any DatabaseDialect, config: JdbcSourceConfig, logger: Logger
    ) throws -> [SourceRecord] {
        if pending == nil {
            let sql = try statement(session, dialect: dialect, config: config)
            let rows = try session.select(sql)
            prepare(rows.columns, config: config, session: session, logger: logger)
            pending = rows
            position = 0
        }
        guard let rows = pending, let schema else { return [] }
        let end = min(rows.rows.count, position + config.batchMaxRows)
        var records: [SourceRecord] = []
        records.reserveCapacity(end - position)
        let isPostgres = config.url.subprotocol == .postgresql
        let (incrementingIndex, timestampIndexes) = try offsetColumns(rows.columns, config: config)
        /// The offset a row gives: its incrementing value and its first non-null timestamp.
        func rowOffset(_ row: [[UInt8]?]) throws -> SourceOffset {
            var o = offset
            if let i = incrementingIndex {
                guard let raw = row[i], let v = Int64(String(decoding: raw, as: UTF8.self)) else {
                    throw ConnectError(
                        .data,
                        "Incrementing column \(incrementingColumn) of \(name) is NULL or not an integer in a row read")
                }
                o.incrementing = v
            }
            if !timestampIndexes.isEmpty {
                guard let raw = timestampIndexes.lazy.compactMap({ row[$0] }).first,
                    let micros = Self.micros(String(decoding: raw, as: UTF8.self))
                else {
                    throw ConnectError(
                        .data,
                        "Timestamp columns \(config.timestampColumns.joined(separator: ",")) of \(name) are NULL or not timestamps in a row read"
                    )
                }
                o.timestampMicros = micros
            }
            return o
        }
        for i in position..<end {
            let row = rows.rows[i]
            var value = Struct(schema: schema)
            for (index, mapping) in mappings {
                try value.put(mapping.name, try mapping.value(row[index], isPostgres: isPostgres))
            }
            let after = try rowOffset(row)
            // Timestamp mode alone cannot tell rows of one timestamp apart: the offset moves to a timestamp only
            // with the last row of it in the result (Confluent's TimestampTableQuerier), so a restart inside a
            // group reads the whole group again instead of skipping its rest.
            if config.mode == .timestamp, i + 1 < rows.rows.count,
                try rowOffset(rows.rows[i + 1]).timestampMicros == after.timestampMicros
            {
                // offset stays where the previous group ended
            } else if config.mode != .bulk {
                offset = after
            }
            records.append(
                SourceRecord(
                    sourcePartition: partition, sourceOffset: offset.map, topic: topic, valueSchema: schema,
                    value: .struct(value)))
        }
        position = end
        if position >= rows.rows.count {
            pending = nil
            nextRun = ContinuousClock.now.advanced(by: .milliseconds(config.pollIntervalMs))
        }
        return records
    }

    /// The positions of the incrementing and timestamp columns in a result, matched without case (MySQL's names
    /// ignore it, PostgreSQL folds unquoted ones).
    /// - Throws: DataException when the mode needs a column the result lacks, as Confluent's criteria do.
    private func offsetColumns(_ columns: [SqlColumn], config: JdbcSourceConfig) throws(ConnectError) -> (Int?, [Int]) {
        func find(_ name: String) -> Int? {
            columns.firstIndex { $0.name == name } ?? columns.firstIndex { $0.name.lowercased() == name.lowercased() }
        }
        var incrementing: Int?
        if config.mode.usesIncrementing {
            guard let i = find(incrementingColumn) else {
                throw ConnectError(.data, "Incrementing column \(incrementingColumn) not found in \(name)")
            }
            incrementing = i
        }
        var timestamps: [Int] = []
        if config.mode.usesTimestamp {
            for c in config.timestampColumns {
                guard let i = find(c) else { throw ConnectError(.data, "Timestamp column \(c) not found in \(name)") }
                timestamps.append(i)
            }
        }
        return (incrementing, timestamps)
    }

    /// A timestamp column's text (a date alone too) in microseconds since the epoch, read as UTC.
    static func micros(_ text: String) -> Int64? {
        if let m = Temporal.parseTimestamp(Substring(text)) { return m }
        return Temporal.parseDate(Substring(text)).map { Int64($0) * 86_400_000_000 }
    }

    /// The record schema of a result: a struct named after the table (none for a query), a field per column the
    /// source can map, optional unless the column is NOT NULL.
    private mutating func prepare(
        _ columns: [SqlColumn], config: JdbcSourceConfig, session: any SqlSession, logger: Logger
    ) {
        let nullable = table.flatMap { try? session.nullability(of: $0) } ?? [:]
        var built: [(Int, ColumnMapping)] = []
        var builder = SchemaBuilder.struct().name(table?.table)
        for (i, column) in columns.enumerated() {
            guard
                let m = ColumnMapping(column, optional: nullable[column.name] ?? true, mapping: config.numericMapping)
            else {
                if warned.insert(column.name).inserted, case .unsupported(let type) = column.kind {
                    logger.warning("JDBC type \(type) of column \(column.name) in \(name) not currently supported")
                }
                continue
            }
            built.append((i, m))
            builder = builder.field(m.name, m.schema)
        }
        mappings = built
        schema = builder.build()
    }

    /// `SELECT * FROM t` (or the query) with the mode's criteria (Confluent's `TimestampIncrementingCriteria`):
    /// incrementing `WHERE inc > ? ORDER BY inc`; timestamp `WHERE ts > ? AND ts < ? ORDER BY ts`;
    /// timestamp+incrementing `WHERE ts < ? AND ((ts = ? AND inc > ?) OR ts > ?) ORDER BY ts, inc`. The upper
    /// bound is the database's now less `timestamp.delay.interval.ms`; several timestamp columns are COALESCEd.
    func statement(_ session: any SqlSession, dialect: any DatabaseDialect, config: JdbcSourceConfig) throws -> String {
        let q = { (name: String) in dialect.quote(name, always: config.quoteIdentifiers) }
        var sql = table.map { "SELECT * FROM " + dialect.quote($0, always: config.quoteIdentifiers) } ?? config.query
        let inc = q(incrementingColumn)
        let ts =
            config.timestampColumns.count == 1
            ? q(config.timestampColumns[0]) : "COALESCE(\(config.timestampColumns.map(q).joined(separator: ",")))"
        func literal(_ micros: Int64) -> String { "'" + Self.timestampText(micros) + "'" }
        switch config.mode {
        case .bulk: break
        case .incrementing:
            sql += " WHERE \(inc) > \(offset.incrementing ?? -1) ORDER BY \(inc) ASC"
        case .timestamp:
            let end = try session.currentTimeMicros() - config.timestampDelayMs * 1000
            sql +=
                " WHERE \(ts) > \(literal(offset.timestampMicros ?? 0)) AND \(ts) < \(literal(end)) ORDER BY \(ts) ASC"
        case .timestampIncrementing:
            let end = try session.currentTimeMicros() - config.timestampDelayMs * 1000
            let start = literal(offset.timestampMicros ?? 0)
            sql +=
                " WHERE \(ts) < \(literal(end)) AND ((\(ts) = \(start) AND \(inc) > \(offset.incrementing ?? -1)) OR \(ts) > \(start)) ORDER BY \(ts),\(inc) ASC"
        }
        if !config.querySuffix.isEmpty { sql += " " + config.querySuffix }
        return sql
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, a literal both databases compare with their timestamp types.
    static func timestampText(_ micros: Int64) -> String {
        let day = Temporal.floorDiv(micros, 86_400_000_000)
        let rest = micros - day * 86_400_000_000
        let (y, m, d) = Temporal.civil(epochDay: Int(day))
        let seconds = rest / 1_000_000
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%06d", y, m, d, Int(seconds / 3600), Int(seconds / 60 % 60),
            Int(seconds % 60), Int(rest % 1_000_000))
    }
}
