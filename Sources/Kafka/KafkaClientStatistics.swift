import Foundation

/// The parts of a librdkafka statistics document (`statistics.interval.ms`) that map onto the Java clients' metrics:
/// cumulative request, byte and record counters, broker round-trip and queue latencies, and per-partition consumer
/// positions. Field meanings follow librdkafka's STATISTICS.md; a field missing from the document reads 0 (or -1 for
/// offsets, librdkafka's "unknown").
public struct KafkaClientStatistics: Sendable {
    /// A librdkafka window statistic, in microseconds.
    public struct Window: Sendable {
        public var avg: Int64
        public var max: Int64
        public var count: Int64

        public init(avg: Int64, max: Int64, count: Int64) {
            self.avg = avg
            self.max = max
            self.count = count
        }
    }

    public struct Broker: Sendable {
        public var nodeId: Int32
        /// Round-trip time of requests to this broker.
        public var rtt: Window?
        /// Time produced records waited in the client's queue before being sent.
        public var internalLatency: Window?
        /// librdkafka's connection state: `UP` when connected (`INIT`, `DOWN`, `CONNECT`, `AUTH`, ... otherwise).
        public var state: String

        public init(nodeId: Int32, rtt: Window?, internalLatency: Window? = nil, state: String = "UP") {
            self.nodeId = nodeId
            self.rtt = rtt
            self.internalLatency = internalLatency
            self.state = state
        }
    }

    /// Brokers (bootstrap ones included) the client is connected to, as the Java client's `connection-count`.
    public var connectionCount: Int { brokers.filter { $0.state == "UP" }.count }

    public struct Partition: Sendable {
        public var topic: String
        public var partition: Int32
        public var highWatermark: Int64 = -1
        /// Offset of the last record handed to the application, + 1.
        public var appOffset: Int64 = -1
        /// `end − stored offset` (librdkafka's `consumer_lag_stored`); -1 when unknown.
        public var lagStored: Int64 = -1

        public init(
            topic: String, partition: Int32, highWatermark: Int64 = -1, appOffset: Int64 = -1, lagStored: Int64 = -1
        ) {
            self.topic = topic
            self.partition = partition
            self.highWatermark = highWatermark
            self.appOffset = appOffset
            self.lagStored = lagStored
        }
    }

    /// Microseconds of the client's monotonic clock when the document was made.
    public var timestampMicros: Int64 = 0
    /// Microseconds since the client was created (`age`).
    public var ageMicros: Int64 = 0
    /// Requests sent and responses received.
    public var requestsSent: Int64 = 0
    public var responsesReceived: Int64 = 0
    public var bytesSent: Int64 = 0
    public var bytesReceived: Int64 = 0
    /// Records (and their bytes) sent by a producer or received by a consumer.
    public var recordsSent: Int64 = 0
    public var recordBytesSent: Int64 = 0
    public var recordsReceived: Int64 = 0
    public var recordBytesReceived: Int64 = 0
    public var brokers: [Broker] = []
    /// Assigned partitions (librdkafka's internal partition -1 left out).
    public var partitions: [Partition] = []
    /// A consumer's group: rebalances so far, milliseconds since the last one, partitions assigned (nil for producers).
    public var group: (rebalances: Int64, rebalanceAgeMs: Int64, assigned: Int64)?

    public init() {}

    /// Parses a statistics document; nil when it is not a JSON object.
    public init?(json: String) {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else {
            return nil
        }
        func int(_ o: [String: Any], _ key: String, _ otherwise: Int64 = 0) -> Int64 {
            (o[key] as? NSNumber)?.int64Value ?? otherwise
        }
        func window(_ o: [String: Any], _ key: String) -> Window? {
            guard let w = o[key] as? [String: Any] else { return nil }
            return Window(avg: int(w, "avg"), max: int(w, "max"), count: int(w, "cnt"))
        }
        timestampMicros = int(root, "ts")
        ageMicros = int(root, "age")
        requestsSent = int(root, "tx")
        responsesReceived = int(root, "rx")
        bytesSent = int(root, "tx_bytes")
        bytesReceived = int(root, "rx_bytes")
        recordsSent = int(root, "txmsgs")
        recordBytesSent = int(root, "txmsg_bytes")
        recordsReceived = int(root, "rxmsgs")
        recordBytesReceived = int(root, "rxmsg_bytes")
        for case let b as [String: Any] in (root["brokers"] as? [String: Any] ?? [:]).values {
            brokers.append(
                Broker(
                    nodeId: Int32(truncatingIfNeeded: int(b, "nodeid", -1)), rtt: window(b, "rtt"),
                    internalLatency: window(b, "int_latency"), state: b["state"] as? String ?? ""))
        }
        for (name, t) in root["topics"] as? [String: Any] ?? [:] {
            let ps = (t as? [String: Any])?["partitions"] as? [String: Any] ?? [:]
            for case let p as [String: Any] in ps.values {
                let id = Int32(truncatingIfNeeded: int(p, "partition", -1))
                guard id >= 0 else { continue }
                partitions.append(
                    Partition(
                        topic: name, partition: id, highWatermark: int(p, "hi_offset", -1),
                        appOffset: int(p, "app_offset", -1), lagStored: int(p, "consumer_lag_stored", -1)))
            }
        }
        partitions.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        if let g = root["cgrp"] as? [String: Any] {
            group = (int(g, "rebalance_cnt"), int(g, "rebalance_age"), int(g, "assignment_size"))
        }
    }

    /// A window statistic over the brokers that saw requests (averages weighted by count), in milliseconds; nil when
    /// none did.
    public func latencyMs(_ window: (Broker) -> Window?) -> (avg: Double, max: Double)? {
        var weighted = 0.0
        var count: Int64 = 0
        var maxValue: Int64 = 0
        for broker in brokers where broker.nodeId >= 0 {
            guard let w = window(broker), w.count > 0 else { continue }
            weighted += Double(w.avg) * Double(w.count)
            count += w.count
            maxValue = Swift.max(maxValue, w.max)
        }
        guard count > 0 else { return nil }
        return (weighted / Double(count) / 1000, Double(maxValue) / 1000)
    }
}

extension KafkaClientStatistics.Partition {
    /// Records between the high watermark and the consumer's position, as the Java consumer's `records-lag`: the stored
    /// lag (offsets are stored as records reach the application), else `hi_offset − app_offset`; nil when unknown.
    public var recordsLag: Int64? {
        if lagStored >= 0 { return lagStored }
        guard highWatermark >= 0, appOffset >= 0 else { return nil }
        return Swift.max(0, highWatermark - appOffset)
    }
}
