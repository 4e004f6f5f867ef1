import CRdKafka
import Logging
import Synchronization

/// Owns one `rd_kafka_t` and the queue its events arrive on. Logs, errors and statistics are delivered as events
/// and handled here when the owner polls; nothing is called back on librdkafka's threads.
///
/// `@unchecked Sendable`: librdkafka handles are thread-safe, and the only mutable Swift state sits in a `Mutex`.
final class RDKafkaClient: @unchecked Sendable {
    enum Role { case producer, consumer }

    let handle: OpaquePointer
    let queue: OpaquePointer
    let logger: Logger
    private let statistics = Mutex<String?>(nil)
    private let latestError = Mutex<String?>(nil)
    private let statisticsHandler = Mutex<(@Sendable (String) -> Void)?>(nil)
    /// Set once the handle was destroyed early (`destroyWithoutConsumerClose`).
    private let destroyed = Atomic<Bool>(false)

    init(role: Role, config: KafkaClientConfig, events: Int32, logger: Logger) throws(KafkaError) {
        var config = config
        config["log.queue"] = "true"
        let conf = try config.makeConf()
        rd_kafka_conf_set_events(conf, events | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_LOG | RD_KAFKA_EVENT_STATS)
        var errstr = [CChar](repeating: 0, count: 512)
        let type = role == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        // rd_kafka_new takes ownership of conf only on success.
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(kind: .config, message: text(ofErrorBuffer: errstr))
        }
        if role == .consumer {
            rd_kafka_poll_set_consumer(rk)
            // librdkafka has a consumer queue only when group.id is set.
            guard let consumerQueue = rd_kafka_queue_get_consumer(rk) else {
                rd_kafka_destroy(rk)
                throw KafkaError(kind: .config, message: "A consumer needs a group.id")
            }
            queue = consumerQueue
        } else {
            queue = rd_kafka_queue_get_main(rk)
        }
        handle = rk
        rd_kafka_set_log_queue(rk, queue)
        self.logger = logger
    }

    deinit {
        guard !destroyed.load(ordering: .acquiring) else { return }
        rd_kafka_queue_destroy(queue)
        rd_kafka_destroy(handle)
    }

    /// Destroys a consumer now without leaving its group (`RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE`): its threads stop
    /// at once, and the broker ends its membership when its session times out. Nothing may use the client after.
    func destroyWithoutConsumerClose() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_queue_destroy(queue)
        rd_kafka_destroy_flags(handle, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
    }

    /// The last error librdkafka reported (`_TRANSPORT: ... Connection refused`, `_AUTHENTICATION: ...`), if any.
    var lastError: String? { latestError.withLock { $0 } }

    /// The most recent `statistics.interval.ms` JSON document, if statistics are enabled.
    var lastStatistics: String? { statistics.withLock { $0 } }

    /// Calls `handler` with each statistics document, on the thread that polls the client.
    func onStatistics(_ handler: @escaping @Sendable (String) -> Void) {
        statisticsHandler.withLock { $0 = handler }
    }

    /// Handles the events every client gets; returns false for events the caller must handle itself.
    func handleCommonEvent(_ event: OpaquePointer) -> Bool {
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_LOG:
            var fac: UnsafePointer<CChar>?
            var str: UnsafePointer<CChar>?
            var level: Int32 = 0
            rd_kafka_event_log(event, &fac, &str, &level)
            let message = "\(fac.map { String(cString: $0) } ?? ""): \(str.map { String(cString: $0) } ?? "")"
            switch level {
            case 0...3: logger.error("\(message)")
            case 4: logger.warning("\(message)")
            case 5, 6: logger.info("\(message)")
            default: logger.debug("\(message)")
            }
            return true
        case RD_KAFKA_EVENT_ERROR:
            let err = rd_kafka_event_error(event)
            let text = String(cString: rd_kafka_event_error_string(event))
            // "All brokers are down" follows the error that says why; keep that one.
            latestError.withLock { last in
                if err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || last == nil {
                    last = "\(String(cString: rd_kafka_err2name(err))): \(text)"
                }
            }
            if rd_kafka_event_error_is_fatal(event) != 0 {
                logger.error("Fatal Kafka client error \(String(cString: rd_kafka_err2name(err))): \(text)")
            } else {
                logger.warning("Kafka client error \(String(cString: rd_kafka_err2name(err))): \(text)")
            }
            return true
        case RD_KAFKA_EVENT_STATS:
            let json = String(cString: rd_kafka_event_stats(event))
            statistics.withLock { $0 = json }
            statisticsHandler.withLock { $0 }?(json)
            return true
        default:
            return false
        }
    }

    /// Handles the events waiting on the queue (logs, errors, statistics) without blocking, for a client that has no
    /// poll loop of its own (an admin client): its queue would otherwise grow for as long as it lives. Events only
    /// a producer or consumer handles are dropped.
    func serveEvents() {
        while let event = rd_kafka_queue_poll(queue, 0) {
            _ = handleCommonEvent(event)
            rd_kafka_event_destroy(event)
        }
    }

    /// The cluster id, or nil when the broker cannot be reached within the timeout.
    func clusterID(timeoutMs: Int32) -> String? {
        guard let id = rd_kafka_clusterid(handle, timeoutMs) else { return nil }
        defer { rd_kafka_mem_free(handle, id) }
        return String(cString: id)
    }

    /// Describes topics (all topics when `names` is nil).
    func describeTopics(_ names: [String]?, timeoutMs: Int32) throws(KafkaError) -> [KafkaTopicDescription] {
        var md: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, names == nil ? 1 : 0, nil, &md, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { throw KafkaError(err, "Metadata request failed") }
        defer { rd_kafka_metadata_destroy(md) }
        var out: [KafkaTopicDescription] = []
        for i in 0..<Int(md.pointee.topic_cnt) {
            let t = md.pointee.topics[i]
            let name = String(cString: t.topic)
            if let names, !names.contains(name) { continue }
            if t.err != RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            out.append(KafkaTopicDescription(name: name, partitions: Int(t.partition_cnt)))
        }
        return out
    }
}
