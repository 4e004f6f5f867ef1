import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import JSON
import Testing

/// The MySQL connector in a worker, on the shared Tansu broker and a real MariaDB: the course's CDC lesson.
@Suite("MySQL change data capture through a worker", .serialized, .timeLimit(.minutes(5)))
struct MySqlCDCPipelineTests {
    @Test("the course's configuration (1.x keys, database.history.*, unwrap and RegexRouter) gives plain rows")
    func courseLesson() throws {
        let server = MariaDBServer.shared
        let db = "demo_\(UInt32.random(in: 0...UInt32.max))"
        try server.createDatabase(db)
        try server.sql(
            """
            CREATE TABLE ORDERS (order_id INT PRIMARY KEY, customer_id INT, order_total_usd DECIMAL(11,2),
              make VARCHAR(50), model VARCHAR(50), delivery_city VARCHAR(50), delivery_company VARCHAR(50),
              delivery_address VARCHAR(100), CREATE_TS TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
              UPDATE_TS TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP);
            INSERT INTO ORDERS (order_id, customer_id, order_total_usd, make, model, delivery_city)
              VALUES (1, 535, 190899.73, 'Dodge', 'Ram Wagon B350', 'Sheffield');
            """, database: db)
        let name = "asgard\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try WorkerFixture.start([
            #"""
            {"name": "source-debezium-orders-\#(db)", "config": {
              "connector.class": "io.debezium.connector.mysql.MySqlConnector",
              "database.hostname": "127.0.0.1", "database.port": "\#(server.port)", "database.user": "root",
              "database.password": "", "database.server.id": "42", "database.server.name": "\#(name)",
              "table.whitelist": "\#(db).ORDERS",
              "database.history.kafka.bootstrap.servers": "\#(TansuBroker.shared.bootstrapServers)",
              "database.history.kafka.topic": "dbhistory.\#(db)", "include.schema.changes": "true",
              "decimal.handling.mode": "double", "topic.creation.default.replication.factor": "1",
              "topic.creation.default.partitions": "1",
              "transforms": "unwrap,addTopicPrefix",
              "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
              "transforms.addTopicPrefix.type": "org.apache.kafka.connect.transforms.RegexRouter",
              "transforms.addTopicPrefix.regex": "(.*)", "transforms.addTopicPrefix.replacement": "mysql-debezium-$1"}}
            """#
        ])
        defer { runtime.stop() }
        let topic = "mysql-debezium-\(name).\(db).ORDERS"
        try #require(TopicReader.read(topic, 1).count == 1)
        try server.sql(
            """
            INSERT INTO ORDERS (order_id, customer_id, order_total_usd, make, model, delivery_city)
              VALUES (2, 7, 10.5, 'Ford', 'F150', 'Leeds');
            UPDATE ORDERS SET delivery_city = 'York' WHERE order_id = 1;
            """, database: db)
        let records = TopicReader.read(topic, 3)
        try #require(records.count == 3, "\(records.map { JSONWriter.string($0) })")
        let rows = records.compactMap { r in r["value"]?.stringValue.flatMap { try? JSONParser.parse($0) } }
        let plain = rows.map { $0["payload"] ?? $0 }
        #expect(plain.map { $0["order_id"]?.intValue } == [1, 2, 1])
        #expect(plain[0]["order_total_usd"]?.doubleValue == 190899.73)
        #expect(plain[2]["delivery_city"] == "York")
        #expect(plain[0]["CREATE_TS"]?.stringValue?.hasSuffix("Z") == true)
        // The DDL went to the schema change topic (renamed by the same router) and to the history topic.
        let changes = TopicReader.read("mysql-debezium-\(name)", 1)
        #expect(changes.first?["value"]?.stringValue?.contains("CREATE TABLE") == true)
        let history = TopicReader.read("dbhistory.\(db)", 1)
        #expect(history.first?["value"]?.stringValue?.contains("\"tableChanges\"") == true)
    }
}
