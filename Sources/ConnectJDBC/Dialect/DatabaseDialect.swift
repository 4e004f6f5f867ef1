import ConnectAPI
import DebeziumCore
import Foundation

/// A failed statement: the server's or client's message, SQLSTATE, and whether the connection was lost (worth a
/// retry) rather than the statement refused.
public struct SQLFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var sqlState: String?
    public var isConnectionError: Bool
    /// `java.sql.SQLException`-style, as the Java drivers' errors read in Connect's traces.
    public var exceptionClass: String
    /// The server's error number (MySQL/MariaDB), for what SQLSTATE does not tell.
    public var code: Int = 0

    /// The row was refused for its data (SQLSTATE class 22 data exception or 23 integrity constraint, an unknown
    /// column or a wrong type; MySQL's data errors): reporting that record is the answer, not a retry.
    public var isDataError: Bool {
        if let s = sqlState, s.hasPrefix("22") || s.hasPrefix("23") || ["42703", "42804", "54000"].contains(s) {
            return true
        }
        return [1048, 1054, 1062, 1264, 1265, 1292, 1364, 1366, 1406, 1451, 1452, 3819, 4025].contains(code)
    }

    /// Worth trying the batch again: a lost connection, a deadlock or serialization failure (class 40), too many
    /// connections or another resource limit (class 53), MySQL's lock wait timeout (1205) and deadlock (1213).
    public var isTransient: Bool {
        if isConnectionError { return true }
        if let s = sqlState, s.hasPrefix("40") || s.hasPrefix("53") { return true }
        return [1205, 1213, 1040].contains(code)
    }

    /// What refused the statement, for `SinkWriterMetrics`: MySQL's error number, else the SQLSTATE, else
    /// `connection` for a lost connection.
    public var reason: String {
        if code != 0 { return String(code) }
        return sqlState ?? (isConnectionError ? "connection" : "unknown")
    }

    public var description: String {
        "\(exceptionClass): \(message)" + (sqlState.map { " (SQLState: \($0))" } ?? "")
    }
}

/// One connection to the database, owned by one task's thread.
protocol SqlSession: AnyObject {
    /// Runs a statement, or several separated by `;`.
    func execute(_ sql: String) throws(SQLFailure)
    /// The column names of `table` (in the connection's default schema or database when it names none), nil when
    /// there is no such table.
    func columns(of table: TableId) throws(SQLFailure) -> Set<String>?
    /// A string literal, escaped as the connection's settings ask.
    func literal(_ text: String) -> String

    // What the JDBC source reads.

    /// The rows of a query, with what the database says of each column's type.
    func select(_ sql: String) throws(SQLFailure) -> SqlRows
    /// The tables (and views, with `VIEW` in `types`) of `catalog` and `schema` (the connection's database and
    /// every non-system schema when nil), fully qualified as the dialect qualifies them.
    func tables(catalog: String?, schema: String?, types: [String]) throws(SQLFailure) -> [TableId]
    /// The `information_schema.columns` condition that selects `table`'s columns.
    func columnCondition(_ table: TableId) -> String
    /// The `information_schema.columns` condition of an auto-increment (serial, identity) column.
    var autoIncrementCondition: String { get }
    /// The query of the database's clock.
    var currentTimestampQuery: String { get }
    /// The Java driver's exception class, for messages (`java.sql.SQLException`).
    var exceptionClass: String { get }
}

extension SqlSession {
    /// For each column of `table`, whether it may be NULL.
    func nullability(of table: TableId) throws(SQLFailure) -> [String: Bool] {
        let r = try select(
            "SELECT column_name, is_nullable FROM information_schema.columns WHERE \(columnCondition(table))")
        var out: [String: Bool] = [:]
        for row in r.rows {
            guard let name = row[0] else { continue }
            out[String(decoding: name, as: UTF8.self)] = row[1].map { String(decoding: $0, as: UTF8.self) } != "NO"
        }
        return out
    }

    /// The auto-increment column of `table`, if it has one (the first, as Confluent takes it).
    func autoIncrementColumn(of table: TableId) throws(SQLFailure) -> String? {
        try select(
            "SELECT column_name FROM information_schema.columns WHERE \(columnCondition(table)) AND \(autoIncrementCondition) ORDER BY ordinal_position LIMIT 1"
        ).firstText
    }

    /// The database's clock (`CURRENT_TIMESTAMP`), in microseconds since the epoch.
    func currentTimeMicros() throws(SQLFailure) -> Int64 {
        guard let text = try select(currentTimestampQuery).firstText,
            let micros = Temporal.parseTimestamp(Substring(text))
        else {
            throw SQLFailure(
                message: "CURRENT_TIMESTAMP gave no timestamp", sqlState: nil, isConnectionError: false,
                exceptionClass: exceptionClass)
        }
        return micros
    }
}

/// A column of a query's result, as the database describes it (JDBC's `ResultSetMetaData`, in the terms Confluent's
/// `GenericDatabaseDialect.addFieldToSchema` switches on).
struct SqlColumn: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case boolean, int8, int16, int32, int64, float32, float64
        /// `Types.NUMERIC` (PostgreSQL's `numeric`), which `numeric.mapping` maps; `scale` nil when unconstrained.
        case numeric(precision: Int, scale: Int?)
        /// `Types.DECIMAL` (MySQL's `DECIMAL`): always a Decimal, as Confluent's dialect maps it.
        case decimal(precision: Int, scale: Int)
        case string, bytes, date, time, timestamp
        /// A type the source cannot map: the column is left out with a warning, as Confluent does.
        case unsupported(String)
    }

    var name: String
    var kind: Kind
}

/// A query's result: columns and rows, each value as the server's text (binary for byte columns), nil for NULL.
struct SqlRows: Sendable {
    var columns: [SqlColumn]
    var rows: [[[UInt8]?]]

    /// The first column of the first row as text.
    var firstText: String? { rows.first.flatMap { $0.first ?? nil }.map { String(decoding: $0, as: UTF8.self) } }
}

/// A table as Confluent's `TableId`: catalog, schema and name, parsed from what `table.name.format` gives.
struct TableId: Hashable, Sendable, CustomStringConvertible {
    var catalog: String?
    var schema: String?
    var table: String

    /// The parts joined by dots, unquoted (Confluent's `QuoteMethod.NEVER`): the JDBC source's offset partitions
    /// and its `tables` lists use this form.
    var unquoted: String { [catalog, schema, table].compactMap { $0 }.joined(separator: ".") }

    /// Each part double-quoted, as Confluent's messages print a table (`"inventory"."orders"`).
    var description: String {
        [catalog, schema, table].compactMap { $0 }.map { "\"" + $0 + "\"" }.joined(separator: ".")
    }
}

/// How statements are written for one database (Confluent's `DatabaseDialect`: `PostgreSqlDatabaseDialect`,
/// `MySqlDatabaseDialect`): identifiers, SQL types for `auto.create`, literals, upserts.
protocol DatabaseDialect: Sendable {
    /// Confluent's dialect name (`PostgreSqlDatabaseDialect`).
    var name: String { get }
    func openSession(_ url: JdbcUrl, user: String?, password: String?) throws(SQLFailure) -> any SqlSession
    /// `quote.sql.identifiers=always` quotes every identifier; `never` leaves them as written.
    func quote(_ identifier: String, always: Bool) -> String
    /// The character that quotes identifiers (`"` or a backtick).
    var identifierQuote: Character { get }
    /// Whether the database folds unquoted identifiers to lower case (PostgreSQL; MySQL keeps them).
    var foldsUnquotedToLowerCase: Bool { get }
    /// What a name of two parts means: MySQL's `db.table` names a catalog (database), PostgreSQL's `schema.table`
    /// a schema.
    var twoPartsNameCatalog: Bool { get }
    /// The column type `auto.create` and `auto.evolve` give a field of this schema.
    func sqlType(_ schema: Schema) throws(ConnectError) -> String
    /// The type of a primary key column (MySQL cannot index `TEXT` without a length).
    func keySqlType(_ schema: Schema) throws(ConnectError) -> String
    /// A value as an SQL literal of the column's type.
    func literal(_ value: Value?, _ schema: Schema, _ session: any SqlSession) throws(ConnectError) -> String
    /// `INSERT ... ON CONFLICT` / `ON DUPLICATE KEY UPDATE` for these rows (each a list of literals, keys first).
    func upsert(table: String, keys: [String], columns: [String], rows: [[String]]) -> String
}

extension DatabaseDialect {
    func keySqlType(_ schema: Schema) throws(ConnectError) -> String { try sqlType(schema) }

    /// Confluent's `parseTableIdentifier`: the name split at the dots outside quotes; the last part is the table,
    /// the one before the schema (or MySQL's catalog), the one before that the catalog. A Debezium topic such as
    /// `dbserver1.inventory.orders` is therefore catalog `dbserver1`, schema `inventory`, table `orders`.
    ///
    /// With `foldingUnquoted` (names written unquoted), the parts not in quotes are folded as the database folds
    /// them (PostgreSQL: lower case), so that the catalog lookups find the table the statements reach.
    func tableId(_ name: String, foldingUnquoted: Bool = false) -> TableId {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var wasQuoted = false
        func endPart() {
            parts.append(foldingUnquoted && !wasQuoted && foldsUnquotedToLowerCase ? current.lowercased() : current)
            current = ""
            wasQuoted = false
        }
        var chars = name[...]
        while let c = chars.popFirst() {
            if c == identifierQuote {
                if quoted, chars.first == identifierQuote {
                    current.append(c)
                    chars.removeFirst()
                } else {
                    quoted.toggle()
                    wasQuoted = true
                }
            } else if c == ".", !quoted {
                endPart()
            } else {
                current.append(c)
            }
        }
        endPart()
        let table = parts.removeLast()
        switch parts.count {
        case 0: return TableId(table: table)
        case 1:
            return twoPartsNameCatalog
                ? TableId(catalog: parts[0], table: table) : TableId(schema: parts[0], table: table)
        default: return TableId(catalog: parts[parts.count - 2], schema: parts[parts.count - 1], table: table)
        }
    }

    /// Table names separated by commas outside quotes (the `tables` a source connector hands its tasks, each
    /// written by `quote(_:always: true)`), still quoted; empty names dropped.
    func tableList(_ text: String) -> [String] {
        var names: [String] = []
        var current = ""
        var quoted = false
        for c in text {
            // A doubled quote inside a quoted part toggles twice.
            if c == identifierQuote { quoted.toggle() }
            if c == ",", !quoted {
                names.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        names.append(current)
        return names.filter { !$0.isEmpty }
    }

    /// The table's parts, each quoted as `quote(_:always:)` does, joined by dots.
    func quote(_ table: TableId, always: Bool) -> String {
        [table.catalog, table.schema, table.table].compactMap { $0 }.map { quote($0, always: always) }
            .joined(separator: ".")
    }

    func insert(table: String, columns: [String], rows: [[String]]) -> String {
        "INSERT INTO \(table) (\(columns.joined(separator: ","))) VALUES "
            + rows.map { "(" + $0.joined(separator: ",") + ")" }.joined(separator: ",")
    }

    func update(table: String, keys: [String], columns: [String], row: [String]) -> String {
        let set = zip(columns, row.dropFirst(keys.count)).map { "\($0) = \($1)" }.joined(separator: ", ")
        return "UPDATE \(table) SET \(set) WHERE " + zip(keys, row).map { "\($0) = \($1)" }.joined(separator: " AND ")
    }

    func delete(table: String, keys: [String], rows: [[String]]) -> String {
        "DELETE FROM \(table) WHERE "
            + rows.map { row in "(" + zip(keys, row).map { "\($0) = \($1)" }.joined(separator: " AND ") + ")" }
            .joined(separator: " OR ")
    }

    func createTable(
        table: String, fields: [(name: String, schema: Schema)], keys: [String]
    ) throws(ConnectError)
        -> String
    {
        var parts: [String] = []
        for f in fields {
            let isKey = keys.contains(f.name)
            let notNull = !f.schema.isOptional || isKey ? " NOT NULL" : " NULL"
            parts.append("\(f.name) \(isKey ? try keySqlType(f.schema) : try sqlType(f.schema))\(notNull)")
        }
        if !keys.isEmpty { parts.append("PRIMARY KEY(\(keys.joined(separator: ",")))") }
        return "CREATE TABLE \(table) (\n" + parts.joined(separator: ",\n") + ")"
    }

    /// `ALTER TABLE ... ADD` for each missing column: optional (or with a default), as Confluent's `auto.evolve`
    /// asks; it never drops or changes a column.
    func addColumns(table: String, fields: [(name: String, schema: Schema)]) throws(ConnectError) -> [String] {
        var out: [String] = []
        for f in fields { out.append("ALTER TABLE \(table) ADD \(f.name) \(try sqlType(f.schema)) NULL") }
        return out
    }
}

/// Literals shared by the dialects.
enum SqlLiterals {
    /// A Connect number as SQL text; NaN and infinities have no literal in standard SQL.
    static func number(_ value: Value) throws(ConnectError) -> String? {
        switch value {
        case .int8(let v): return String(v)
        case .int16(let v): return String(v)
        case .int32(let v): return String(v)
        case .int64(let v): return String(v)
        case .float32(let v):
            guard v.isFinite else { throw ConnectError(.data, "The float \(v) has no SQL literal") }
            return "\(v)"
        case .float64(let v):
            guard v.isFinite else { throw ConnectError(.data, "The double \(v) has no SQL literal") }
            return "\(v)"
        case .decimal(let d): return plain(d)
        default: return nil
        }
    }

    /// A decimal of any size as plain text (`-12.345`): the unscaled two's complement bytes in base 10.
    static func plain(_ d: BigDecimal) -> String {
        var bytes = d.unscaled
        let negative = (bytes.first ?? 0) & 0x80 != 0
        if negative {
            // Two's complement: invert and add one for the magnitude.
            bytes = bytes.map { ~$0 }
            for i in stride(from: bytes.count - 1, through: 0, by: -1) {
                let (v, overflow) = bytes[i].addingReportingOverflow(1)
                bytes[i] = v
                if !overflow { break }
            }
        }
        var digits: [UInt8] = []
        var n = bytes.drop { $0 == 0 }.map { $0 }
        while !n.isEmpty {
            var remainder = 0
            var next: [UInt8] = []
            for b in n {
                let cur = remainder * 256 + Int(b)
                let q = cur / 10
                remainder = cur % 10
                if !next.isEmpty || q != 0 { next.append(UInt8(q)) }
            }
            digits.append(UInt8(remainder))
            n = next
        }
        var text = digits.isEmpty ? "0" : String(digits.reversed().map { Character(String($0)) })
        let scale = Int(d.scale)
        if scale > 0 {
            if text.count <= scale { text = String(repeating: "0", count: scale - text.count + 1) + text }
            text.insert(".", at: text.index(text.endIndex, offsetBy: -scale))
        } else if scale < 0 {
            text += String(repeating: "0", count: -scale)
        }
        return (negative && text != "0" ? "-" : "") + text
    }

    /// `yyyy-MM-dd`, `HH:mm:ss.SSS`, `yyyy-MM-dd HH:mm:ss.SSS` in UTC (`db.timezone` UTC) for Connect's Date, Time
    /// and Timestamp (milliseconds since the epoch).
    static func temporal(_ millis: Int64, logical: String) -> String {
        var seconds = time_t(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        let ms = Int(((millis % 1000) + 1000) % 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let date = String(
            format: "%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        let time = String(format: "%02d:%02d:%02d.%03d", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), ms)
        switch logical {
        case LogicalTypes.dateName: return date
        case LogicalTypes.timeName: return time
        default: return date + " " + time
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
