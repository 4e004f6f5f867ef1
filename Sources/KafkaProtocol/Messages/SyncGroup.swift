/// SyncGroup v3 (key 14): the leader hands every member its assignment; every member gets its own back.
public struct SyncGroupRequest: KafkaRequest {
    public static let apiKey: Int16 = 14
    public static let apiVersion: Int16 = 3
    public static let name = "SyncGroup"

    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?
    /// Member id → assignment; empty from followers.
    public var assignments: [(memberId: String, assignment: [UInt8])]

    public init(
        groupId: String, generationId: Int32, memberId: String, groupInstanceId: String? = nil,
        assignments: [(memberId: String, assignment: [UInt8])]
    ) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.assignments = assignments
    }

    public struct Response: Sendable, Equatable {
        public var throttleTimeMs: Int32
        public var errorCode: KafkaErrorCode
        public var assignment: [UInt8]
    }

    public func encode(into w: inout ByteWriter) {
        w.string(groupId)
        w.int32(generationId)
        w.string(memberId)
        w.nullableString(groupInstanceId)
        w.array(assignments) { w, a in
            w.string(a.memberId)
            w.nullableBytes(a.assignment)
        }
    }

    public static func decodeResponse(_ r: inout ByteReader) throws(KafkaProtocolError) -> Response {
        Response(
            throttleTimeMs: try r.int32(), errorCode: KafkaErrorCode(rawValue: try r.int16()),
            assignment: try r.nullableBytes() ?? [])
    }
}
