import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPServer
import Logging
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("GET /metrics on a live worker with a source and a sink on a real broker", .serialized, .timeLimit(.minutes(5)))
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
        let metricsPort = try FreePort.allocate()
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "src", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "max.interval": 10, "iterations": 1000000}}"#,
                #"{"name": "snk", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent("out.txt").path)"}}"#,
            ],
            extra: [
                "metrics.listeners": "http://127.0.0.1:\(metricsPort)",
                "producer.statistics.interval.ms": "500", "consumer.statistics.interval.ms": "500",
            ], in: dir)
        defer { runtime.stop() }
        let restPort = runtime.restServer.boundListeners[0].port
        let producerId = "client_id=\"connector-producer-src-0\""
        let consumerId = "client_id=\"connector-consumer-snk-0\""

        var text = ""
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline {
            text = try await get("http://127.0.0.1:\(restPort)/metrics").1
            // Progress, and a settled assignment (a group rebalance briefly leaves the task with no partitions).
            let sent =
                sample(text, "kafka_connect_sink_task_metrics_sink_record_send_total{connector=\"snk\",task=\"0\"}")
                ?? 0
            let partitions = sample(
                text, "kafka_connect_sink_task_metrics_partition_count{connector=\"snk\",task=\"0\"}")
            let consumed =
                sample(text, "kafka_consumer_consumer_fetch_manager_metrics_records_consumed_total{\(consumerId)}") ?? 0
            // librdkafka's statistics name a partition's lag only once it has fetched from it.
            let partitionLag = sample(
                text,
                "kafka_consumer_consumer_fetch_manager_metrics_records_lag{\(consumerId),topic=\"\(topic)\",partition=\"0\"}"
            )
            if sent > 5 && partitions == 4 && consumed > 5 && partitionLag != nil { break }
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
        // Extensions: activity and source lag.
        #expect(
            (sample(text, "swift_connect_task_time_since_last_poll_seconds{connector=\"src\",task=\"0\"}") ?? 99) < 10)
        #expect(
            (sample(text, "swift_connect_task_time_since_last_put_seconds{connector=\"snk\",task=\"0\"}") ?? 99) < 10)
        #expect(
            (sample(text, "swift_connect_task_time_since_last_ack_seconds{connector=\"src\",task=\"0\"}") ?? 99) < 10)
        let behind = sample(text, "swift_connect_source_task_behind_source_records{connector=\"src\",task=\"0\"}") ?? -1
        #expect(behind > 0 && behind < 1_000_000)
        #expect(!text.contains("swift_connect_source_task_behind_source_records{connector=\"snk\""))
        let sourceLag = sample(text, "swift_connect_source_task_lag_seconds{connector=\"src\",task=\"0\"}") ?? -1
        #expect(sourceLag >= 0 && sourceLag < 10)
        for stage in ["polled", "transformed", "converted", "produced", "acknowledged"] {
            #expect(
                (sample(
                    text, "swift_connect_task_funnel_records_total{connector=\"src\",task=\"0\",stage=\"\(stage)\"}")
                    ?? 0) > 0, "source stage \(stage)")
        }
        for stage in ["consumed", "converted", "transformed", "put"] {
            #expect(
                (sample(
                    text, "swift_connect_task_funnel_records_total{connector=\"snk\",task=\"0\",stage=\"\(stage)\"}")
                    ?? 0) > 0, "sink stage \(stage)")
        }

        // The Kafka clients' metrics, from librdkafka's statistics.
        #expect((sample(text, "kafka_producer_producer_metrics_record_send_total{\(producerId)}") ?? 0) > 5)
        #expect((sample(text, "kafka_producer_producer_metrics_outgoing_byte_rate{\(producerId)}") ?? 0) > 0)
        let latency = sample(text, "kafka_producer_producer_metrics_request_latency_avg{\(producerId)}") ?? -1
        #expect(latency >= 0 && latency < 10_000)
        #expect(
            (sample(text, "kafka_consumer_consumer_fetch_manager_metrics_bytes_consumed_total{\(consumerId)}") ?? 0) > 0
        )
        #expect((sample(text, "kafka_consumer_consumer_metrics_incoming_byte_rate{\(consumerId)}") ?? 0) > 0)
        let partitionLag = sample(
            text,
            "kafka_consumer_consumer_fetch_manager_metrics_records_lag{\(consumerId),topic=\"\(topic)\",partition=\"0\"}"
        )
        #expect(partitionLag != nil && partitionLag! >= 0)
        #expect(
            (sample(text, "kafka_consumer_consumer_fetch_manager_metrics_records_lag_max{\(consumerId)}") ?? -1) >= 0)
        let jolokia = try await get(
            "http://127.0.0.1:\(restPort)/jolokia/read/kafka.producer:type=producer-metrics,client-id=connector-producer-src-0/record-send-total"
        )
        #expect(jolokia.1.contains(#""status":200"#))

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
        #expect(!after.contains(producerId))
    }

    @Test("sink lag in records and seconds falls to 0 when the sink catches up and rises while it is paused")
    func sinkLag() async throws {
        let dir = try ProjectPaths.temporaryDirectory("lag")
        let topic = "lag-\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "first", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "max.interval": 0, "iterations": 200}}"#,
                #"{"name": "lagging", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent("out.txt").path)"}}"#,
            ], in: dir)
        defer { runtime.stop() }
        let url = "http://127.0.0.1:\(runtime.restServer.boundListeners[0].port)/metrics"
        let records = "swift_connect_sink_task_lag_records_max{connector=\"lagging\",task=\"0\"}"
        let seconds = "swift_connect_sink_task_lag_seconds_max{connector=\"lagging\",task=\"0\"}"
        func read(_ prefix: String) async throws -> Double? { sample(try await get(url).1, prefix) }

        // Caught up: every record committed, so both lags read 0, and per-partition series exist.
        var caughtUp = false
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !caughtUp {
            let text = try await get(url).1
            caughtUp =
                sample(text, "kafka_connect_sink_task_metrics_sink_record_send_total{connector=\"lagging\",task=\"0\"}")
                == 200
                && sample(text, records) == 0
            if !caughtUp { try await Task.sleep(for: .milliseconds(300)) }
        }
        #expect(caughtUp)
        #expect(try await read(seconds) == 0)
        #expect(
            try await read("swift_connect_sink_task_lag_verdict{connector=\"lagging\",task=\"0\",verdict=\"OK\"}") == 1)
        #expect(
            try await get(url).1.contains(
                "swift_connect_sink_partition_lag_records{connector=\"lagging\",task=\"0\",topic=\"\(topic)\",partition=\"0\"}"
            ))

        // Paused while the topic keeps growing: the lag grows, in records and in seconds. (Records arrive one per
        // batch here: Tansu reports the log end offset as the last batch's base offset plus one.)
        try runtime.herder.pauseConnector("lagging")
        _ = try runtime.herder.putConnectorConfig(
            "second",
            config: [
                "name": "second", "connector.class": "DatagenConnector", "kafka.topic": topic, "quickstart": "users",
                "max.interval": "100",
            ],
            allowReplace: false, initialState: nil)
        // Wait for the first lag to show (the new source and the lag refresh take a moment), then watch it grow.
        let lagDeadline = Date().addingTimeInterval(30)
        while Date() < lagDeadline, (try await read(records) ?? 0) == 0 {
            try await Task.sleep(for: .milliseconds(300))
        }
        let r1 = try await read(records) ?? 0
        let s1 = try await read(seconds) ?? 0
        try await Task.sleep(for: .seconds(3))
        let r2 = try await read(records) ?? 0
        let s2 = try await read(seconds) ?? 0
        #expect(r1 > 0, "no lag showed while paused")
        #expect(r2 > r1, "records lag did not rise: \(r1) then \(r2)")
        #expect(s2 > s1, "seconds lag did not rise: \(s1) then \(s2)")

        // A paused sink commits nothing and polls nothing while its lag stays above 0: Burrow's STOP, in the metric
        // and in the status (an extension field).
        let stop = "swift_connect_sink_task_lag_verdict{connector=\"lagging\",task=\"0\",verdict=\"STOP\"}"
        let stopDeadline = Date().addingTimeInterval(30)
        while Date() < stopDeadline, try await read(stop) != 1 { try await Task.sleep(for: .milliseconds(500)) }
        #expect(try await read(stop) == 1)
        let status = try await get(
            "http://127.0.0.1:\(runtime.restServer.boundListeners[0].port)/connectors/lagging/status"
        ).1
        #expect(status.contains(#""lag":{"verdict":"STOP""#), "\(status)")
    }
}
