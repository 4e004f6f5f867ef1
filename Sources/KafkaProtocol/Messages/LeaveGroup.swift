/// LeaveGroup v3 (key 13): these members leave the group now (a rebalance starts without waiting for their
/// sessions to expire).
public struct LeaveGroupRequest: KafkaRequest {
    public static let apiKey: Int16 = 13
    public static let apiVersion: Int16 = 3
    public static let name = "LeaveGroup"

    public var groupId: String
    public var members: [(memberId: String, groupInstanceId: String?)]

    public init(groupId: String, memberId: String) {
        self.groupId = groupId
        members = [(memberId, nil)]
    }

    public struct Response: Sendable, Equatable {
        public var throttleTimeMs: Int32
        public var errorCode: KafkaErrorCode
        public var memberErrors: [String: KafkaErrorCode]
    }

    public func encode(into w: inout ByteWriter) {
        w.string(groupId)
        w.array(members) { w, m in
            w.string(m.memberId)
            w.nullableString(m.groupInstanceId)
        }
    }

    public static func decodeResponse(_ r: inout ByteReader) throws(KafkaProtocolError) -> Response {
        let throttle = try r.int32()
        let error = KafkaErrorCode(rawValue: try r.int16())
        let members = try r.array { (r: inout ByteReader) throws(KafkaProtocolError) in
            (try r.string(), try r.nullableString(), KafkaErrorCode(rawValue: try r.int16()))
        }
        return Response(
            throttleTimeMs: throttle, errorCode: error,
            memberErrors: Dictionary(members.map { ($0.0, $0.2) }, uniquingKeysWith: { a, _ in a }))
    }
}
