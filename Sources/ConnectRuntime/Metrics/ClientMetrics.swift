import ConnectMetrics
import Kafka
import Synchronization

/// The Java Kafka clients' metrics for one task's producer or consumer (`kafka.producer:type=producer-metrics,
/// client-id=…`, `kafka.consumer:type=consumer-fetch-manager-metrics,client-id=…`, …), fed by the client's librdkafka
/// statistics documents. Rates record the growth of librdkafka's cumulative counters into windowed sensors, so they
/// read per second over the metrics window as Kafka's do; latencies come from librdkafka's broker windows; lags
/// from its partition offsets.
final class ClientMetrics: Sendable {
    enum Role { case producer, consumer }

    /// The latest document, read by the gauges.
    private final class LatestStatistics: Sendable {
        private let mutex = Mutex<KafkaClientStatistics?>(nil)
        var value: KafkaClientStatistics? { mutex.withLock { $0 } }
        /// Stores `new`, returning the one it replaces.
        func swap(_ new: KafkaClientStatistics) -> KafkaClientStatistics? {
            mutex.withLock { old in
                defer { old = new }
                return old
            }
        }
    }

    private let latest: LatestStatistics
    /// Reads the client's last error (set once the client exists).
    private final class ErrorSource: Sendable {
        let read = Mutex<(@Sendable () -> String?)?>(nil)
        var value: String { read.withLock { $0 }?() ?? "" }
    }
    private let lastError = ErrorSource()
    /// Latest lag per assigned partition, and the partition's group.
    private let partitions = Mutex<[String: (group: MetricGroup, lag: Int64)]>([:])

    private let registry: MetricsRegistry
    private let clientId: String
    private let groups: [MetricGroup]
    private let records: Sensor
    private let recordBytes: Sensor
    private let bytesOut: Sensor
    private let bytesIn: Sensor
    private let requests: Sensor
    private let responses: Sensor
    private let lagMax: Sensor

    init(registry: MetricsRegistry, clientId: String, role: Role) {
        self.registry = registry
        self.clientId = clientId
        let tags: [(key: String, value: String)] = [("client-id", clientId)]
        let last = LatestStatistics()
        self.latest = last
        func latest(_ read: @escaping @Sendable (KafkaClientStatistics) -> Double) -> MetricSource {
            .gauge { last.value.map(read) ?? .nan }
        }
        switch role {
        case .producer:
            let producer = registry.group(ConnectMetricsCatalog.producerGroup, tags: tags)
            groups = [producer]
            records = registry.sensor(producer, [("record-send-rate", .rate)])
            producer.add("record-send-total", latest { Double($0.recordsSent) })
            recordBytes = registry.sensor(nil, [])
            (bytesOut, bytesIn, requests, responses) = Self.traffic(registry, producer)
            producer.add("request-latency-avg", latest { $0.latencyMs(\.rtt)?.avg ?? .nan })
            producer.add("request-latency-max", latest { $0.latencyMs(\.rtt)?.max ?? .nan })
            producer.add("record-queue-time-avg", latest { $0.latencyMs(\.internalLatency)?.avg ?? .nan })
            producer.add("record-queue-time-max", latest { $0.latencyMs(\.internalLatency)?.max ?? .nan })
            producer.add("connection-count", latest { Double($0.connectionCount) })
            producer.add("last-error", .text { [lastError] in lastError.value })
            lagMax = registry.sensor(nil, [])
        case .consumer:
            let consumer = registry.group(ConnectMetricsCatalog.consumerGroup, tags: tags)
            let fetch = registry.group(ConnectMetricsCatalog.fetchManagerGroup, tags: tags)
            let coordinator = registry.group(ConnectMetricsCatalog.coordinatorGroup, tags: tags)
            groups = [consumer, fetch, coordinator]
            consumer.add("connection-count", latest { Double($0.connectionCount) })
            consumer.add("last-error", .text { [lastError] in lastError.value })
            consumer.add("client-age-seconds", latest { Double($0.ageMicros) / 1_000_000 })
            coordinator.add("rebalance-total", latest { $0.group.map { Double($0.rebalances) } ?? .nan })
            coordinator.add(
                "last-rebalance-seconds-ago",
                latest { s in s.group.map { $0.rebalances > 0 ? Double($0.rebalanceAgeMs) / 1000 : .nan } ?? .nan })
            coordinator.add("assigned-partitions", latest { $0.group.map { Double($0.assigned) } ?? .nan })
            (bytesOut, bytesIn, requests, responses) = Self.traffic(registry, consumer)
            records = registry.sensor(fetch, [("records-consumed-rate", .rate)])
            fetch.add("records-consumed-total", latest { Double($0.recordsReceived) })
            recordBytes = registry.sensor(fetch, [("bytes-consumed-rate", .rate)])
            fetch.add("bytes-consumed-total", latest { Double($0.recordBytesReceived) })
            fetch.add("fetch-latency-avg", latest { $0.latencyMs(\.rtt)?.avg ?? .nan })
            fetch.add("fetch-latency-max", latest { $0.latencyMs(\.rtt)?.max ?? .nan })
            lagMax = registry.sensor(fetch, [("records-lag-max", .max)])
        }
    }

    private static func traffic(
        _ registry: MetricsRegistry, _ group: MetricGroup
    ) -> (Sensor, Sensor, Sensor, Sensor) {
        (
            registry.sensor(group, [("outgoing-byte-rate", .rate)]),
            registry.sensor(group, [("incoming-byte-rate", .rate)]),
            registry.sensor(group, [("request-rate", .rate)]),
            registry.sensor(group, [("response-rate", .rate)])
        )
    }

    /// Where the `last-error` attribute reads the client's last error from.
    func readLastError(_ read: @escaping @Sendable () -> String?) { lastError.read.withLock { $0 = read } }

    /// Takes in one statistics document.
    func update(_ json: String) {
        guard let stats = KafkaClientStatistics(json: json) else { return }
        let previous = latest.swap(stats)
        let (added, removed) = partitions.withLock { s -> ([(String, MetricGroup)], [MetricGroup]) in
            var added: [(String, MetricGroup)] = []
            var seen = Set<String>()
            for p in stats.partitions {
                guard let lag = p.recordsLag else { continue }
                let key = "\(p.topic)\u{1}\(p.partition)"
                seen.insert(key)
                if s[key] == nil {
                    let g = registry.group(
                        ConnectMetricsCatalog.fetchManagerGroup,
                        tags: [("client-id", clientId), ("topic", p.topic), ("partition", String(p.partition))])
                    s[key] = (g, lag)
                    added.append((key, g))
                } else {
                    s[key]!.lag = lag
                }
            }
            let gone = s.keys.filter { !seen.contains($0) }
            let removed = gone.compactMap { s.removeValue(forKey: $0)?.group }
            return (added, removed)
        }
        for g in removed { registry.remove(g) }
        for (key, g) in added {
            g.add(
                "records-lag",
                .gauge { [weak self] in self?.partitions.withLock { $0[key].map { Double($0.lag) } } ?? .nan })
        }
        if let maxLag = stats.partitions.compactMap(\.recordsLag).max() { lagMax.record(Double(maxLag)) }
        // Counters restart when a client is re-created; a shrinking counter starts a new baseline.
        func grown(_ read: (KafkaClientStatistics) -> Int64) -> Double {
            let now = read(stats)
            guard let previous else { return Double(now) }
            let before = read(previous)
            return Double(now >= before ? now - before : now)
        }
        records.record(grown { $0.recordsSent + $0.recordsReceived })
        recordBytes.record(grown(\.recordBytesReceived))
        bytesOut.record(grown(\.bytesSent))
        bytesIn.record(grown(\.bytesReceived))
        requests.record(grown(\.requestsSent))
        responses.record(grown(\.responsesReceived))
    }

    func close() {
        let partitionGroups = partitions.withLock { s in
            defer { s = [:] }
            return s.values.map(\.group)
        }
        for g in groups + partitionGroups { registry.remove(g) }
    }
}
