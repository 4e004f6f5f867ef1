import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import JSON
import Testing

@Suite("Metrics documents and lifecycle events on a Kafka topic", .serialized, .timeLimit(.minutes(5)))
struct MetricsReporterTests {
    @Test("an independent consumer reads CloudEvents: metrics documents with rates and lag, and every lifecycle change")
    func documentsAndEvents() throws {
        let dir = try ProjectPaths.temporaryDirectory("reporter")
        let suffix = UInt32.random(in: 0...UInt32.max)
        let (topic, metricsTopic) = ("reporter-\(suffix)", "connect-metrics-\(suffix)")
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "rep-src", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "max.interval": 50}}"#,
                #"{"name": "rep-snk", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent("out.txt").path)"}}"#,
                // Datagen keys are plain text: a JSON key converter fails the task at its first record.
                #"{"name": "rep-bad", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent("bad.txt").path)", "key.converter": "org.apache.kafka.connect.json.JsonConverter"}}"#,
            ],
            extra: ["metrics.reporter.topic": metricsTopic, "metrics.reporter.interval.ms": "500"], in: dir)
        var stopped = false
        defer { if !stopped { runtime.stop() } }
        #expect(WorkerFixture.waitForTask(runtime, "rep-bad", "FAILED")?.state == .failed)
        #expect(
            ProjectPaths.waitUntil(30) {
                (try? runtime.herder.connectorStatus("rep-snk").tasks.first?.status.lag?.records) == 0
            })
        try runtime.herder.pauseConnector("rep-snk")
        #expect(WorkerFixture.waitForTask(runtime, "rep-snk", "PAUSED", seconds: 10)?.state == .paused)
        try runtime.herder.resumeConnector("rep-snk")
        #expect(WorkerFixture.waitForTask(runtime, "rep-snk", "RUNNING", seconds: 10)?.state == .running)
        try runtime.herder.restartTask(ConnectorTaskId("rep-snk", 0))
        try runtime.herder.deleteConnector("rep-bad")
        Thread.sleep(forTimeInterval: 1.5)
        runtime.stop()
        stopped = true

        let records = TopicReader.read(metricsTopic, 100_000, waitSeconds: 1)
        let events = records.compactMap { r in r["value"]?.stringValue.flatMap { try? JSONParser.parse($0) } }
        #expect(events.count == records.count, "every record is a JSON document")
        for (record, event) in zip(records, events) {
            #expect(event["specversion"]?.stringValue == "1.0")
            #expect(event["source"]?.stringValue?.hasPrefix("swift-connect://") == true)
            #expect(event["type"]?.stringValue?.hasPrefix("io.swiftconnect.") == true)
            #expect(event["time"]?.stringValue?.hasSuffix("Z") == true)
            #expect(event["datacontenttype"]?.stringValue == "application/json")
            #expect(
                record["headers"]?.arrayValue?.contains(["content-type", "application/cloudevents+json"]) == true)
            if let connector = event["data"]?["connector"]?.stringValue {
                #expect(record["key"]?.stringValue == connector, "events are keyed by connector")
            }
        }
        let ids = events.compactMap { $0["id"]?.stringValue }
        #expect(Set(ids).count == events.count, "event ids are unique")
        func type(_ e: JSONValue) -> String { e["type"]?.stringValue ?? "" }
        func data(_ e: JSONValue, _ key: String) -> String? { e["data"]?[key]?.stringValue }
        func first(_ t: String, _ connector: String? = nil) -> JSONValue? {
            events.first {
                type($0) == "io.swiftconnect." + t && (connector == nil || data($0, "connector") == connector)
            }
        }
        #expect(events.first.map(type) == "io.swiftconnect.worker.started")
        #expect(events.last.map(type) == "io.swiftconnect.worker.stopped")
        for name in ["rep-src", "rep-snk", "rep-bad"] {
            #expect(first("connector.started", name) != nil, "connector.started of \(name)")
            #expect(first("task.started", name)?["subject"]?.stringValue == "connectors/\(name)/tasks/0")
        }
        let failed = first("task.failed", "rep-bad")
        #expect(failed?["data"]?["previous_state"]?.stringValue == "RUNNING")
        #expect(failed?["data"]?["error"]?["stage"]?.stringValue == "KEY_CONVERTER")
        #expect(failed?["data"]?["trace"]?.stringValue?.contains("DataException") == true)
        #expect(first("connector.paused", "rep-snk") != nil)
        #expect(first("task.paused", "rep-snk") != nil)
        #expect(first("task.resumed", "rep-snk")?["data"]?["previous_state"]?.stringValue == "PAUSED")
        #expect(first("task.restarted", "rep-snk")?["data"]?["reason"]?.stringValue == "rest")
        #expect(first("connector.deleted", "rep-bad") != nil)
        #expect(
            first("task.rebalanced", "rep-snk")?["data"]?["assigned"]?.arrayValue?.contains(.string("\(topic)-0"))
                == true,
            "the sink's partition assignment is an event")
        let verdict = first("task.lag.verdict.changed", "rep-snk")
        #expect(verdict?["data"]?["verdict"]?.stringValue == "OK")

        // The metrics documents: the source writes, the sink reads and puts, the failed task shows as FAILED.
        let documents = events.filter { type($0) == "io.swiftconnect.worker.metrics" }
        #expect(documents.count >= 3, "one document per interval and a last one on shutdown")
        func task(_ doc: JSONValue, _ connector: String) -> JSONValue? {
            doc["data"]?["connectors"]?.arrayValue?.first { $0["name"]?.stringValue == connector }?["tasks"]?
                .arrayValue?.first
        }
        let flowing = documents.first { doc in
            (task(doc, "rep-src")?["records_out_per_sec"]?.doubleValue ?? 0) > 0
                && (task(doc, "rep-snk")?["records_in_per_sec"]?.doubleValue ?? 0) > 0
                && (task(doc, "rep-snk")?["records_out_per_sec"]?.doubleValue ?? 0) > 0
        }
        #expect(flowing != nil, "a document shows records flowing in and out")
        if let flowing {
            #expect(task(flowing, "rep-src")?["type"]?.stringValue == "source")
            #expect(task(flowing, "rep-snk")?["type"]?.stringValue == "sink")
            #expect(task(flowing, "rep-snk")?["lag"]?["verdict"] != nil)
            #expect(task(flowing, "rep-snk")?["dlq_records_per_sec"]?.doubleValue == 0)
        }
        let failedDoc = documents.first { task($0, "rep-bad")?["state"]?.stringValue == "FAILED" }
        let errors = failedDoc.flatMap { task($0, "rep-bad")?["errors"]?.arrayValue } ?? []
        #expect(
            errors.contains { $0["stage"]?.stringValue == "KEY_CONVERTER" && ($0["total"]?.doubleValue ?? 0) >= 1 },
            "errors by stage and class in the document of the failed task")
    }
}
