import ConnectAPI
import Foundation
import MariaDB

/// MySQL and MariaDB (`MySqlDatabaseDialect`), through libmariadb: types as Confluent's `getSqlType` gives them,
/// upserts as `INSERT ... ON DUPLICATE KEY UPDATE c=VALUES(c)`.
struct MySqlDatabaseDialect: DatabaseDialect {
    var name: String { "MySqlDatabaseDialect" }

    func openSession(_ url: JdbcUrl, user: String?, password: String?) throws(SQLFailure) -> any SqlSession {
        do {
            let c = try MariaDBConnection(
                host: url.host, port: url.port, user: user ?? url.parameters["user"] ?? "",
                password: password ?? url.parameters["password"] ?? "",
                database: url.database.isEmpty ? nil : url.database, connectTimeout: 10, readTimeout: 300)
            // Timestamps are written in UTC (db.timezone); strict mode refuses values that do not fit.
            try c.query("SET time_zone = '+00:00'")
            return MySqlSession(c)
        } catch { throw Self.failure(error) }
    }

    static func failure(_ e: MariaDBError) -> SQLFailure {
        SQLFailure(
            message: e.message, sqlState: e.sqlState, isConnectionError: e.isConnectionError,
            exceptionClass: "java.sql.SQLException")
    }

    func quote(_ identifier: String, always: Bool) -> String {
        always ? MariaDBConnection.quoteIdentifier(identifier) : identifier
    }

    func sqlType(_ schema: Schema) throws(ConnectError) -> String {
        switch schema.name {
        case LogicalTypes.decimalName:
            let scale = schema.parameters?.first { $0.key == LogicalTypes.scaleParameter }?.value ?? "0"
            return "DECIMAL(65,\(scale))"
        case LogicalTypes.dateName: return "DATE"
        case LogicalTypes.timeName: return "TIME(3)"
        case LogicalTypes.timestampName: return "DATETIME(3)"
        default: break
        }
        switch schema.type {
        case .int8: return "TINYINT"
        case .int16: return "SMALLINT"
        case .int32: return "INT"
        case .int64: return "BIGINT"
        case .float32: return "FLOAT"
        case .float64: return "DOUBLE"
        case .boolean: return "TINYINT"
        case .string: return "TEXT"
        case .bytes: return "VARBINARY(1024)"
        default:
            throw ConnectError(
                .connect, "MySqlDatabaseDialect does not support the type \(schema.type.rawValue) in auto.create")
        }
    }

    /// A key column must have a length: `VARCHAR(256)` for strings, as Confluent's dialect gives them.
    func keySqlType(_ schema: Schema) throws(ConnectError) -> String {
        schema.type == .string && schema.name == nil ? "VARCHAR(256)" : try sqlType(schema)
    }

    func literal(_ value: Value?, _ schema: Schema, _ session: any SqlSession) throws(ConnectError) -> String {
        guard let value else { return "NULL" }
        if let number = try SqlLiterals.number(value) { return number }
        switch value {
        case .boolean(let b): return b ? "1" : "0"
        case .string(let s): return session.literal(s)
        case .bytes(let b): return "X'\(SqlLiterals.hex(b))'"
        case .timestamp(let ms): return "'\(SqlLiterals.temporal(ms, logical: schema.name ?? ""))'"
        default:
            throw ConnectError(.data, "MySqlDatabaseDialect cannot write a \(schema.type.rawValue) value to a column")
        }
    }

    func upsert(table: String, keys: [String], columns: [String], rows: [[String]]) -> String {
        let updated = columns.isEmpty ? keys : columns
        return insert(table: table, columns: keys + columns, rows: rows) + " ON DUPLICATE KEY UPDATE "
            + updated.map { "\($0)=VALUES(\($0))" }.joined(separator: ",")
    }
}

final class MySqlSession: SqlSession {
    private let connection: MariaDBConnection

    init(_ connection: MariaDBConnection) { self.connection = connection }

    func execute(_ sql: String) throws(SQLFailure) {
        do { try connection.query(sql) } catch { throw MySqlDatabaseDialect.failure(error) }
    }

    func columns(of table: String) throws(SQLFailure) -> Set<String>? {
        do {
            let r = try connection.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = \(connection.quoteLiteral(table))"
            )
            let names = Set(r.strings.compactMap { $0.first ?? nil })
            return names.isEmpty ? nil : names
        } catch { throw MySqlDatabaseDialect.failure(error) }
    }

    func literal(_ text: String) -> String { connection.quoteLiteral(text) }
}
