import ConnectAPI
import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import JSON
import Logging
import Testing

@Suite("Standalone worker against a real Tansu broker", .serialized, .timeLimit(.minutes(5)))
struct StandalonePipelineTests {
    let broker = TansuBroker.shared

    func workerProperties(_ dir: URL, extra: [String: String] = [:]) -> [String: String] {
        var p = [
            "bootstrap.servers": broker.bootstrapServers,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "true",
            "offset.storage.file.filename": dir.appendingPathComponent("connect.offsets").path,
            "offset.flush.interval.ms": "1000",
            "listeners": "http://127.0.0.1:0",
            "consumer.session.timeout.ms": "6000",
        ]
        for (k, v) in extra { p[k] = v }
        return p
    }

    func write(_ text: String, to url: URL) throws { try text.write(to: url, atomically: true, encoding: .utf8) }

    func orderIDs(inSinkFile path: String) -> [Int] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let r = line.range(of: "orderid=") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
    }

    @Test(
        "datagen orders → topic → FileStreamSink: every record arrives, and the topic holds Connect's JSON envelope byte for byte"
    )
    func datagenToFile() throws {
        let dir = try ProjectPaths.temporaryDirectory("pipeline")
        let topic = "orders-\(UInt32.random(in: 0...UInt32.max))"
        let sinkFile = dir.appendingPathComponent("orders.txt").path
        let datagen = dir.appendingPathComponent("datagen.json")
        try write(
            #"{"name": "datagen-\#(topic)", "config": {"connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "orders", "max.interval": 0, "iterations": 300, "random.seed": 42, "tasks.max": 1}}"#,
            to: datagen)
        let sink = dir.appendingPathComponent("sink.properties")
        try write("name=sink-\(topic)\nconnector.class=FileStreamSink\ntopics=\(topic)\nfile=\(sinkFile)\n", to: sink)

        let runtime = try ConnectStandalone.start(
            workerProperties: nil, connectorFiles: [datagen.path, sink.path], extraProperties: workerProperties(dir),
            logLevel: "WARN", environment: [:], logger: Logger(label: "test"))
        defer { runtime.stop() }

        let complete = ProjectPaths.waitUntil(60) { Set(orderIDs(inSinkFile: sinkFile)).count >= 300 }
        let ids = orderIDs(inSinkFile: sinkFile)
        #expect(complete, "sink file has \(Set(ids).count) of 300 records")
        #expect(Set(ids) == Set(0..<300))

        // The datagen task stops itself after `iterations` with datagen's own failure message.
        let status = try runtime.herder.connectorStatus("datagen-\(topic)")
        #expect(status.connector.state == .running)
        #expect(
            ProjectPaths.waitUntil(10) {
                (try? runtime.herder.connectorStatus("datagen-\(topic)").tasks.first?.status.state) == .failed
            })
        #expect(
            try runtime.herder.connectorStatus("datagen-\(topic)").tasks.first?.status.trace?.contains(
                "ConnectException: Stopping connector: generated the configured 300 number of messages") == true)

        let output = try ProjectPaths.run(
            ProjectPaths.python,
            [ProjectPaths.script("scripts/python/verify_connect_envelope.py"), broker.bootstrapServers, topic, "300"])
        let summary = try JSONParser.parse(output)
        #expect(summary["count"] == 300)
        #expect(summary["mismatches"] == [])
        #expect(summary["keys_ok"] == true)
        #expect(summary["orderids"]?.arrayValue?.compactMap(\.intValue) == (0..<300).map(Int64.init))
        // Fixed seed, fixed bytes: the first order of seed 42 is always this document.
        #expect(
            summary["first"]?.stringValue?.hasSuffix(
                #""payload":{"ordertime":1503456915244,"orderid":0,"itemid":"Item_109","orderunits":1.8766248454893228,"address":{"city":"City_16","state":"State_82","zipcode":64147}}}"#
            ) == true,
            "first record was \(summary["first"]?.stringValue ?? "none")")
    }

    @Test("an unreachable broker stops start-up with an error that names bootstrap.servers")
    func unreachableBroker() throws {
        let dir = try ProjectPaths.temporaryDirectory("unreachable")
        var props = workerProperties(
            dir, extra: ["bootstrap.servers": "127.0.0.1:1", "startup.broker.timeout.ms": "1500"])
        props["consumer.session.timeout.ms"] = nil
        #expect {
            _ = try ConnectStandalone.start(
                workerProperties: nil, connectorFiles: [], extraProperties: props, logLevel: "ERROR", environment: [:],
                logger: Logger(label: "test"))
        } throws: { error in
            let m = (error as? ConnectError)?.message ?? ""
            return m.contains("Failed to connect to and describe Kafka cluster")
                && m.contains("bootstrap.servers=127.0.0.1:1")
        }
    }

    @Test(
        "bad connector files and worker files are rejected with the problem named",
        arguments: [
            (
                "unknown.json", #"{"name": "x", "config": {"connector.class": "com.example.Nope"}}"#,
                "Failed to find any class that implements Connector and which name matches com.example.Nope"
            ),
            (
                "missing.properties", "name=x\nconnector.class=DatagenConnector\nquickstart=orders\n",
                "Missing required configuration \"kafka.topic\" which has no default value."
            ),
            ("broken.json", "{\"name\": ", "is not valid JSON"),
        ])
    func badConnectorFiles(file: String, content: String, message: String) throws {
        let dir = try ProjectPaths.temporaryDirectory("bad")
        let url = dir.appendingPathComponent(file)
        try write(content, to: url)
        #expect {
            _ = try ConnectStandalone.start(
                workerProperties: nil, connectorFiles: [url.path], extraProperties: workerProperties(dir),
                logLevel: "ERROR",
                environment: [:], logger: Logger(label: "test"))
        } throws: { error in
            ConnectError.describe(error).contains(message) || "\(error)".contains(message)
        }
    }

    @Test("a worker properties file that is missing or malformed is named in the error")
    func badWorkerFile() throws {
        #expect {
            _ = try ConnectStandalone.start(
                workerProperties: "/nonexistent/worker.properties", connectorFiles: [], logLevel: nil, environment: [:],
                logger: Logger(label: "test"))
        } throws: { error in
            (error as? ConnectError)?.message.contains("/nonexistent/worker.properties") == true
        }
        let dir = try ProjectPaths.temporaryDirectory("badworker")
        let url = dir.appendingPathComponent("worker.properties")
        try write("bootstrap.servers=x\nkey.converter=a\nvalue.converter=b\nbroken=\\u12", to: url)
        #expect {
            _ = try ConnectStandalone.start(
                workerProperties: url.path, connectorFiles: [], logLevel: nil, environment: [:],
                logger: Logger(label: "test"))
        } throws: { error in
            (error as? ConnectError)?.message.contains("Malformed \\uxxxx encoding in \(url.path) at line 4") == true
        }
    }
}
