import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPServer
import JSON
import Testing

/// Change data capture faults injected for real (private MariaDB and PostgreSQL servers, so nothing another suite
/// uses is touched), each diagnosed by the `connect-doctor` executable from the failed task's trace: its top finding
/// must name the fault's rule.
@Suite("connect-doctor check on injected CDC faults", .serialized, .timeLimit(.minutes(6)))
struct CDCDoctorFaultTests {
    /// A worker with fast offset commits, the doctor's URL and a way to create connectors.
    struct Worker {
        let runtime: Connect
        var url: String { "http://127.0.0.1:\(runtime.restServer.boundListeners[0].port)" }

        static func start() throws -> Worker {
            Worker(runtime: try WorkerFixture.start([], extra: ["offset.flush.interval.ms": "500"]))
        }

        func create(_ name: String, _ config: [String: String]) throws {
            var c = config
            c["name"] = name
            _ = try runtime.herder.putConnectorConfig(name, config: c, allowReplace: false, initialState: nil)
        }

        func delete(_ name: String) throws { try runtime.herder.deleteConnector(name) }

        /// Waits until `connect-doctor check` has `rule` on top, then checks it names the connector.
        func expectTop(
            _ rule: String, connector: String, seconds: Double = 60,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            var last: JSONValue = .null
            _ = ProjectPaths.waitUntil(seconds) {
                last = (try? DoctorFaultTests.check(url))?.report ?? .null
                return DoctorFaultTests.top(last) == rule
            }
            let findings = (last["findings"]?.arrayValue ?? []).map {
                "\($0["rule"]?.stringValue ?? "") \($0["subject"].map(JSONWriter.string) ?? "")"
            }
            #expect(DoctorFaultTests.top(last) == rule, "top finding: \(findings)", sourceLocation: sourceLocation)
            let subject = last["findings"]?.arrayValue?.first?["subject"].map(JSONWriter.string) ?? ""
            #expect(subject.contains(connector), "\(rule) names \(subject)", sourceLocation: sourceLocation)
        }

        /// The value of the `/metrics` sample `series` (name and labels as rendered), nil when there is none.
        func sample(_ series: String) -> Double? {
            let port = runtime.restServer.boundListeners[0].port
            let text = (try? WorkerREST.call(port, "GET", "/metrics").body) ?? ""
            for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
                return Double(line.dropFirst(series.count + 1))
            }
            return nil
        }

        /// Waits until the connector's task is RUNNING.
        func running(_ name: String) -> Bool { WorkerFixture.waitForTask(runtime, name, "RUNNING")?.state == .running }
    }

    static func mysql(
        _ server: MariaDBServer, _ db: String, serverId: Int, _ extra: [String: String] = [:]
    )
        -> [String: String]
    {
        var c = server.connectorProperties()
        c["connector.class"] = "io.debezium.connector.mysql.MySqlConnector"
        c["database.server.id"] = String(serverId)
        c["topic.prefix"] = "dr\(serverId)_\(UInt32.random(in: 0...UInt32.max))"
        c["table.include.list"] = "\(db).t"
        c["include.schema.changes"] = "false"
        for (k, v) in extra { c[k] = v }
        return c
    }

    @Test(
        "MySQL: replica privileges missing, binlog not ROW, a duplicate database.server.id, the binlog purged, the server gone"
    )
    func mysqlFaults() throws {
        #expect(FileManager.default.isExecutableFile(atPath: DoctorFaultTests.doctor), "build connect-doctor first")
        let server = try MariaDBServer()
        defer { server.stop() }
        let db = "shop"
        try server.createDatabase(db)
        try server.sql(
            "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO t VALUES (1, 'a')", database: db)
        let worker = try Worker.start()
        defer { worker.runtime.stop() }

        // A user that may read the tables but not the binlog.
        try server.sql("CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON *.* TO 'reader'@'%'")
        try worker.create(
            "dr-privileges",
            Self.mysql(server, db, serverId: 101, ["database.user": "reader", "database.password": "pw"]))
        worker.expectTop("CD-DBZ-004", connector: "dr-privileges")
        try worker.delete("dr-privileges")

        // binlog_format=STATEMENT: changes would come as SQL text, not rows.
        try server.sql("SET GLOBAL binlog_format = 'STATEMENT'")
        try worker.create("dr-format", Self.mysql(server, db, serverId: 102))
        worker.expectTop("CD-DBZ-004", connector: "dr-format")
        try worker.delete("dr-format")
        try server.sql("SET GLOBAL binlog_format = 'ROW'")

        // Two connectors reading as the same replica: the server drops the first when the second connects.
        try worker.create("dr-dup-a", Self.mysql(server, db, serverId: 103))
        #expect(worker.running("dr-dup-a"))
        try worker.create("dr-dup-b", Self.mysql(server, db, serverId: 103))
        worker.expectTop("CD-DBZ-007", connector: "dr-dup")
        try worker.delete("dr-dup-a")
        try worker.delete("dr-dup-b")

        // The binlog the offsets name is purged while the connector is away.
        let purge = Self.mysql(server, db, serverId: 104)
        try worker.create("dr-purge", purge)
        #expect(worker.running("dr-purge"))
        try server.sql("INSERT INTO t VALUES (2, 'b')", database: db)
        #expect(ProjectPaths.waitUntil(30) { TopicReader.read(purge["topic.prefix"]! + ".\(db).t", 2).count == 2 })
        Thread.sleep(forTimeInterval: 1.5)  // an offset commit after the streamed change
        try worker.runtime.herder.stopConnector("dr-purge")
        try server.sql("FLUSH BINARY LOGS; INSERT INTO t VALUES (3, 'c'); FLUSH BINARY LOGS", database: db)
        let current = try server.sql("SHOW MASTER STATUS").split(separator: "\t").first.map(String.init) ?? ""
        try server.sql("PURGE BINARY LOGS TO '\(current)'")
        try worker.runtime.herder.resumeConnector("dr-purge")
        worker.expectTop("CD-DBZ-001", connector: "dr-purge")
        try worker.delete("dr-purge")

        // The database goes away under a streaming connector: the task stays RUNNING and reconnects.
        let outage = Self.mysql(server, db, serverId: 105)
        try worker.create("dr-outage", outage)
        #expect(worker.running("dr-outage"))
        try server.sql("INSERT INTO t VALUES (4, 'd')", database: db)
        #expect(ProjectPaths.waitUntil(30) { TopicReader.read(outage["topic.prefix"]! + ".\(db).t", 4).count == 4 })
        server.stop()
        worker.expectTop("CD-DBZ-008", connector: "dr-outage")
        #expect(WorkerFixture.waitForTask(worker.runtime, "dr-outage", "RUNNING", seconds: 1)?.state == .running)
    }

    @Test("MySQL: a server without a binlog")
    func binlogOff() throws {
        #expect(FileManager.default.isExecutableFile(atPath: DoctorFaultTests.doctor), "build connect-doctor first")
        let server = try MariaDBServer(binlog: false)
        defer { server.stop() }
        try server.createDatabase("shop")
        try server.sql("CREATE TABLE t (id INT PRIMARY KEY)", database: "shop")
        let worker = try Worker.start()
        defer { worker.runtime.stop() }
        try worker.create("dr-nobinlog", Self.mysql(server, "shop", serverId: 106))
        worker.expectTop("CD-DBZ-004", connector: "dr-nobinlog")
    }

    @Test(
        "PostgreSQL: wal_level not logical, a slot held by another connector, tables missing from the publication, the slot dropped, WAL held by an inactive slot"
    )
    func postgresFaults() throws {
        #expect(FileManager.default.isExecutableFile(atPath: DoctorFaultTests.doctor), "build connect-doctor first")
        let worker = try Worker.start()
        defer { worker.runtime.stop() }
        func config(_ server: PostgresServer, _ db: String, slot: String) -> [String: String] {
            var c = server.connectorProperties(database: db)
            c["connector.class"] = "io.debezium.connector.postgresql.PostgresConnector"
            c["topic.prefix"] = "pg\(UInt32.random(in: 0...UInt32.max))"
            c["slot.name"] = slot
            c["publication.name"] = "pub_\(slot)"
            c["table.include.list"] = "public.t"
            return c
        }

        let replica = try PostgresServer(walLevel: "replica")
        defer { replica.stop() }
        try replica.createDatabase("shop")
        try replica.sql("CREATE TABLE t (id int PRIMARY KEY)", database: "shop")
        try worker.create("dr-wal", config(replica, "shop", slot: "dr_wal"))
        worker.expectTop("CD-DBZ-004", connector: "dr-wal")
        try worker.delete("dr-wal")

        let pg = PostgresServer.shared
        let db = "drslot_\(UInt32.random(in: 0...UInt32.max))"
        try pg.createDatabase(db)
        try pg.sql("CREATE TABLE t (id int PRIMARY KEY)", database: db)
        let slot = "dr_slot_\(UInt32.random(in: 0...UInt32.max))"
        var first = config(pg, db, slot: slot)
        first["slot.drop.on.stop"] = "true"
        try worker.create("dr-slot-a", first)
        #expect(worker.running("dr-slot-a"))
        try worker.create("dr-slot-b", config(pg, db, slot: slot))
        worker.expectTop("CD-DBZ-002", connector: "dr-slot-b")
        try worker.delete("dr-slot-b")
        try worker.delete("dr-slot-a")

        // The rest on a private server: slots and publications made by hand, WAL held back.
        let own = try PostgresServer()
        defer { own.stop() }
        try own.createDatabase("shop")
        try own.sql(
            "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE u (id int PRIMARY KEY); CREATE PUBLICATION only_t FOR TABLE t",
            database: "shop")

        // A publication made for one of the two captured tables.
        var partial = config(own, "shop", slot: "dr_partial")
        partial["publication.name"] = "only_t"
        partial["publication.autocreate.mode"] = "disabled"
        partial["table.include.list"] = "public.t,public.u"
        partial["slot.drop.on.stop"] = "true"
        try worker.create("dr-publication", partial)
        worker.expectTop("CD-DBZ-010", connector: "dr-publication")
        try worker.delete("dr-publication")

        // The slot dropped while the connector is stopped: a new one starts from then.
        let dropped = config(own, "shop", slot: "dr_dropped")
        try worker.create("dr-dropped", dropped)
        #expect(worker.running("dr-dropped"))
        try own.sql("INSERT INTO t VALUES (1)", database: "shop")
        #expect(ProjectPaths.waitUntil(30) { TopicReader.read(dropped["topic.prefix"]! + ".public.t", 1).count == 1 })
        Thread.sleep(forTimeInterval: 1.5)  // an offset commit after the streamed change
        try worker.runtime.herder.stopConnector("dr-dropped")
        #expect(
            ProjectPaths.waitUntil(30) {
                (try? own.sql(
                    "SELECT pg_drop_replication_slot('dr_dropped') FROM pg_replication_slots WHERE slot_name = 'dr_dropped' AND NOT active",
                    database: "shop")) != nil
                    && (try? own.sql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'dr_dropped'"))?
                        .trimmingCharacters(in: .whitespacesAndNewlines) == "0"
            }, "the stopped connector's slot is dropped")
        try worker.runtime.herder.resumeConnector("dr-dropped")
        worker.expectTop("CD-DBZ-009", connector: "dr-dropped")
        try worker.delete("dr-dropped")

        // A slot nobody reads while the server writes WAL; a running connector on the server sees it.
        try own.sql("SELECT pg_create_logical_replication_slot('abandoned', 'pgoutput')", database: "shop")
        for i in 0..<10 { try own.sql("INSERT INTO u VALUES (\(i + 100)); SELECT pg_switch_wal()", database: "shop") }
        var watcher = config(own, "shop", slot: "dr_watcher")
        watcher["slot.drop.on.stop"] = "true"
        try worker.create("dr-watcher", watcher)
        worker.expectTop("CD-DBZ-011", connector: "dr-watcher")
        try worker.delete("dr-watcher")
    }
}
