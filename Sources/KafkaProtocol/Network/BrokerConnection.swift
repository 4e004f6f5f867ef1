import Foundation
import Synchronization

/// One connection to one broker: requests framed with an INT32 size, a correlation id each, answered in order.
/// One request is in flight at a time (the group member's calls and its heartbeats take turns), each with a
/// deadline; a connection that failed is closed and not used again.
///
/// `@unchecked Sendable`: `transport` and `nextCorrelationId` are used only while holding `lock`.
public final class BrokerConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var transport: SocketTransport?
    private var nextCorrelationId: Int32 = 0
    public let host: String
    public let port: Int
    private let clientId: String?

    /// Connects within `timeout`, then secures and authenticates as `security` says (TLS first, then SASL, before any
    /// other request).
    public init(
        host: String, port: Int, clientId: String?, timeout: Duration, security: KafkaSecurity = .plaintext
    ) throws(KafkaProtocolError) {
        self.host = host
        self.port = port
        self.clientId = clientId
        let transport = try SocketTransport(host: host, port: port, timeout: timeout)
        if let tls = security.tls {
            try transport.startTLS(
                host: host, port: port, settings: tls, until: ContinuousClock.now.advanced(by: timeout))
        }
        self.transport = transport
        try SaslAuthenticator.authenticate(self, security, timeout: timeout)
    }

    /// Whether it can still carry requests.
    public var isOpen: Bool { lock.withLock { transport != nil } }

    public func close() { lock.withLock { transport = nil } }

    /// Sends `request` and waits up to `timeout` for its response.
    public func send<R: KafkaRequest>(_ request: R, timeout: Duration) throws(KafkaProtocolError) -> R.Response {
        lock.lock()
        defer { lock.unlock() }
        guard let transport else { throw .network("Connection to broker \(host):\(port) is closed") }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        nextCorrelationId &+= 1
        let id = nextCorrelationId
        do throws(KafkaProtocolError) {
            let frame = request.frame(correlationId: id, clientId: clientId)
            var size = ByteWriter()
            size.int32(Int32(frame.count))
            try transport.write(size.bytes + frame, until: deadline)
            var header = ByteReader(try transport.read(count: 4, until: deadline))
            let length = try header.int32()
            guard length >= 4, length <= 100 * 1024 * 1024 else {
                throw KafkaProtocolError.malformed("response of \(length) bytes to \(R.name)")
            }
            var body = ByteReader(try transport.read(count: Int(length), until: deadline))
            let correlation = try body.int32()
            guard correlation == id else {
                throw KafkaProtocolError.malformed("response to request \(correlation), expected \(id)")
            }
            return try R.decodeResponse(&body)
        } catch {
            // The stream is out of step once anything failed half-way: never reuse it.
            self.transport = nil
            throw error
        }
    }
}
