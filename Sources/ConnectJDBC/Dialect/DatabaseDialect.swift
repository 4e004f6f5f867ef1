import ConnectAPI
import Foundation

/// A failed statement: the server's or client's message, SQLSTATE, and whether the connection was lost (worth a
/// retry) rather than the statement refused.
public struct SQLFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var sqlState: String?
    public var isConnectionError: Bool
    /// `java.sql.SQLException`-style, as the Java drivers' errors read in Connect's traces.
    public var exceptionClass: String

    public var description: String {
        "\(exceptionClass): \(message)" + (sqlState.map { " (SQLState: \($0))" } ?? "")
    }
}

/// One connection to the database, owned by one task's thread.
protocol SqlSession: AnyObject {
    /// Runs a statement, or several separated by `;`.
    func execute(_ sql: String) throws(SQLFailure)
    /// The column names of `table` in the connection's default schema, nil when there is no such table.
    func columns(of table: String) throws(SQLFailure) -> Set<String>?
    /// A string literal, escaped as the connection's settings ask.
    func literal(_ text: String) -> String
}

/// How statements are written for one database (Confluent's `DatabaseDialect`: `PostgreSqlDatabaseDialect`,
/// `MySqlDatabaseDialect`): identifiers, SQL types for `auto.create`, literals, upserts.
protocol DatabaseDialect: Sendable {
    /// Confluent's dialect name (`PostgreSqlDatabaseDialect`).
    var name: String { get }
    func openSession(_ url: JdbcUrl, user: String?, password: String?) throws(SQLFailure) -> any SqlSession
    /// `quote.sql.identifiers=always` quotes every identifier; `never` leaves them as written.
    func quote(_ identifier: String, always: Bool) -> String
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
