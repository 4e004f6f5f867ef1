/// SaslHandshake v1 (key 17): the mechanism the client wants; the broker answers with the ones it has.
public struct SaslHandshakeRequest: KafkaRequest {
    public static let apiKey: Int16 = 17
    public static let apiVersion: Int16 = 1
    public static let name = "SaslHandshake"

    public var mechanism: String

    public init(mechanism: String) { self.mechanism = mechanism }

    public struct Response: Sendable, Equatable {
        public var errorCode: KafkaErrorCode
        public var mechanisms: [String]
    }

    public func encode(into w: inout ByteWriter) { w.string(mechanism) }

    public static func decodeResponse(_ r: inout ByteReader) throws(KafkaProtocolError) -> Response {
        let code = KafkaErrorCode(rawValue: try r.int16())
        let mechanisms = try r.array { r throws(KafkaProtocolError) in try r.string() }
        return Response(errorCode: code, mechanisms: mechanisms)
    }
}

/// SaslAuthenticate v1 (key 36): one round of the mechanism's exchange, its bytes as Kafka frames them (KIP-152).
public struct SaslAuthenticateRequest: KafkaRequest {
    public static let apiKey: Int16 = 36
    public static let apiVersion: Int16 = 1
    public static let name = "SaslAuthenticate"

    public var authBytes: [UInt8]

    public init(authBytes: [UInt8]) { self.authBytes = authBytes }

    public struct Response: Sendable, Equatable {
        public var errorCode: KafkaErrorCode
        public var errorMessage: String?
        public var authBytes: [UInt8]
        public var sessionLifetimeMs: Int64
    }

    public func encode(into w: inout ByteWriter) { w.nullableBytes(authBytes) }

    public static func decodeResponse(_ r: inout ByteReader) throws(KafkaProtocolError) -> Response {
        Response(
            errorCode: KafkaErrorCode(rawValue: try r.int16()), errorMessage: try r.nullableString(),
            authBytes: try r.nullableBytes() ?? [], sessionLifetimeMs: try r.int64())
    }
}
