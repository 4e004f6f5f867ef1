import ConnectAPI
import ConnectTestKit
import Foundation
import KafkaProtocol
import Synchronization
import Testing

@testable import ConnectNeo4j

@Suite("PackStream and the Neo4j sink's configuration")
struct Neo4jSinkUnitTests {
    @Test("PackStream: every size of integer, string, list and map reads back as written")
    func packStreamRoundTrip() throws {
        let values: [PackValue] = [
            .null, .bool(true), .bool(false), .int(0), .int(-16), .int(-17), .int(127), .int(128), .int(-129),
            .int(40000), .int(-3_000_000_000), .int(Int64.max), .float(1.5), .string(""), .string("é"),
            .string(String(repeating: "x", count: 300)), .string(String(repeating: "y", count: 70000)),
            .bytes([1, 2, 3]), .list((0..<20).map { .int($0) }),
            .map((0..<17).map { ("k\($0)", .int(Int64($0))) }),
            .structure(tag: 0x4E, fields: [.int(1), .list([.string("Customer")]), .map([("id", .int(7))])]),
        ]
        for v in values {
            var w = PackStreamWriter()
            w.write(v)
            var r = PackStreamReader(w.bytes)
            #expect(try r.read() == v)
        }
        var w = PackStreamWriter()
        w.write(.int(-17))
        #expect(w.bytes == [0xC8, 0xEF])
        w = PackStreamWriter()
        w.write(.map([("a", .int(1))]))
        #expect(w.bytes == [0xA1, 0x81, 0x61, 0x01])
    }

    @Test("configuration: both generations' keys; a topic without a statement is refused under topics")
    func config() throws {
        let c = try Neo4jSinkConfig([
            "neo4j.server.uri": "bolt://graph.example:17687", "neo4j.topic.cypher.orders": "MERGE (o {id: event.id})",
            "topics": "orders", "neo4j.authentication.basic.username": "neo4j",
            "neo4j.authentication.basic.password": "s3cret",
        ])
        #expect(c.host == "graph.example" && c.port == 17687 && c.tls == nil)
        #expect(c.auth == .basic(user: "neo4j", password: "s3cret"))
        let new = try Neo4jSinkConfig([
            "neo4j.uri": "neo4j+s://aura.example", "neo4j.cypher.topic.t": "CREATE (x)", "topics": "t",
            "neo4j.authentication.type": "NONE",
        ])
        #expect(new.port == 7687 && new.tls != nil && new.auth == .none && new.cypher == ["t": "CREATE (x)"])
        #expect {
            try Neo4jSinkConfig(["neo4j.server.uri": "bolt://h", "topics": "a,b", "neo4j.topic.cypher.a": "RETURN 1"])
        } throws: { ($0 as? ConnectError)?.configKey == "topics" }
        #expect {
            try Neo4jSinkConfig(["neo4j.server.uri": "http://h:7474", "topics": ""])
        } throws: { ($0 as? ConnectError)?.configKey == "neo4j.server.uri" }
    }

    @Test(
        "neo4j.encryption.enabled: TLS on bolt://, trusting all certificates, the system's CAs or a file; ignored next to +s and +ssc"
    )
    func encryption() throws {
        func config(_ extra: [String: String]) throws -> Neo4jSinkConfig {
            try Neo4jSinkConfig(["neo4j.server.uri": "bolt://h:7687", "topics": ""].merging(extra) { $1 })
        }
        let all = try config(["neo4j.encryption.enabled": "true"])
        #expect(all.tls != nil && all.tls?.verifyCertificate == false)
        let system = try config([
            "neo4j.encryption.enabled": "true",
            "neo4j.encryption.trust.strategy": "TRUST_SYSTEM_CA_SIGNED_CERTIFICATES",
        ])
        #expect(system.tls?.verifyCertificate == true && system.tls?.caFile == nil)
        let custom = try config([
            "neo4j.encryption.enabled": "true",
            "neo4j.encryption.trust.strategy": "TRUST_CUSTOM_CA_SIGNED_CERTIFICATES",
            "neo4j.encryption.ca.certificate.path": "/etc/neo4j/ca.pem",
        ])
        #expect(custom.tls?.caFile == "/etc/neo4j/ca.pem")
        #expect {
            try config([
                "neo4j.encryption.enabled": "true",
                "neo4j.encryption.trust.strategy": "TRUST_CUSTOM_CA_SIGNED_CERTIFICATES",
            ])
        } throws: { ($0 as? ConnectError)?.configKey == "neo4j.encryption.ca.certificate.path" }
        // With a +ssc URI the scheme decides (trust any certificate): the encryption keys are ignored, as Neo4j's
        // connector ignores them there.
        let scheme = try config([
            "neo4j.server.uri": "neo4j+ssc://h", "neo4j.encryption.enabled": "true",
            "neo4j.encryption.trust.strategy": "TRUST_SYSTEM_CA_SIGNED_CERTIFICATES",
        ])
        #expect(scheme.tls?.verifyCertificate == false)
        #expect(try config([:]).tls == nil)
    }

    @Test("records become PackStream maps; the course's class binds the value as event, the 5.x class the message")
    func binding() {
        let schema = SchemaBuilder.struct().field("id", .int32).field("price", LogicalTypes.decimal(scale: 2)).build()
        var s = Struct(schema: schema)
        try? s.put("id", .int32(7))
        try? s.put("price", .decimal(BigDecimal(unscaledValue: 150, scale: 2)))
        #expect(Neo4jSinkTask.pack(.struct(s)) == .map([("id", .int(7)), ("price", .float(1.5))]))
        #expect(
            Neo4jSinkTask.pack(.map([.init(.string("a"), .array([.int64(1), nil]))]))
                == .map([("a", .list([.int(1), .null]))]))
    }

    @Test("only what the statement made of the records goes to the errant record reporter")
    func dataErrors() {
        func error(_ code: String?) -> BoltError { BoltError(code: code, message: "m", isConnectionError: false) }
        #expect(error("Neo.ClientError.Statement.SyntaxError").isDataError)
        #expect(error("Neo.ClientError.Schema.ConstraintValidationFailed").isDataError)
        #expect(error("SyntaxError").isDataError, "FalkorDB's code for a bad statement")
        #expect(!error("Neo.DatabaseError.General.UnknownError").isDataError)
        #expect(!error("Neo.ClientError.Security.Unauthorized").isDataError)
        #expect(!error("Neo.ClientError.Database.DatabaseNotFound").isDataError)
        #expect(!error("Neo.ClientError.Cluster.NotALeader").isDataError)
        #expect(!error("Neo.TransientError.General.DatabaseUnavailable").isDataError)
        #expect(!error("Neo.ClientError.General.ForbiddenOnReadOnlyDatabase").isDataError)
        #expect(!BoltError.connection("reset").isDataError)
    }
}

/// The Neo4j sink against a real FalkorDB over Bolt, checked with the neo4j Python driver.
@Suite("The Neo4j sink against a real Bolt server", .serialized)
struct Neo4jSinkTaskTests {
    static let schema = SchemaBuilder.struct().field("id", .int32).field("name", .string).field("plate", .string)
        .build()

    static func record(
        _ topic: String, _ id: Int32, _ name: String, _ plate: String, offset: Int64
    ) throws -> SinkRecord {
        var s = Struct(schema: schema)
        try s.put("id", .int32(id))
        try s.put("name", .string(name))
        try s.put("plate", .string(plate))
        return SinkRecord(
            topic: topic, kafkaPartition: 0, keySchema: .int32, key: .int32(id), valueSchema: schema, value: .struct(s),
            kafkaOffset: offset)
    }

    static func start(
        _ topic: String, _ cypher: String, connector: Neo4jSinkConnector = Neo4jSinkConnector(),
        extra: [String: String] = [:], context: ReportingContext? = nil
    ) throws -> Neo4jSinkTask {
        let props = [
            "neo4j.server.uri": "bolt://127.0.0.1:\(FalkorDBServer.shared.boltPort)",
            "neo4j.authentication.type": "NONE",
            "topics": topic, "neo4j.topic.cypher.\(topic)": cypher,
        ].merging(extra) { $1 }
        try connector.start(props)
        let task = Neo4jSinkTask()
        task.initialize(context ?? ReportingContext(withReporter: false))
        try task.start(try connector.taskConfigs(maxTasks: 1)[0])
        return task
    }

    @Test("the course's MERGE: customers, vehicles and their relations; a redelivery adds nothing")
    func courseMerge() throws {
        let db = FalkorDBServer.shared
        let label = "C\(UInt32.random(in: 0...UInt32.max))"
        let topic = "orders-\(label)"
        let task = try Self.start(
            topic,
            "MERGE (c:\(label) {id: event.id}) SET c.name = event.name MERGE (v:V\(label) {plate: event.plate}) MERGE (c)-[:OWNS]->(v)"
        )
        defer { try? task.stop() }
        let first = [
            try Self.record(topic, 1, "Ada", "AB-123", offset: 0),
            try Self.record(topic, 2, "Grace", "CD-456", offset: 1),
        ]
        let second = [try Self.record(topic, 1, "Ada L.", "EF-789", offset: 2)]
        try task.put(first)
        try task.put(second)
        // Redelivered after a crash: replaying the same records in order ends in the same graph.
        try task.put(first)
        try task.put(second)
        #expect(try db.cypher("MATCH (c:\(label)) RETURN c.id, c.name ORDER BY c.id") == ["1|Ada L.", "2|Grace"])
        #expect(try db.cypher("MATCH (:\(label))-[r:OWNS]->(:V\(label)) RETURN count(r)") == ["3"])
        #expect(try db.cypher("MATCH (v:V\(label)) RETURN count(v)") == ["3"])
    }

    @Test("the 5.x connector binds __key and __value next to event")
    func newConnectorBindings() throws {
        let label = "K\(UInt32.random(in: 0...UInt32.max))"
        let task = try Self.start(
            "t-\(label)", "MERGE (n:\(label) {key: __key}) SET n.name = __value.name, n.plate = event.plate",
            connector: Neo4jConnector())
        try task.put([try Self.record("t-\(label)", 9, "Edsger", "GH-000", offset: 0)])
        #expect(
            try FalkorDBServer.shared.cypher("MATCH (n:\(label)) RETURN n.key, n.name, n.plate") == ["9|Edsger|GH-000"])
    }

    @Test("a statement the server refuses fails the task, or goes to the reporter; a lost server fails after retries")
    func failures() throws {
        let label = "E\(UInt32.random(in: 0...UInt32.max))"
        let bad = try Self.start("t-\(label)", "MERGE (n:\(label) {id: event.id)")
        #expect {
            try bad.put([try Self.record("t-\(label)", 1, "a", "b", offset: 0)])
        } throws: { error in
            let e = error as? ConnectError
            return e?.isRetriable == false && e?.message == "Error executing the Cypher statement of topic t-\(label)"
        }
        let context = ReportingContext(withReporter: true)
        let reported = try Self.start("t-\(label)", "MERGE (n:\(label) {id: event.id)", context: context)
        try reported.put([try Self.record("t-\(label)", 1, "a", "b", offset: 5)])
        #expect(context.reported.withLock { $0.map(\.offset) } == [5])
        // The server still answers after a failure (RESET), so the next statement works on the same connection.
        let good = try Self.start("t-\(label)", "MERGE (n:\(label) {id: event.id})")
        try good.put([try Self.record("t-\(label)", 1, "a", "b", offset: 6)])
        #expect(try FalkorDBServer.shared.cypher("MATCH (n:\(label)) RETURN count(n)") == ["1"])

        let gone = try Self.start(
            "t-\(label)", "RETURN 1",
            extra: [
                "neo4j.server.uri": "bolt://127.0.0.1:\(try FreePort.allocate())", "neo4j.retry.max.attemps": "1",
                "neo4j.retry.backoff.msecs": "10",
            ])
        #expect {
            try gone.put([try Self.record("t-\(label)", 1, "a", "b", offset: 0)])
        } throws: { ($0 as? ConnectError)?.message.contains("could not be reached after 2 attempts") == true }
    }
}
