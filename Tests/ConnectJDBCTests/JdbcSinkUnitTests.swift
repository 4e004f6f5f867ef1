import ConnectAPI
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
}
