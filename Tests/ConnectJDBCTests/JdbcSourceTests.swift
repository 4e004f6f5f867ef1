import ConnectAPI
import ConnectTestKit
import Foundation
import Testing

@testable import ConnectJDBC

@Suite("The JDBC source's configuration, offsets, types and task split")
struct JdbcSourceUnitTests {
    static let base = [
        "connection.url": "jdbc:postgresql://127.0.0.1:1/db", "mode": "incrementing", "topic.prefix": "jdbc-",
    ]

    @Test("a task's tables are quoted: names holding commas, dots and quotes come back whole, unquoted names too")
    func taskTableLists() {
        let pg = PostgreSqlDatabaseDialect()
        let names = [TableId(schema: "public", table: "a,b"), TableId(schema: "sales", table: #"c."d"#)]
        let text = names.map { pg.quote($0, always: true) }.joined(separator: ",")
        #expect(pg.tableList(text).map { pg.tableId($0) } == names)
        #expect(pg.tableList("public.orders,public.items").map { pg.tableId($0).table } == ["orders", "items"])
        let my = MySqlDatabaseDialect()
        let table = TableId(catalog: "shop", table: "x`,y")
        #expect(my.tableList(my.quote(table, always: true) + ",`shop`.`z`").map { my.tableId($0) }.first == table)
    }

    @Test("tables split into contiguous groups, larger first, as ConnectorUtils.groupPartitions does")
    func groups() {
        #expect(JdbcSourceConnector.groups([1, 2, 3, 4, 5], count: 2) == [[1, 2, 3], [4, 5]])
        #expect(JdbcSourceConnector.groups([1, 2, 3], count: 3) == [[1], [2], [3]])
        #expect(JdbcSourceConnector.groups([1, 2, 3, 4, 5, 6, 7], count: 3) == [[1, 2, 3], [4, 5], [6, 7]])
    }

    @Test("offsets read and write Confluent's map: incrementing, timestamp in ms and the second's nanoseconds")
    func offsets() {
        var o = SourceOffset()
        o.incrementing = 42
        o.timestampMicros = 1_709_164_800_123_456
        #expect(
            o.map == [
                "incrementing": .int64(42), "timestamp": .int64(1_709_164_800_123),
                "timestamp_nanos": .int32(123_456_000),
            ])
        #expect(SourceOffset(o.map!) == o)
        #expect(SourceOffset(["incrementing": .int32(7)]).incrementing == 7)
        #expect(SourceOffset(["timestamp": .int64(1500)]).timestampMicros == 1_500_000)
        #expect(SourceOffset().map == nil, "bulk mode sends no offset")
        #expect(TableQuerier.timestampText(1_709_164_800_123_456) == "2024-02-29 00:00:00.123456")
        #expect(TableQuerier.timestampText(-1) == "1969-12-31 23:59:59.999999")
    }

    @Test("numeric.mapping: Decimal by default, integers and doubles by precision and scale when asked")
    func numericMapping() {
        func schema(_ p: Int, _ s: Int?, _ m: JdbcSourceConfig.NumericMapping) -> Schema? {
            ColumnMapping(SqlColumn(name: "n", kind: .numeric(precision: p, scale: s)), optional: false, mapping: m)?
                .schema
        }
        #expect(schema(10, 2, .none) == LogicalTypes.decimal(scale: 2))
        #expect(schema(10, 2, .bestFit) == .float64)
        #expect(schema(5, 0, .bestFit) == .int32)
        #expect(schema(2, 0, .precisionOnly) == .int8)
        #expect(schema(18, 0, .bestFit) == .int64)
        #expect(schema(30, 0, .bestFit) == LogicalTypes.decimal(scale: 0))
        #expect(schema(30, 4, .bestFitEagerDouble) == .float64)
        #expect(schema(0, nil, .none) == .float64, "an unconstrained numeric has no scale for a Decimal")
        #expect(
            ColumnMapping(SqlColumn(name: "g", kind: .unsupported("oid 600")), optional: true, mapping: .none) == nil)
    }

    @Test("values: PostgreSQL's text forms become Connect's types; a value that does not parse names its column")
    func values() throws {
        func value(_ kind: SqlColumn.Kind, _ text: String, pg: Bool = true) throws -> Value? {
            try ColumnMapping(SqlColumn(name: "c", kind: kind), optional: true, mapping: .none)!
                .value(Array(text.utf8), isPostgres: pg)
        }
        #expect(try value(.boolean, "t") == .boolean(true))
        #expect(try value(.bytes, "\\x01ff") == .bytes([1, 255]))
        #expect(try value(.bytes, "ab", pg: false) == .bytes([97, 98]))
        #expect(try value(.date, "2024-02-29") == .timestamp(1_709_164_800_000))
        #expect(try value(.timestamp, "2024-02-29 00:00:00.123456") == .timestamp(1_709_164_800_123))
        #expect(try value(.timestamp, "2024-02-29 01:00:00+01") == .timestamp(1_709_164_800_000))
        #expect(try value(.time, "01:02:03.5") == .timestamp(3_723_500))
        #expect(try value(.numeric(precision: 10, scale: 2), "9.9") == .decimal(BigDecimal("9.90")!))
        #expect(throws: ConnectError.self) { try value(.int32, "x") }
    }

    @Test("configuration: Confluent's cross-key rules under their keys")
    func config() {
        func key(_ extra: [String: String]) -> String? {
            do {
                _ = try JdbcSourceConfig(Self.base.merging(extra) { $1 })
                return nil
            } catch { return error.configKey }
        }
        #expect(key([:]) == nil)
        #expect(key(["table.whitelist": "a", "table.blacklist": "b"]) == "table.whitelist")
        #expect(key(["mode": "timestamp"]) == "timestamp.column.name")
        #expect(key(["mode": "sometimes"]) == "mode")
        #expect(key(["query": "SELECT 1", "table.whitelist": "a"]) == "query")
        #expect(key(["db.timezone": "Europe/Paris"]) == "db.timezone")
        #expect(key(["table.include.list": "("]) == "table.include.list")
        let c = try! JdbcSourceConfig(Self.base.merging(["table.whitelist": "orders, inventory.customers"]) { $1 })
        #expect(c.includes(TableId(catalog: "db", schema: "public", table: "orders")))
        #expect(c.includes(TableId(catalog: "db", schema: "inventory", table: "customers")))
        #expect(!c.includes(TableId(catalog: "db", schema: "inventory", table: "CUSTOMERS")), "names match exactly")
        #expect(!c.includes(TableId(catalog: "db", schema: "public", table: "customers")))
        #expect(!c.includes(TableId(catalog: "db", schema: "public", table: "other")))
        let r = try! JdbcSourceConfig(Self.base.merging(["table.exclude.list": "db\\.public\\.tmp_.*"]) { $1 })
        #expect(!r.includes(TableId(catalog: "db", schema: "public", table: "tmp_1")))
        #expect(r.includes(TableId(catalog: "db", schema: "public", table: "orders")))
    }
}

/// The JDBC source against a real PostgreSQL and a real MariaDB.
@Suite("The JDBC source against real databases", .serialized)
struct JdbcSourceTaskTests {
    typealias Database = JdbcSinkTaskTests.Database

    /// A database with `orders` (an auto-increment id, a NOT NULL update time) holding three rows.
    static func database(
        _ db: Database
    ) throws -> (props: [String: String], sql: (String) throws -> String, name: String) {
        let (props, sql) = try JdbcSinkTaskTests.target(db)
        let name = String(props["connection.url"]!.split(separator: "/").last!)
        switch db {
        case .postgres:
            _ = try sql(
                """
                CREATE TABLE orders (id SERIAL PRIMARY KEY, item TEXT NOT NULL, price NUMERIC(10,2), qty SMALLINT,
                  ok BOOLEAN, raw BYTEA, day DATE, updated TIMESTAMP NOT NULL DEFAULT now());
                CREATE TABLE customers (id INT PRIMARY KEY, name TEXT);
                CREATE TABLE vehicles (id INT PRIMARY KEY, plate TEXT);
                """)
        case .mariadb:
            _ = try sql(
                """
                CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, item TEXT NOT NULL, price DECIMAL(10,2),
                  qty SMALLINT, ok TINYINT(1), raw VARBINARY(16), day DATE,
                  updated DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6));
                CREATE TABLE customers (id INT PRIMARY KEY, name TEXT);
                CREATE TABLE vehicles (id INT PRIMARY KEY, plate TEXT);
                """)
        }
        let raw = db == .postgres ? "'\\x01ff'::bytea" : "X'01FF'"
        _ = try sql(
            """
            INSERT INTO orders (item, price, qty, ok, raw, day, updated) VALUES
              ('widget', 9.99, 1, TRUE, \(raw), '2024-02-29', '2024-03-01 10:00:00'),
              ('gadget', 1.50, 2, FALSE, NULL, NULL, '2024-03-01 10:00:01'),
              ('gizmo', NULL, NULL, NULL, NULL, NULL, '2024-03-01 10:00:02');
            """)
        return (
            props.merging(["topic.prefix": "jdbc-", "poll.interval.ms": "50", "batch.max.rows": "2"]) { $1 }, sql,
            name
        )
    }

    /// Polls until `count` records came or 10 s passed.
    static func drain(_ task: JdbcSourceTask, count: Int, _ offsets: CommittedOffsets? = nil) throws -> [SourceRecord] {
        var out: [SourceRecord] = []
        let deadline = Date().addingTimeInterval(10)
        while out.count < count && Date() < deadline {
            let batch = try task.poll() ?? []
            for r in batch { offsets?.commit(r) }
            out += batch
        }
        return out
    }

    static func field(_ r: SourceRecord, _ name: String) -> Value? {
        guard case .struct(let s)? = r.value else { return nil }
        return s.get(name)
    }

    static func start(_ props: [String: String], _ offsets: CommittedOffsets) throws -> JdbcSourceTask {
        let task = JdbcSourceTask()
        task.initialize(offsets)
        try task.start(props)
        return task
    }

    @Test(
        "incrementing: rows in id order with Confluent's types, partition and offsets; new rows only; a restart resumes",
        arguments: Database.allCases)
    func incrementing(_ db: Database) throws {
        let (props, sql, name) = try Self.database(db)
        let connector = JdbcSourceConnector()
        try connector.start(props.merging(["mode": "incrementing", "table.whitelist": "orders"]) { $1 })
        let configs = try connector.taskConfigs(maxTasks: 2)
        let qualified = db == .postgres ? "public.orders" : "\(name).orders"
        let quoted = db == .postgres ? #""public"."orders""# : "`\(name)`.`orders`"
        #expect(configs.map { $0["tables"] } == [quoted], "one table, one task")
        let offsets = CommittedOffsets()
        let task = try Self.start(configs[0], offsets)
        let records = try Self.drain(task, count: 3, offsets)
        #expect(records.map { Self.field($0, "item") } == [.string("widget"), .string("gadget"), .string("gizmo")])
        let first = try #require(records.first)
        #expect(first.topic == "jdbc-orders")
        #expect(first.key == nil)
        #expect(first.sourcePartition == ["protocol": .string("1"), "table": .string(qualified)])
        #expect(first.sourceOffset == ["incrementing": .int64(1)])
        #expect(first.valueSchema?.name == "orders")
        #expect(first.valueSchema?.field("id")?.schema.isOptional == false)
        #expect(Self.field(first, "price") == .decimal(BigDecimal("9.99")!))
        #expect(Self.field(first, "qty") == .int16(1))
        #expect(Self.field(first, "ok") == (db == .postgres ? .boolean(true) : .int8(1)), "TINYINT(1) is BIT: INT8")
        #expect(Self.field(first, "raw") == .bytes([1, 255]))
        #expect(Self.field(first, "day") == .timestamp(1_709_164_800_000))
        #expect(Self.field(first, "updated") == .timestamp(1_709_287_200_000))
        #expect(Self.field(records[2], "price") == nil)

        _ = try sql("INSERT INTO orders (item) VALUES ('thingy')")
        let more = try Self.drain(task, count: 1, offsets)
        #expect(more.map { Self.field($0, "item") } == [.string("thingy")])
        #expect(more.last?.sourceOffset == ["incrementing": .int64(4)])
        try task.stop()

        // A new task resumes after the committed offset: only rows added since come.
        _ = try sql("INSERT INTO orders (item) VALUES ('doohickey')")
        let again = try Self.start(configs[0], offsets)
        let resumed = try Self.drain(again, count: 2, offsets)
        #expect(resumed.map { Self.field($0, "item") } == [.string("doohickey")])
    }

    @Test(
        "timestamp+incrementing sends an updated row again; bulk sends the table every interval; best_fit maps numbers",
        arguments: Database.allCases)
    func timestampAndBulk(_ db: Database) throws {
        let (props, sql, name) = try Self.database(db)
        let qualified = db == .postgres ? "public.orders" : "\(name).orders"
        let offsets = CommittedOffsets()
        let task = try Self.start(
            props.merging([
                "mode": "timestamp+incrementing", "timestamp.column.name": "updated", "incrementing.column.name": "id",
                "tables": qualified, "numeric.mapping": "best_fit",
            ]) { $1 }, offsets)
        let records = try Self.drain(task, count: 3, offsets)
        #expect(records.count == 3)
        // numeric.mapping applies to NUMERIC (PostgreSQL's); MySQL's DECIMAL stays a Decimal, as in Confluent's dialect.
        #expect(Self.field(records[0], "price") == (db == .postgres ? .float64(9.99) : .decimal(BigDecimal("9.99")!)))
        #expect(
            records.last?.sourceOffset
                == ["incrementing": .int64(3), "timestamp": .int64(1_709_287_202_000), "timestamp_nanos": .int32(0)])
        _ = try sql("UPDATE orders SET item = 'widget v2', updated = '2024-03-02 00:00:00' WHERE id = 1")
        let updated = try Self.drain(task, count: 1, offsets)
        #expect(updated.map { Self.field($0, "item") } == [.string("widget v2")])

        // Timestamp mode: rows of one timestamp keep the offset before them until the last of them.
        _ = try sql(
            "CREATE TABLE ties (id INT PRIMARY KEY, at TIMESTAMP NOT NULL); INSERT INTO ties VALUES (1, '2024-03-01 10:00:00'), (2, '2024-03-01 10:00:00'), (3, '2024-03-01 10:00:00')"
        )
        let tiesName = db == .postgres ? "public.ties" : "\(name).ties"
        let ties = try Self.start(
            props.merging(["mode": "timestamp", "timestamp.column.name": "at", "tables": tiesName]) { $1 },
            CommittedOffsets())
        let tied = try Self.drain(ties, count: 3)
        let epoch: OffsetMap = ["timestamp": .int64(0), "timestamp_nanos": .int32(0)]
        #expect(
            tied.map(\.sourceOffset) == [
                epoch, epoch, ["timestamp": .int64(1_709_287_200_000), "timestamp_nanos": .int32(0)],
            ])

        let bulk = try Self.start(
            props.merging(["mode": "bulk", "tables": qualified, "batch.max.rows": "10"]) { $1 }, CommittedOffsets())
        let twice = try Self.drain(bulk, count: 6)
        #expect(twice.count == 6, "the whole table, then the whole table again")
        #expect(twice.allSatisfy { $0.sourceOffset == nil })
    }

    @Test("several tables split across tasks; a nullable incrementing column and a wrong query fail with the reason")
    func splitAndFailures() throws {
        let (props, sql, _) = try Self.database(.postgres)
        let connector = JdbcSourceConnector()
        try connector.start(props.merging(["mode": "bulk"]) { $1 })
        let configs = try connector.taskConfigs(maxTasks: 2)
        #expect(
            configs.map { $0["tables"] } == [
                #""public"."customers","public"."orders""#, #""public"."vehicles""#,
            ])
        _ = try sql("CREATE TABLE loose (id INT, v TEXT)")
        #expect {
            try Self.start(
                props.merging([
                    "mode": "incrementing", "incrementing.column.name": "id", "tables": "public.loose",
                ]) {
                    $1
                }, CommittedOffsets())
        } throws: { ConnectError.describe($0).contains("because this column is nullable") }
        let bad = try Self.start(
            props.merging(["mode": "bulk", "query": "SELECT nope FROM orders"]) { $1 }, CommittedOffsets())
        #expect {
            _ = try Self.drain(bad, count: 1)
        } throws: { error in
            let e = error as? ConnectError
            return e?.isRetriable == false && e?.trace.contains("nope") == true
        }
    }
}
