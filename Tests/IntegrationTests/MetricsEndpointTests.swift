import ConnectREST
import ConnectTestKit
import Foundation
import Logging
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("GET /metrics on a live worker with a source and a sink on a real broker", .serialized)
struct MetricsEndpointTests {
    let broker = TansuBroker.shared

    func get(_ url: String) async throws -> (Int, String, String?) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        let http = response as! HTTPURLResponse
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Content-Type"))
    }

    /// The value of the first sample of a series whose line starts with `prefix`.
    func sample(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        }
    }

    @Test("Connect's families with connector and task labels, growing counters, running status, on both listeners")
    func liveMetrics() async throws {
        let dir = try ProjectPaths.temporaryDirectory("metrics")
        let topic = "metrics-\(UInt32.random(in: 0...UInt32.max))"
        let source = dir.appendingPathComponent("source.json")
        try
            #"{"name": "src", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "max.interval": 10}}"#
            .write(to: source, atomically: true, encoding: .utf8)
        let sink = dir.appendingPathComponent("sink.json")
        try
            #"{"name": "snk", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent("out.txt").path)"}}"#
            .write(to: sink, atomically: true, encoding: .utf8)
        let metricsPort = try FreePort.allocate()
        let runtime = try StandaloneRuntime.start(
            workerProperties: nil, connectorFiles: [source.path, sink.path],
            extraProperties: [
                "bootstrap.servers": broker.bootstrapServers,
                "key.converter": "org.apache.kafka.connect.storage.StringConverter",
                "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "offset.storage.file.filename": dir.appendingPathComponent("offsets").path,
                "offset.flush.interval.ms": "500",
                "listeners": "http://127.0.0.1:0", "metrics.listeners": "http://127.0.0.1:\(metricsPort)",
                "consumer.session.timeout.ms": "6000",
            ], logLevel: "WARN", environment: [:], logger: Logger(label: "test"))
        defer { runtime.stop() }
        let restPort = runtime.restServer.boundListeners[0].port

        var text = ""
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline {
            text = try await get("http://127.0.0.1:\(restPort)/metrics").1
            if (sample(text, "kafka_connect_sink_task_metrics_sink_record_send_total{connector=\"snk\",task=\"0\"}")
                ?? 0) > 5
            {
                break
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        let (status, _, contentType) = try await get("http://127.0.0.1:\(restPort)/metrics")
        #expect(status == 200)
        #expect(contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(sample(text, "kafka_connect_connect_worker_metrics_connector_count{connector=\"aggregate\"}") == 2)
        #expect(sample(text, "kafka_connect_connect_worker_metrics_task_count{connector=\"aggregate\"}") == 2)
        #expect(
            sample(text, "kafka_connect_connect_worker_metrics_connector_running_task_count{connector=\"src\"}") == 1)
        #expect(
            (sample(text, "kafka_connect_source_task_metrics_source_record_write_total{connector=\"src\",task=\"0\"}")
                ?? 0) > 5)
        #expect(
            (sample(text, "kafka_connect_source_task_metrics_source_record_poll_total{connector=\"src\",task=\"0\"}")
                ?? 0) > 5)
        #expect(
            (sample(text, "kafka_connect_sink_task_metrics_sink_record_read_total{connector=\"snk\",task=\"0\"}") ?? 0)
                > 5)
        #expect(
            (sample(text, "kafka_connect_sink_task_metrics_sink_record_send_total{connector=\"snk\",task=\"0\"}") ?? 0)
                > 5)
        #expect(sample(text, "kafka_connect_sink_task_metrics_partition_count{connector=\"snk\",task=\"0\"}") == 4)
        #expect(text.contains("kafka_connect_connector_metrics_status_info{connector=\"src\",status=\"running\"} 1"))
        #expect(text.contains("kafka_connect_connector_metrics{connector=\"snk\",connector_type=\"sink\"} 1"))
        #expect(
            text.contains(
                "kafka_connect_connector_task_metrics_status_info{connector=\"snk\",task=\"0\",status=\"running\"} 1"))
        #expect(
            (sample(text, "kafka_connect_connector_task_metrics_running_ratio{connector=\"src\",task=\"0\"}") ?? 0)
                > 0.5)
        #expect(text.contains("kafka_connect_task_error_metrics_total_record_failures{connector=\"src\",task=\"0\"} 0"))
        #expect(text.contains("# TYPE process_cpu_seconds_total counter"))

        let catalog = try await get("http://127.0.0.1:\(restPort)/metrics/catalog")
        #expect(catalog.0 == 200)
        #expect(
            catalog.1.contains(
                #""name":"kafka_connect_source_task_metrics_source_record_write_total","type":"counter""#))

        let separate = try await get("http://127.0.0.1:\(metricsPort)/metrics")
        #expect(separate.0 == 200)
        #expect(separate.1.contains("kafka_connect_connect_worker_metrics_connector_count"))
        #expect(try await get("http://127.0.0.1:\(metricsPort)/connectors").0 == 404)

        // Deleting a connector removes its groups.
        try runtime.herder.deleteConnector("src")
        let after = try await get("http://127.0.0.1:\(restPort)/metrics").1
        #expect(!after.contains("connector=\"src\""))
    }
}
