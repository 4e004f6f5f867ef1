import ConnectAPI
import ConnectTestKit
import Foundation
import Synchronization
import Testing

@testable import ConnectJDBC

/// The JDBC sink task against a real PostgreSQL and a real MariaDB, each checked with the server's own client.
@Suite("The JDBC sink against real databases", .serialized)
struct JdbcSinkTaskTests {
    enum Database: CaseIterable { case postgres, mariadb }

    /// A new database and the connector properties that reach it.
    static func target(_ db: Database) throws -> (props: [String: String], sql: (String) throws -> String) {
        let name = "jdbc_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        switch db {
        case .postgres:
            let pg = PostgresServer.shared
            try pg.createDatabase(name)
            return (
                ["connection.url": "jdbc:postgresql://127.0.0.1:\(pg.port)/\(name)", "connection.user": "postgres"],
                { try pg.sql($0, database: name) }
            )
        case .mariadb:
            let m = MariaDBServer.shared
            try m.createDatabase(name)
            return (
                ["connection.url": "jdbc:mariadb://127.0.0.1:\(m.port)/\(name)", "connection.user": "root"],
                { try m.sql($0, database: name) }
            )
        }
    }

    static func start(_ props: [String: String], _ context: ReportingContext? = nil) throws -> JdbcSinkTask {
        let task = JdbcSinkTask()
        task.initialize(context ?? ReportingContext(withReporter: false))
        try task.start(props)
        return task
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    @Test(
        "auto.create makes the table with its key; upserts are idempotent across a redelivery; a tombstone deletes",
        arguments: Database.allCases)
    func upsertAndDelete(_ db: Database) throws {
        let (base, sql) = try Self.target(db)
        let props = base.merging([
            "insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true", "delete.enabled": "true",
        ]) { $1 }
        let task = try Self.start(props)
        defer { try? task.stop() }
        let batch = [
            try JdbcSinkUnitTests.record(1, "widget", offset: 0), try JdbcSinkUnitTests.record(2, "gadget", offset: 1),
        ]
        try task.put(batch)
        // The same records again (a redelivery after a crash), then an update and a delete.
        try task.put(batch)
        // One key changed twice in one batch: the later change wins.
        try task.put([
            try JdbcSinkUnitTests.record(2, "gizmo", offset: 2), try JdbcSinkUnitTests.record(1, nil, offset: 3),
            try JdbcSinkUnitTests.record(3, "thing", offset: 4), try JdbcSinkUnitTests.record(3, "thingy", offset: 5),
        ])
        let rows = Self.lines(try sql("SELECT id, item, price FROM orders ORDER BY id"))
        #expect(
            rows.map { $0.replacingOccurrences(of: "|", with: "\t") } == ["2\tgizmo\t10.50", "3\tthingy\t10.50"],
            "\(rows)")
    }

    @Test("insert mode with kafka coordinates as the key, into a table made by hand", arguments: Database.allCases)
    func insertIntoExistingTable(_ db: Database) throws {
        let (base, sql) = try Self.target(db)
        let key = db == .postgres ? "text" : "varchar(64)"
        _ = try sql(
            "CREATE TABLE orders (__connect_topic \(key) NOT NULL, __connect_partition int NOT NULL, __connect_offset bigint NOT NULL, id int, item text, price decimal(8,2), PRIMARY KEY (__connect_topic, __connect_partition, __connect_offset))"
        )
        let task = try Self.start(base.merging(["pk.mode": "kafka", "batch.size": "2"]) { $1 })
        defer { try? task.stop() }
        try task.put((0..<5).map { try JdbcSinkUnitTests.record(Int32($0), "item\($0)", offset: Int64($0)) })
        #expect(
            Self.lines(try sql("SELECT count(*), sum(__connect_offset) FROM orders")).first?.split(whereSeparator: {
                $0 == "|" || $0 == "\t"
            }) == ["5", "10"])
    }

    @Test(
        "a missing table without auto.create, a new field without auto.evolve: the task fails naming them; auto.evolve adds the column",
        arguments: Database.allCases)
    func missingTableAndColumns(_ db: Database) throws {
        let (base, sql) = try Self.target(db)
        let strict = try Self.start(base.merging(["pk.mode": "record_key"]) { $1 })
        #expect {
            try strict.put([try JdbcSinkUnitTests.record(1, "widget")])
        } throws: { ($0 as? ConnectError)?.message == "Table \"orders\" is missing and auto-creation is disabled" }
        _ = try sql("CREATE TABLE orders (id int PRIMARY KEY, item text)")
        #expect {
            try strict.put([try JdbcSinkUnitTests.record(1, "widget")])
        } throws: {
            ($0 as? ConnectError)?.message
                == "Table \"orders\" is missing fields (price) and auto-evolution is disabled"
        }
        let evolving = try Self.start(base.merging(["pk.mode": "record_key", "auto.evolve": "true"]) { $1 })
        try evolving.put([try JdbcSinkUnitTests.record(1, "widget")])
        #expect(Self.lines(try sql("SELECT price FROM orders WHERE id = 1")) == ["10.50"])
    }

    @Test(
        "a row the database refuses goes to the errant record reporter and the others are written; without one the task fails",
        arguments: Database.allCases)
    func refusedRows(_ db: Database) throws {
        let (base, sql) = try Self.target(db)
        _ = try sql(
            "CREATE TABLE orders (id int PRIMARY KEY, item varchar(8) NOT NULL CHECK (item <> 'bad'), price decimal(8,2))"
        )
        let context = ReportingContext(withReporter: true)
        let task = try Self.start(base.merging(["pk.mode": "record_key"]) { $1 }, context)
        try task.put([
            try JdbcSinkUnitTests.record(1, "ok", offset: 10), try JdbcSinkUnitTests.record(2, "bad", offset: 11),
            try JdbcSinkUnitTests.record(3, "fine", offset: 12),
        ])
        #expect(Self.lines(try sql("SELECT id FROM orders ORDER BY id")) == ["1", "3"])
        #expect(context.reported.withLock { $0.map(\.offset) } == [11])
        let failing = try Self.start(base.merging(["pk.mode": "record_key"]) { $1 })
        #expect(throws: ConnectError.self) { try failing.put([try JdbcSinkUnitTests.record(4, "bad")]) }
    }

    @Test("an unreachable database is retriable max.retries times, then fails the task naming the server")
    func unreachable() throws {
        let task = try Self.start([
            "connection.url": "jdbc:postgresql://127.0.0.1:1/none", "connection.user": "postgres",
            "max.retries": "1", "retry.backoff.ms": "0", "pk.mode": "record_key",
        ])
        #expect {
            try task.put([try JdbcSinkUnitTests.record(1, "widget")])
        } throws: { ($0 as? ConnectError)?.isRetriable == true }
        #expect {
            try task.put([try JdbcSinkUnitTests.record(1, "widget")])
        } throws: {
            guard let e = $0 as? ConnectError else { return false }
            return !e.isRetriable && e.message.contains("127.0.0.1:1")
        }
    }

    @Test(
        "hostile strings are written as they are; a NUL or an unquotable name goes to the reporter",
        arguments: Database.allCases)
    func hostileInput(_ db: Database) throws {
        let (base, sql) = try Self.target(db)
        let context = ReportingContext(withReporter: true)
        let task = try Self.start(base.merging(["pk.mode": "record_key", "auto.create": "true"]) { $1 }, context)
        let hostile = "it's'); DROP TABLE orders; -- \\ ' \u{e9}"
        try task.put([
            try JdbcSinkUnitTests.record(1, hostile, offset: 1), try JdbcSinkUnitTests.record(2, "a\u{0}b", offset: 2),
        ])
        #expect(Self.lines(try sql("SELECT count(*) FROM orders")) == ["1"])
        #expect(context.reported.withLock { $0.map(\.offset) } == [2])
        let never = try Self.start(
            base.merging([
                "pk.mode": "record_key", "quote.sql.identifiers": "never", "table.name.format": "x; DROP TABLE orders",
            ]) { $1 },
            context)
        try never.put([try JdbcSinkUnitTests.record(3, "c", offset: 3)])
        #expect(context.reported.withLock { $0.map(\.offset) } == [2, 3])
        #expect(Self.lines(try sql("SELECT count(*) FROM orders")) == ["1"])
    }
}

extension JdbcSinkTaskTests {
    @Test(
        "a dotted table.name.format names a schema (PostgreSQL) or a database (MariaDB); a Debezium topic's three parts fail as Confluent's do"
    )
    func qualifiedNames() throws {
        let (pgBase, pgSQL) = try Self.target(.postgres)
        _ = try pgSQL("CREATE SCHEMA shop")
        let pgTask = try Self.start(
            pgBase.merging(["pk.mode": "record_key", "auto.create": "true", "table.name.format": "shop.${topic}"]) {
                $1
            })
        try pgTask.put([try JdbcSinkUnitTests.record(1, "widget")])
        #expect(Self.lines(try pgSQL("SELECT id, item FROM shop.orders")) == ["1|widget"])
        let dotted = try Self.start(
            pgBase.merging([
                "pk.mode": "record_key", "auto.create": "true", "table.name.format": "dbserver1.shop.${topic}",
            ]) {
                $1
            })
        #expect {
            try dotted.put([try JdbcSinkUnitTests.record(2, "gadget")])
        } throws: { error in
            let e = error as? ConnectError
            return e?.isRetriable == false && e?.trace.contains("cross-database references") == true
        }

        let (mBase, _) = try Self.target(.mariadb)
        let other = "jdbc_other_\(UInt32.random(in: 0...UInt32.max))"
        try MariaDBServer.shared.createDatabase(other)
        let mTask = try Self.start(
            mBase.merging(["pk.mode": "record_key", "auto.create": "true", "table.name.format": "\(other).${topic}"]) {
                $1
            })
        try mTask.put([try JdbcSinkUnitTests.record(3, "gizmo")])
        #expect(
            Self.lines(try MariaDBServer.shared.sql("SELECT id, item FROM orders", database: other)) == ["3\tgizmo"])
    }
}
