import HTTPClient
import KafkaProtocol

/// How a worker reaches the other workers of its cluster over HTTP (Connect's `RestClient`): REST requests forwarded
/// to the leader or to a connector's worker, and the internal task-configuration requests.
///
/// For `https` URLs the TLS settings are the REST listener's `listeners.https.ssl.*` keys, else the worker's
/// `ssl.*` keys, as Connect's `RestServerConfig` reads them: the truststore (PEM file) as the trusted CAs, a PEM
/// keystore as the client certificate a listener with `ssl.client.auth` asks for, `ssl.key.password`, and an empty
/// `ssl.endpoint.identification.algorithm` turning the host name check off. Settings it cannot use (a PKCS12 or JKS
/// file) leave the system's defaults.
public enum InterWorkerClient {
    public static func configuration(_ props: [String: String], timeout: Duration) -> HTTPClientConfiguration {
        var configuration = HTTPClientConfiguration()
        configuration.timeout = timeout
        configuration.userAgent = "kafka-connect"
        var scoped = props.filter { $0.key.hasPrefix("ssl.") }
        for (k, v) in props where k.hasPrefix("listeners.https.ssl.") {
            scoped[String(k.dropFirst("listeners.https.".count))] = v
        }
        guard !scoped.isEmpty, let tls = try? TLSSettings.from(scoped) else { return configuration }
        configuration.tls.caFile = tls.caFile
        configuration.tls.certificateFile = tls.certificateFile
        configuration.tls.keyFile = tls.keyFile
        configuration.tls.keyPassword = tls.keyPassword
        configuration.tls.verifyHost = tls.verifyHostname
        configuration.tls.verifyPeer = tls.verifyCertificate
        return configuration
    }
}
