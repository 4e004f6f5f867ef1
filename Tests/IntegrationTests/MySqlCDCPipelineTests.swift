import ConnectMetrics
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
        // Debezium's MBeans, under the names of Debezium's JMX exporter rules, and the binlog bytes behind.
        let labels = { (context: String) in #"{plugin="mysql",context="\#(context)",name="\#(name)""# }
        var text = ""
        _ = ProjectPaths.waitUntil(20) {
            text = PrometheusExposition.render(runtime.metrics, process: nil)
            return text.contains("debezium_metrics_TotalNumberOfUpdateEventsSeen\(labels("streaming"))} 1\n")
                && text.contains("swift_connect_source_task_behind_source_bytes{")
        }
        #expect(text.contains("debezium_metrics_TotalNumberOfCreateEventsSeen\(labels("streaming"))} 1\n"), "\(text)")
        #expect(text.contains("debezium_metrics_TotalNumberOfUpdateEventsSeen\(labels("streaming"))} 1\n"))
        #expect(text.contains("debezium_metrics_NumberOfCommittedTransactions\(labels("streaming"))} 2\n"))
        #expect(text.contains("debezium_metrics_Connected\(labels("streaming"))} 1\n"))
        #expect(text.contains("debezium_metrics_SnapshotCompleted\(labels("snapshot"))} 1\n"))
        #expect(text.contains("debezium_metrics_RowsScanned\(labels("snapshot")),table=\"\(db).ORDERS\"} 1\n"))
        #expect(text.contains("debezium_metrics_RemainingTableCount\(labels("snapshot"))} 0\n"))
        let behind = text.split(separator: "\n").first {
            $0.hasPrefix("swift_connect_source_task_behind_source_bytes{")
        }
        #expect(behind.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 0 } == true)
    }

    @Test("events on the topic carry Debezium's envelope schema, as the golden file has it, and its payload")
    func envelopeAsJSON() throws {
        let server = MariaDBServer.shared
        let db = "inventory_\(UInt32.random(in: 0...UInt32.max))"
        try server.createDatabase(db)
        try server.sql(
            """
            CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(64) NOT NULL, price DECIMAL(8,2),
              placed TIMESTAMP(3) NULL, due DATE);
            INSERT INTO orders VALUES (1, 'widget', 9.99, '2024-01-02 02:04:05.678', '2024-02-29');
            """, database: db)
        let prefix = "myenv\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try WorkerFixture.start([
            #"""
            {"name": "mysql-env-\#(db)", "config": {"connector.class": "io.debezium.connector.mysql.MySqlConnector",
              "database.hostname": "127.0.0.1", "database.port": "\#(server.port)", "database.user": "root",
              "database.password": "", "database.server.id": "43", "topic.prefix": "\#(prefix)",
              "table.include.list": "\#(db).orders", "include.schema.changes": "false",
              "key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true"}}
            """#
        ])
        defer { runtime.stop() }
        let topic = "\(prefix).\(db).orders"
        try #require(TopicReader.read(topic, 1).count == 1)
        try server.sql("SET time_zone = '+00:00'; UPDATE orders SET price = 10.50 WHERE id = 1", database: db)
        let records = TopicReader.read(topic, 2)
        try #require(records.count == 2)
        let value = try JSONParser.parse(records[1]["value"]?.stringValue ?? "")
        let golden = try JSONParser.parse(
            String(
                contentsOf: ProjectPaths.root.appendingPathComponent(
                    "Tests/IntegrationTests/Golden/mysql-orders-envelope-schema.json"), encoding: .utf8))
        // The golden file is written for the prefix `dbserver1` and the database `inventory`.
        let schema = try JSONParser.parse(
            JSONWriter.string(value["schema"] ?? .null).replacingOccurrences(of: prefix + ".", with: "dbserver1.")
                .replacingOccurrences(of: db, with: "inventory"))
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try JSONWriter.string(schema).write(
                to: ProjectPaths.root.appendingPathComponent(
                    "Tests/IntegrationTests/Golden/mysql-orders-envelope-schema.json"), atomically: true,
                encoding: .utf8)
        }
        #expect(schema == golden, "\(JSONWriter.string(schema))")
        let payload = value["payload"]
        #expect(payload?["op"] == "u")
        #expect(payload?["before"]?["price"] == "A+c=")
        // Decimal(scale 2) 10.50 is the unscaled 1050, base64 of its big-endian bytes.
        #expect(payload?["after"]?["price"] == "BBo=")
        #expect(payload?["after"]?["placed"] == "2024-01-02T02:04:05.678Z")
        #expect(payload?["after"]?["due"] == .int(19782))
        #expect(payload?["source"]?["connector"] == "mysql")
        #expect(payload?["source"]?["db"]?.stringValue == db && payload?["source"]?["table"] == "orders")
        #expect(payload?["source"]?["snapshot"] == "false")
        #expect(payload?["source"]?["server_id"] == .int(1) && payload?["source"]?["row"] == .int(0))
        let key = try JSONParser.parse(records[1]["key"]?.stringValue ?? "")
        #expect(key["payload"] == ["id": 1])
    }
}
