/// Heartbeat v3 (key 12): this member is alive in this generation.
public struct HeartbeatRequest: KafkaRequest {
    public static let apiKey: Int16 = 12
    public static let apiVersion: Int16 = 3
    public static let name = "Heartbeat"

    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?

    public init(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String? = nil) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }

    public struct Response: Sendable, Equatable {
        public var throttleTimeMs: Int32
        public var errorCode: KafkaErrorCode
    }

    public func encode(into w: inout ByteWriter) {
        w.string(groupId)
        w.int32(generationId)
        w.string(memberId)
        w.nullableString(groupInstanceId)
    }

    public static func decodeResponse(_ r: inout ByteReader) throws(KafkaProtocolError) -> Response {
        Response(throttleTimeMs: try r.int32(), errorCode: KafkaErrorCode(rawValue: try r.int16()))
    }
}
