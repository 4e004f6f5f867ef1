import CRdKafka
import Logging

/// Topic administration over a producer handle (librdkafka's admin API runs on any client). It has no poll loop:
/// each call serves the logs and errors queued meanwhile, so hold an admin client only as long as it is used.
///
/// `@unchecked Sendable`: librdkafka handles are thread-safe and this type holds no other mutable state.
public final class KafkaAdmin: @unchecked Sendable {
    private let client: RDKafkaClient

    public init(
        config: KafkaClientConfig, logger: Logger = Logger(label: "org.apache.kafka.clients.admin")
    ) throws(KafkaError) {
        client = try RDKafkaClient(role: .producer, config: config, events: 0, logger: logger)
    }

    public struct NewTopic: Sendable {
        public var name: String
        /// -1 takes the broker default.
        public var partitions: Int32
        /// -1 takes the broker default.
        public var replicationFactor: Int32
        public var configs: [String: String]

        public init(
            name: String, partitions: Int32 = -1, replicationFactor: Int32 = -1, configs: [String: String] = [:]
        ) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
    }

    /// Creates topics; returns the names that were created (existing ones are skipped, not errors).
    @discardableResult
    public func createTopics(_ topics: [NewTopic], timeoutMs: Int32 = 30000) throws(KafkaError) -> [String] {
        defer { client.serveEvents() }
        guard !topics.isEmpty else { return [] }
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
        for t in topics {
            guard let nt = rd_kafka_NewTopic_new(t.name, t.partitions, t.replicationFactor, &errstr, errstr.count)
            else {
                throw KafkaError(kind: .config, message: "Invalid topic \(t.name): \(text(ofErrorBuffer: errstr))")
            }
            newTopics.append(nt)
            for (k, v) in t.configs.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(nt, k, v)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(err, "Invalid topic config \(k)=\(v) for \(t.name)")
                }
            }
        }
        let queue = rd_kafka_queue_new(client.handle)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
        rd_kafka_CreateTopics(client.handle, &newTopics, newTopics.count, options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 5000) else {
            throw KafkaError(
                kind: .timedOut, message: "Timed out creating topics \(topics.map(\.name))", isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(
                kind: .broker, code: String(cString: rd_kafka_err2name(err)),
                message: String(cString: rd_kafka_event_error_string(event)))
        }
        let result = rd_kafka_event_CreateTopics_result(event)
        var count = 0
        let results = rd_kafka_CreateTopics_result_topics(result, &count)!
        var created: [String] = []
        for i in 0..<count {
            let r = results[i]
            let name = String(cString: rd_kafka_topic_result_name(r))
            let e = rd_kafka_topic_result_error(r)
            if e == RD_KAFKA_RESP_ERR_NO_ERROR {
                created.append(name)
            } else if e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                let msg = rd_kafka_topic_result_error_string(r).map { String(cString: $0) } ?? ""
                throw KafkaError(
                    kind: .broker, code: String(cString: rd_kafka_err2name(e)),
                    message: "Creating topic \(name) failed: \(msg)")
            }
        }
        return created
    }

    public func describeTopics(
        _ names: [String]? = nil, timeoutMs: Int32 = 5000
    ) throws(KafkaError) -> [KafkaTopicDescription] {
        defer { client.serveEvents() }
        return try client.describeTopics(names, timeoutMs: timeoutMs)
    }

    /// A topic's configuration as the broker describes it (`cleanup.policy`, ...); nil when the broker cannot
    /// describe topic configurations (some Kafka-compatible brokers do not implement DescribeConfigs).
    public func describeTopicConfig(_ topic: String, timeoutMs: Int32 = 10000) throws(KafkaError) -> [String: String]? {
        defer { client.serveEvents() }
        var errstr = [CChar](repeating: 0, count: 512)
        var resources: [OpaquePointer?] = [rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)]
        defer { for r in resources { rd_kafka_ConfigResource_destroy(r) } }
        let queue = rd_kafka_queue_new(client.handle)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
        rd_kafka_DescribeConfigs(client.handle, &resources, resources.count, options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 5000) else {
            throw KafkaError(kind: .timedOut, message: "Timed out describing topic \(topic)", isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION { return nil }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(
                kind: .broker, code: String(cString: rd_kafka_err2name(err)),
                message: String(cString: rd_kafka_event_error_string(event)))
        }
        var count = 0
        guard let result = rd_kafka_event_DescribeConfigs_result(event),
            let described = rd_kafka_DescribeConfigs_result_resources(result, &count), count > 0,
            let resource = described[0]
        else { return nil }
        let rerr = rd_kafka_ConfigResource_error(resource)
        if rerr == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION || rerr == RD_KAFKA_RESP_ERR_INVALID_REQUEST { return nil }
        if rerr != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(
                kind: .broker, code: String(cString: rd_kafka_err2name(rerr)),
                message: rd_kafka_ConfigResource_error_string(resource).map { String(cString: $0) } ?? "")
        }
        var entryCount = 0
        guard let entries = rd_kafka_ConfigResource_configs(resource, &entryCount) else { return [:] }
        var out: [String: String] = [:]
        for i in 0..<entryCount {
            guard let e = entries[i], let name = rd_kafka_ConfigEntry_name(e) else { continue }
            out[String(cString: name)] = rd_kafka_ConfigEntry_value(e).map { String(cString: $0) }
        }
        return out
    }

    public func clusterID(timeoutMs: Int32 = 5000) -> String? {
        defer { client.serveEvents() }
        return client.clusterID(timeoutMs: timeoutMs)
    }
}
