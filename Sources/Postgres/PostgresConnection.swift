import CLibPQ
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One connection to PostgreSQL through libpq, owned by one thread (a task's).
///
/// libpq is the well-kept client here: PostgreSQL's own library, the one that speaks the replication protocol
/// (`replication=database`, COPY BOTH) that logical decoding needs; postgres-nio cannot stream COPY BOTH. Values come
/// back in text form, as pgoutput sends them, so snapshot and stream share one decoder.
public final class PostgresConnection {
    /// Owned: `PQfinish` in `deinit` is its only release.
    private let conn: OpaquePointer

    /// Connects with libpq's `key=value` parameters (`host`, `port`, `user`, `password`, `dbname`,
    /// `replication`, `connect_timeout`, ...). Throws the server's or libpq's message.
    public init(parameters: [String: String]) throws(PostgresError) {
        let info = Self.conninfo(parameters)
        guard let c = PQconnectdb(info) else { throw PostgresError("libpq could not allocate a connection") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(c))
            PQfinish(c)
            throw PostgresError(message, sqlState: Self.sqlState(forConnectMessage: message))
        }
        // Server notices (WARNING, NOTICE) would go to stderr; the connector reports what matters itself.
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        conn = c
    }

    deinit { PQfinish(conn) }

    /// `key='value' ...`, quoting as libpq's conninfo grammar asks (backslash before `'` and `\`).
    static func conninfo(_ parameters: [String: String]) -> String {
        parameters.sorted { $0.key < $1.key }.map { key, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
    }

    /// The server's version number (`150018` for 15.18).
    public var serverVersion: Int { Int(PQserverVersion(conn)) }

    /// Runs one statement (or several, separated by `;`) and returns the last result's rows, in text form.
    @discardableResult
    public func query(_ sql: String) throws(PostgresError) -> PostgresResult {
        guard let res = PQexec(conn, sql) else { throw PostgresError(Self.trimmed(PQerrorMessage(conn))) }
        defer { PQclear(res) }
        let status = PQresultStatus(res)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(from: res) }
        return PostgresResult(res)
    }

    /// Runs one statement as `query(_:)` does, giving up after `timeoutMilliseconds` without an answer: libpq has
    /// no client-side timeout, and a server that is frozen (stopped, or cut off without a reset) keeps the TCP
    /// connection open, so a plain `PQexec` would wait for ever. After a timeout the connection is unusable
    /// (the statement may still be running) and must be dropped.
    ///
    /// - Throws: `PostgresError` with SQLSTATE `08006` (connection failure) on the timeout.
    @discardableResult
    public func query(_ sql: String, timeoutMilliseconds: Int32) throws(PostgresError) -> PostgresResult {
        guard PQsendQuery(conn, sql) == 1 else { throw PostgresError(Self.trimmed(PQerrorMessage(conn))) }
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(timeoutMilliseconds)))
        // Every result of the statements is read (each may need more input); the last one is the answer.
        var last: OpaquePointer?
        var failure: PostgresError?
        while true {
            while PQisBusy(conn) == 1 {
                let left = deadline - ContinuousClock.now
                let ms = Int32(
                    clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
                guard ms > 0 else {
                    if let last { PQclear(last) }
                    throw PostgresError("no answer from the server in \(timeoutMilliseconds) ms", sqlState: "08006")
                }
                var fd = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
                let polled = poll(&fd, 1, ms)
                if polled < 0 && errno != EINTR || PQconsumeInput(conn) != 1 {
                    if let last { PQclear(last) }
                    throw PostgresError(Self.trimmed(PQerrorMessage(conn)), sqlState: "08006")
                }
            }
            guard let res = PQgetResult(conn) else { break }
            let status = PQresultStatus(res)
            if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && failure == nil { failure = error(from: res) }
            if let last { PQclear(last) }
            last = res
        }
        defer { if let last { PQclear(last) } }
        if let failure { throw failure }
        guard let last else { throw PostgresError(Self.trimmed(PQerrorMessage(conn))) }
        return PostgresResult(last)
    }

    /// Quotes an identifier (`"Orders"`) as libpq does.
    public func quoteIdentifier(_ name: String) -> String {
        guard let p = PQescapeIdentifier(conn, name, name.utf8.count) else { return "\"\(name)\"" }
        defer { PQfreemem(p) }
        return String(cString: p)
    }

    /// Quotes a literal (`'it''s'`) as libpq does.
    public func quoteLiteral(_ text: String) -> String {
        guard let p = PQescapeLiteral(conn, text, text.utf8.count) else { return "'\(text)'" }
        defer { PQfreemem(p) }
        return String(cString: p)
    }

    // MARK: Replication (COPY BOTH)

    /// Sends a command that enters COPY BOTH mode (`START_REPLICATION ...`).
    public func startCopyBoth(_ command: String) throws(PostgresError) {
        guard let res = PQexec(conn, command) else { throw PostgresError(Self.trimmed(PQerrorMessage(conn))) }
        defer { PQclear(res) }
        guard PQresultStatus(res) == PGRES_COPY_BOTH else { throw error(from: res) }
    }

    /// The next CopyData message, waiting up to `timeoutMilliseconds` for one; nil when none came in time.
    /// Throws when the server ended the copy (with its error, if any) or the connection broke.
    public func readCopyData(timeoutMilliseconds: Int32) throws(PostgresError) -> [UInt8]? {
        var waited = false
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(conn, &buffer, 1)
            if n > 0, let buffer {
                defer { PQfreemem(buffer) }
                return buffer.withMemoryRebound(to: UInt8.self, capacity: Int(n)) {
                    Array(UnsafeBufferPointer(start: $0, count: Int(n)))
                }
            }
            if n == -1 {
                // The server ended the stream: its final result tells why.
                if let res = PQgetResult(conn) {
                    defer { PQclear(res) }
                    throw error(from: res)
                }
                throw PostgresError("the server ended the replication stream")
            }
            if n == -2 { throw PostgresError(Self.trimmed(PQerrorMessage(conn))) }
            if waited { return nil }
            var fd = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            let ready = poll(&fd, 1, timeoutMilliseconds)
            if ready < 0 && errno != EINTR {
                throw PostgresError("poll on the replication socket failed (errno \(errno))")
            }
            guard PQconsumeInput(conn) == 1 else { throw PostgresError(Self.trimmed(PQerrorMessage(conn))) }
            waited = true
        }
    }

    /// Sends one CopyData message (a standby status update) and flushes it.
    public func writeCopyData(_ bytes: [UInt8]) throws(PostgresError) {
        let sent = bytes.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { PQputCopyData(conn, $0.baseAddress, Int32($0.count)) }
        }
        guard sent == 1, PQflush(conn) == 0 else { throw PostgresError(Self.trimmed(PQerrorMessage(conn))) }
    }

    // MARK: Errors

    private func error(from res: OpaquePointer) -> PostgresError {
        var message = PQresultErrorMessage(res).map { Self.trimmed($0) } ?? ""
        if message.isEmpty { message = Self.trimmed(PQerrorMessage(conn)) }
        let state = PQresultErrorField(res, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        return PostgresError(message, sqlState: state)
    }

    private static func trimmed(_ p: UnsafePointer<CChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    /// libpq gives no SQLSTATE for a failed connection; the server's well-known messages tell it.
    static func sqlState(forConnectMessage message: String) -> String? {
        if message.contains("password authentication failed") { return "28P01" }
        if message.contains("no pg_hba.conf entry") { return "28000" }
        if message.contains("does not exist") && message.contains("database") { return "3D000" }
        if message.contains("role") && message.contains("does not exist") { return "28000" }
        return "08001"
    }
}

/// A result in text form: column names, type OIDs and modifiers, and rows (`nil` is SQL NULL).
public struct PostgresResult: Sendable {
    public struct Column: Sendable, Equatable {
        public var name: String
        public var typeOID: UInt32
        public var typeModifier: Int32
    }

    public var columns: [Column]
    public var rows: [[String?]]
    public var commandTag: String

    init(_ res: OpaquePointer) {
        let nFields = Int(PQnfields(res))
        let nRows = Int(PQntuples(res))
        columns = (0..<nFields).map { i in
            Column(
                name: String(cString: PQfname(res, Int32(i))), typeOID: UInt32(PQftype(res, Int32(i))),
                typeModifier: PQfmod(res, Int32(i)))
        }
        var rows: [[String?]] = []
        rows.reserveCapacity(nRows)
        for r in 0..<nRows {
            rows.append(
                (0..<nFields).map { c in
                    PQgetisnull(res, Int32(r), Int32(c)) == 1
                        ? nil : String(cString: PQgetvalue(res, Int32(r), Int32(c)))
                })
        }
        self.rows = rows
        commandTag = String(cString: PQcmdStatus(res))
    }

    /// The value of `column` in `row`, by name.
    public func value(_ row: Int, _ column: String) -> String? {
        guard let i = columns.firstIndex(where: { $0.name == column }) else { return nil }
        return rows[row][i]
    }
}
