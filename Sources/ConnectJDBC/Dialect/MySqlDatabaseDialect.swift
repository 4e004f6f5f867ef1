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
        // 1153: the statement is larger than max_allowed_packet; its SQLSTATE (08S01) reads as a lost connection.
        SQLFailure(
            message: e.message, sqlState: e.sqlState, isConnectionError: e.isConnectionError && e.code != 1153,
            exceptionClass: "java.sql.SQLException", code: e.code)
    }

    var identifierQuote: Character { "`" }
    var foldsUnquotedToLowerCase: Bool { false }
    var twoPartsNameCatalog: Bool { true }

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
        case .string(let s):
            // The statement goes to the server as a C string: a NUL would cut it.
            guard !s.utf8.contains(0) else {
                throw ConnectError(.data, "A string with a NUL character cannot be written")
            }
            return session.literal(s)
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
    let connection: MariaDBConnection

    init(_ connection: MariaDBConnection) { self.connection = connection }

    func execute(_ sql: String) throws(SQLFailure) {
        do { try connection.query(sql) } catch { throw MySqlDatabaseDialect.failure(error) }
    }

    func columns(of table: TableId) throws(SQLFailure) -> Set<String>? {
        // MySQL's databases are catalogs; a schema part (three-part names) has no meaning and makes the statements
        // fail with the server's own error.
        let database = table.catalog.map { connection.quoteLiteral($0) } ?? "DATABASE()"
        do {
            let r = try connection.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = \(database) AND table_name = \(connection.quoteLiteral(table.table))"
            )
            let names = Set(r.strings.compactMap { $0.first ?? nil })
            return names.isEmpty ? nil : names
        } catch { throw MySqlDatabaseDialect.failure(error) }
    }

    func literal(_ text: String) -> String { connection.quoteLiteral(text) }
}

extension MySqlSession {
    func select(_ sql: String) throws(SQLFailure) -> SqlRows {
        do {
            let r = try connection.query(sql)
            let columns = zip(r.columns, r.fields).map { SqlColumn(name: $0, kind: Self.kind($1)) }
            return SqlRows(columns: columns, rows: r.rows)
        } catch { throw MySqlDatabaseDialect.failure(error) }
    }

    /// The column kind of a field, as MySQL Connector/J reports it to Confluent's dialect: `TINYINT(1)` and
    /// `BIT(1)` are `Types.BIT` (INT8 in Confluent's mapping), unsigned integers take the next wider type,
    /// `DECIMAL` is `Types.DECIMAL` (a Decimal whatever `numeric.mapping` says), `YEAR` is a date.
    static func kind(_ f: MariaDBField) -> SqlColumn.Kind {
        switch f.type {
        case 1: return f.length == 1 ? .int8 : f.isUnsigned ? .int16 : .int8
        case 2: return f.isUnsigned ? .int32 : .int16
        case 3, 9: return f.isUnsigned ? .int64 : .int32
        case 8: return .int64
        case 4: return .float32
        case 5: return .float64
        case 0, 246:
            // The display length counts the digits, a point when there is a scale, and a sign when signed.
            let precision = Int(f.length) - (f.decimals > 0 ? 1 : 0) - (f.isUnsigned ? 0 : 1)
            return .decimal(precision: max(1, precision), scale: Int(f.decimals))
        case 16: return f.length == 1 ? .int8 : .bytes
        case 10, 14, 13: return .date
        case 11: return .time
        case 7, 12: return .timestamp
        case 15, 253, 254, 249, 250, 251, 252: return f.isBinary ? .bytes : .string
        case 245, 247, 248: return .string
        default: return .unsupported("MYSQL_TYPE \(f.type)")
        }
    }

    func tables(catalog: String?, schema: String?, types: [String]) throws(SQLFailure) -> [TableId] {
        let kinds = types.compactMap { ["TABLE": "'BASE TABLE'", "VIEW": "'VIEW'"][$0] }
        guard !kinds.isEmpty else { return [] }
        let database = catalog.map { connection.quoteLiteral($0) } ?? "DATABASE()"
        let r = try select(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = \(database) AND table_type IN (\(kinds.joined(separator: ","))) ORDER BY 1, 2"
        )
        return r.rows.map { row in
            let text = row.map { $0.map { String(decoding: $0, as: UTF8.self) } ?? "" }
            return TableId(catalog: text[0], table: text[1])
        }
    }

    func columnCondition(_ table: TableId) -> String {
        let database = table.catalog.map { connection.quoteLiteral($0) } ?? "DATABASE()"
        return "table_schema = \(database) AND table_name = \(connection.quoteLiteral(table.table))"
    }

    var autoIncrementCondition: String { "extra LIKE '%auto_increment%'" }
    /// The session's time zone is UTC (set when it opened).
    var currentTimestampQuery: String { "SELECT CURRENT_TIMESTAMP(6)" }
    var exceptionClass: String { "java.sql.SQLException" }
}
