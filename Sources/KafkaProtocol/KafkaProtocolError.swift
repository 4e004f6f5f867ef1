/// What went wrong talking Kafka's protocol: a broker's error code (Kafka's numbers and names,
/// `clients/.../protocol/Errors.java`), bytes that do not parse, or the connection.
public enum KafkaProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broker answered with an error code.
    case broker(KafkaErrorCode, message: String?)
    case malformed(String)
    /// The connection failed or was closed; `retriable` when trying again (another broker, later) may help.
    case network(String)
    case timeout(String)
    /// A setting or an input the client cannot use.
    case config(String)

    public var description: String {
        switch self {
        case .broker(let code, let message): "\(code)\(message.map { ": \($0)" } ?? "")"
        case .malformed(let m): "Malformed Kafka response: \(m)"
        case .network(let m): m
        case .timeout(let m): m
        case .config(let m): m
        }
    }
}

/// Kafka's error codes, by number, with their protocol names.
public struct KafkaErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let none = KafkaErrorCode(rawValue: 0)
    public static let coordinatorLoadInProgress = KafkaErrorCode(rawValue: 14)
    public static let coordinatorNotAvailable = KafkaErrorCode(rawValue: 15)
    public static let notCoordinator = KafkaErrorCode(rawValue: 16)
    public static let illegalGeneration = KafkaErrorCode(rawValue: 22)
    public static let inconsistentGroupProtocol = KafkaErrorCode(rawValue: 23)
    public static let invalidGroupId = KafkaErrorCode(rawValue: 24)
    public static let unknownMemberId = KafkaErrorCode(rawValue: 25)
    public static let invalidSessionTimeout = KafkaErrorCode(rawValue: 26)
    public static let rebalanceInProgress = KafkaErrorCode(rawValue: 27)
    public static let groupAuthorizationFailed = KafkaErrorCode(rawValue: 30)
    public static let unsupportedSaslMechanism = KafkaErrorCode(rawValue: 33)
    public static let illegalSaslState = KafkaErrorCode(rawValue: 34)
    public static let unsupportedVersion = KafkaErrorCode(rawValue: 35)
    public static let saslAuthenticationFailed = KafkaErrorCode(rawValue: 58)
    public static let memberIdRequired = KafkaErrorCode(rawValue: 79)
    public static let groupMaxSizeReached = KafkaErrorCode(rawValue: 81)

    static let names: [Int16: String] = [
        0: "NONE", 14: "COORDINATOR_LOAD_IN_PROGRESS", 15: "COORDINATOR_NOT_AVAILABLE", 16: "NOT_COORDINATOR",
        22: "ILLEGAL_GENERATION", 23: "INCONSISTENT_GROUP_PROTOCOL", 24: "INVALID_GROUP_ID",
        25: "UNKNOWN_MEMBER_ID", 26: "INVALID_SESSION_TIMEOUT", 27: "REBALANCE_IN_PROGRESS",
        30: "GROUP_AUTHORIZATION_FAILED", 33: "UNSUPPORTED_SASL_MECHANISM", 34: "ILLEGAL_SASL_STATE",
        35: "UNSUPPORTED_VERSION", 58: "SASL_AUTHENTICATION_FAILED", 79: "MEMBER_ID_REQUIRED",
        81: "GROUP_MAX_SIZE_REACHED",
    ]

    /// `NOT_COORDINATOR` (16), or the number alone for codes this client does not name.
    public var description: String { Self.names[rawValue].map { "\($0) (\(rawValue))" } ?? "error \(rawValue)" }
}
