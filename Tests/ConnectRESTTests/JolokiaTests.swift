import ConnectMetrics
import ConnectREST
import HTTPServer
import JSON
import Testing

@Suite("Jolokia-style MBean reads over the metrics registry")
struct JolokiaTests {
    let server: ConnectRestServer

    init() {
        let registry = MetricsRegistry()
        registry.group(ConnectMetricsCatalog.workerGroup).add("connector-count", .gauge { 2 })
        for (c, t) in [("sink-a", "0"), ("sink-a", "1"), ("src", "0")] {
            let g = registry.group(ConnectMetricsCatalog.taskGroup, tags: [("connector", c), ("task", t)])
            g.add("status", .text { "running" })
            g.add("batch-size-avg", .gauge { 10 })
            g.add("offset-commit-avg-time-ms", .gauge { .nan })
        }
        let debezium = registry.group(
            "connector-metrics", tags: [("context", "snapshot"), ("server", "asgard")], pluginDomain: "debezium.mysql")
        debezium.add("SnapshotCompleted", .flag { true })
        debezium.add("RowsScanned", .table { [("demo.ORDERS", 3)] })
        debezium.add("LastEvent", .text { "op=r" })
        server = ConnectRestServer(herder: FakeHerder(), metrics: registry)
    }

    @Test("a plug-in's MBean (Debezium's) reads under its own domain, booleans and maps as JSON")
    func pluginMBean() throws {
        let r = try get("/jolokia/read/debezium.mysql:type=connector-metrics,context=snapshot,server=asgard")
        #expect(r["status"] == 200)
        #expect(r["value"] == ["SnapshotCompleted": true, "RowsScanned": ["demo.ORDERS": 3], "LastEvent": "op=r"])
        let search = try get("/jolokia/search/debezium.*:*")
        #expect(search["value"] == ["debezium.mysql:type=connector-metrics,context=snapshot,server=asgard"])
    }

    func get(_ path: String) throws -> JSONValue {
        try JSONParser.parse(server.handle(HTTPRequest(method: "GET", path: path)).body)
    }

    @Test("reading one MBean returns its attributes in Jolokia's envelope; NaN reads as null")
    func readOne() throws {
        let r = try get("/jolokia/read/kafka.connect:type=connector-task-metrics,connector=sink-a,task=0")
        #expect(r["status"] == 200)
        #expect(
            r["request"] == [
                "mbean": "kafka.connect:type=connector-task-metrics,connector=sink-a,task=0", "type": "read",
            ])
        #expect(r["value"] == ["status": "running", "batch-size-avg": 10, "offset-commit-avg-time-ms": .null])
        #expect(r["timestamp"]?.intValue != nil)
    }

    @Test("one attribute of one MBean is a scalar; property order does not matter")
    func readAttribute() throws {
        let r = try get(
            "/jolokia/read/kafka.connect:task=1,connector=sink-a,type=connector-task-metrics/batch-size-avg")
        #expect(r["value"] == 10)
    }

    @Test("wildcards in values and a trailing * match several MBeans, keyed by ObjectName")
    func patterns() throws {
        let r = try get("/jolokia/read/kafka.connect:type=connector-task-metrics,connector=sink-*,*/status")
        #expect(
            r["value"]?.objectValue?.keys == [
                "kafka.connect:type=connector-task-metrics,connector=sink-a,task=0",
                "kafka.connect:type=connector-task-metrics,connector=sink-a,task=1",
            ])
        #expect(
            r["value"]?["kafka.connect:type=connector-task-metrics,connector=sink-a,task=1"]?["status"] == "running")
        let search = try get("/jolokia/search/kafka.connect:type=*,*")
        #expect(search["value"]?.arrayValue?.count == 4)
        #expect(search["value"]?.arrayValue?.contains("kafka.connect:type=connect-worker-metrics") == true)
    }

    @Test("an unknown MBean is Jolokia's InstanceNotFoundException with status 404")
    func notFound() throws {
        let r = try get("/jolokia/read/kafka.connect:type=connector-task-metrics,connector=nope,task=0")
        #expect(r["status"] == 404)
        #expect(r["error_type"] == "javax.management.InstanceNotFoundException")
    }

    @Test("list describes every MBean's attributes")
    func list() throws {
        let r = try get("/jolokia/list")
        let beans = r["value"]?["kafka.connect"]?.objectValue
        #expect(beans?.count == 4)
        #expect(
            beans?["type=connector-task-metrics,connector=src,task=0"]?["attr"]?["status"]?["type"]
                == "java.lang.String")
    }
}
