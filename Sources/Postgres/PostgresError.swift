/// An error of the PostgreSQL client or server: the server's message and its SQLSTATE when the server sent one.
///
/// Described as PgJDBC's `org.postgresql.util.PSQLException` with `(SQLState: 28P01)`, so traces read as the
/// Debezium and JDBC connectors' traces do and the SQLSTATE is where tools look for it.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The five-character SQLSTATE (`28P01`, `42P01`, ...), nil for client-side failures (a lost socket).
    public var sqlState: String?

    public init(_ message: String, sqlState: String? = nil) {
        self.message = message
        self.sqlState = sqlState
    }

    /// Connection errors (SQLSTATE class 08, admin shutdown 57P01, no SQLSTATE at all) are worth a retry.
    public var isConnectionError: Bool {
        guard let sqlState else { return true }
        return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }

    public var description: String {
        "org.postgresql.util.PSQLException: \(message)" + (sqlState.map { " (SQLState: \($0))" } ?? "")
    }
}
