import ConnectREST
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import Testing

@Suite("Metrics pushed to a real Pushgateway", .serialized, .timeLimit(.minutes(5)))
struct MetricsPushTests {
    @Test("lag, error and status families arrive with the job and instance labels, and vanish on a clean shutdown")
    func pushAndDelete() throws {
        let gateway = try PushgatewayServer()
        defer { gateway.stop() }
        #expect(ProjectPaths.waitUntil(20) { gateway.metrics() != nil })
        let dir = try ProjectPaths.temporaryDirectory("push")
        let topic = "push-\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "push-src", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "max.interval": 50}}"#,
                #"{"name": "push-snk", "config": {"connector.class": "FileStreamSink", "topics": "\#(topic)", "file": "\#(dir.appendingPathComponent("out.txt").path)"}}"#,
            ],
            extra: [
                "metrics.push.url": gateway.url, "metrics.push.interval.ms": "500",
                "metrics.push.grouping.labels": "instance=worker-1,env=test",
            ], in: dir)
        let status =
            #"kafka_connect_connector_task_metrics_status_info{connector="push-snk",env="test",instance="worker-1",job="kafka-connect",status="running",task="0"} 1"#
        var text = ""
        let arrived = ProjectPaths.waitUntil(40) {
            text = gateway.metrics() ?? ""
            return text.contains(status) && text.contains("swift_connect_sink_task_lag_records_max{")
        }
        #expect(arrived, "\(text.split(separator: "\n").filter { $0.contains("push-") }.prefix(20))")
        #expect(
            text.contains(
                #"kafka_connect_task_error_metrics_total_record_errors{connector="push-src",env="test",instance="worker-1",job="kafka-connect",task="0"} 0"#
            ))
        #expect(
            text.contains(
                #"swift_connect_sink_task_lag_verdict{connector="push-snk",env="test",instance="worker-1",job="kafka-connect",task="0",verdict="OK"}"#
            ))
        // Only the default families: no per-record throughput counters.
        #expect(!text.contains("kafka_connect_source_task_metrics_source_record_poll_total{connector=\"push-src\""))
        runtime.stop()
        #expect(
            ProjectPaths.waitUntil(10) { !(gateway.metrics() ?? "x").contains("instance=\"worker-1\"") },
            "the worker's group is still on the gateway after a clean shutdown")
    }
}
