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
            // Timestamps are written in UTC (db.timezone), byte strings in hex; literals are UTF-8 with standard
            // strings, the two things `PostgresSession.literal`'s escaping relies on.
            "options": "-c TimeZone=UTC -c bytea_output=hex -c standard_conforming_strings=on",
            "client_encoding": "UTF8",
        ]
        // pgjdbc's URL parameters that have a libpq twin; `ssl=true` alone means verify-full there.
        let p = url.parameters
        if let mode = p["sslmode"] ?? (p["ssl"] == "true" ? "verify-full" : nil) { params["sslmode"] = mode }
        for key in ["sslrootcert", "sslcert", "sslkey"] { if let v = p[key] { params[key] = v } }
        if let v = p["connectTimeout"], Int(v) ?? 0 > 0 { params["connect_timeout"] = v }
        if let v = p["ApplicationName"] { params["application_name"] = v }
        if let v = p["currentSchema"], JdbcSinkTask.isPlainIdentifier(v) {
            params["options", default: ""] += " -c search_path=\(v)"
        }
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

    var identifierQuote: Character { "\"" }
    var foldsUnquotedToLowerCase: Bool { true }
    var twoPartsNameCatalog: Bool { false }

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
        // PostgreSQL's floating types hold NaN and the infinities (MySQL's do not).
        switch value {
        case .float32(let v) where !v.isFinite: return "'\(v.isNaN ? "NaN" : v < 0 ? "-Infinity" : "Infinity")'::real"
        case .float64(let v) where !v.isFinite:
            return "'\(v.isNaN ? "NaN" : v < 0 ? "-Infinity" : "Infinity")'::double precision"
        default: break
        }
        if let number = try SqlLiterals.number(value) { return number }
        switch value {
        case .boolean(let b): return b ? "TRUE" : "FALSE"
        case .string(let s):
            // The statement goes to the server as a C string: a NUL would cut it.
            guard !s.utf8.contains(0) else {
                throw ConnectError(.data, "A string with a NUL character cannot be written")
            }
            return session.literal(s)
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
    let connection: PostgresConnection

    init(_ connection: PostgresConnection) { self.connection = connection }

    func execute(_ sql: String) throws(SQLFailure) {
        do { try connection.query(sql, timeoutMilliseconds: 300_000) } catch {
            throw PostgreSqlDatabaseDialect.failure(error)
        }
    }

    func columns(of table: TableId) throws(SQLFailure) -> Set<String>? {
        // A catalog other than the connection's database finds nothing here; the statements then fail with the
        // server's own "cross-database references are not implemented".
        let catalog = table.catalog.map { "table_catalog = \(connection.quoteLiteral($0)) AND " } ?? ""
        let schema = table.schema.map { connection.quoteLiteral($0) } ?? "current_schema()"
        do {
            let r = try connection.query(
                "SELECT column_name FROM information_schema.columns WHERE \(catalog)table_schema = \(schema) AND table_name = \(connection.quoteLiteral(table.table))",
                timeoutMilliseconds: 60_000)
            let names = Set(r.rows.compactMap { $0.first ?? nil })
            return names.isEmpty ? nil : names
        } catch { throw PostgreSqlDatabaseDialect.failure(error) }
    }

    /// With `client_encoding=UTF8` and `standard_conforming_strings=on` (set for the session) doubling the quotes
    /// is the whole escaping; no fallback that could leave a string unescaped.
    /// Quotes doubled (`standard_conforming_strings`, on since PostgreSQL 9.1); in Swift, not Foundation's
    /// `replacingOccurrences`, which bridges every value through NSString (it showed in the sink's profile).
    func literal(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "'")) else { return "'" + text + "'" }
        return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
    }
}

extension PostgresSession {
    func select(_ sql: String) throws(SQLFailure) -> SqlRows {
        do {
            let r = try connection.query(sql, timeoutMilliseconds: 300_000)
            return SqlRows(
                columns: r.columns.map { SqlColumn(name: $0.name, kind: Self.kind($0.typeOID, $0.typeModifier)) },
                rows: r.rows.map { $0.map { $0.map { Array($0.utf8) } } })
        } catch { throw PostgreSqlDatabaseDialect.failure(error) }
    }

    /// The column kind of a type OID (`pg_type`), as pgjdbc reports it to Confluent's dialect.
    static func kind(_ oid: UInt32, _ typmod: Int32) -> SqlColumn.Kind {
        switch oid {
        case 16: return .boolean
        case 21: return .int16
        case 23: return .int32
        case 20, 26: return .int64
        case 700: return .float32
        case 701: return .float64
        case 1700:
            // typmod is ((precision << 16) | scale) + 4; -1 for an unconstrained numeric.
            guard typmod >= 4 else { return .numeric(precision: 0, scale: nil) }
            return .numeric(precision: Int((typmod - 4) >> 16), scale: Int((typmod - 4) & 0xFFFF))
        // text, varchar, bpchar, name, char, uuid, json, jsonb, xml, citext-like domains arrive as text too.
        case 25, 1043, 1042, 19, 18, 2950, 114, 3802, 142: return .string
        case 17: return .bytes
        case 1082: return .date
        case 1083: return .time
        case 1114, 1184: return .timestamp
        default: return .unsupported("oid \(oid)")
        }
    }

    func tables(catalog: String?, schema: String?, types: [String]) throws(SQLFailure) -> [TableId] {
        let kinds = types.compactMap { ["TABLE": "'BASE TABLE'", "VIEW": "'VIEW'"][$0] }
        guard !kinds.isEmpty else { return [] }
        let schemaFilter =
            schema.map { "table_schema = \(connection.quoteLiteral($0))" }
            ?? "table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_toast%'"
        let catalogFilter = catalog.map { " AND table_catalog = \(connection.quoteLiteral($0))" } ?? ""
        let r = try select(
            "SELECT table_catalog, table_schema, table_name FROM information_schema.tables WHERE \(schemaFilter)\(catalogFilter) AND table_type IN (\(kinds.joined(separator: ","))) ORDER BY 1, 2, 3"
        )
        return r.rows.map { row in
            let text = row.map { $0.map { String(decoding: $0, as: UTF8.self) } ?? "" }
            // pgjdbc reports no catalog (TABLE_CAT is NULL): Confluent's names and offsets are `schema.table`.
            return TableId(schema: text[1], table: text[2])
        }
    }

    func columnCondition(_ table: TableId) -> String {
        let schema = table.schema.map { connection.quoteLiteral($0) } ?? "current_schema()"
        return "table_schema = \(schema) AND table_name = \(connection.quoteLiteral(table.table))"
    }

    var autoIncrementCondition: String { "(column_default LIKE 'nextval(%' OR is_identity = 'YES')" }
    var currentTimestampQuery: String { "SELECT CURRENT_TIMESTAMP" }
    var exceptionClass: String { "org.postgresql.util.PSQLException" }
}
