import ConnectAPI
import ConnectRuntime
import Foundation
import HTTPServer

/// What makes the REST API safe to expose: HTTP Basic authentication (the role of Connect's
/// `BasicAuthSecurityRestExtension`), CORS from `access.control.allow.origin` / `.methods`, and the TLS
/// credentials of `https` listeners (Kafka's PEM keystore settings).
public struct RestSecurity: Sendable {
    public static let basicAuthExtension =
        "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"

    /// User → password; nil when authentication is off.
    public var credentials: [String: String]?
    public var allowOrigin: String?
    public var allowMethods: String?
    public var tls: TLSCredentials?

    public init(
        credentials: [String: String]? = nil, allowOrigin: String? = nil, allowMethods: String? = nil,
        tls: TLSCredentials? = nil
    ) {
        self.credentials = credentials
        self.allowOrigin = allowOrigin
        self.allowMethods = allowMethods
        self.tls = tls
    }

    /// Reads the worker's settings; a missing or unreadable file is a config error naming its key.
    public static func from(_ config: WorkerConfig) throws(ConnectError) -> RestSecurity {
        var security = RestSecurity()
        let extensions = config.rest.extensionClasses
        let file = config.rest.basicAuthCredentialsFile
        if extensions.contains(where: { $0 == basicAuthExtension || $0.hasSuffix(".BasicAuthSecurityRestExtension") })
            || !file.isEmpty
        {
            guard !file.isEmpty else {
                throw ConnectError.config(
                    "\(basicAuthExtension) needs rest.basic.auth.credentials.file: a properties file of user=password lines"
                )
            }
            security.credentials = try PropertiesParser.parse(try readText(file), source: file)
        }
        let origin = config.rest.allowOrigin
        if !origin.isEmpty {
            security.allowOrigin = origin
            let methods = config.rest.allowMethods
            security.allowMethods = methods.isEmpty ? nil : methods
        }
        security.tls = try tlsCredentials(config.originals)
        return security
    }

    /// `listeners.https.ssl.keystore.*` (else the worker's `ssl.keystore.*`): a PEM file holding the private key and
    /// certificate chain (`ssl.keystore.type=PEM`), or the PEM text itself in `ssl.keystore.key` and
    /// `ssl.keystore.certificate.chain`; `ssl.key.password` for an encrypted key. Nil when none is set.
    static func tlsCredentials(_ props: [String: String]) throws(ConnectError) -> TLSCredentials? {
        func value(_ key: String) -> String? {
            (props["listeners.https." + key] ?? props[key]).flatMap { $0.trimmingSpaces.isEmpty ? nil : $0 }
        }
        let password = value("ssl.key.password")
        if let key = value("ssl.keystore.key"), let chain = value("ssl.keystore.certificate.chain") {
            return TLSCredentials(certificateChainPEM: chain, privateKeyPEM: key, keyPassword: password)
        }
        guard let location = value("ssl.keystore.location") else { return nil }
        let type = value("ssl.keystore.type")?.uppercased() ?? "PEM"
        guard type == "PEM" else {
            throw ConnectError.invalidConfig(
                "listeners.https.ssl.keystore.type", type,
                "only PEM keystores are supported (a file with the private key and the certificate chain); convert a JKS or PKCS12 keystore with openssl or keytool"
            )
        }
        do {
            return try TLSCredentials(combinedPEM: try readText(location), keyPassword: password)
        } catch let e as HTTPServerError {
            throw ConnectError.invalidConfig("listeners.https.ssl.keystore.location", location, e.description)
        } catch {
            throw ConnectError.wrap(error)
        }
    }

    /// Wraps a request handler with CORS and authentication.
    public func handle(_ request: HTTPRequest, _ next: (HTTPRequest) -> HTTPResponse) -> HTTPResponse {
        let origin = request.header("origin")
        // A CORS preflight is answered without credentials, as browsers send none.
        if request.method == "OPTIONS", allowOrigin != nil, origin != nil,
            request.header("access-control-request-method") != nil
        {
            return withCORS(HTTPResponse(status: 204), origin: origin, preflight: true)
        }
        if let credentials, !Self.isInternalRequest(request), !authorized(request, credentials) {
            var response = ConnectRestServer.errorResponse(401, "Unauthorized: valid credentials are required")
            response.headers.append(("WWW-Authenticate", "Basic realm=\"Kafka Connect\", charset=\"UTF-8\""))
            return withCORS(response, origin: origin, preflight: false)
        }
        return withCORS(next(request), origin: origin, preflight: false)
    }

    /// Requests between the workers of a cluster, which the herder checks by their signature instead (Connect's
    /// `JaasBasicAuthFilter.INTERNAL_REQUEST_MATCHERS`): `POST /connectors/{c}/tasks`, `PUT /connectors/{c}/fence`.
    static func isInternalRequest(_ request: HTTPRequest) -> Bool {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[0] == "connectors" else { return false }
        return (request.method == "POST" && parts[2] == "tasks") || (request.method == "PUT" && parts[2] == "fence")
    }

    func authorized(_ request: HTTPRequest, _ credentials: [String: String]) -> Bool {
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingSpaces),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return false }
        let user = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        guard let expected = credentials[user] else { return false }
        return constantTimeEquals(Array(expected.utf8), Array(password.utf8))
    }

    /// Compares without stopping at the first difference, so timing tells nothing about the password.
    func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return diff == 0
    }

    func withCORS(_ response: HTTPResponse, origin: String?, preflight: Bool) -> HTTPResponse {
        guard let allowOrigin, let origin,
            allowOrigin == "*"
                || allowOrigin.split(separator: ",").contains(where: {
                    $0.trimmingCharacters(in: .whitespaces) == origin
                })
        else { return response }
        var r = response
        r.headers.append(("Access-Control-Allow-Origin", allowOrigin == "*" ? "*" : origin))
        if preflight {
            r.headers.append(("Access-Control-Allow-Methods", allowMethods ?? "GET,POST,HEAD"))
            r.headers.append(("Access-Control-Allow-Headers", "Content-Type,Authorization"))
        }
        return r
    }
}
