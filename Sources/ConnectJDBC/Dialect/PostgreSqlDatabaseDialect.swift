import ConnectAPI
import Foundation
import Postgres

/// PostgreSQL (`PostgreSqlDatabaseDialect`), through libpq: types as Confluent's `getSqlType` gives them, upserts
/// as `INSERT ... ON CONFLICT (keys) DO UPDATE SET c = EXCLUDED.c` (`DO NOTHING` with key columns only).
struct PostgreSqlDatabaseDialect: DatabaseDialect {
    var name: String { "PostgreSqlDatabaseDialect" }

    func openSession(_ url: JdbcUrl, user: String?, password: String?) throws(SQLFailure) -> any SqlSession {
        var params = [
            "host": url.host, "port": String(url.port), "dbname": url.database, "connect_timeout": "10",
            "application_name": "swift-connect-jdbc-sink",
            // Timestamps are written in UTC (db.timezone), byte strings in hex.
            "options": "-c TimeZone=UTC -c bytea_output=hex",
        ]
        if let user = user ?? url.parameters["user"] { params["user"] = user }
        if let password = password ?? url.parameters["password"] { params["password"] = password }
        do { return PostgresSession(try PostgresConnection(parameters: params)) } catch {
            throw Self.failure(error)
        }
    }

    static func failure(_ e: PostgresError) -> SQLFailure {
        SQLFailure(
            message: e.message, sqlState: e.sqlState, isConnectionError: e.isConnectionError,
            exceptionClass: "org.postgresql.util.PSQLException")
    }

    func quote(_ identifier: String, always: Bool) -> String {
        always ? "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : identifier
    }

    func sqlType(_ schema: Schema) throws(ConnectError) -> String {
        switch schema.name {
        case LogicalTypes.decimalName: return "DECIMAL"
        case LogicalTypes.dateName: return "DATE"
        case LogicalTypes.timeName: return "TIME"
        case LogicalTypes.timestampName: return "TIMESTAMP"
        default: break
        }
        switch schema.type {
        case .int8, .int16: return "SMALLINT"
        case .int32: return "INT"
        case .int64: return "BIGINT"
        case .float32: return "REAL"
        case .float64: return "DOUBLE PRECISION"
        case .boolean: return "BOOLEAN"
        case .string: return "TEXT"
        case .bytes: return "BYTEA"
        case .array:
            guard let element = schema.valueSchema, element.type.isPrimitive else { break }
            return try sqlType(element) + "[]"
        default: break
        }
        throw ConnectError(
            .connect, "PostgreSqlDatabaseDialect does not support the type \(schema.type.rawValue) in auto.create")
    }

    func literal(_ value: Value?, _ schema: Schema, _ session: any SqlSession) throws(ConnectError) -> String {
        guard let value else { return "NULL" }
        if let number = try SqlLiterals.number(value) { return number }
        switch value {
        case .boolean(let b): return b ? "TRUE" : "FALSE"
        case .string(let s): return session.literal(s)
        case .bytes(let b): return "'\\x\(SqlLiterals.hex(b))'::bytea"
        case .timestamp(let ms): return "'\(SqlLiterals.temporal(ms, logical: schema.name ?? ""))'"
        case .array(let items):
            guard let element = schema.valueSchema else { break }
            var parts: [String] = []
            for item in items { parts.append(try literal(item, element, session)) }
            return "ARRAY[\(parts.joined(separator: ","))]::\(try sqlType(schema))"
        default: break
        }
        throw ConnectError(.data, "PostgreSqlDatabaseDialect cannot write a \(schema.type.rawValue) value to a column")
    }

    func upsert(table: String, keys: [String], columns: [String], rows: [[String]]) -> String {
        let conflict = " ON CONFLICT (\(keys.joined(separator: ","))) "
        let action =
            columns.isEmpty
            ? "DO NOTHING" : "DO UPDATE SET " + columns.map { "\($0)=EXCLUDED.\($0)" }.joined(separator: ",")
        return insert(table: table, columns: keys + columns, rows: rows) + conflict + action
    }
}

final class PostgresSession: SqlSession {
    private let connection: PostgresConnection

    init(_ connection: PostgresConnection) { self.connection = connection }

    func execute(_ sql: String) throws(SQLFailure) {
        do { try connection.query(sql, timeoutMilliseconds: 300_000) } catch {
            throw PostgreSqlDatabaseDialect.failure(error)
        }
    }

    func columns(of table: String) throws(SQLFailure) -> Set<String>? {
        do {
            let r = try connection.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = \(connection.quoteLiteral(table))",
                timeoutMilliseconds: 60_000)
            let names = Set(r.rows.compactMap { $0.first ?? nil })
            return names.isEmpty ? nil : names
        } catch { throw PostgreSqlDatabaseDialect.failure(error) }
    }

    func literal(_ text: String) -> String { connection.quoteLiteral(text) }
}
