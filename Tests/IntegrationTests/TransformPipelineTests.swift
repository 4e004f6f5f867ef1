import ConnectAPI
import ConnectMetrics
import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import JSON
import Logging
import Testing

@Suite("Single message transforms through a real Tansu broker", .serialized, .timeLimit(.minutes(5)))
struct TransformPipelineTests {
    let broker = TansuBroker.shared

    /// Starts a worker with connectors from JSON bodies; returns the runtime.
    func startWorker(_ connectorJSON: String...) throws -> Connect {
        try WorkerFixture.start(connectorJSON)
    }

    /// Records read back by the independent Python client.
    func readTopic(_ topic: String, _ n: Int, waitSeconds: Double = 30) throws -> [JSONValue] {
        TopicReader.read(topic, n, waitSeconds: waitSeconds)
    }

    func payload(_ record: JSONValue) -> JSONValue? {
        record["value"]?.stringValue.flatMap { try? JSONParser.parse($0) }?["payload"]
    }

    @Test("scenario 3 as written: Cast$Value makes orderid a JSON string and orderunits an integer")
    func scenario3() throws {
        let topic = "orders-cast-\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try startWorker(
            #"{"name": "datagen-cast-\#(topic)", "config": {"connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "orders", "max.interval": 0, "iterations": 50, "tasks.max": 1, "transforms": "castValues", "transforms.castValues.type": "org.apache.kafka.connect.transforms.Cast$Value", "transforms.castValues.spec": "orderid:string,orderunits:int32"}}"#
        )
        defer { runtime.stop() }
        let records = try readTopic(topic, 50)
        #expect(records.count == 50)
        for r in records {
            let p = payload(r)
            #expect(p?["orderid"]?.stringValue != nil, "orderid is a string in \(r)")
            if case .int? = p?["orderunits"] {} else { Issue.record("orderunits is not an integer in \(r)") }
            #expect(r["value"]?.stringValue?.contains(#"{"type":"string","optional":false,"field":"orderid"}"#) == true)
            #expect(
                r["value"]?.stringValue?.contains(#"{"type":"int32","optional":false,"field":"orderunits"}"#) == true)
        }
        #expect(Set(records.compactMap { payload($0)?["orderid"]?.stringValue }) == Set((0..<50).map(String.init)))
    }

    @Test("a chain with RegexRouter, Cast, ReplaceField and predicated InsertHeaders (one negated) on a real broker")
    func chainWithPredicates() throws {
        let topic = "orders-chain-\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try startWorker(
            #"{"name": "datagen-chain-\#(topic)", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "orders", "max.interval": 0, "iterations": 20, "transforms": "route,cast,drop,tagAll,tagNone", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter", "transforms.route.regex": "(.*)", "transforms.route.replacement": "renamed-$1", "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value", "transforms.cast.spec": "orderunits:int32", "transforms.drop.type": "org.apache.kafka.connect.transforms.ReplaceField$Value", "transforms.drop.exclude": "ordertime", "transforms.tagAll.type": "org.apache.kafka.connect.transforms.InsertHeader", "transforms.tagAll.header": "tagged", "transforms.tagAll.value.literal": "yes", "transforms.tagAll.predicate": "hasTask", "transforms.tagNone.type": "org.apache.kafka.connect.transforms.InsertHeader", "transforms.tagNone.header": "never", "transforms.tagNone.value.literal": "x", "transforms.tagNone.predicate": "hasTask", "transforms.tagNone.negate": "true", "predicates": "hasTask", "predicates.hasTask.type": "org.apache.kafka.connect.transforms.predicates.HasHeaderKey", "predicates.hasTask.name": "task.id"}}"#
        )
        defer { runtime.stop() }
        let records = try readTopic("renamed-\(topic)", 20)
        #expect(records.count == 20)
        for r in records {
            let p = payload(r)
            #expect(p?["ordertime"] == nil)
            if case .int? = p?["orderunits"] {} else { Issue.record("orderunits is not an integer in \(r)") }
            let headers = r["headers"]?.arrayValue ?? []
            #expect(headers.contains(["tagged", "yes"]))
            #expect(!headers.contains { $0.arrayValue?.first == "never" })
        }
        // Every record was routed away: the original topic stays empty.
        #expect(try readTopic(topic, 1, waitSeconds: 0).isEmpty)
    }

    @Test("sink transforms run before put: ExtractField$Value and a Filter on tombstones reach the file sink")
    func sinkChain() throws {
        let topic = "orders-sinksmt-\(UInt32.random(in: 0...UInt32.max))"
        let out = try ProjectPaths.temporaryDirectory("sinksmt").appendingPathComponent("ids.txt").path
        let runtime = try startWorker(
            #"{"name": "datagen-\#(topic)", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "orders", "max.interval": 0, "iterations": 30}}"#,
            #"{"name": "sink-\#(topic)", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(out)", "transforms": "dropTombstones,extract", "transforms.dropTombstones.type": "org.apache.kafka.connect.transforms.Filter", "transforms.dropTombstones.predicate": "tombstone", "transforms.extract.type": "org.apache.kafka.connect.transforms.ExtractField$Value", "transforms.extract.field": "orderid", "predicates": "tombstone", "predicates.tombstone.type": "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"}}"#
        )
        defer { runtime.stop() }
        func ids() -> [Int] {
            ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0) }
        }
        #expect(ProjectPaths.waitUntil(30) { ids().count >= 30 })
        #expect(ids().sorted() == Array(0..<30))
    }

    @Test("records dropped by a transform are counted by alias, and still committed")
    func droppedCounted() throws {
        let topic = "orders-dropped-\(UInt32.random(in: 0...UInt32.max))"
        let name = "drops-\(topic)"
        let runtime = try startWorker(
            #"{"name": "\#(name)", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "orders", "max.interval": 20, "transforms": "dropAll", "transforms.dropAll.type": "org.apache.kafka.connect.transforms.Filter"}}"#
        )
        defer { runtime.stop() }
        func value(_ prefix: String) -> Double? {
            PrometheusExposition.render(runtime.metrics, process: nil).split(separator: "\n")
                .first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        let dropped =
            "swift_connect_transform_dropped_records_total{connector=\"\(name)\",task=\"0\",transform=\"dropAll\"}"
        func stage(_ s: String) -> String {
            "swift_connect_task_funnel_records_total{connector=\"\(name)\",task=\"0\",stage=\"\(s)\"}"
        }
        #expect(ProjectPaths.waitUntil(30) { (value(dropped) ?? 0) >= 20 && (value(stage("committed")) ?? 0) >= 1 })
        // Read the later stage first: both keep growing while the task runs.
        let droppedSoFar = value(dropped) ?? 0
        #expect((value(stage("polled")) ?? 0) >= droppedSoFar)
        #expect(value(stage("transformed")) == 0)
        #expect(value(stage("produced")) == 0)
    }
}
