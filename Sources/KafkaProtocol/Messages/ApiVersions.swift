/// ApiVersions v0 (key 18): which versions of each API the broker serves.
public struct ApiVersionsRequest: KafkaRequest {
    public static let apiKey: Int16 = 18
    public static let apiVersion: Int16 = 0
    public static let name = "ApiVersions"

    public struct Response: Sendable, Equatable {
        public var errorCode: KafkaErrorCode
        /// API key → supported version range.
        public var versions: [Int16: ClosedRange<Int16>]
    }

    public init() {}

    public func encode(into w: inout ByteWriter) {}

    public static func decodeResponse(_ r: inout ByteReader) throws(KafkaProtocolError) -> Response {
        let error = KafkaErrorCode(rawValue: try r.int16())
        let keys = try r.array { (r: inout ByteReader) throws(KafkaProtocolError) in
            (try r.int16(), try r.int16(), try r.int16())
        }
        var versions: [Int16: ClosedRange<Int16>] = [:]
        for (key, min, max) in keys where min <= max { versions[key] = min...max }
        return Response(errorCode: error, versions: versions)
    }
}
