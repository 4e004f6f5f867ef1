/// An error of the MariaDB/MySQL client or server: the message, the server's error number and SQLSTATE.
///
/// Described as MySQL Connector/J's `java.sql.SQLException` with the error code and SQLSTATE
/// (`java.sql.SQLException: Access denied for user 'x'@'localhost' (using password: YES) (errno 1045, SQLState:
/// 28000)`), so traces read as the Debezium MySQL connector's traces do.
public struct MariaDBError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The server's or client's error number (1045 access denied, 2003 cannot connect, 2013 lost connection).
    public var code: Int
    /// The five-character SQLSTATE; `HY000` when the server gave none.
    public var sqlState: String

    public init(_ message: String, code: Int = 0, sqlState: String = "HY000") {
        self.message = message
        self.code = code
        self.sqlState = sqlState
    }

    /// Client errors of a lost or refused connection (CR_CONNECTION_ERROR 2002, CR_CONN_HOST_ERROR 2003,
    /// CR_SERVER_GONE_ERROR 2006, CR_SERVER_LOST 2013, CR_SERVER_LOST_EXTENDED 2055) and the server shutting down
    /// (ER_SERVER_SHUTDOWN 1053): worth a retry.
    public var isConnectionError: Bool {
        [2002, 2003, 2006, 2013, 2055, 1053].contains(code) || sqlState.hasPrefix("08")
    }

    public var description: String {
        "java.sql.SQLException: \(message) (errno \(code), SQLState: \(sqlState))"
    }
}
