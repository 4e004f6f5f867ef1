import ConnectTestKit
import ConnectWorkerKit
import Foundation
import JSON
import Testing

/// Faults of the database and search sinks injected for real (PostgreSQL, MariaDB, osmem-server and FalkorDB on
/// loopback), each diagnosed by the `connect-doctor` executable from the failed task's trace: its top finding must
/// name the fault's rule and the connector.
@Suite("connect-doctor check on injected sink faults", .serialized, .timeLimit(.minutes(6)))
struct SinkDoctorFaultTests {
    typealias Worker = CDCDoctorFaultTests.Worker

    /// A record `{"id": <id>, "item": <item>[, "price": <price>]}` with its JSON schema envelope.
    static func order(_ id: Int, _ item: String, price: Double? = nil) -> String {
        var fields = #"{"field":"id","type":"int32"},{"field":"item","type":"string"}"#
        var payload = #""id":\#(id),"item":"\#(item)""#
        if let price {
            fields += #",{"field":"price","type":"double"}"#
            payload += #","price":\#(price)"#
        }
        return #"{"schema":{"type":"struct","name":"order","fields":[\#(fields)]},"payload":{\#(payload)}}"#
    }

    /// A topic of its own holding `values`, keyed by their position.
    static func topic(_ base: String, _ values: [String]) throws -> String {
        let topic = "\(base)-\(UInt32.random(in: 0...UInt32.max))"
        try TopicWriter.produce(topic, values.enumerated().map { (String($0.offset), $0.element) })
        return topic
    }

    static func jdbc(_ topic: String, url: String, user: String, _ extra: [String: String] = [:]) -> [String: String] {
        var c = [
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "topics": topic, "tasks.max": "1",
            "connection.url": url, "connection.user": user, "table.name.format": "orders",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true",
        ]
        for (k, v) in extra { c[k] = v }
        return c
    }

    @Test(
        "JDBC sink: the database unreachable, the login refused, the table missing with auto.create=false, the table lacking a field with auto.evolve=false"
    )
    func jdbcFaults() throws {
        #expect(FileManager.default.isExecutableFile(atPath: DoctorFaultTests.doctor), "build connect-doctor first")
        let worker = try Worker.start()
        defer { worker.runtime.stop() }
        let pg = PostgresServer.shared
        let db = "sinkfault_\(UInt32.random(in: 0...UInt32.max))"
        try pg.createDatabase(db)
        let url = "jdbc:postgresql://127.0.0.1:\(pg.port)/\(db)"
        let orders = try Self.topic("sink-fault", [Self.order(1, "widget", price: 9.5)])

        // Nothing listens on the port the URL names: while the sink retries, the task is RUNNING and writes nothing;
        // it fails once its retries are spent.
        let closed = try FreePort.allocate()
        try worker.create(
            "sf-retrying",
            Self.jdbc(
                orders, url: "jdbc:postgresql://127.0.0.1:\(closed)/\(db)", user: "postgres",
                ["max.retries": "1000", "retry.backoff.ms": "500"]))
        worker.expectTop("CD-SINK-003", connector: "sf-retrying")
        #expect(
            (worker.sample(
                #"swift_connect_sink_writer_retry_metrics_retries_total{connector="sf-retrying",task="0",reason="08001"}"#
            )
                ?? 0) > 0, "retries counted under pgjdbc's SQLSTATE for a refused connection")
        try worker.delete("sf-retrying")
        try worker.create(
            "sf-unreachable",
            Self.jdbc(
                orders, url: "jdbc:postgresql://127.0.0.1:\(closed)/\(db)", user: "postgres",
                ["max.retries": "1", "retry.backoff.ms": "100"]))
        worker.expectTop("CD-NET-002", connector: "sf-unreachable")
        try worker.delete("sf-unreachable")

        // MariaDB refuses a password that is not the user's.
        let mariadb = MariaDBServer.shared
        try mariadb.sql("CREATE USER IF NOT EXISTS 'sinkfault'@'%' IDENTIFIED BY 'right'")
        try worker.create(
            "sf-login",
            Self.jdbc(
                orders, url: "jdbc:mariadb://127.0.0.1:\(mariadb.port)/mysql", user: "sinkfault",
                ["connection.password": "wrong"]))
        worker.expectTop("CD-AUTH-003", connector: "sf-login")
        try worker.delete("sf-login")

        // The table is not there and the connector may not create it.
        try worker.create("sf-missing", Self.jdbc(orders, url: url, user: "postgres", ["auto.create": "false"]))
        worker.expectTop("CD-JDBC-001", connector: "sf-missing")
        try worker.delete("sf-missing")

        // The records carry a field the table lacks and the connector may not add it.
        try pg.sql("CREATE TABLE orders (id int, item text)", database: db)
        try worker.create("sf-drift", Self.jdbc(orders, url: url, user: "postgres", ["auto.evolve": "false"]))
        worker.expectTop("CD-JDBC-006", connector: "sf-drift")
        try worker.delete("sf-drift")

        // The sink's own metrics: rows written, a refused row counted under its SQLSTATE.
        try pg.sql("ALTER TABLE orders ADD COLUMN price float8; ALTER TABLE orders ADD PRIMARY KEY (id)", database: db)
        let more = try Self.topic("sink-fault", [Self.order(2, "gadget", price: 1), Self.order(2, "again", price: 2)])
        try worker.create(
            "sf-metrics",
            Self.jdbc(
                more, url: url, user: "postgres",
                ["errors.tolerance": "all", "errors.log.enable": "true", "batch.size": "10"]))
        let written = #"swift_connect_sink_writer_metrics_records_written_total{connector="sf-metrics",task="0"}"#
        #expect(ProjectPaths.waitUntil(30) { worker.sample(written) == 1 }, "\(worker.sample(written) ?? -1)")
        #expect(
            worker.sample(
                #"swift_connect_sink_writer_failure_metrics_records_failed_total{connector="sf-metrics",task="0",reason="23505"}"#
            ) == 1, "the duplicate key is counted under its SQLSTATE")
        // Connect's families count the same sink: the reported record is a failure, tolerated and skipped (Connect's
        // executeFailed: an error only past the tolerance), both records were put.
        let task = #"{connector="sf-metrics",task="0"}"#
        #expect(worker.sample("kafka_connect_task_error_metrics_total_record_failures" + task) == 1)
        #expect(worker.sample("kafka_connect_task_error_metrics_total_records_skipped" + task) == 1)
        #expect(worker.sample("kafka_connect_sink_task_metrics_sink_record_send_total" + task) == 2)
        #expect(
            worker.sample(#"swift_connect_task_funnel_records_total{connector="sf-metrics",task="0",stage="put"}"#) == 2
        )
        #expect(
            try pg.sql("SELECT id, item FROM orders", database: db).trimmingCharacters(in: .whitespacesAndNewlines)
                == "2|gadget")
    }

    @Test("Elasticsearch sink: a document that does not fit the index's mapping")
    func mappingConflict() throws {
        #expect(FileManager.default.isExecutableFile(atPath: DoctorFaultTests.doctor), "build connect-doctor first")
        let search = OpenSearchServer.shared
        let topic = try Self.topic("es-fault", [#"{"id": 1, "price": "not a number"}"#])
        let (status, _) = try search.call(
            "PUT", "/\(topic)", #"{"mappings": {"properties": {"price": {"type": "integer"}}}}"#)
        #expect(status == 200)
        let worker = try Worker.start()
        defer { worker.runtime.stop() }
        try worker.create(
            "sf-mapping",
            [
                "connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector", "topics": topic,
                "connection.url": search.url, "key.ignore": "true", "schema.ignore": "true",
                "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable": "false",
            ])
        worker.expectTop("CD-ES-002", connector: "sf-mapping")
        #expect(
            worker.sample(
                #"swift_connect_sink_writer_failure_metrics_records_failed_total{connector="sf-mapping",task="0",reason="mapper_parsing_exception"}"#
            ) == 1, "the refused document is counted under Elasticsearch's error type")
    }

    /// FalkorDB answers a syntax error with the code `SyntaxError` (Neo4j with `Neo.ClientError.Statement.SyntaxError`):
    /// the rule also reads the connector's own wording.
    @Test("Neo4j sink: a Cypher statement with a syntax error")
    func cypherSyntax() throws {
        #expect(FileManager.default.isExecutableFile(atPath: DoctorFaultTests.doctor), "build connect-doctor first")
        let graph = FalkorDBServer.shared
        let topic = try Self.topic("neo4j-fault", [#"{"id": 1, "city": "Lyon"}"#])
        let worker = try Worker.start()
        defer { worker.runtime.stop() }
        try worker.create(
            "sf-cypher",
            [
                "connector.class": "streams.kafka.connect.sink.Neo4jSinkConnector", "topics": topic,
                "neo4j.server.uri": "bolt://127.0.0.1:\(graph.boltPort)",
                "neo4j.authentication.type": "NONE",
                "neo4j.topic.cypher.\(topic)": "MERGE (c:City {name: event.city)",
                "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable": "false",
            ])
        worker.expectTop("CD-NEO4J-001", connector: "sf-cypher")
    }
}
