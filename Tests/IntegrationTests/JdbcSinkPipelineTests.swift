import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import Testing

/// The course's shape: PostgreSQL changes, unwrapped, into another PostgreSQL database through the JDBC sink, on the
/// shared Tansu broker.
@Suite("The JDBC sink through a worker", .serialized, .timeLimit(.minutes(5)))
struct JdbcSinkPipelineTests {
    @Test("CDC events unwrapped by ExtractNewRecordState are upserted into a table auto.create made; deletes apply")
    func cdcToJdbc() throws {
        let pg = PostgresServer.shared
        let source = try PostgresCDCPipelineTests.database("jdbc")
        let sink = "sink_\(UInt32.random(in: 0...UInt32.max))"
        try pg.createDatabase(sink)
        let prefix = "pgjdbc\(UInt32.random(in: 0...UInt32.max))"
        let converters =
            #""key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": "true", "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true""#
        let runtime = try WorkerFixture.start([
            PostgresCDCPipelineTests.connector(
                "pg-jdbc-\(source)", source,
                #""topic.prefix": "\#(prefix)", "table.include.list": "inventory.orders", "transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState", \#(converters)"#
            ),
            #"""
            {"name": "jdbc-sink-\#(sink)", "config": {"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
             "topics": "\#(prefix).inventory.orders", "connection.url": "jdbc:postgresql://127.0.0.1:\#(pg.port)/\#(sink)",
             "connection.user": "postgres", "insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true",
             "delete.enabled": "true", "table.name.format": "orders", "tasks.max": "1", \#(converters)}}
            """#,
        ])
        defer { runtime.stop() }
        func rows() -> [String] {
            ((try? pg.sql("SELECT id, item, price FROM orders ORDER BY id", database: sink)) ?? "")
                .split(separator: "\n").map(String.init)
        }
        #expect(ProjectPaths.waitUntil(60) { rows() == ["1|widget|9.99"] }, "the snapshot row: \(rows())")
        try pg.sql(
            """
            INSERT INTO inventory.orders VALUES (2, 'gadget', 1.50, NULL, NULL);
            UPDATE inventory.orders SET item = 'gizmo' WHERE id = 2;
            DELETE FROM inventory.orders WHERE id = 1;
            """, database: source)
        #expect(ProjectPaths.waitUntil(60) { rows() == ["2|gizmo|1.50"] }, "after the changes: \(rows())")
    }
}
