import ConnectMetrics
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import JSON
import Testing

/// The PostgreSQL connector in a worker, on the shared Tansu broker and a real PostgreSQL.
@Suite("PostgreSQL change data capture through a worker", .serialized, .timeLimit(.minutes(5)))
struct PostgresCDCPipelineTests {
    static func database(_ tag: String) throws -> String {
        let name = "pipe_\(tag)_\(UInt32.random(in: 0...UInt32.max))"
        try PostgresServer.shared.createDatabase(name)
        try PostgresServer.shared.sql(
            """
            CREATE SCHEMA inventory;
            CREATE TABLE inventory.orders (id int PRIMARY KEY, item text NOT NULL, price numeric(8,2),
              placed timestamptz, due date);
            INSERT INTO inventory.orders VALUES (1, 'widget', 9.99, '2024-01-02 02:04:05.678+00', '2024-02-29');
            """, database: name)
        return name
    }

    static func connector(_ name: String, _ db: String, _ extra: String) -> String {
        let pg = PostgresServer.shared
        return #"""
            {"name": "\#(name)", "config": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
             "database.hostname": "127.0.0.1", "database.port": "\#(pg.port)", "database.user": "postgres",
             "database.password": "", "database.dbname": "\#(db)", "slot.name": "\#(name.replacingOccurrences(of: "-", with: "_"))",
             "publication.name": "pub_\#(db)", "slot.drop.on.stop": "true", "tasks.max": "1", \#(extra)}}
            """#
    }

    @Test("events on the topic carry Debezium's envelope schema, as the golden file has it, and its payload")
    func envelopeAsJSON() throws {
        let db = try Self.database("env")
        let prefix = "pgenv\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try WorkerFixture.start([
            Self.connector(
                "pg-env-\(db)", db,
                #""topic.prefix": "\#(prefix)", "table.include.list": "inventory.orders", "key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true""#
            )
        ])
        defer { runtime.stop() }
        let snapshot = TopicReader.read("\(prefix).inventory.orders", 1)
        try #require(snapshot.count == 1)
        try PostgresServer.shared.sql("UPDATE inventory.orders SET price = 10.50 WHERE id = 1", database: db)
        let records = TopicReader.read("\(prefix).inventory.orders", 2)
        try #require(records.count == 2)
        let value = try JSONParser.parse(records[1]["value"]?.stringValue ?? "")
        let golden = try JSONParser.parse(
            String(
                contentsOf: ProjectPaths.root.appendingPathComponent(
                    "Tests/IntegrationTests/Golden/postgres-orders-envelope-schema.json"), encoding: .utf8))
        // The golden file is written for the prefix `dbserver1`.
        let schema = try JSONParser.parse(
            JSONWriter.string(value["schema"] ?? .null).replacingOccurrences(of: prefix + ".", with: "dbserver1."))
        #expect(schema == golden, "\(JSONWriter.string(schema))")
        let payload = value["payload"]
        #expect(payload?["op"] == "u")
        #expect(payload?["after"]?["item"] == "widget")
        // Decimal(scale 2) 10.50 is the unscaled 1050, base64 of its big-endian bytes.
        #expect(payload?["after"]?["price"] == "BBo=")
        #expect(payload?["after"]?["placed"] == "2024-01-02T02:04:05.678Z")
        #expect(payload?["after"]?["due"] == .int(19782))
        #expect(payload?["source"]?["connector"] == "postgresql")
        #expect(payload?["source"]?["schema"] == "inventory" && payload?["source"]?["table"] == "orders")
        #expect(payload?["source"]?["snapshot"] == "false")
        let key = try JSONParser.parse(records[1]["key"]?.stringValue ?? "")
        #expect(key["payload"] == ["id": 1])
        #expect(
            key["schema"]?["name"]
                == .string("dbserver1.inventory.orders.Key".replacingOccurrences(of: "dbserver1", with: prefix)))
        // Debezium's MBeans, under the names of Debezium's JMX exporter rules, and the WAL the slot holds back.
        let labels = { (context: String) in #"{plugin="postgres",context="\#(context)",name="\#(prefix)""# }
        var text = ""
        _ = ProjectPaths.waitUntil(20) {
            text = PrometheusExposition.render(runtime.metrics, process: nil)
            return text.contains("debezium_metrics_TotalNumberOfUpdateEventsSeen\(labels("streaming"))} 1\n")
                && text.contains("swift_connect_source_task_behind_source_bytes{")
        }
        #expect(text.contains("debezium_metrics_TotalNumberOfUpdateEventsSeen\(labels("streaming"))} 1\n"), "\(text)")
        #expect(text.contains("debezium_metrics_NumberOfCommittedTransactions\(labels("streaming"))} 1\n"))
        #expect(text.contains("debezium_metrics_Connected\(labels("streaming"))} 1\n"))
        #expect(text.contains("debezium_metrics_SnapshotCompleted\(labels("snapshot"))} 1\n"))
        #expect(text.contains("debezium_metrics_RowsScanned\(labels("snapshot")),table=\"inventory.orders\"} 1\n"))
        #expect(text.contains("debezium_metrics_TotalTableCount\(labels("snapshot"))} 1\n"))
        let behind = text.split(separator: "\n").first {
            $0.hasPrefix("swift_connect_source_task_behind_source_bytes{")
        }
        #expect(behind.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 0 } == true)
    }

    @Test("the course's shape: 1.x keys, ExtractNewRecordState and a RegexRouter give plain rows on a renamed topic")
    func unwrappedRows() throws {
        let db = try Self.database("unwrap")
        let server = "asgard\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try WorkerFixture.start([
            Self.connector(
                "pg-unwrap-\(db)", db,
                #""database.server.name": "\#(server)", "table.whitelist": "inventory.orders", "transforms": "unwrap,addTopicPrefix", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState", "transforms.addTopicPrefix.type": "org.apache.kafka.connect.transforms.RegexRouter", "transforms.addTopicPrefix.regex": "(.*)", "transforms.addTopicPrefix.replacement": "pg-debezium-$1""#
            )
        ])
        defer { runtime.stop() }
        try #require(TopicReader.read("pg-debezium-\(server).inventory.orders", 1).count == 1)
        try PostgresServer.shared.sql(
            "INSERT INTO inventory.orders VALUES (2, 'gadget', 1.50, NULL, NULL)", database: db)
        try PostgresServer.shared.sql("DELETE FROM inventory.orders WHERE id = 1", database: db)
        // Debezium's default delete handling (delete.tombstone.handling.mode=tombstone): the delete becomes a
        // tombstone, the connector's own tombstone is dropped.
        let records = TopicReader.read("pg-debezium-\(server).inventory.orders", 3)
        try #require(records.count == 3, "\(records.map { JSONWriter.string($0) })")
        let rows = records.compactMap { r in r["value"]?.stringValue.flatMap { try? JSONParser.parse($0) }?["payload"] }
        let byItem = Dictionary(rows.map { ($0["item"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(byItem.keys) == ["widget", "gadget"])
        #expect(byItem["widget"]?["placed"] == "2024-01-02T02:04:05.678Z")
        #expect(byItem["gadget"]?["placed"] == .null)
        #expect(records.filter { $0["value"] == .null }.map { $0["key"] } == ["Struct{id=1}"])
    }

    @Test(
        "a frozen walsender is noticed within wal.receiver.timeout.ms and the stream comes back once the slot is free; a paused connector keeps its stream and its bytes-behind gauge"
    )
    func silentServerAndPause() throws {
        // A private server: its wal_sender_timeout is lowered, and one of its processes is stopped.
        let pg = try PostgresServer()
        defer { pg.stop() }
        try pg.createDatabase("shop")
        try pg.sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)", database: "shop")
        try pg.sql("ALTER SYSTEM SET wal_sender_timeout = '2s'")
        try pg.sql("SELECT pg_reload_conf()")
        let prefix = "pgsilent\(UInt32.random(in: 0...UInt32.max))"
        let name = "pg-silent"
        let runtime = try WorkerFixture.start([
            #"""
            {"name": "\#(name)", "config": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
             "database.hostname": "127.0.0.1", "database.port": "\#(pg.port)", "database.user": "postgres",
             "database.password": "", "database.dbname": "shop", "slot.name": "silent", "publication.name": "pub_silent",
             "topic.prefix": "\#(prefix)", "table.include.list": "public.t", "tasks.max": "1",
             "wal.receiver.timeout.ms": "3000", "slot.retry.delay.ms": "500", "slot.max.retries": "100",
             "status.update.interval.ms": "500"}}
            """#
        ])
        defer { runtime.stop() }
        let topic = "\(prefix).public.t"
        try #require(TopicReader.read(topic, 1).count == 1)
        func metric(_ series: String) -> Double? {
            PrometheusExposition.render(runtime.metrics, process: nil).split(separator: "\n")
                .first { $0.hasPrefix(series) }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        let connected = #"debezium_metrics_Connected{plugin="postgres",context="streaming",name="\#(prefix)"}"#
        #expect(ProjectPaths.waitUntil(20) { metric(connected) == 1 })
        func walsender() -> Int32? {
            (try? pg.sql("SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'silent' AND active"))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let frozen = try #require(walsender())

        // The walsender stops answering; the TCP connection stays open.
        kill(frozen, SIGSTOP)
        let noticed = ProjectPaths.waitUntil(20) { metric(connected) == 0 }
        kill(frozen, SIGCONT)
        #expect(noticed, "the silent stream is noticed as lost")
        try pg.sql("INSERT INTO t VALUES (2)", database: "shop")
        #expect(TopicReader.read(topic, 2).count == 2, "the stream reconnects once the old walsender lets the slot go")
        #expect(ProjectPaths.waitUntil(20) { metric(connected) == 1 })

        // Paused for longer than the server's wal_sender_timeout: the stream stays, and the WAL written meanwhile
        // shows in the bytes-behind gauge.
        let walsenderBeforePause = try #require(walsender())
        try runtime.herder.pauseConnector(name)
        #expect(WorkerFixture.waitForTask(runtime, name, "PAUSED", seconds: 20) != nil)
        let behind = #"swift_connect_source_task_behind_source_bytes{connector="\#(name)""#
        let before = metric(behind) ?? 0
        try pg.sql("INSERT INTO t SELECT generate_series(3, 2002)", database: "shop")
        #expect(ProjectPaths.waitUntil(20) { (metric(behind) ?? 0) > before }, "the gauge moves while paused")
        Thread.sleep(forTimeInterval: 4)
        #expect(walsender() == walsenderBeforePause, "the server kept the paused connector's stream")
        #expect(metric(connected) == 1)
        try runtime.herder.resumeConnector(name)
        #expect(TopicReader.read(topic, 2002).count == 2002)
    }
}
