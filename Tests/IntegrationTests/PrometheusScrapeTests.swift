import ConnectMetrics
import ConnectREST
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPServer
import Logging
import Testing

@Suite("A real Prometheus scraping a live worker", .serialized, .timeLimit(.minutes(5)))
struct PrometheusScrapeTests {
    let broker = TansuBroker.shared

    @Test("every Connect family is scraped with its labels and sensible values")
    func scrape() async throws {
        let dir = try ProjectPaths.temporaryDirectory("scrape")
        let topic = "scrape-\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "src", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "pageviews", "max.interval": 20}}"#,
                #"{"name": "snk", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent("out.txt").path)"}}"#,
            ], in: dir)
        defer { runtime.stop() }
        let prometheus = try PrometheusServer(scrapeTargets: ["127.0.0.1:\(runtime.restServer.boundListeners[0].port)"])
        defer { prometheus.stop() }
        try await prometheus.waitUntilReady()

        // Wait until Prometheus has scraped the sink's progress.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let sent =
                (try? await prometheus.query(
                    #"kafka_connect_sink_task_metrics_sink_record_send_total{connector="snk"}"#)) ?? []
            if let v = sent.first?.value, v > 10 { break }
            try await Task.sleep(for: .milliseconds(500))
        }

        // Every numeric family of Connect's groups that a standalone worker has (not the cluster's rebalance and
        // coordinator groups), with the labels of its group.
        let families = ConnectMetricsCatalog.all.filter {
            // Connect's own families; this project's extensions include some that appear only on demand, and the
            // clients' families are checked on the endpoint itself.
            $0.type != .text && $0.group != ConnectMetricsCatalog.rebalanceGroup
                && $0.group != ConnectMetricsCatalog.connectCoordinatorGroup && $0.origin == "connect"
        }
        for def in families {
            let name = PrometheusExposition.name(of: def)
            // The latest sample within a minute, so that one slow scrape on a loaded machine (a stale marker) does
            // not hide a family.
            let result = try await prometheus.query("last_over_time(\(name)[1m])")
            #expect(!result.isEmpty, "\(name) is missing")
            for r in result {
                #expect(r.labels["job"] == "kafka-connect")
                for tag in def.tags { #expect(r.labels[tag] != nil, "\(name) lacks label \(tag)") }
                if def.group == ConnectMetricsCatalog.workerGroup && def.tags.isEmpty {
                    #expect(r.labels["connector"] == "aggregate")
                }
            }
        }
        let written1 =
            try await prometheus.query(
                #"last_over_time(kafka_connect_source_task_metrics_source_record_write_total{connector="src",task="0"}[1m])"#
            ).first?.value ?? 0
        try await Task.sleep(for: .seconds(2.5))
        let written2 =
            try await prometheus.query(
                #"last_over_time(kafka_connect_source_task_metrics_source_record_write_total{connector="src",task="0"}[1m])"#
            ).first?.value ?? 0
        #expect(written2 > written1, "source_record_write_total does not grow")
        let statuses = try await prometheus.query("last_over_time(kafka_connect_connector_metrics_status_info[1m])")
        #expect(Set(statuses.compactMap { $0.labels["status"] }) == ["running"])
        #expect(Set(statuses.compactMap { $0.labels["connector"] }) == ["src", "snk"])
        let taskStatus = try await prometheus.query(
            #"last_over_time(kafka_connect_connector_task_metrics_status_info{status="running"}[1m])"#)
        #expect(taskStatus.count == 2)
        let running = try await prometheus.query(
            #"sum(last_over_time(kafka_connect_connect_worker_metrics_connector_running_task_count[1m]))"#)
        #expect(running.first?.value == 2)
        let ratio = try await prometheus.query(
            #"last_over_time(kafka_connect_connector_task_metrics_offset_commit_success_percentage{connector="snk"}[1m])"#
        )
        #expect((ratio.first?.value ?? -1) >= 0 && (ratio.first?.value ?? 2) <= 1)
        let cpu = try await prometheus.query("last_over_time(process_cpu_seconds_total[1m])")
        #expect((cpu.first?.value ?? 0) > 0)
    }
}
