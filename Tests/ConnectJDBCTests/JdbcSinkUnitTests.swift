import ConnectAPI
import MariaDB
import Testing

@testable import ConnectJDBC

@Suite("The JDBC sink's URLs, configuration, rows and SQL")
struct JdbcSinkUnitTests {
    static let valueSchema = SchemaBuilder.struct().name("orders").field("id", .int32).field("item", .string)
        .field("price", LogicalTypes.decimal(scale: 2, optional: true)).build()
    static let keySchema = SchemaBuilder.struct().field("id", .int32).build()

    static func record(_ id: Int32, _ item: String?, offset: Int64 = 0) throws -> SinkRecord {
        var key = Struct(schema: keySchema)
        try key.put("id", .int32(id))
        var value: Value?
        if let item {
            var v = Struct(schema: valueSchema)
            try v.put("id", .int32(id))
            try v.put("item", .string(item))
            try v.put("price", .decimal(BigDecimal(unscaledValue: 1050, scale: 2)))
            value = .struct(v)
        }
        return SinkRecord(
            topic: "orders", kafkaPartition: 1, keySchema: keySchema, key: .struct(key),
            valueSchema: item == nil ? nil : valueSchema, value: value, kafkaOffset: offset)
    }

    @Test("JDBC URLs name the dialect, host, port, database and parameters; anything else names connection.url")
    func urls() throws {
        let pg = try JdbcUrl("jdbc:postgresql://db.example:6543/shop?user=app&password=s%40cret")
        #expect(pg.subprotocol == .postgresql && pg.host == "db.example" && pg.port == 6543 && pg.database == "shop")
        #expect(pg.parameters == ["user": "app", "password": "s@cret"])
        let my = try JdbcUrl("jdbc:mysql://localhost/demo")
        #expect(my.subprotocol == .mysql && my.port == 3306 && my.database == "demo")
        #expect(try JdbcUrl("jdbc:mariadb://[::1]:3307/x").host == "::1")
        #expect {
            try JdbcUrl("jdbc:oracle:thin:@host:1521/x")
        } throws: { ($0 as? ConnectError)?.configKey == "connection.url" }
        #expect {
            try JdbcUrl("postgresql://host/db")
        } throws: { ($0 as? ConnectError)?.configKey == "connection.url" }
    }

    @Test("delete.enabled needs pk.mode=record_key; kafka keys take none or three names")
    func config() {
        let base = ["connection.url": "jdbc:postgresql://h/db"]
        #expect {
            try JdbcSinkConfig(base.merging(["delete.enabled": "true"]) { $1 })
        } throws: {
            ($0 as? ConnectError)?.message.contains("Deletes are only supported for pk.mode record_key") == true
        }
        #expect(throws: ConnectError.self) {
            try JdbcSinkConfig(base.merging(["pk.mode": "kafka", "pk.fields": "a,b"]) { $1 })
        }
        #expect(JdbcSinkConnector().validate(base.merging(["delete.enabled": "true"]) { $1 })["delete.enabled"] != nil)
        #expect(JdbcSinkConnector().validate(base).isEmpty)
    }

    @Test("rows: key columns by pk.mode, then the value's other fields, limited by fields.whitelist")
    func rows() throws {
        let url = ["connection.url": "jdbc:postgresql://h/db"]
        let byKey = try JdbcSinkConfig(url.merging(["pk.mode": "record_key"]) { $1 })
        let row = try RecordRow(try Self.record(7, "widget"), config: byKey, isDelete: false)
        #expect(row.keyColumns.map(\.name) == ["id"] && row.keyValues == [.int32(7)])
        #expect(row.valueColumns.map(\.name) == ["item", "price"])
        let kafka = try JdbcSinkConfig(url.merging(["pk.mode": "kafka", "fields.whitelist": "item"]) { $1 })
        let k = try RecordRow(try Self.record(7, "widget", offset: 42), config: kafka, isDelete: false)
        #expect(k.keyColumns.map(\.name) == ["__connect_topic", "__connect_partition", "__connect_offset"])
        #expect(k.keyValues == [.string("orders"), .int32(1), .int64(42)])
        #expect(k.valueColumns.map(\.name) == ["item"])
        // A null value without delete.enabled cannot be written.
        #expect(throws: ConnectError.self) {
            try RecordRow(try Self.record(7, nil), config: byKey, isDelete: false)
        }
        let primitive = try JdbcSinkConfig(url.merging(["pk.mode": "record_key"]) { $1 })
        var r = try Self.record(7, "widget")
        r.keySchema = .int64
        r.key = .int64(7)
        #expect {
            try RecordRow(r, config: primitive, isDelete: false)
        } throws: { ($0 as? ConnectError)?.message.hasPrefix("Need exactly one PK column defined") == true }
    }

    @Test("upserts as each database writes them; decimals of any size and timestamps as literals")
    func statements() {
        let pg = PostgreSqlDatabaseDialect()
        #expect(
            pg.upsert(table: "\"t\"", keys: ["\"id\""], columns: ["\"v\""], rows: [["1", "'a'"]])
                == "INSERT INTO \"t\" (\"id\",\"v\") VALUES (1,'a') ON CONFLICT (\"id\") DO UPDATE SET \"v\"=EXCLUDED.\"v\""
        )
        #expect(
            pg.upsert(table: "t", keys: ["id"], columns: [], rows: [["1"]]).hasSuffix("ON CONFLICT (id) DO NOTHING"))
        let my = MySqlDatabaseDialect()
        #expect(
            my.upsert(table: "`t`", keys: ["`id`"], columns: ["`v`"], rows: [["1", "'a'"], ["2", "'b'"]])
                == "INSERT INTO `t` (`id`,`v`) VALUES (1,'a'),(2,'b') ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)")
        #expect(
            pg.delete(table: "t", keys: ["a", "b"], rows: [["1", "2"]]) == "DELETE FROM t WHERE (a = 1 AND b = 2)")
        // -2^73 + 1 at scale 3, beyond 64 bits.
        let big = BigDecimal(unscaled: [0xFE, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], scale: 3)
        #expect(SqlLiterals.plain(big) == "-9444732965739290427.391")
        #expect(SqlLiterals.plain(BigDecimal(unscaledValue: 5, scale: 2)) == "0.05")
        #expect(
            SqlLiterals.temporal(1_709_164_800_123, logical: LogicalTypes.timestampName) == "2024-02-29 00:00:00.123")
        #expect(SqlLiterals.temporal(-1, logical: LogicalTypes.timestampName) == "1969-12-31 23:59:59.999")
    }

    @Test("failures: data errors go to the reporter, transient ones are retried, the rest fail the task")
    func failureKinds() {
        func pg(_ state: String) -> SQLFailure {
            SQLFailure(message: "m", sqlState: state, isConnectionError: false, exceptionClass: "x")
        }
        #expect(pg("23505").isDataError && pg("22001").isDataError && !pg("23505").isTransient)
        #expect(pg("40P01").isTransient && pg("53300").isTransient && !pg("40P01").isDataError)
        #expect(!pg("28P01").isDataError && !pg("28P01").isTransient)
        #expect(!pg("42501").isDataError && !pg("3D000").isTransient)
        let packet = MySqlDatabaseDialect.failure(
            .init("Got a packet bigger than 'max_allowed_packet' bytes", code: 1153, sqlState: "08S01"))
        #expect(!packet.isTransient, "a statement too large is not a lost connection")
        #expect(MySqlDatabaseDialect.failure(.init("Duplicate entry", code: 1062, sqlState: "23000")).isDataError)
    }

    @Test("a password in connection.url is hidden in the configuration error")
    func urlPasswordHidden() {
        #expect(
            JdbcUrl.redacted("jdbc:mysql://h:x/db?user=u&password=s3cret&useSSL=false")
                == "jdbc:mysql://h:x/db?user=u&password=[hidden]&useSSL=false")
        #expect {
            try JdbcUrl("jdbc:mysql://h:x/db?password=s3cret")
        } throws: {
            !ConnectError.describe($0).contains("s3cret") && ConnectError.describe($0).contains("connection.url")
        }
    }

    @Test("unquoted names must be plain identifiers; upsert and update need a key")
    func identifiersAndModes() throws {
        #expect(JdbcSinkTask.isPlainIdentifier("orders") && JdbcSinkTask.isPlainIdentifier("orders_2$"))
        #expect(!JdbcSinkTask.isPlainIdentifier("x; DROP TABLE t") && !JdbcSinkTask.isPlainIdentifier("1abc"))
        #expect(!JdbcSinkTask.isPlainIdentifier("a\"b") && !JdbcSinkTask.isPlainIdentifier(""))
        #expect(!JdbcSinkTask.isPlainIdentifier("inventory.orders"), "dotted names are split into parts first")
        let pg = PostgreSqlDatabaseDialect()
        let mysql = MySqlDatabaseDialect()
        #expect(pg.tableId("orders") == TableId(table: "orders"))
        #expect(pg.tableId("inventory.orders") == TableId(schema: "inventory", table: "orders"))
        #expect(mysql.tableId("inventory.orders") == TableId(catalog: "inventory", table: "orders"))
        #expect(
            pg.tableId("dbserver1.inventory.orders")
                == TableId(catalog: "dbserver1", schema: "inventory", table: "orders"))
        #expect(pg.tableId("\"my.schema\".\"a\"\"b\"") == TableId(schema: "my.schema", table: "a\"b"))
        #expect(mysql.tableId("`db`.t") == TableId(catalog: "db", table: "t"))
        #expect(pg.tableId("Shop.\"Orders\"", foldingUnquoted: true) == TableId(schema: "shop", table: "Orders"))
        #expect(mysql.tableId("Shop.Orders", foldingUnquoted: true) == TableId(catalog: "Shop", table: "Orders"))
        final class NoSession: SqlSession {
            func execute(_ sql: String) throws(SQLFailure) {}
            func columns(of table: TableId) throws(SQLFailure) -> Set<String>? { nil }
            func literal(_ text: String) -> String { "'\(text)'" }
            func select(_ sql: String) throws(SQLFailure) -> SqlRows { SqlRows(columns: [], rows: []) }
            func tables(catalog: String?, schema: String?, types: [String]) throws(SQLFailure) -> [TableId] { [] }
            func columnCondition(_ table: TableId) -> String { "" }
            var autoIncrementCondition: String { "" }
            var currentTimestampQuery: String { "" }
            var exceptionClass: String { "" }
        }
        #expect(try pg.literal(.float64(.nan), .float64, NoSession()) == "'NaN'::double precision")
        #expect(try pg.literal(.float32(-.infinity), .float32, NoSession()) == "'-Infinity'::real")
        #expect(throws: ConnectError.self) { try mysql.literal(.float64(.infinity), .float64, NoSession()) }
        #expect(pg.quote(pg.tableId("inventory.orders"), always: true) == "\"inventory\".\"orders\"")
        #expect(mysql.quote(mysql.tableId("db.t"), always: true) == "`db`.`t`")
        #expect(pg.tableId("dbserver1.inventory.orders").description == "\"dbserver1\".\"inventory\".\"orders\"")
        #expect {
            try JdbcSinkConfig(["connection.url": "jdbc:postgresql://h/db", "insert.mode": "upsert"])
        } throws: { ($0 as? ConnectError)?.configKey == "insert.mode" }
    }
}
