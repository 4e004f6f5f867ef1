/// FindCoordinator v1 (key 10): the broker that coordinates a group (key type 0).
public struct FindCoordinatorRequest: KafkaRequest {
    public static let apiKey: Int16 = 10
    public static let apiVersion: Int16 = 1
    public static let name = "FindCoordinator"

    public var key: String
    public var keyType: Int8 = 0

    public init(groupId: String) { key = groupId }

    public struct Response: Sendable, Equatable {
        public var throttleTimeMs: Int32
        public var errorCode: KafkaErrorCode
        public var errorMessage: String?
        public var nodeId: Int32
        public var host: String
        public var port: Int32
    }

    public func encode(into w: inout ByteWriter) {
        w.string(key)
        w.int8(keyType)
    }

    public static func decodeResponse(_ r: inout ByteReader) throws(KafkaProtocolError) -> Response {
        Response(
            throttleTimeMs: try r.int32(), errorCode: KafkaErrorCode(rawValue: try r.int16()),
            errorMessage: try r.nullableString(), nodeId: try r.int32(), host: try r.string(), port: try r.int32())
    }
}
