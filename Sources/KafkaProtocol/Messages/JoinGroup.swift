/// JoinGroup v5 (key 11): join (or rejoin) a group with the protocols this member supports, each with its
/// metadata; the response names the generation, the chosen protocol, the leader and, for the leader, every
/// member's metadata.
public struct JoinGroupRequest: KafkaRequest {
    public static let apiKey: Int16 = 11
    public static let apiVersion: Int16 = 5
    public static let name = "JoinGroup"

    public struct GroupProtocolEntry: Sendable, Equatable {
        public var name: String
        public var metadata: [UInt8]
        public init(name: String, metadata: [UInt8]) {
            self.name = name
            self.metadata = metadata
        }
    }

    public var groupId: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    /// Empty on the first join; the broker assigns one (two-step join, `MEMBER_ID_REQUIRED`).
    public var memberId: String
    public var groupInstanceId: String?
    public var protocolType: String
    public var protocols: [GroupProtocolEntry]

    public init(
        groupId: String, sessionTimeoutMs: Int32, rebalanceTimeoutMs: Int32, memberId: String,
        groupInstanceId: String? = nil, protocolType: String, protocols: [GroupProtocolEntry]
    ) {
        self.groupId = groupId
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.protocolType = protocolType
        self.protocols = protocols
    }

    public struct Member: Sendable, Equatable {
        public var memberId: String
        public var groupInstanceId: String?
        public var metadata: [UInt8]

        public init(memberId: String, groupInstanceId: String? = nil, metadata: [UInt8]) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
            self.metadata = metadata
        }
    }

    public struct Response: Sendable, Equatable {
        public var throttleTimeMs: Int32
        public var errorCode: KafkaErrorCode
        public var generationId: Int32
        public var protocolName: String
        public var leader: String
        public var memberId: String
        /// Every member, for the leader; empty for the others.
        public var members: [Member]
    }

    public func encode(into w: inout ByteWriter) {
        w.string(groupId)
        w.int32(sessionTimeoutMs)
        w.int32(rebalanceTimeoutMs)
        w.string(memberId)
        w.nullableString(groupInstanceId)
        w.string(protocolType)
        w.array(protocols) { w, p in
            w.string(p.name)
            w.nullableBytes(p.metadata)
        }
    }

    public static func decodeResponse(_ r: inout ByteReader) throws(KafkaProtocolError) -> Response {
        Response(
            throttleTimeMs: try r.int32(), errorCode: KafkaErrorCode(rawValue: try r.int16()),
            generationId: try r.int32(), protocolName: try r.nullableString() ?? "", leader: try r.string(),
            memberId: try r.string(),
            members: try r.array { (r: inout ByteReader) throws(KafkaProtocolError) in
                Member(
                    memberId: try r.string(), groupInstanceId: try r.nullableString(),
                    metadata: try r.nullableBytes() ?? [])
            })
    }
}
