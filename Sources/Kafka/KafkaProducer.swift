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
        // The argument list and the headers' names and values are laid out in temporary buffers (on the stack
        // unless the headers are large); librdkafka copies what it keeps (RD_KAFKA_MSG_F_COPY).
        let fixed = timestamp == nil ? 6 : 7
        let headerBytes = headers.reduce(0) { $0 + $1.key.utf8.count + 1 + ($1.value?.count ?? 0) }
        let error: OpaquePointer? = withUnsafeTemporaryAllocation(
            of: rd_kafka_vu_t.self, capacity: fixed + headers.count
        ) { vus in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(headerBytes, 1)) { storage in
                topic.withCString { topicPtr in
                    withOptionalBuffer(key) { keyPtr, keyLen in
                        withOptionalBuffer(value) { valuePtr, valueLen in
                            vus[0] = rd_kafka_vu_t(vtype: RD_KAFKA_VTYPE_TOPIC, u: .init(cstr: topicPtr))
                            vus[1] = rd_kafka_vu_t(
                                vtype: RD_KAFKA_VTYPE_PARTITION, u: .init(i32: partition ?? RD_KAFKA_PARTITION_UA))
                            vus[2] = rd_kafka_vu_t(vtype: RD_KAFKA_VTYPE_MSGFLAGS, u: .init(i: RD_KAFKA_MSG_F_COPY))
                            vus[3] = rd_kafka_vu_t(
                                vtype: RD_KAFKA_VTYPE_VALUE, u: .init(mem: .init(ptr: valuePtr, size: valueLen)))
                            vus[4] = rd_kafka_vu_t(
                                vtype: RD_KAFKA_VTYPE_KEY, u: .init(mem: .init(ptr: keyPtr, size: keyLen)))
                            vus[5] = rd_kafka_vu_t(
                                vtype: RD_KAFKA_VTYPE_OPAQUE,
                                u: .init(ptr: UnsafeMutableRawPointer(bitPattern: UInt(id))))
                            if let timestamp {
                                vus[6] = rd_kafka_vu_t(vtype: RD_KAFKA_VTYPE_TIMESTAMP, u: .init(i64: timestamp))
                            }
                            layOutHeaders(headers, in: storage, into: vus, from: fixed)
                            return rd_kafka_produceva(client.handle, vus.baseAddress, fixed + headers.count)
                        }
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

/// Writes each header's NUL-terminated name and its value into `storage` and an `RD_KAFKA_VTYPE_HEADER` entry
/// pointing at them into `vus` from index `first` on. `storage` holds at least every name, its NUL and its value.
private func layOutHeaders(
    _ headers: [KafkaHeader], in storage: UnsafeMutableBufferPointer<UInt8>,
    into vus: UnsafeMutableBufferPointer<rd_kafka_vu_t>, from first: Int
) {
    guard let base = storage.baseAddress else { return }
    var at = 0
    for (i, h) in headers.enumerated() {
        let name = base + at
        let copied = h.key.utf8.withContiguousStorageIfAvailable { src in
            if let s = src.baseAddress, !src.isEmpty { (base + at).update(from: s, count: src.count) }
            return src.count
        }
        if let copied {
            at += copied
        } else {
            for byte in h.key.utf8 {
                base[at] = byte
                at += 1
            }
        }
        base[at] = 0
        at += 1
        var val: UnsafeMutableRawPointer?
        var size = -1
        if let v = h.value {
            val = UnsafeMutableRawPointer(base + at)
            size = v.count
            v.withUnsafeBufferPointer { src in
                if let s = src.baseAddress, !src.isEmpty { (base + at).update(from: s, count: src.count) }
            }
            at += v.count
        }
        vus[first + i] = rd_kafka_vu_t(
            vtype: RD_KAFKA_VTYPE_HEADER,
            u: .init(
                header: .init(name: UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self), val: val, size: size)))
    }
}
