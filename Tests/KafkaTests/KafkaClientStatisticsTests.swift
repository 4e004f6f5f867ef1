import Kafka
import Testing

@Suite("librdkafka statistics documents")
struct KafkaClientStatisticsTests {
    /// Shaped like librdkafka's STATISTICS.md example, cut to the fields read.
    static let document = """
        {"name": "c#consumer-1", "client_id": "c", "type": "consumer", "ts": 5000000, "time": 1700000000,
         "tx": 40, "tx_bytes": 4000, "rx": 39, "rx_bytes": 90000, "txmsgs": 0, "txmsg_bytes": 0,
         "rxmsgs": 700, "rxmsg_bytes": 70000,
         "brokers": {
           "127.0.0.1:9092/1": {"nodeid": 1, "rtt": {"min": 100, "max": 9000, "avg": 2000, "cnt": 30},
                                 "int_latency": {"avg": 0, "max": 0, "cnt": 0}},
           "127.0.0.1:9093/2": {"nodeid": 2, "rtt": {"min": 100, "max": 4000, "avg": 4000, "cnt": 10}},
           "GroupCoordinator": {"nodeid": -1, "rtt": {"avg": 999999, "max": 999999, "cnt": 5}}
         },
         "topics": {"orders": {"partitions": {
           "0": {"partition": 0, "hi_offset": 120, "app_offset": 100, "consumer_lag_stored": 20},
           "1": {"partition": 1, "hi_offset": 50, "app_offset": 45, "consumer_lag_stored": -1},
           "2": {"partition": 2, "hi_offset": -1, "app_offset": -1, "consumer_lag_stored": -1},
           "-1": {"partition": -1, "hi_offset": -1}
         }}}}
        """

    @Test("counters, weighted broker latency without internal brokers, and partitions without the internal one")
    func parses() throws {
        let stats = try #require(KafkaClientStatistics(json: Self.document))
        #expect(stats.timestampMicros == 5_000_000)
        #expect(stats.requestsSent == 40 && stats.responsesReceived == 39)
        #expect(stats.bytesSent == 4000 && stats.bytesReceived == 90000)
        #expect(stats.recordsReceived == 700 && stats.recordBytesReceived == 70000)
        let rtt = try #require(stats.latencyMs(\.rtt))
        // (2000 µs × 30 + 4000 µs × 10) / 40 = 2500 µs.
        #expect(rtt.avg == 2.5)
        #expect(rtt.max == 9)
        #expect(stats.latencyMs(\.internalLatency) == nil)
        #expect(stats.partitions.map(\.partition) == [0, 1, 2])
    }

    @Test("records lag is the stored lag, else high watermark minus application offset, else unknown")
    func recordsLag() throws {
        let stats = try #require(KafkaClientStatistics(json: Self.document))
        #expect(stats.partitions.map(\.recordsLag) == [20, 5, nil])
    }

    @Test("a document that is not a JSON object is refused")
    func refusesGarbage() {
        #expect(KafkaClientStatistics(json: "[1,2]") == nil)
        #expect(KafkaClientStatistics(json: "{oops") == nil)
    }
}
