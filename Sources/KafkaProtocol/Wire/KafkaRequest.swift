/// A request this client sends, at one fixed version: its API key, how its body is written and how its response
/// is read. Non-flexible versions only (request header v1, response header v0), which every broker since Kafka
/// 2.3 accepts for the group APIs (`MSG/*.json`).
public protocol KafkaRequest: Sendable {
    associatedtype Response: Sendable
    static var apiKey: Int16 { get }
    static var apiVersion: Int16 { get }
    /// What logs and errors call it (`JoinGroup`).
    static var name: String { get }
    func encode(into w: inout ByteWriter)
    static func decodeResponse(_ r: inout ByteReader) throws(KafkaProtocolError) -> Response
}

extension KafkaRequest {
    /// The whole request as sent, without the size prefix: header v1 (api key, version, correlation id, client id),
    /// then the body.
    public func frame(correlationId: Int32, clientId: String?) -> [UInt8] {
        var w = ByteWriter()
        w.int16(Self.apiKey)
        w.int16(Self.apiVersion)
        w.int32(correlationId)
        w.nullableString(clientId)
        encode(into: &w)
        return w.bytes
    }
}
