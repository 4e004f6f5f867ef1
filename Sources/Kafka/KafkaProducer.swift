import CRdKafka
import Logging

/// A Kafka producer. Records are identified by a caller-chosen id; their delivery reports come back from `poll`.
///
/// `@unchecked Sendable`: all state lives in librdkafka, whose producer is thread-safe.
public final class KafkaProducer: @unchecked Sendable {
    private let client: RDKafkaClient

    /// Producer properties Connect imposes unless overridden: `acks=all`, idempotence, unbounded delivery time.
    public static let connectDefaults: [String: String] = [
        "acks": "all",
        "enable.idempotence": "true",
        "max.in.flight.requests.per.connection": "5",
        "delivery.timeout.ms": "2147483647",
        "linger.ms": "5",
    ]

    public init(
        config: KafkaClientConfig, logger: Logger = Logger(label: "org.apache.kafka.clients.producer")
    ) throws(KafkaError) {
        client = try RDKafkaClient(role: .producer, config: config, events: RD_KAFKA_EVENT_DR, logger: logger)
    }

    /// Enqueues a record. Throws `.queueFull` when the local queue is full: poll, then retry.
    public func send(
        id: UInt64, topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) throws(KafkaError) {
        let error: OpaquePointer? = topic.withCString { topicPtr in
            withOptionalBuffer(key) { keyPtr, keyLen in
                withOptionalBuffer(value) { valuePtr, valueLen in
                    withHeaderPointers(headers) { headerVUs in
                        var vus: [rd_kafka_vu_t] = []
                        vus.reserveCapacity(6 + headerVUs.count)
                        vus.append(rd_kafka_vu_t(vtype: RD_KAFKA_VTYPE_TOPIC, u: .init(cstr: topicPtr)))
                        vus.append(
                            rd_kafka_vu_t(
                                vtype: RD_KAFKA_VTYPE_PARTITION, u: .init(i32: partition ?? RD_KAFKA_PARTITION_UA)))
                        vus.append(rd_kafka_vu_t(vtype: RD_KAFKA_VTYPE_MSGFLAGS, u: .init(i: RD_KAFKA_MSG_F_COPY)))
                        vus.append(
                            rd_kafka_vu_t(
                                vtype: RD_KAFKA_VTYPE_VALUE, u: .init(mem: .init(ptr: valuePtr, size: valueLen))))
                        vus.append(
                            rd_kafka_vu_t(vtype: RD_KAFKA_VTYPE_KEY, u: .init(mem: .init(ptr: keyPtr, size: keyLen))))
                        vus.append(
                            rd_kafka_vu_t(
                                vtype: RD_KAFKA_VTYPE_OPAQUE,
                                u: .init(ptr: UnsafeMutableRawPointer(bitPattern: UInt(id)))))
                        if let timestamp {
                            vus.append(rd_kafka_vu_t(vtype: RD_KAFKA_VTYPE_TIMESTAMP, u: .init(i64: timestamp)))
                        }
                        vus.append(contentsOf: headerVUs)
                        return rd_kafka_produceva(client.handle, &vus, vus.count)
                    }
                }
            }
        }
        if let error { throw KafkaError(owning: error) }
    }

    /// Serves events for up to `timeoutMs` and returns the delivery reports that arrived.
    public func poll(timeoutMs: Int32 = 0) -> [DeliveryReport] {
        var reports: [DeliveryReport] = []
        var wait = timeoutMs
        while let event = rd_kafka_queue_poll(client.queue, wait) {
            defer { rd_kafka_event_destroy(event) }
            wait = 0
            if client.handleCommonEvent(event) { continue }
            guard rd_kafka_event_type(event) == RD_KAFKA_EVENT_DR else { continue }
            while let msg = rd_kafka_event_message_next(event) {
                let id = UInt64(UInt(bitPattern: msg.pointee._private))
                if msg.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    reports.append(
                        DeliveryReport(id: id, result: .success((msg.pointee.partition, msg.pointee.offset))))
                } else {
                    reports.append(DeliveryReport(id: id, result: .failure(KafkaError(msg.pointee.err))))
                }
            }
        }
        return reports
    }

    /// Records enqueued or in flight, not yet reported.
    public var outstanding: Int { Int(rd_kafka_outq_len(client.handle)) }

    /// Waits until every enqueued record is reported or the timeout passes; returns the reports seen meanwhile.
    public func flush(timeoutMs: Int) -> [DeliveryReport] {
        var reports: [DeliveryReport] = []
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(timeoutMs))
        while outstanding > 0 && ContinuousClock.now < deadline {
            reports += poll(timeoutMs: 50)
        }
        reports += poll(timeoutMs: 0)
        return reports
    }

    public func clusterID(timeoutMs: Int32 = 5000) -> String? { client.clusterID(timeoutMs: timeoutMs) }

    public func describeTopics(
        _ names: [String]? = nil, timeoutMs: Int32 = 5000
    ) throws(KafkaError) -> [KafkaTopicDescription] {
        try client.describeTopics(names, timeoutMs: timeoutMs)
    }

    public var lastStatistics: String? { client.lastStatistics }

    /// The last error the client reported (connection, authentication, TLS), if any.
    public var lastError: String? { client.lastError }

    /// Calls `handler` with each statistics document (every `statistics.interval.ms`), on the thread that polls.
    public func onStatistics(_ handler: @escaping @Sendable (String) -> Void) { client.onStatistics(handler) }
}

private func withOptionalBuffer<R>(_ bytes: [UInt8]?, _ body: (UnsafeMutableRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { buf in body(UnsafeMutableRawPointer(mutating: buf.baseAddress), buf.count) }
}

/// Builds `RD_KAFKA_VTYPE_HEADER` entries whose pointers stay valid for the duration of `body`.
private func withHeaderPointers<R>(_ headers: [KafkaHeader], _ body: ([rd_kafka_vu_t]) -> R) -> R {
    if headers.isEmpty { return body([]) }
    // Flatten names (NUL-terminated) and values into one buffer, then point into it.
    var storage: [UInt8] = []
    var spans: [(name: Int, value: Int?, size: Int)] = []
    for h in headers {
        let nameOffset = storage.count
        storage.append(contentsOf: Array(h.key.utf8))
        storage.append(0)
        if let v = h.value {
            spans.append((nameOffset, storage.count, v.count))
            storage.append(contentsOf: v)
        } else {
            spans.append((nameOffset, nil, 0))
        }
    }
    return storage.withUnsafeBytes { buf in
        let base = buf.baseAddress!
        let vus = spans.map { span in
            rd_kafka_vu_t(
                vtype: RD_KAFKA_VTYPE_HEADER,
                u: .init(
                    header: .init(
                        name: base.advanced(by: span.name).assumingMemoryBound(to: CChar.self),
                        val: span.value.map { base.advanced(by: $0) }, size: span.value == nil ? -1 : span.size)))
        }
        return body(vus)
    }
}
