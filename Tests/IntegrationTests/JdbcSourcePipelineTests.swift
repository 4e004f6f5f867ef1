import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import JSON
import Testing

/// The course's first connector: a JDBC source whose tasks split the tables between them, on the shared Tansu
/// broker, read back with the independent Python client.
@Suite("The JDBC source through a worker", .serialized, .timeLimit(.minutes(5)))
struct JdbcSourcePipelineTests {
    @Test(
        "three MariaDB tables over tasks.max=2: two tasks RUNNING, each table's rows in order on a one-partition topic (KIP-158)"
    )
    func tablesSplitAcrossTasks() throws {
        let m = MariaDBServer.shared
        let db = "jdbcsrc_\(UInt32.random(in: 0...UInt32.max))"
        try m.createDatabase(db)
        _ = try m.sql(
            """
            CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE cities (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE vehicles (id INT AUTO_INCREMENT PRIMARY KEY, plate TEXT NOT NULL);
            INSERT INTO customers (name) VALUES ('Ada'), ('Grace');
            INSERT INTO cities (name) VALUES ('Paris');
            INSERT INTO vehicles (plate) VALUES ('AB-123'), ('CD-456'), ('EF-789');
            """, database: db)
        let prefix = "\(db)-"
        let runtime = try WorkerFixture.start([
            #"""
            {"name": "jdbc-source-\#(db)", "config": {"connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
             "connection.url": "jdbc:mariadb://127.0.0.1:\#(m.port)/\#(db)", "connection.user": "root",
             "mode": "incrementing", "topic.prefix": "\#(prefix)", "poll.interval.ms": "200", "tasks.max": "2",
             "topic.creation.default.partitions": "1", "topic.creation.default.replication.factor": "-1"}}
            """#
        ])
        defer { runtime.stop() }
        let name = "jdbc-source-\(db)"
        #expect(
            ProjectPaths.waitUntil(60) {
                (try? runtime.herder.connectorStatus(name).tasks.map(\.status.state.rawValue)) == [
                    "RUNNING", "RUNNING",
                ]
            })
        #expect(
            try runtime.herder.taskConfigs(name).map { $0.config["tables"] } == [
                "`\(db)`.`cities`,`\(db)`.`customers`", "`\(db)`.`vehicles`",
            ])
        func field(_ records: [JSONValue], _ name: String) -> [String] {
            records.compactMap { r in
                (r["value"]?.stringValue).flatMap { try? JSONParser.parse($0) }?["payload"]?[name]?.stringValue
            }
        }
        #expect(field(TopicReader.read(prefix + "vehicles", 3), "plate") == ["AB-123", "CD-456", "EF-789"])
        _ = try m.sql("INSERT INTO customers (name) VALUES ('Edsger')", database: db)
        #expect(field(TopicReader.read(prefix + "customers", 3), "name") == ["Ada", "Grace", "Edsger"])
    }
}
