import ConnectMetrics
import Foundation
import Testing

@testable import ConnectRuntime

@Suite("Kafka client metrics from librdkafka statistics")
struct ClientMetricsTests {
    let clock = ManualClock()

    func document(rxmsgs: Int, partitions: [(Int, Int)]) -> String {
        let ps = partitions.map { #""\#($0.0)": {"partition": \#($0.0), "consumer_lag_stored": \#($0.1)}"# }
        return #"""
            {"ts": 1, "tx": 10, "rx": 10, "tx_bytes": 100, "rx_bytes": 1000, "rxmsgs": \#(rxmsgs), "rxmsg_bytes": 0,
             "brokers": {"b/1": {"nodeid": 1, "rtt": {"avg": 3000, "max": 7000, "cnt": 2}}},
             "topics": {"t": {"partitions": {\#(ps.joined(separator: ","))}}}}
            """#
    }

    func value(_ registry: MetricsRegistry, _ group: String, _ attribute: String, partition: String? = nil) -> Double? {
        registry.allGroups.first { g in
            g.name == group && (partition == nil ? g.tags.count == 1 : g.tags.last?.value == partition)
        }?.all.first { $0.attribute == attribute }.map { PrometheusExposition.valueOf($0.source) }
    }

    @Test("rates come from counter growth over the metrics window, totals and latencies from the latest document")
    func ratesAndTotals() {
        let registry = MetricsRegistry(config: MetricConfig(windowMs: 30_000, samples: 2), clock: clock)
        let metrics = ClientMetrics(registry: registry, clientId: "c", role: .consumer)
        let fetch = ConnectMetricsCatalog.fetchManagerGroup
        #expect(value(registry, fetch, "records-consumed-total")!.isNaN)
        metrics.update(document(rxmsgs: 100, partitions: [(0, 7)]))
        clock.advance(5_000)
        metrics.update(document(rxmsgs: 400, partitions: [(0, 3)]))
        #expect(value(registry, fetch, "records-consumed-total") == 400)
        // 400 records over 5 s, padded with (samples - 1) × 30 s while the window is young, as Kafka's Rate does.
        #expect(abs(value(registry, fetch, "records-consumed-rate")! - 400.0 / 35) < 1e-9)
        #expect(value(registry, fetch, "fetch-latency-avg") == 3)
        #expect(value(registry, fetch, "fetch-latency-max") == 7)
        #expect(value(registry, fetch, "records-lag-max") == 7)
        #expect(value(registry, fetch, "records-lag", partition: "0") == 3)
        #expect(value(registry, ConnectMetricsCatalog.consumerGroup, "incoming-byte-rate") == 1000.0 / 35)
    }

    @Test("the consumer coordinator group counts rebalances from the statistics' cgrp object")
    func coordinator() {
        let registry = MetricsRegistry(clock: clock)
        let metrics = ClientMetrics(registry: registry, clientId: "c", role: .consumer)
        let group = ConnectMetricsCatalog.coordinatorGroup
        #expect(value(registry, group, "rebalance-total")!.isNaN, "unknown before the first document")
        metrics.update(document(rxmsgs: 1, partitions: [(0, 1)]))
        #expect(value(registry, group, "rebalance-total")!.isNaN, "a document without a group says nothing")
        let withGroup = document(rxmsgs: 1, partitions: [(0, 1)]).replacingOccurrences(
            of: #""ts": 1,"#,
            with: #""ts": 1, "cgrp": {"rebalance_cnt": 3, "rebalance_age": 4500, "assignment_size": 2},"#)
        metrics.update(withGroup)
        #expect(value(registry, group, "rebalance-total") == 3)
        #expect(value(registry, group, "last-rebalance-seconds-ago") == 4.5)
        #expect(value(registry, group, "assigned-partitions") == 2)
        #expect(registry.allGroups.first { $0.name == group }?.objectName == "kafka.consumer:type=\(group),client-id=c")
    }

    @Test("partition groups follow the assignment and every group goes on close")
    func partitionGroups() {
        let registry = MetricsRegistry(clock: clock)
        let metrics = ClientMetrics(registry: registry, clientId: "c", role: .consumer)
        metrics.update(document(rxmsgs: 1, partitions: [(0, 1), (1, 2)]))
        #expect(value(registry, ConnectMetricsCatalog.fetchManagerGroup, "records-lag", partition: "1") == 2)
        metrics.update(document(rxmsgs: 1, partitions: [(0, 1)]))
        #expect(value(registry, ConnectMetricsCatalog.fetchManagerGroup, "records-lag", partition: "1") == nil)
        metrics.close()
        #expect(registry.allGroups.isEmpty)
    }

    @Test("a producer's groups carry the producer names under kafka.producer")
    func producer() {
        let registry = MetricsRegistry(clock: clock)
        _ = ClientMetrics(registry: registry, clientId: "connector-producer-a-0", role: .producer)
        let names = registry.allGroups.map(\.objectName)
        #expect(names == ["kafka.producer:type=producer-metrics,client-id=connector-producer-a-0"])
        let text = PrometheusExposition.render(registry, process: nil)
        #expect(text.contains("# TYPE kafka_producer_producer_metrics_record_send_total counter"))
        #expect(
            text.contains(
                "kafka_producer_producer_metrics_request_latency_avg{client_id=\"connector-producer-a-0\"} NaN"))
    }
}
