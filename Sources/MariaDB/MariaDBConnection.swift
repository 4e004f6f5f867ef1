import CMariaDB
import Foundation

/// One connection to a MariaDB or MySQL server through MariaDB Connector/C (libmariadb), owned by one thread (a
/// task's).
///
/// libmariadb is the well-kept client here: the one Debian ships, which also speaks the replication protocol
/// (`COM_BINLOG_DUMP`, `BinlogClient`). Results come back in the text protocol's form: bytes per column, nil for
/// SQL NULL.
public final class MariaDBConnection {
    /// Owned: `mysql_close` in `deinit` is its only release.
    let handle: UnsafeMutablePointer<MYSQL>

    /// Connects over TCP. `connectTimeout` and `readTimeout` are in seconds (0: the library's default, no read
    /// timeout). Throws the server's or the client's error (1045 access denied, 2003 cannot connect, ...).
    public init(
        host: String, port: Int, user: String, password: String, database: String? = nil, connectTimeout: Int = 10,
        readTimeout: Int = 0
    ) throws(MariaDBError) {
        guard let m = mysql_init(nil) else { throw MariaDBError("libmariadb could not allocate a connection") }
        var timeout = UInt32(connectTimeout)
        mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)
        if readTimeout > 0 {
            var read = UInt32(readTimeout)
            mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &read)
        }
        mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        guard mysql_real_connect(m, host, user, password, database, UInt32(port), nil, 0) != nil else {
            let error = Self.error(of: m)
            mysql_close(m)
            throw error
        }
        handle = m
    }

    deinit { mysql_close(handle) }

    static func error(of m: UnsafeMutablePointer<MYSQL>) -> MariaDBError {
        MariaDBError(
            String(cString: mysql_error(m)), code: Int(mysql_errno(m)), sqlState: String(cString: mysql_sqlstate(m)))
    }

    /// The server's version string (`10.11.19-MariaDB-0+deb12u1-log`, `8.0.36`).
    public var serverVersion: String { String(cString: mysql_get_server_info(handle)) }

    /// The server's id of this connection's session (`KILL QUERY <id>` stops its statement from another connection).
    public var threadId: UInt { UInt(mysql_thread_id(handle)) }

    /// Whether the server is MariaDB (its version string says so), not MySQL.
    public var isMariaDB: Bool { serverVersion.contains("MariaDB") }

    /// Runs one statement and returns its rows (none for a statement without a result set).
    @discardableResult
    public func query(_ sql: String) throws(MariaDBError) -> MariaDBResult {
        let rc = sql.withCString { mysql_real_query(handle, $0, UInt(strlen($0))) }
        guard rc == 0 else { throw Self.error(of: handle) }
        guard let res = mysql_store_result(handle) else {
            if mysql_field_count(handle) != 0 { throw Self.error(of: handle) }
            return MariaDBResult(columns: [], rows: [])
        }
        defer { mysql_free_result(res) }
        return MariaDBResult(res)
    }

    /// Runs a statement whose rows are read one at a time as they arrive (`mysql_use_result`), so a table of any
    /// size is read in constant memory. The connection runs nothing else until the stream is read to its end or
    /// released.
    public func openStream(_ sql: String) throws(MariaDBError) -> MariaDBRowStream {
        let rc = sql.withCString { mysql_real_query(handle, $0, UInt(strlen($0))) }
        guard rc == 0 else { throw Self.error(of: handle) }
        guard let res = mysql_use_result(handle) else { throw Self.error(of: handle) }
        return MariaDBRowStream(connection: self, result: res)
    }

    /// Quotes a string literal (`'it''s'`), escaping as the connection's character set asks.
    public func quoteLiteral(_ s: String) -> String {
        let bytes = Array(s.utf8)
        var out = [CChar](repeating: 0, count: bytes.count * 2 + 1)
        let n = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) {
                mysql_real_escape_string(handle, &out, $0.baseAddress, UInt(b.count))
            }
        }
        return "'" + String(decoding: out[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self) + "'"
    }

    /// Quotes an identifier with backticks (a backtick inside is doubled).
    public static func quoteIdentifier(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }
}

/// The rows of one statement, read as they arrive (`MariaDBConnection.openStream`).
public final class MariaDBRowStream {
    private let connection: MariaDBConnection
    private let result: UnsafeMutablePointer<MYSQL_RES>
    private let count: Int

    init(connection: MariaDBConnection, result: UnsafeMutablePointer<MYSQL_RES>) {
        self.connection = connection
        self.result = result
        count = Int(mysql_num_fields(result))
    }

    /// Releasing the result reads and drops the rows not read, as the protocol asks.
    deinit { mysql_free_result(result) }

    /// The next row, nil at the end; throws when the connection breaks mid-way.
    public func next() throws(MariaDBError) -> [[UInt8]?]? {
        guard let row = mysql_fetch_row(result) else {
            if mysql_errno(connection.handle) != 0 { throw MariaDBConnection.error(of: connection.handle) }
            return nil
        }
        return MariaDBResult.values(row, lengths: mysql_fetch_lengths(result), count: count)
    }
}

/// What the server says of a result column (`MYSQL_FIELD`).
public struct MariaDBField: Sendable, Equatable {
    /// `enum_field_types` (`MYSQL_TYPE_LONG` is 3, `MYSQL_TYPE_NEWDECIMAL` 246, ...).
    public var type: UInt32
    /// `UNSIGNED_FLAG` (32), `BINARY_FLAG` (128), `NOT_NULL_FLAG` (1), ...
    public var flags: UInt32
    /// The display width (for DECIMAL, digits plus sign and point).
    public var length: UInt
    public var decimals: UInt32
    /// The character set number; 63 is `binary` (a BLOB or VARBINARY rather than text).
    public var charsetNumber: UInt32

    public var isUnsigned: Bool { flags & 32 != 0 }
    public var isNotNull: Bool { flags & 1 != 0 }
    public var isBinary: Bool { charsetNumber == 63 }
}

/// A result set in the text protocol's form.
public struct MariaDBResult: Sendable {
    public var columns: [String]
    /// The columns' types, in the order of `columns`.
    public var fields: [MariaDBField]
    /// Each row's values as the server sent them; nil is SQL NULL.
    public var rows: [[[UInt8]?]]

    public init(columns: [String], rows: [[[UInt8]?]], fields: [MariaDBField] = []) {
        self.columns = columns
        self.rows = rows
        self.fields = fields
    }

    init(_ res: UnsafeMutablePointer<MYSQL_RES>) {
        let n = Int(mysql_num_fields(res))
        let fields = mysql_fetch_fields(res)
        columns = (0..<n).map { i in fields.map { String(cString: $0[i].name) } ?? "" }
        self.fields = (0..<n).map { i in
            guard let f = fields?[i] else {
                return MariaDBField(type: 0, flags: 0, length: 0, decimals: 0, charsetNumber: 0)
            }
            return MariaDBField(
                type: f.type.rawValue, flags: UInt32(f.flags), length: UInt(f.length), decimals: UInt32(f.decimals),
                charsetNumber: UInt32(f.charsetnr))
        }
        var rows: [[[UInt8]?]] = []
        while let row = mysql_fetch_row(res) {
            rows.append(Self.values(row, lengths: mysql_fetch_lengths(res), count: n))
        }
        self.rows = rows
    }

    static func values(_ row: MYSQL_ROW, lengths: UnsafeMutablePointer<UInt>?, count: Int) -> [[UInt8]?] {
        (0..<count).map { i in
            guard let p = row[i] else { return nil }
            let length = Int(lengths?[i] ?? UInt(strlen(p)))
            return p.withMemoryRebound(to: UInt8.self, capacity: length) {
                Array(UnsafeBufferPointer(start: $0, count: length))
            }
        }
    }

    /// The value in `row` of the column named `column`, as UTF-8 text.
    public func string(_ row: Int, _ column: String) -> String? {
        guard row < rows.count, let i = columns.firstIndex(of: column), let v = rows[row][i] else { return nil }
        return String(decoding: v, as: UTF8.self)
    }

    /// Every row as UTF-8 text.
    public var strings: [[String?]] { rows.map { $0.map { $0.map { String(decoding: $0, as: UTF8.self) } } } }
}
