import CRdKafka

/// librdkafka's in-process mock Kafka cluster (`rdkafka_mock.h`), for tests: brokers on loopback ports that speak
/// enough of the protocol for producers, group consumers and commits, with faults on demand (request errors,
/// brokers down, slow round trips). Milliseconds to start, no server to install.
///
/// `@unchecked Sendable`: librdkafka's mock cluster API is thread-safe, and this type holds no other state.
public final class KafkaMockCluster: @unchecked Sendable {
    /// The client librdkafka hosts the cluster on; it must outlive the cluster.
    private let host: OpaquePointer
    private let cluster: OpaquePointer

    /// Kafka protocol request types, as the mock's fault injection names them.
    public enum API: Int16, Sendable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9
        case findCoordinator = 10, joinGroup = 11, heartbeat = 12, syncGroup = 14, initProducerId = 22
    }

    /// Broker error codes to inject (Kafka's numbers).
    public enum ErrorCode: Int32, Sendable {
        case notLeaderForPartition = 6, requestTimedOut = 7, networkException = 13, coordinatorNotAvailable = 15
        case notCoordinator = 16, notEnoughReplicas = 19, topicAuthorizationFailed = 29
        case groupAuthorizationFailed = 30, unknownMemberId = 25, rebalanceInProgress = 27
    }

    /// Starts a cluster of `brokers` brokers (ids 1...n).
    public init(brokers: Int32 = 1) throws(KafkaError) {
        let conf = rd_kafka_conf_new()
        var errstr = [CChar](repeating: 0, count: 512)
        // rd_kafka_new takes ownership of conf only on success.
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(kind: .config, message: text(ofErrorBuffer: errstr))
        }
        guard let cluster = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError(kind: .config, message: "librdkafka could not start a mock cluster")
        }
        host = rk
        self.cluster = cluster
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }

    /// `bootstrap.servers` for clients of this cluster.
    public var bootstrapServers: String { String(cString: rd_kafka_mock_cluster_bootstraps(cluster)) }

    public func createTopic(_ name: String, partitions: Int32 = 1, replicationFactor: Int32 = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, replicationFactor)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, "Creating mock topic \(name) failed") }
    }

    /// The next requests of type `api` (to any broker) fail with `errors`, one each, in order.
    public func failNext(_ api: API, with errors: [ErrorCode]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        codes.withUnsafeBufferPointer {
            rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, $0.count, $0.baseAddress)
        }
    }

    /// Takes a broker down (its connections are closed and refused) or brings it back.
    public func setBroker(_ id: Int32, up: Bool) {
        _ = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
    }

    /// Delays every answer of a broker by `milliseconds`.
    public func setRoundTripTime(broker id: Int32, milliseconds: Int32) {
        _ = rd_kafka_mock_broker_set_rtt(cluster, id, milliseconds)
    }
}
