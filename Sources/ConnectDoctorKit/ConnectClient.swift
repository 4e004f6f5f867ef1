import HTTPClient

/// A small synchronous client of a Connect worker's REST API (Apache Kafka Connect's or Swift Connect's).
public struct ConnectClient: Sendable {
    /// One answer: the HTTP status and the body.
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    public let baseURL: String
    private let client: HTTPClient
    /// For `GET /health`, which a worker may hold for 10 s (KIP-1017) before it answers 500 with the reason: five
    /// seconds more than the other requests, so the reason arrives instead of a timeout.
    private let healthClient: HTTPClient
    private let credentials: (username: String?, password: String?)
    private let timeoutSeconds: Double
    private let caCertificate: String?
    private let insecure: Bool

    /// `caCertificate`: a PEM file of the certificate authorities to trust for an https worker (the worker's own
    /// certificate, when self-signed), as `curl --cacert`; `insecure` skips the certificate check.
    public init(
        baseURL: String, username: String? = nil, password: String? = nil, timeoutSeconds: Double = 10,
        caCertificate: String? = nil, insecure: Bool = false
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        credentials = (username, password)
        self.timeoutSeconds = timeoutSeconds
        self.caCertificate = caCertificate
        self.insecure = insecure
        var configuration = HTTPClientConfiguration()
        configuration.timeout = .milliseconds(Int64(max(0.001, timeoutSeconds) * 1000))
        configuration.tls = .init(caFile: caCertificate, verifyPeer: !insecure)
        if let username { configuration.basicAuth = .init(username: username, password: password ?? "") }
        client = HTTPClient(configuration: configuration)
        configuration.timeout = .milliseconds(Int64(max(0.001, timeoutSeconds + 5) * 1000))
        healthClient = HTTPClient(configuration: configuration)
    }

    /// A client of another worker of the same cluster, with the same credentials and TLS settings.
    public func sibling(baseURL: String) -> ConnectClient {
        ConnectClient(
            baseURL: baseURL, username: credentials.username, password: credentials.password,
            timeoutSeconds: timeoutSeconds, caCertificate: caCertificate, insecure: insecure)
    }

    /// `GET <base><path>`; throws when the worker cannot be reached at all (refused, unknown host, timeout, TLS).
    public func get(_ path: String) throws -> Response {
        do {
            let response = try (path == "/health" ? healthClient : client).get(
                baseURL + path, headers: [("Accept", "application/json")])
            return Response(status: response.status, body: response.text)
        } catch {
            throw DoctorError(error.message)
        }
    }
}
