import ConnectTestKit
import Foundation
import Testing

@testable import MariaDB

/// The binlog of a real MariaDB server, read as a replica and decoded in Swift.
struct BinlogClientTests {
    let server = MariaDBServer.shared

    private func connect() throws -> MariaDBConnection {
        try MariaDBConnection(host: "127.0.0.1", port: server.port, user: "root", password: "")
    }

    /// Reads events from `start` until `stop` says so or 20 s pass.
    private func read(
        from start: BinlogClient.Start, serverId: UInt32, until stop: ([(BinlogEventHeader, BinlogEvent)]) -> Bool
    ) throws -> [(BinlogEventHeader, BinlogEvent)] {
        let client = try BinlogClient(
            connection: try connect(), serverId: serverId, start: start, heartbeatSeconds: 0.2)
        var events: [(BinlogEventHeader, BinlogEvent)] = []
        let deadline = Date().addingTimeInterval(20)
        while !stop(events) && Date() < deadline {
            events.append(try BinlogEvent.parse(try client.next(), checksumSize: client.checksumSize))
        }
        return events
    }

    @Test func rowsOfEveryColumnKindDecodeAsTheServerStoredThem() throws {
        try server.createDatabase("binlog_types")
        try server.sql(
            """
            CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), c CHAR(5), price DECIMAL(10,2), created DATETIME(3),
              ts TIMESTAMP(6) NULL, tm TIME(1), d DATE, y YEAR, e ENUM('a','b','c'), s SET('x','y','z'), b BIT(10),
              tiny TINYINT UNSIGNED, big BIGINT, f FLOAT, dbl DOUBLE, txt TEXT, bin VARBINARY(4), j JSON, n INT)
            """, database: "binlog_types")
        let conn = try connect()
        let status = try conn.query("SHOW MASTER STATUS")
        let file = try #require(status.string(0, "File"))
        let position = try #require(status.string(0, "Position").flatMap { UInt64($0) })
        try server.sql(
            """
            SET time_zone = '+00:00';
            INSERT INTO t VALUES (1, 'héllo', 'AB', -12.50, '2024-02-29 13:14:15.678', '2023-11-14 22:13:20.123456',
              '-01:02:03.4', '2024-02-29', 2024, 'b', 'x,z', b'1000000001', 250, -5, 1.5, 2.25, 'text', x'00ff', '{"k": 1}',
              NULL);
            UPDATE t SET name = 'bye' WHERE id = 1;
            DELETE FROM t WHERE id = 1;
            """, database: "binlog_types")
        var map: TableMapEvent?
        var rows: [(RowsEvent.Kind, [[ColumnValue]])] = []
        let events = try read(from: .position(file: file, position: position), serverId: 9001) { events in
            // Until the COMMIT after the DELETE's rows (other tests write to the same binlog).
            guard
                let delete = events.firstIndex(where: {
                    if case .rowsQuery(let sql) = $0.1 { sql.contains("DELETE FROM t WHERE") } else { false }
                })
            else { return false }
            return events[delete...].contains { if case .xid = $0.1 { true } else { false } }
        }
        for (_, event) in events {
            switch event {
            case .tableMap(let m) where m.table == "t": map = m
            case .rows(let r):
                guard let m = map, m.tableId == r.tableId else { continue }
                var unsigned = [Bool](repeating: false, count: m.types.count)
                unsigned[12] = true
                rows.append((r.kind, try r.rows(table: m, unsigned: unsigned)))
            default: break
            }
        }
        #expect(map?.database == "binlog_types")
        #expect(rows.map(\.0) == [.write, .update, .delete])
        let row = try #require(rows.first?.1.first)
        let expected: [ColumnValue] = [
            .signed(1), .bytes(Array("héllo".utf8)), .bytes(Array("AB".utf8)), .decimal("-12.50"),
            .datetime(year: 2024, month: 2, day: 29, hour: 13, minute: 14, second: 15, micros: 678_000),
            .timestamp(micros: 1_700_000_000_123_456), .time(micros: -3_723_400_000),
            .date(year: 2024, month: 2, day: 29),
            .year(2024), .enumIndex(2), .setBits(5), .bits([0x02, 0x01]), .unsigned(250), .signed(-5), .float(1.5),
            .double(2.25), .bytes(Array("text".utf8)), .bytes([0x00, 0xFF]), .bytes(Array("{\"k\": 1}".utf8)), .null,
        ]
        for (i, (got, want)) in zip(row, expected).enumerated() {
            #expect(got == want, "column \(i)")
        }
        let update = try #require(rows.dropFirst().first?.1)
        #expect(update.count == 2, "an update carries the before and the after image")
        #expect(update.last?[1] == .bytes(Array("bye".utf8)))
        #expect(rows.last?.1.first?[1] == .bytes(Array("bye".utf8)))
    }

    @Test func fullRowMetadataNamesTheColumns() throws {
        try server.createDatabase("binlog_names")
        try server.sql("CREATE TABLE n (id INT PRIMARY KEY, v INT UNSIGNED)", database: "binlog_names")
        let conn = try connect()
        let status = try conn.query("SHOW MASTER STATUS")
        let file = try #require(status.string(0, "File"))
        let position = try #require(status.string(0, "Position").flatMap { UInt64($0) })
        try server.sql(
            "SET GLOBAL binlog_row_metadata = FULL; INSERT INTO n VALUES (1, 4000000000); SET GLOBAL binlog_row_metadata = NO_LOG",
            database: "binlog_names")
        let events = try read(from: .position(file: file, position: position), serverId: 9002) { events in
            guard
                let map = events.firstIndex(where: { if case .tableMap(let m) = $0.1 { m.table == "n" } else { false } }
                )
            else { return false }
            return events[map...].contains { if case .xid = $0.1 { true } else { false } }
        }
        let map = try #require(
            events.compactMap { if case .tableMap(let m) = $0.1, m.table == "n" { m } else { nil } }.first)
        #expect(map.columnNames == ["id", "v"])
        #expect(map.unsignedNumeric == [false, true])
    }

    @Test func aPositionTheServerDoesNotHaveIsTheServersError() throws {
        #expect {
            _ = try read(from: .position(file: "mysql-bin.999999", position: 4), serverId: 9003) { !$0.isEmpty }
        } throws: { error in
            (error as? MariaDBError)?.code == 1236
        }
    }
}
