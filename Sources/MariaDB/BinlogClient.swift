import CMariaDB
import Foundation

/// Reads a server's binlog as a replica does (`COM_BINLOG_DUMP`), through libmariadb's replication API
/// (`mariadb_rpl_*`): libmariadb frames the packets, the events' bytes are decoded in Swift
/// (`BinlogEvent.parse`), because the library's own row decoder mis-reads CHAR, ENUM, SET and signed values.
///
/// Owns its connection: a connection streaming the binlog runs nothing else.
public final class BinlogClient {
    private let connection: MariaDBConnection
    private let rpl: UnsafeMutablePointer<MARIADB_RPL>
    /// 4 when the server appends a CRC32 to each event, else 0.
    public let checksumSize: Int

    /// Where to start: a binlog file and position, or (MariaDB) a GTID state (`0-1-10`) after which to start.
    public enum Start: Sendable {
        case position(file: String, position: UInt64)
        case mariadbGTID(String)
    }

    /// Opens the stream as replica `serverId` (unique among the primary's replicas). The server sends a heartbeat
    /// after `heartbeatSeconds` without events, so `next()` returns at least that often.
    public init(
        connection: MariaDBConnection, serverId: UInt32, start: Start, heartbeatSeconds: Double
    ) throws(MariaDBError) {
        self.connection = connection
        let checksum = try connection.query("SELECT @@global.binlog_checksum").strings.first?.first ?? nil
        checksumSize = (checksum ?? "NONE").uppercased() == "NONE" ? 0 : 4
        // The session variables a replica sets before COM_BINLOG_DUMP: without them MariaDB sends neither GTID
        // events nor checksums the reader expects.
        try connection.query("SET @master_binlog_checksum = @@global.binlog_checksum")
        try connection.query("SET @mariadb_slave_capability = 4")
        try connection.query("SET @master_heartbeat_period = \(UInt64(heartbeatSeconds * 1_000_000_000))")
        var file = ""
        var position: UInt64 = 4
        switch start {
        case .position(let f, let p):
            file = f
            position = p
        case .mariadbGTID(let state):
            try connection.query("SET @slave_connect_state = \(connection.quoteLiteral(state))")
            try connection.query("SET @slave_gtid_strict_mode = 0")
            try connection.query("SET @slave_gtid_ignore_duplicates = 0")
        }
        guard let r = swift_mariadb_rpl_init(connection.handle) else {
            throw MariaDBConnection.error(of: connection.handle)
        }
        rpl = r
        _ = file.withCString { swift_mariadb_rpl_set_filename(r, $0, file.utf8.count) }
        _ = swift_mariadb_rpl_set_start(r, UInt(position))
        _ = swift_mariadb_rpl_set_server_id(r, serverId)
        // MariaDB sends the SQL text of row changes (ANNOTATE_ROWS) only when asked.
        _ = swift_mariadb_rpl_set_flags(r, UInt32(MARIADB_RPL_BINLOG_SEND_ANNOTATE_ROWS))
        // Every stored property is set: a throw from here on runs `deinit`, which closes `rpl` (once).
        guard mariadb_rpl_open(r) == 0 else { throw Self.error(r, connection) }
    }

    deinit { mariadb_rpl_close(rpl) }

    private static func error(
        _ rpl: UnsafeMutablePointer<MARIADB_RPL>, _ connection: MariaDBConnection
    )
        -> MariaDBError
    {
        let server = MariaDBConnection.error(of: connection.handle)
        if server.code != 0 { return server }
        let message = String(cString: mariadb_rpl_error(rpl))
        return MariaDBError(message.isEmpty ? "binlog stream failed" : message, code: Int(mariadb_rpl_errno(rpl)))
    }

    /// The next event's bytes (header, body, checksum), waiting for one; throws when the stream breaks (the
    /// server's error, such as 1236 for a binlog position the server no longer has).
    public func next() throws(MariaDBError) -> [UInt8] {
        guard let ev = mariadb_rpl_fetch(rpl, nil) else { throw Self.error(rpl, connection) }
        defer { mariadb_free_rpl_event(ev) }
        // raw_data is the network packet: a status byte (0x00), then the event.
        let size = Int(ev.pointee.raw_data_size)
        guard let raw = ev.pointee.raw_data, size > 1 else { return [] }
        return Array(UnsafeBufferPointer(start: raw + 1, count: size - 1))
    }
}
