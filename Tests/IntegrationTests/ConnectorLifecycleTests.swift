import ConnectMetrics
import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPServer
import JSON
import Kafka
import Testing

@Suite("A connector's whole life cycle through the REST API on a real broker", .serialized, .timeLimit(.minutes(5)))
struct ConnectorLifecycleTests {
    let broker = TansuBroker.shared

    /// A REST call: status and parsed body.
    func rest(_ port: Int, _ method: String, _ path: String, _ body: String? = nil) throws -> (Int, JSONValue?) {
        let (status, text) = try WorkerREST.call(port, method, path, body: body)
        return (status, text.isEmpty ? nil : try? JSONParser.parse(text))
    }

    func state(_ port: Int, _ name: String) throws -> (String?, [String]) {
        let s = try rest(port, "GET", "/connectors/\(name)/status").1
        return (
            s?["connector"]?["state"]?.stringValue,
            (s?["tasks"]?.arrayValue ?? []).compactMap { $0["state"]?.stringValue }
        )
    }

    func waitFor(_ port: Int, _ name: String, _ connector: String, tasks: [String], seconds: Double = 30) throws -> Bool
    {
        ProjectPaths.waitUntil(seconds) { (try? state(port, name)).map { $0.0 == connector && $0.1 == tasks } ?? false }
    }

    func lines(_ url: URL) -> [String] {
        ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("create, pause, resume, stop, alter and reset offsets, resume, restart with every flag, topics, delete")
    func lifecycle() throws {
        let topic = "lifecycle-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try KafkaAdmin(config: KafkaClientConfig(["bootstrap.servers": broker.bootstrapServers]))
        try admin.createTopics([.init(name: topic, partitions: 1, replicationFactor: 1)])
        let dir = try ProjectPaths.temporaryDirectory("lifecycle")
        let input = dir.appendingPathComponent("in.txt")
        let output = dir.appendingPathComponent("out.txt")
        try "one\ntwo\nthree\nfour\nfive\n".write(to: input, atomically: true, encoding: .utf8)
        let runtime = try WorkerFixture.start(
            [], extra: ["value.converter": "org.apache.kafka.connect.storage.StringConverter"], in: dir)
        defer { runtime.stop() }
        let port = runtime.restServer.boundListeners[0].port

        // Create.
        let (created, info) = try rest(
            port, "POST", "/connectors",
            #"{"name": "src", "config": {"connector.class": "FileStreamSource", "file": "\#(input.path)", "topic": "\#(topic)"}}"#
        )
        #expect(created == 201)
        #expect(info?["type"] == "source")
        #expect(
            try rest(
                port, "POST", "/connectors",
                #"{"name": "snk", "config": {"connector.class": "FileStreamSink", "file": "\#(output.path)", "topics": "\#(topic)"}}"#
            ).0 == 201)
        #expect(try waitFor(port, "snk", "RUNNING", tasks: ["RUNNING"]))
        #expect(ProjectPaths.waitUntil(30) { lines(output).count == 5 })

        // Pause and resume.
        #expect(try rest(port, "PUT", "/connectors/snk/pause").0 == 202)
        #expect(try waitFor(port, "snk", "PAUSED", tasks: ["PAUSED"]))
        #expect(try rest(port, "PUT", "/connectors/snk/resume").0 == 202)
        #expect(try waitFor(port, "snk", "RUNNING", tasks: ["RUNNING"]))

        // Stop, then the sink's offsets are the group's: alter back to 0 and the records come again.
        #expect(try rest(port, "PUT", "/connectors/snk/stop").0 == 204)
        #expect(try waitFor(port, "snk", "STOPPED", tasks: []))
        #expect(
            try rest(port, "GET", "/connectors/snk/offsets").1
                == [
                    "offsets": [
                        [
                            "partition": ["kafka_partition": 0, "kafka_topic": .string(topic)],
                            "offset": ["kafka_offset": 5],
                        ]
                    ]
                ])
        let (bad, badWhy) = try rest(
            port, "PATCH", "/connectors/snk/offsets",
            #"{"offsets": [{"partition": {"kafka_topic": "\#(topic)"}, "offset": {"kafka_offset": 0}}]}"#)
        #expect(bad == 400)
        #expect(
            badWhy?["message"]
                == "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'"
        )
        let (altered, alteredWhy) = try rest(
            port, "PATCH", "/connectors/snk/offsets",
            #"{"offsets": [{"partition": {"kafka_topic": "\#(topic)", "kafka_partition": 0}, "offset": {"kafka_offset": 2}}]}"#
        )
        #expect(altered == 200)
        #expect(alteredWhy == ["message": "The offsets for this connector have been altered successfully"])
        #expect(
            try rest(port, "GET", "/connectors/snk/offsets").1?["offsets"]?.arrayValue?.first?["offset"]
                == ["kafka_offset": 2])
        #expect(try rest(port, "PUT", "/connectors/snk/resume").0 == 202)
        #expect(try waitFor(port, "snk", "RUNNING", tasks: ["RUNNING"]))
        #expect(ProjectPaths.waitUntil(30) { lines(output).count == 8 })
        #expect(lines(output).suffix(3) == ["three", "four", "five"])

        // The source's offsets are its own maps; moving the position back re-reads the file.
        #expect(
            try rest(
                port, "PATCH", "/connectors/src/offsets",
                #"{"offsets": [{"partition": {"filename": "x"}, "offset": null}]}"#
            ).0 == 400)
        #expect(try rest(port, "PUT", "/connectors/src/stop").0 == 204)
        #expect(try waitFor(port, "src", "STOPPED", tasks: []))
        let sourceOffsets = try rest(port, "GET", "/connectors/src/offsets").1
        #expect(sourceOffsets?["offsets"]?.arrayValue?.first?["partition"] == ["filename": .string(input.path)])
        #expect(sourceOffsets?["offsets"]?.arrayValue?.first?["offset"]?["position"] == 24)
        #expect(
            try rest(
                port, "PATCH", "/connectors/src/offsets",
                #"{"offsets": [{"partition": {"filename": "\#(input.path)"}, "offset": {"position": 14}}]}"#
            ).1 == ["message": "The offsets for this connector have been altered successfully"])
        #expect(try rest(port, "PUT", "/connectors/src/resume").0 == 202)
        #expect(ProjectPaths.waitUntil(30) { lines(output).count == 10 })
        #expect(lines(output).suffix(2) == ["four", "five"])

        // Reset the sink's offsets: the group starts from the beginning again (its offsets are the log start).
        #expect(try rest(port, "PUT", "/connectors/snk/stop").0 == 204)
        #expect(try waitFor(port, "snk", "STOPPED", tasks: []))
        let (reset, resetWhy) = try rest(port, "DELETE", "/connectors/snk/offsets")
        #expect(reset == 200, "\(String(describing: resetWhy))")
        #expect(resetWhy == ["message": "The offsets for this connector have been reset successfully"])
        #expect(
            try rest(port, "GET", "/connectors/snk/offsets").1?["offsets"]?.arrayValue?.first?["offset"]
                == ["kafka_offset": 0])
        #expect(try rest(port, "PUT", "/connectors/snk/resume").0 == 202)
        #expect(ProjectPaths.waitUntil(30) { lines(output).count == 17 })

        // Restart with every flag combination.
        #expect(try rest(port, "POST", "/connectors/src/restart").0 == 204)
        let (all, allBody) = try rest(port, "POST", "/connectors/src/restart?includeTasks=true")
        #expect(all == 202)
        #expect(allBody?["connector"]?["state"] == "RESTARTING")
        #expect(allBody?["tasks"]?.arrayValue?.first?["state"] == "RESTARTING")
        // The plans below report what is FAILED now: the restart above must have ended first.
        #expect(try waitFor(port, "src", "RUNNING", tasks: ["RUNNING"]))
        let (failedOnly, failedOnlyBody) = try rest(port, "POST", "/connectors/src/restart?onlyFailed=true")
        #expect(failedOnly == 202)
        #expect(failedOnlyBody?["connector"]?["state"] != "RESTARTING")
        let (both, bothBody) = try rest(port, "POST", "/connectors/src/restart?includeTasks=true&onlyFailed=true")
        #expect(both == 202)
        #expect(bothBody?["tasks"]?.arrayValue?.allSatisfy { $0["state"] != "RESTARTING" } == true)
        #expect(try waitFor(port, "src", "RUNNING", tasks: ["RUNNING"]))
        #expect(try rest(port, "POST", "/connectors/src/tasks/0/restart").0 == 204)
        #expect(try rest(port, "POST", "/connectors/src/tasks/7/restart").1?["message"] == "Task src-7 not found")

        // Active topics, then delete.
        #expect(try rest(port, "GET", "/connectors/snk/topics").1 == ["snk": ["topics": [.string(topic)]]])
        #expect(try rest(port, "GET", "/connectors/src/topics").1 == ["src": ["topics": [.string(topic)]]])
        #expect(try rest(port, "PUT", "/connectors/snk/topics/reset").0 == 202)
        #expect(try rest(port, "GET", "/connectors/snk/topics").1 == ["snk": ["topics": []]])
        #expect(try rest(port, "DELETE", "/connectors/snk").0 == 204)
        #expect(try rest(port, "GET", "/connectors/snk").1?["message"] == "Connector snk not found")
        #expect(try rest(port, "GET", "/connectors").1 == ["src"])
    }

    @Test("a sink created PAUSED reads nothing, shows lag with the verdict STOP, and delivers it all on resume")
    func createdPaused() throws {
        let topic = "paused-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try KafkaAdmin(config: KafkaClientConfig(["bootstrap.servers": broker.bootstrapServers]))
        try admin.createTopics([.init(name: topic, partitions: 2, replicationFactor: 1)])
        let dir = try ProjectPaths.temporaryDirectory("paused")
        let output = dir.appendingPathComponent("out.txt")
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "gen", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "iterations": 300, "max.interval": 1}}"#
            ], in: dir)
        defer { runtime.stop() }
        let port = runtime.restServer.boundListeners[0].port
        #expect(
            try rest(
                port, "POST", "/connectors",
                #"{"name": "idle", "config": {"connector.class": "FileStreamSink", "file": "\#(output.path)", "topics": "\#(topic)"}, "initial_state": "PAUSED"}"#
            ).0 == 201)
        // Its partitions arrive while it is paused: they stay paused, so nothing is read, let alone put.
        var lag: JSONValue?
        #expect(
            ProjectPaths.waitUntil(40) {
                lag = (try? rest(port, "GET", "/connectors/idle/status").1)?["tasks"]?.arrayValue?.first?["lag"]
                // Tansu's ListOffsets understates the log end of an idle topic: more than 0 is what can be asked.
                return (lag?["records"]?.intValue ?? 0) > 0 && lag?["verdict"]?.stringValue == "STOP"
            }, "lag \(String(describing: lag))")
        let read = PrometheusExposition.render(runtime.metrics, process: nil).split(separator: "\n").first {
            $0.hasPrefix(#"kafka_connect_sink_task_metrics_sink_record_read_total{connector="idle""#)
        }
        #expect(read?.hasSuffix(" 0") == true, "\(String(describing: read))")
        #expect(lines(output).isEmpty)
        #expect(try rest(port, "PUT", "/connectors/idle/resume").0 == 202)
        #expect(ProjectPaths.waitUntil(30) { lines(output).count == 300 })
    }

    @Test("kafka-connect-py, a client library written for Apache Kafka Connect, drives a life cycle unmodified")
    func clientLibrary() throws {
        let topic = "pyclient-\(UInt32.random(in: 0...UInt32.max))"
        let dir = try ProjectPaths.temporaryDirectory("pyclient")
        let runtime = try WorkerFixture.start([], in: dir)
        defer { runtime.stop() }
        let port = runtime.restServer.boundListeners[0].port
        let out = try ProjectPaths.run(
            ProjectPaths.python,
            [
                ProjectPaths.script("scripts/python/connect_client_lifecycle.py"), "http://127.0.0.1:\(port)", topic,
                dir.appendingPathComponent("sink.txt").path,
            ])
        let r = try JSONParser.parse(out.split(separator: "\n").last.map(String.init) ?? "")
        #expect(r["info"]?["version"] != nil)
        #expect(r["plugins"]?.arrayValue?.contains("org.apache.kafka.connect.file.FileStreamSinkConnector") == true)
        #expect(r["validate_errors"] == 0)
        #expect(r["created"] == "py-source")
        #expect(r["running"] == "RUNNING")
        #expect(r["listed"] == ["py-sink", "py-source"])
        #expect(r["paused"] == "PAUSED")
        #expect(r["resumed"] == "RUNNING")
        #expect(r["restart_states"] == ["RESTARTING", "RESTARTING"])
        #expect(r["task_status"] != nil)
        #expect(r["topics"] == ["py-sink": ["topics": [.string(topic)]]])
        #expect(r["topics_after_reset"] == ["py-sink": ["topics": []]])
        #expect(r["updated_interval"] == "50")
        #expect(r["stopped"] == "STOPPED")
        #expect(r["after_delete"] == [])
    }
}
