import ConnectMetrics
import Foundation
import Logging
import Testing

@testable import ConnectRuntime

@Suite("Metrics pusher")
struct MetricsPusherTests {
    @Test("a gateway that is not there is counted as failures, backed off, and never blocks stopping")
    func unreachable() throws {
        let registry = MetricsRegistry()
        var settings = MetricsPusher.Settings(url: "http://127.0.0.1:1")
        settings.intervalMs = 100
        settings.grouping = [("instance", "w 1/a")]
        let pusher = MetricsPusher(settings: settings, registry: registry, logger: Logger(label: "test"))
        #expect(pusher.groupURL?.absoluteString == "http://127.0.0.1:1/metrics/job/kafka-connect/instance/w%201%2Fa")
        pusher.start()
        #expect(waitUntil(10) { pusher.failures.value >= 2 })
        let text = PrometheusExposition.render(registry, process: nil)
        #expect(text.contains(#"swift_connect_metrics_push_failures_total{target="pushgateway"}"#))
        let started = Date()
        pusher.stop()
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(pusher.pushes.value == 0)
    }

    @Test("only the selected families are pushed")
    func families() {
        let registry = MetricsRegistry()
        let g = registry.group(ConnectMetricsCatalog.taskErrorGroup, tags: [("connector", "c"), ("task", "0")])
        g.add("total-record-errors", .gauge { 3 })
        let w = registry.group(ConnectMetricsCatalog.taskGroup, tags: [("connector", "c"), ("task", "0")])
        w.add("batch-size-avg", .gauge { 7 })
        let pusher = MetricsPusher(
            settings: MetricsPusher.Settings(url: "http://127.0.0.1:1"), registry: registry, logger: Logger(label: "t"))
        let body = pusher.body()
        #expect(body.contains("kafka_connect_task_error_metrics_total_record_errors{connector=\"c\",task=\"0\"} 3"))
        #expect(!body.contains("batch_size_avg"))
        #expect(body.hasPrefix("# HELP "))
    }

    func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }
}
