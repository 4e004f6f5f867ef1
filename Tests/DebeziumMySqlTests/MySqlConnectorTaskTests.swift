import ConnectAPI
import ConnectTestKit
import DebeziumCore
import Foundation
import MariaDB
import Synchronization
import Testing

@testable import DebeziumMySql

extension Value {
    var arrayValue: [Value]? { if case .array(let a) = self { a.compactMap { $0 } } else { nil } }
}

@Suite("The MySQL connector against a real MariaDB", .serialized)
struct MySqlConnectorTaskTests {
    static let counter = Atomic<Int>(0)
    /// Replica ids: one per task a test runs at a time, unique in the process.
    static let serverIds = Atomic<Int>(5400)

    /// A database with `customers` holding two rows; returns its name.
    static func database() throws -> String {
        let name = "cdc_\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        let server = MariaDBServer.shared
        try server.createDatabase(name)
        try server.sql(
            """
            CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, first_name VARCHAR(255) NOT NULL,
              email VARCHAR(255), price DECIMAL(10,2), created DATETIME(3), seen TIMESTAMP(6) NULL, d DATE,
              t TIME, flag BIT(1), bits BIT(10), kind ENUM('new','old'), tags SET('a','b','c'), y YEAR,
              small TINYINT UNSIGNED, big BIGINT UNSIGNED, f FLOAT, doc JSON, bin VARBINARY(8));
            SET time_zone = '+00:00';
            INSERT INTO customers VALUES (1, 'Sally', 's@x', 12.34, '2024-01-02 02:04:05.678',
              '2024-01-02 02:04:05.678901', '2024-02-29', '-01:02:03', b'1', b'1000000001', 'old', 'a,c', 2024, 250,
              18446744073709551615, 1.5, '{"a": 1}', x'00ff10');
            INSERT INTO customers (id, first_name) VALUES (2, 'George');
            CREATE TABLE other (id INT PRIMARY KEY);
            """, database: name)
        return name
    }

    static func properties(_ db: String, _ extra: [String: String] = [:]) -> [String: String] {
        var p = MariaDBServer.shared.connectorProperties()
        p["topic.prefix"] = "dbserver1"
        p["database.server.id"] = String(serverIds.add(1, ordering: .relaxed).newValue)
        p["table.include.list"] = "\(db).customers"
        p["poll.interval.ms"] = "200"
        return p.merging(extra) { _, new in new }
    }

    /// Polls until `count` records of the tables' topics (not the schema change topic) came or 20 s passed.
    static func poll(_ task: MySqlConnectorTask, count: Int, schemaChanges: Bool = false) throws -> [SourceRecord] {
        var out: [SourceRecord] = []
        let deadline = Date().addingTimeInterval(20)
        while out.count < count && Date() < deadline {
            out += (try task.poll() ?? []).filter { ($0.topic == "dbserver1") == schemaChanges }
        }
        return out
    }

    static func envelope(_ r: SourceRecord) -> Struct? { r.value?.structValue }
    static func op(_ r: SourceRecord) -> String? { envelope(r)?.get("op")?.stringValue }
    static func after(_ r: SourceRecord, _ field: String) -> Value? {
        envelope(r)?.get("after")?.structValue?.get(field)
    }
    static func before(_ r: SourceRecord, _ field: String) -> Value? {
        envelope(r)?.get("before")?.structValue?.get(field)
    }

    /// A task on a new database, started, with its snapshot read and committed.
    static func started(
        _ offsets: CommittedOffsets, _ extra: [String: String] = [:]
    ) throws
        -> (MySqlConnectorTask, String)
    {
        let db = try database()
        let task = MySqlConnectorTask()
        task.initialize(offsets)
        try task.start(properties(db, extra))
        for r in try poll(task, count: 2) { offsets.commit(r) }
        return (task, db)
    }

    @Test("a snapshot, then every insert, update and delete, arrive as Debezium's events with its type mappings")
    func snapshotThenStream() throws {
        let offsets = CommittedOffsets()
        let db = try Self.database()
        let task = MySqlConnectorTask()
        task.initialize(offsets)
        try task.start(Self.properties(db))
        defer { try? task.stop() }
        let snapshot = try Self.poll(task, count: 2)
        try #require(snapshot.count == 2)
        #expect(snapshot.map(Self.op) == ["r", "r"])
        #expect(snapshot[0].topic == "dbserver1.\(db).customers")
        #expect(snapshot[0].keySchema?.name == "dbserver1.\(db).customers.Key")
        #expect(snapshot[0].valueSchema?.name == "dbserver1.\(db).customers.Envelope")
        #expect(snapshot[0].key?.structValue?.get("id") == .int32(1))
        let expected: [String: Value] = [
            "first_name": .string("Sally"), "price": .decimal(BigDecimal("12.34")!),
            "created": .int64(1_704_161_045_678), "seen": .string("2024-01-02T02:04:05.678901Z"), "d": .int32(19782),
            "t": .int64(-3_723_000_000), "flag": .boolean(true), "bits": .bytes([0x01, 0x02]), "kind": .string("old"),
            "tags": .string("a,c"), "y": .int32(2024), "small": .int16(250), "big": .int64(-1), "f": .float32(1.5),
            "doc": .string("{\"a\": 1}"), "bin": .bytes([0, 255, 16]),
        ]
        for (field, value) in expected {
            #expect(Self.after(snapshot[0], field) == value, "snapshot \(field)")
        }
        #expect(Self.after(snapshot[1], "email") == nil)
        let source = Self.envelope(snapshot[0])?.get("source")?.structValue
        #expect(source?.get("connector") == .string("mysql"))
        #expect(source?.get("snapshot") == .string("first") && source?.get("db") == .string(db))
        #expect(Self.envelope(snapshot[1])?.get("source")?.structValue?.get("snapshot") == .string("last"))
        #expect(snapshot[1].sourceOffset?["snapshot_completed"] == .boolean(true))
        for r in snapshot { offsets.commit(r) }

        let server = MariaDBServer.shared
        try server.sql(
            """
            SET time_zone = '+00:00';
            INSERT INTO customers SELECT 3, 'Edward', email, price, created, seen, d, t, flag, bits, kind, tags, y,
              small, big, f, doc, bin FROM customers WHERE id = 1;
            UPDATE customers SET email = 'g@x' WHERE id = 2;
            DELETE FROM customers WHERE id = 1;
            INSERT INTO other VALUES (1);
            """, database: db)
        let changes = try Self.poll(task, count: 4)
        try #require(changes.count == 4)
        #expect(changes.map(Self.op) == ["c", "u", "d", nil])
        for (field, value) in expected where field != "first_name" {
            #expect(Self.after(changes[0], field) == value, "binlog \(field)")
        }
        #expect(Self.before(changes[1], "email") == nil && Self.after(changes[1], "email") == .string("g@x"))
        #expect(Self.before(changes[2], "first_name") == .string("Sally"))
        #expect(changes[3].value == nil && changes[3].key?.structValue?.get("id") == .int32(1))
        let changeSource = Self.envelope(changes[0])?.get("source")?.structValue
        #expect(changeSource?.get("table") == .string("customers") && changeSource?.get("db") == .string(db))
        #expect(changeSource?.get("server_id") == .int64(1) && changeSource?.get("file")?.stringValue != nil)
        #expect(changeSource?.get("gtid")?.stringValue?.hasPrefix("0-1-") == true)
    }

    @Test("a transaction cut after its first committed row resumes after it: nothing lost, nothing twice")
    func restartInsideATransaction() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets)
        try MariaDBServer.shared.sql(
            """
            START TRANSACTION;
            INSERT INTO customers (id, first_name) VALUES (10, 'a'), (11, 'b');
            UPDATE customers SET first_name = 'c' WHERE id = 10;
            COMMIT;
            """, database: db)
        let changes = try Self.poll(task, count: 3)
        #expect(changes.map { Self.after($0, "first_name") } == [.string("a"), .string("b"), .string("c")])
        // All three share the transaction's start; the first says one row of the first rows event is done.
        #expect(Set(changes.compactMap { $0.sourceOffset?["pos"] }).count == 1)
        offsets.commit(changes[0])
        try task.stop()

        let again = MySqlConnectorTask()
        again.initialize(offsets)
        try again.start(Self.properties(db))
        defer { try? again.stop() }
        try MariaDBServer.shared.sql("INSERT INTO customers (id, first_name) VALUES (12, 'd')", database: db)
        let resumed = try Self.poll(again, count: 3)
        #expect(resumed.map { Self.after($0, "first_name") } == [.string("b"), .string("c"), .string("d")])
    }

    @Test("a key change is a delete, its tombstone and a create; a restart after only the delete sends the rest")
    func keyChangeHalfCommitted() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets)
        try MariaDBServer.shared.sql("UPDATE customers SET id = 100 WHERE id = 2", database: db)
        let change = try Self.poll(task, count: 3)
        #expect(change.map(Self.op) == ["d", nil, "c"])
        #expect(change[0].headers.last("__debezium.newkey")?.value?.structValue?.get("id") == .int32(100))
        #expect(change[2].headers.last("__debezium.oldkey")?.value?.structValue?.get("id") == .int32(2))
        offsets.commit(change[0])
        try task.stop()
        let again = MySqlConnectorTask()
        again.initialize(offsets)
        try again.start(Self.properties(db))
        defer { try? again.stop() }
        let rest = try Self.poll(again, count: 3)
        // The row is sent again whole: at least once, never lost.
        #expect(rest.map(Self.op) == ["d", nil, "c"])
        #expect(rest.last?.key?.structValue?.get("id") == .int32(100))
    }

    @Test("a binlog stream the server cuts resumes after what was returned: nothing lost, nothing twice")
    func reconnects() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets)
        defer { try? task.stop() }
        let server = MariaDBServer.shared
        try server.sql("INSERT INTO customers (id, first_name) VALUES (20, 'Ann')", database: db)
        #expect(try Self.poll(task, count: 1).map { Self.after($0, "first_name") } == [.string("Ann")])
        let dump = try server.sql(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
        for id in dump.split(separator: "\n") { _ = try? server.sql("KILL \(id)") }
        try server.sql("INSERT INTO customers (id, first_name) VALUES (21, 'Bob')", database: db)
        var names: [Value?] = []
        let deadline = Date().addingTimeInterval(20)
        while names.isEmpty && Date() < deadline {
            do {
                names += (try task.poll() ?? []).map { Self.after($0, "first_name") }
            } catch let e as ConnectError where e.isRetriable {}
        }
        #expect(names == [.string("Bob")])
    }

    @Test("a refused login fails the start with the server's message and error number")
    func refusedLogin() throws {
        let task = MySqlConnectorTask()
        task.initialize(CommittedOffsets())
        let props = Self.properties("x", ["database.user": "nobody", "database.password": "wrong"])
        #expect {
            try task.start(props)
        } throws: { error in
            let trace = (error as? ConnectError)?.trace ?? ""
            return trace.contains("Unable to connect to the MySQL server") && trace.contains("Access denied")
                && trace.contains("errno 1045")
        }
    }

    @Test("validation tries the server: a wrong port is reported under database.hostname, a good one passes")
    func validation() throws {
        let connector = MySqlConnector()
        var props = Self.properties("x")
        #expect(connector.validate(props).isEmpty)
        props["database.port"] = String(try FreePort.allocate())
        #expect(connector.validate(props)["database.hostname"]?.first?.contains("Can't connect") == true)
        props["database.server.id"] = "0"
        #expect(connector.validate(props)["database.server.id"] != nil)
    }

    @Test("the MariaDB connector class names itself mariadb in source and in its source schema")
    func mariadbFlavor() throws {
        let offsets = CommittedOffsets()
        let db = try Self.database()
        let task = MariaDbConnectorTask()
        task.initialize(offsets)
        try task.start(Self.properties(db, ["snapshot.mode": "initial_only"]))
        defer { try? task.stop() }
        let snapshot = try Self.poll(task, count: 2)
        let source = snapshot.first.flatMap { Self.envelope($0)?.get("source")?.structValue }
        #expect(source?.get("connector") == .string("mariadb"))
        #expect(source?.schema.name == "io.debezium.connector.mariadb.Source")
    }

    @Test("DDL reaches the schema change topic and the schema history, which a restart behind the DDL reads back")
    func schemaHistory() throws {
        let offsets = CommittedOffsets()
        let db = try Self.database()
        let props = Self.properties(
            db,
            [
                "schema.history.internal.kafka.topic": "schema-history-\(db)",
                "schema.history.internal.kafka.bootstrap.servers": TansuBroker.shared.bootstrapServers,
            ])
        let task = MySqlConnectorTask()
        task.initialize(offsets)
        try task.start(props)
        var all: [SourceRecord] = []
        func read(_ task: MySqlConnectorTask, until done: ([SourceRecord]) -> Bool) throws {
            let deadline = Date().addingTimeInterval(20)
            while !done(all) && Date() < deadline { all += try task.poll() ?? [] }
        }
        func schemaChanges() -> [Struct] { all.filter { $0.topic == "dbserver1" }.compactMap { $0.value?.structValue } }
        func rows() -> [SourceRecord] { all.filter { $0.topic != "dbserver1" } }
        try read(task) { _ in rows().count == 2 }
        let create = try #require(schemaChanges().first)
        #expect(create.get("ddl")?.stringValue?.hasPrefix("CREATE TABLE") == true)
        let change = create.get("tableChanges")?.arrayValue?.first?.structValue
        #expect(change?.get("type") == .string("CREATE") && change?.get("id") == .string("\"\(db)\".\"customers\""))
        #expect(all.first?.topic == "dbserver1", "the structure comes before the rows")

        let server = MariaDBServer.shared
        try server.sql(
            "ALTER TABLE customers ADD COLUMN note VARCHAR(20); INSERT INTO customers (id, first_name, note) VALUES (30, 'n', 'first')",
            database: db)
        try read(task) { _ in rows().count == 3 }
        let alter = try #require(schemaChanges().last)
        #expect(alter.get("ddl")?.stringValue?.hasPrefix("ALTER TABLE customers ADD COLUMN note") == true)
        let columns = alter.get("tableChanges")?.arrayValue?.first?.structValue?.get("table")?.structValue?
            .get("columns")?.arrayValue?.compactMap { $0.structValue?.get("name")?.stringValue }
        #expect(columns?.last == "note")
        #expect(Self.after(rows()[2], "note") == .string("first"))
        for r in all { offsets.commit(r) }
        try task.stop()

        // Written while the connector was away, before a DDL that removes the column: read with the structure the
        // history had at the resume position.
        try server.sql(
            "INSERT INTO customers (id, first_name, note) VALUES (31, 'm', 'second'); ALTER TABLE customers DROP COLUMN note",
            database: db)
        all = []
        let again = MySqlConnectorTask()
        again.initialize(offsets)
        try again.start(props)
        defer { try? again.stop() }
        try read(again) { _ in !rows().isEmpty && !schemaChanges().isEmpty }
        #expect(Self.after(rows()[0], "note") == .string("second"))
        #expect(schemaChanges().first?.get("ddl")?.stringValue?.contains("DROP COLUMN note") == true)
    }

    @Test("a TRUNCATE is a truncate event when skipped.operations lets it through, and nothing by default")
    func truncate() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets, ["skipped.operations": "none"])
        defer { try? task.stop() }
        try MariaDBServer.shared.sql("TRUNCATE TABLE customers", database: db)
        let events = try Self.poll(task, count: 1)
        #expect(events.map(Self.op) == ["t"])
        #expect(events.first?.key == nil && events.first?.topic == "dbserver1.\(db).customers")
        #expect(
            MySqlStreamingSource.truncated("TRUNCATE `shop`.`orders`", database: "x")
                == TableId(schema: "shop", table: "orders"))
        #expect(
            MySqlStreamingSource.truncated("truncate table orders", database: "x")
                == TableId(schema: "x", table: "orders"))
        #expect(MySqlStreamingSource.truncated("TRUNCATE TABLE a, b", database: "x") == nil)
    }

    @Test("with binlog_row_metadata=FULL, a row written between two DDLs the connector had not read keeps its columns")
    func namedColumnsAcrossDDL() throws {
        let offsets = CommittedOffsets()
        let server = MariaDBServer.shared
        let (task, db) = try Self.started(offsets)
        try task.stop()
        try server.sql(
            """
            CREATE TABLE t4 (id INT PRIMARY KEY, a INT, c INT);
            SET GLOBAL binlog_row_metadata = FULL;
            ALTER TABLE t4 ADD COLUMN b INT;
            INSERT INTO t4 VALUES (1, 10, 30, 40);
            ALTER TABLE t4 DROP COLUMN a;
            ALTER TABLE t4 ADD COLUMN d INT;
            SET GLOBAL binlog_row_metadata = NO_LOG;
            """, database: db)
        let again = MySqlConnectorTask()
        again.initialize(offsets)
        // No history and the catalog is past the row: the binlog's names place each value.
        try again.start(Self.properties(db, ["table.include.list": "\(db).t4", "snapshot.mode": "no_data"]))
        defer { try? again.stop() }
        // Started after the DDL: read from the committed position of the first task, which is before it.
        let rows = try Self.poll(again, count: 1)
        let after = rows.first.flatMap { Self.envelope($0)?.get("after")?.structValue }
        #expect(after?.get("c") == .int32(30) && after?.get("b") == .int32(40), "\(String(describing: after))")
    }

    @Test("latin1 text and BINARY(n) with trailing zeros read the same in the snapshot and in the stream")
    func latin1() throws {
        let server = MariaDBServer.shared
        let db = try Self.database()
        try server.sql(
            "CREATE TABLE l (id INT PRIMARY KEY, t VARCHAR(20) CHARACTER SET latin1, b BINARY(4)); INSERT INTO l VALUES (1, 'café Grüße', x'0100')",
            database: db)
        let task = MySqlConnectorTask()
        task.initialize(CommittedOffsets())
        try task.start(Self.properties(db, ["table.include.list": "\(db).l"]))
        defer { try? task.stop() }
        let snapshot = try Self.poll(task, count: 1)
        try server.sql("INSERT INTO l VALUES (2, 'café Grüße', x'0100')", database: db)
        let stream = try Self.poll(task, count: 1)
        #expect(snapshot.first.flatMap { Self.after($0, "t") } == .string("café Grüße"))
        #expect(stream.first.flatMap { Self.after($0, "t") } == .string("café Grüße"))
        #expect(snapshot.first.flatMap { Self.after($0, "b") } == .bytes([1, 0, 0, 0]))
        #expect(stream.first.flatMap { Self.after($0, "b") } == .bytes([1, 0, 0, 0]))
    }

    @Test("heartbeats move the committed position on while only tables not captured change")
    func heartbeats() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets, ["heartbeat.interval.ms": "100"])
        defer { try? task.stop() }
        try MariaDBServer.shared.sql("INSERT INTO other VALUES (7)", database: db)
        let endOfInsert = try MariaDBServer.shared.sql("SHOW MASTER STATUS").split(separator: "\t")
        var beat: SourceRecord?
        let deadline = Date().addingTimeInterval(20)
        while beat == nil && Date() < deadline {
            beat = (try task.poll() ?? []).first {
                $0.topic == "__debezium-heartbeat.dbserver1"
                    && $0.sourceOffset?["pos"]?.int64Value ?? 0 >= Int64(endOfInsert[1]) ?? .max
            }
        }
        let record = try #require(beat)
        #expect(record.keySchema?.name == "io.debezium.connector.common.ServerNameKey")
        #expect(record.key?.structValue?.get("serverName") == .string("dbserver1"))
        #expect(record.sourceOffset?["file"] == .string(String(endOfInsert[0])))
    }
}
