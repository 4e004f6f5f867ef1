import CRdKafka

/// An error from the Kafka client: librdkafka's code and name, a message, and whether retrying may help.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A client configuration key is unknown or its value invalid.
        case config
        /// A broker or protocol error.
        case broker
        /// The local queue is full; poll and retry.
        case queueFull
        /// An operation did not finish in time.
        case timedOut
        /// The client is unusable (fatal error).
        case fatal
    }

    public let kind: Kind
    /// librdkafka's error name (`_MSG_TIMED_OUT`, `TOPIC_ALREADY_EXISTS`, ...), when there is one.
    public let code: String?
    public let message: String
    public let isRetriable: Bool

    public init(kind: Kind, code: String? = nil, message: String, isRetriable: Bool = false) {
        self.kind = kind
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
    }

    init(_ err: rd_kafka_resp_err_t, _ context: String? = nil) {
        let name = String(cString: rd_kafka_err2name(err))
        let text = String(cString: rd_kafka_err2str(err))
        let kind: Kind =
            switch err {
            case RD_KAFKA_RESP_ERR__QUEUE_FULL: .queueFull
            case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT: .timedOut
            case RD_KAFKA_RESP_ERR__FATAL: .fatal
            default: .broker
            }
        self.init(
            kind: kind, code: name, message: context.map { "\($0): \(text)" } ?? text,
            isRetriable: kind == .queueFull || kind == .timedOut || err == RD_KAFKA_RESP_ERR__TRANSPORT
                || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR
                || err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS
                || err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS
                || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(owning error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        let code = rd_kafka_error_code(error)
        var e = KafkaError(code, nil)
        if let s = rd_kafka_error_string(error) {
            e = KafkaError(
                kind: e.kind, code: e.code, message: String(cString: s),
                isRetriable: rd_kafka_error_is_retriable(error) != 0 || e.isRetriable)
        }
        if rd_kafka_error_is_fatal(error) != 0 {
            e = KafkaError(kind: .fatal, code: e.code, message: e.message)
        }
        self = e
    }

    public var description: String {
        "KafkaException: " + (code.map { "\($0): " } ?? "") + message
    }
}
