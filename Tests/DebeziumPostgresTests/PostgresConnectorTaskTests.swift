import ConnectAPI
import ConnectTestKit
import DebeziumCore
import Foundation
import Postgres
import Synchronization
import Testing

@testable import DebeziumPostgres

@Suite("The PostgreSQL connector against a real PostgreSQL", .serialized)
struct PostgresConnectorTaskTests {
    static let counter = Atomic<Int>(0)

    /// A database with `inventory.customers` holding two rows; returns its name.
    static func database() throws -> String {
        let name = "cdc_\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        let pg = PostgresServer.shared
        try pg.createDatabase(name)
        try pg.sql(
            """
            CREATE SCHEMA inventory;
            CREATE TABLE inventory.customers (id serial PRIMARY KEY, first_name text NOT NULL, email varchar(255),
              price numeric(10,2), created timestamptz, d date, doc jsonb, u uuid, flag boolean, b bytea, tags text[],
              big bigint);
            INSERT INTO inventory.customers (first_name, email, price, created, d, doc, u, flag, b, tags, big) VALUES
              ('Sally', 's@x', 12.34, '2024-01-02 02:04:05.678+00', '2024-02-29', '{"a": 1}',
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, '\\x00ff10', '{x,y}', 9223372036854775807),
              ('George', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            CREATE TABLE inventory.other (id int PRIMARY KEY);
            """, database: name)
        return name
    }

    static func properties(_ db: String, _ extra: [String: String] = [:]) -> [String: String] {
        var p = PostgresServer.shared.connectorProperties(database: db)
        p["topic.prefix"] = "dbserver1"
        p["slot.name"] = "slot_\(db)"
        p["publication.name"] = "pub_\(db)"
        p["table.include.list"] = "inventory.customers"
        p["poll.interval.ms"] = "200"
        return p.merging(extra) { _, new in new }
    }

    /// Polls until `count` records came or 20 s passed.
    static func poll(_ task: PostgresConnectorTask, count: Int) throws -> [SourceRecord] {
        var out: [SourceRecord] = []
        let deadline = Date().addingTimeInterval(20)
        while out.count < count && Date() < deadline { out += try task.poll() ?? [] }
        return out
    }

    /// The slot's `confirmed_flush_lsn`, read after each `step` until `done` says so or 15 s passed.
    static func confirmedFlush(_ db: String, until done: (UInt64) -> Bool, step: () throws -> Void) throws -> UInt64 {
        var flushed: UInt64 = 0
        let deadline = Date().addingTimeInterval(15)
        while !done(flushed) && Date() < deadline {
            try step()
            flushed =
                LogSequenceNumber(
                    try PostgresServer.shared.sql(
                        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'slot_\(db)'",
                        database: db))?.value ?? 0
        }
        return flushed
    }

    static func envelope(_ r: SourceRecord) -> Struct? { r.value?.structValue }
    static func op(_ r: SourceRecord) -> String? { envelope(r)?.get("op")?.stringValue }
    static func after(_ r: SourceRecord, _ field: String) -> Value? {
        envelope(r)?.get("after")?.structValue?.get(field)
    }
    static func before(_ r: SourceRecord, _ field: String) -> Value? {
        envelope(r)?.get("before")?.structValue?.get(field)
    }

    @Test("a snapshot then every insert, update and delete arrive as Debezium's events, exactly once across a restart")
    func snapshotThenStream() throws {
        let pg = PostgresServer.shared
        let db = try Self.database()
        let offsets = CommittedOffsets()
        let task = PostgresConnectorTask()
        task.initialize(offsets)
        try task.start(Self.properties(db))
        defer { try? task.stop() }
        let snapshot = try Self.poll(task, count: 2)
        #expect(snapshot.count == 2)
        #expect(snapshot.map(Self.op) == ["r", "r"])
        #expect(snapshot.first?.topic == "dbserver1.inventory.customers")
        #expect(snapshot.first?.keySchema?.name == "dbserver1.inventory.customers.Key")
        #expect(snapshot.first?.valueSchema?.name == "dbserver1.inventory.customers.Envelope")
        #expect(snapshot.first?.key?.structValue?.get("id") == .int32(1))
        #expect(Self.after(snapshot[0], "first_name") == .string("Sally"))
        #expect(Self.after(snapshot[0], "created") == .string("2024-01-02T02:04:05.678Z"))
        #expect(Self.after(snapshot[0], "b") == .bytes([0, 255, 16]))
        #expect(Self.after(snapshot[0], "tags") == .array([.string("x"), .string("y")]))
        #expect(Self.after(snapshot[0], "big") == .int64(Int64.max))
        let source = Self.envelope(snapshot[0])?.get("source")?.structValue
        #expect(source?.get("snapshot") == .string("first"))
        #expect(source?.get("connector") == .string("postgresql"))
        #expect(source?.get("db") == .string(db))
        #expect(Self.envelope(snapshot[1])?.get("source")?.structValue?.get("snapshot") == .string("last"))
        #expect(snapshot[1].sourceOffset?["last_snapshot_record"] == .boolean(true))
        for r in snapshot { offsets.commit(r) }
        try task.commit()

        // One transaction each (psql -c runs a multi-statement string as one).
        for statement in [
            "INSERT INTO inventory.customers (first_name) VALUES ('Edward')",
            "UPDATE inventory.customers SET email = 'g@x' WHERE id = 2", "DELETE FROM inventory.customers WHERE id = 1",
            "INSERT INTO inventory.other VALUES (1)",
        ] {
            try pg.sql(statement, database: db)
        }
        let changes = try Self.poll(task, count: 4)
        #expect(changes.map(Self.op) == ["c", "u", "d", nil])
        #expect(Self.after(changes[0], "first_name") == .string("Edward"))
        #expect(Self.after(changes[1], "email") == .string("g@x"))
        // Default replica identity: no old row for an update, only the key for a delete.
        #expect(Self.envelope(changes[1])?.get("before") == nil)
        #expect(Self.before(changes[2], "id") == .int32(1))
        #expect(Self.before(changes[2], "first_name") == .string(""))
        #expect(changes[3].value == nil && changes[3].key?.structValue?.get("id") == .int32(1))
        let changeSource = Self.envelope(changes[0])?.get("source")?.structValue
        #expect(changeSource?.get("lsn")?.int64Value != nil && changeSource?.get("txId")?.int64Value != nil)
        #expect(
            changeSource?.get("table") == .string("customers") && changeSource?.get("schema") == .string("inventory"))

        // Connect committed up to the update; the task stops and a new one resumes from there.
        offsets.commit(changes[0])
        offsets.commit(changes[1])
        try task.commit()
        // The insert's transaction is wholly delivered, the update's may not be: the server may recycle WAL up to
        // the end of the insert's, not past the update's commit.
        let insertCommit = try #require(changes[0].sourceOffset?["lsn_commit"]?.int64Value)
        let updateCommit = try #require(changes[1].sourceOffset?["lsn_commit"]?.int64Value)
        let flushed = try Self.confirmedFlush(db, until: { $0 > UInt64(insertCommit) }) {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(flushed > UInt64(insertCommit))
        #expect(flushed < UInt64(updateCommit))
        try task.stop()

        let again = PostgresConnectorTask()
        again.initialize(offsets)
        try again.start(Self.properties(db, ["slot.drop.on.stop": "true"]))
        defer { try? again.stop() }
        try pg.sql("INSERT INTO inventory.customers (first_name) VALUES ('Fiona')", database: db)
        let resumed = try Self.poll(again, count: 3)
        #expect(resumed.map(Self.op) == ["d", nil, "c"])
        #expect(Self.after(resumed[2], "first_name") == .string("Fiona"))
        try again.stop()
    }

    @Test("a database that does not exist fails the start with the server's message and its SQLSTATE")
    func unknownDatabase() throws {
        let task = PostgresConnectorTask()
        task.initialize(CommittedOffsets())
        let props = Self.properties("no_such_db")
        #expect {
            try task.start(props)
        } throws: { error in
            let trace = (error as? ConnectError)?.trace ?? ""
            return trace.contains("Unable to connect to PostgreSQL") && trace.contains("does not exist")
                && trace.contains("SQLState: 3D000")
        }
    }

    /// A task on a new database, started, with its snapshot read; stopped (and its slot dropped) by the caller.
    static func started(
        _ offsets: CommittedOffsets, _ extra: [String: String] = [:], dropSlot: Bool = true
    ) throws
        -> (PostgresConnectorTask, String)
    {
        let db = try database()
        let task = PostgresConnectorTask()
        task.initialize(offsets)
        try task.start(properties(db, extra.merging(["slot.drop.on.stop": String(dropSlot)]) { a, _ in a }))
        for r in try poll(task, count: 2) { offsets.commit(r) }
        return (task, db)
    }

    @Test(
        "a key change is a delete, its tombstone and a create; a restart after only the delete was committed sends the rest"
    )
    func keyChangeHalfCommitted() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets, dropSlot: false)
        try PostgresServer.shared.sql("UPDATE inventory.customers SET id = 100 WHERE id = 2", database: db)
        let change = try Self.poll(task, count: 3)
        #expect(change.map(Self.op) == ["d", nil, "c"])
        #expect(
            change[0].key?.structValue?.get("id") == .int32(2) && change[2].key?.structValue?.get("id") == .int32(100))
        #expect(change[0].headers.last("__debezium.newkey")?.value?.structValue?.get("id") == .int32(100))
        #expect(change[2].headers.last("__debezium.oldkey")?.value?.structValue?.get("id") == .int32(2))
        #expect(Set(change.compactMap { $0.sourceOffset.map { PostgresOffset($0).event } }).count == 3)
        offsets.commit(change[0])
        try task.commit()
        try task.stop()
        let again = PostgresConnectorTask()
        again.initialize(offsets)
        try again.start(Self.properties(db, ["slot.drop.on.stop": "true"]))
        defer { try? again.stop() }
        let rest = try Self.poll(again, count: 2)
        #expect(rest.map(Self.op) == [nil, "c"])
        #expect(rest.last?.key?.structValue?.get("id") == .int32(100))
    }

    @Test("a stream cut by the server resumes after what was returned: nothing lost, nothing twice")
    func reconnects() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets)
        defer { try? task.stop() }
        let pg = PostgresServer.shared
        try pg.sql("INSERT INTO inventory.customers (first_name) VALUES ('Ann')", database: db)
        #expect(try Self.poll(task, count: 1).map { Self.after($0, "first_name") } == [.string("Ann")])
        try pg.sql(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'slot_\(db)'",
            database: db)
        try pg.sql("INSERT INTO inventory.customers (first_name) VALUES ('Bob')", database: db)
        var names: [Value?] = []
        var retriable = 0
        let deadline = Date().addingTimeInterval(20)
        while names.isEmpty && Date() < deadline {
            do {
                names += (try task.poll() ?? []).map { Self.after($0, "first_name") }
            } catch let e as ConnectError where e.isRetriable {
                retriable += 1
            }
        }
        #expect(names == [.string("Bob")])
    }

    @Test("a truncate the connector skips (the default) does not hold the slot's WAL once the stream is idle")
    func skippedTruncateReleasesWAL() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets)
        defer { try? task.stop() }
        let pg = PostgresServer.shared
        try pg.sql("TRUNCATE inventory.customers", database: db)
        let end = try #require(LogSequenceNumber(try pg.sql("SELECT pg_current_wal_lsn()", database: db)))
        let flushed = try Self.confirmedFlush(db, until: { $0 >= end.value }) {
            let records = try task.poll()
            #expect(records?.isEmpty ?? true)
        }
        #expect(flushed >= end.value)
    }

    @Test("TOASTed values an update leaves alone, infinite timestamps and NaN numerics read as Debezium's")
    func specialValues() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets, ["skipped.operations": "none"])
        defer { try? task.stop() }
        let pg = PostgresServer.shared
        try pg.sql(
            """
            ALTER TABLE inventory.customers ADD COLUMN at timestamp, ADD COLUMN n numeric;
            INSERT INTO inventory.customers (first_name, b, at, n)
              SELECT 'Big', decode(string_agg(md5(i::text), ''), 'hex'), 'infinity', 'NaN'
              FROM generate_series(1, 400) i;
            """, database: db)
        try pg.sql("UPDATE inventory.customers SET email = 'big@x' WHERE first_name = 'Big'", database: db)
        let records = try Self.poll(task, count: 2)
        try #require(records.count == 2)
        #expect(Self.after(records[0], "at") == .int64(9_223_372_036_825_200_000))
        #expect(Self.after(records[0], "n") == nil)
        #expect(Self.after(records[0], "b")?.javaClassName == "[B")
        #expect(Self.after(records[1], "b") == .bytes(Array("__debezium_unavailable_value".utf8)))
        #expect(Self.after(records[1], "email") == .string("big@x"))
    }

    @Test("validation tries the server: a wrong port is reported under database.hostname, a good one passes")
    func validationConnects() throws {
        let db = try Self.database()
        let connector = PostgresConnector()
        #expect(connector.validate(Self.properties(db)).isEmpty)
        var props = Self.properties(db)
        props["database.port"] = String(try FreePort.allocate())
        let errors = connector.validate(props)
        #expect(errors["database.hostname"]?.first?.hasPrefix("Error while validating connector config: ") == true)
        #expect(errors["database.hostname"]?.first?.contains("refused") == true)
        #expect(connector.validate(Self.properties(db, ["plugin.name": "decoderbufs"]))["plugin.name"] != nil)
        // Debezium's slot name check, before any snapshot: PostgreSQL would refuse it only when creating the slot.
        #expect(
            connector.validate(Self.properties(db, ["slot.name": "Bad-Slot"]))["slot.name"]?.first?.contains(
                "Valid replication slot name must contain only digits, lowercase characters and underscores") == true)
    }

    @Test("a second connector on a slot in use fails at start, before it snapshots anything")
    func slotInUse() throws {
        let offsets = CommittedOffsets()
        let (task, db) = try Self.started(offsets)
        defer { try? task.stop() }
        _ = try task.poll()
        let second = PostgresConnectorTask()
        second.initialize(CommittedOffsets())
        #expect {
            try second.start(Self.properties(db, ["topic.prefix": "other"]))
        } throws: { error in
            (error as? ConnectError)?.trace.contains("replication slot \"slot_\(db)\" is active for PID") == true
        }
        #expect(PostgresConnector().validate(["connector.class": PostgresConnector.className])["topic.prefix"] != nil)
    }
}
