import ConnectAPI
import HTTPClient
import KafkaProtocol

/// How a worker reaches the other workers of its cluster over HTTP (Connect's `RestClient`): REST requests forwarded
/// to the leader or to a connector's worker, and the internal task-configuration requests.
///
/// For `https` URLs the TLS settings are the REST listener's `listeners.https.ssl.*` keys when any is set, else the
/// worker's `ssl.*` keys (one set or the other, as Connect's `RestServerConfig` reads them): the truststore (a PEM
/// file) as the trusted CAs, a PEM keystore as the client certificate a listener with `ssl.client.auth` asks for,
/// `ssl.key.password`, and an empty `ssl.endpoint.identification.algorithm` turning the host name check off.
public enum InterWorkerClient {
    /// `strict` (the worker's own listener is `https`): settings it cannot use are an error naming the key; else
    /// they are ignored (the worker's `ssl.*` keys may be meant for its Kafka clients only).
    public static func configuration(
        _ props: [String: String], timeout: Duration, strict: Bool
    ) throws(ConnectError)
        -> HTTPClientConfiguration
    {
        var configuration = HTTPClientConfiguration()
        configuration.timeout = timeout
        configuration.userAgent = "kafka-connect"
        let listener = props.filter { $0.key.hasPrefix("listeners.https.ssl.") }
        let scoped =
            listener.isEmpty
            ? props.filter { $0.key.hasPrefix("ssl.") }
            : Dictionary(
                uniqueKeysWithValues: listener.map { (String($0.key.dropFirst("listeners.https.".count)), $0.value) })
        let prefix = listener.isEmpty ? "" : "listeners.https."
        guard !scoped.isEmpty else { return configuration }
        let tls: TLSSettings
        do {
            tls = try TLSSettings.from(scoped)
        } catch {
            guard strict else { return configuration }
            throw ConnectError.config(
                "\(error.description) (for requests to other workers\(prefix.isEmpty ? "" : ", \(prefix)ssl.*"))")
        }
        if strict {
            if tls.trustPKCS12 != nil || tls.caPEM != nil {
                throw ConnectError.config(
                    "Invalid value for configuration \(prefix)\(tls.trustSource): requests to other workers need a PEM truststore file (ssl.truststore.type=PEM)"
                )
            }
            if tls.identityPKCS12 != nil || tls.certificatePEM != nil {
                throw ConnectError.config(
                    "Invalid value for configuration \(prefix)\(tls.identitySource): requests to other workers need a PEM keystore file (ssl.keystore.type=PEM)"
                )
            }
        }
        configuration.tls.caFile = tls.caFile
        configuration.tls.certificateFile = tls.certificateFile
        configuration.tls.keyFile = tls.keyFile
        configuration.tls.keyPassword = tls.keyPassword
        configuration.tls.verifyHost = tls.verifyHostname
        configuration.tls.verifyPeer = tls.verifyCertificate
        return configuration
    }
}
