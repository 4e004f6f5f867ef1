import ConnectREST
import Foundation
import HTTPServer
import Testing

@Suite("Basic authentication, CORS and PEM keystores")
struct RestSecurityTests {
    let ok: (HTTPRequest) -> HTTPResponse = { _ in HTTPResponse(status: 200) }

    func request(_ headers: [String: String] = [:], method: String = "GET") -> HTTPRequest {
        HTTPRequest(method: method, path: "/connectors", headers: headers, body: [])
    }

    func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    @Test("without, with wrong and with right credentials")
    func basicAuth() {
        let security = RestSecurity(credentials: ["admin": "s3cret"])
        let denied = security.handle(request(), ok)
        #expect(denied.status == 401)
        #expect(denied.headers.contains { $0.name == "WWW-Authenticate" && $0.value.hasPrefix("Basic realm=") })
        #expect(String(decoding: denied.body, as: UTF8.self).contains(#""error_code":401"#))
        #expect(security.handle(request(["authorization": basic("admin", "nope")]), ok).status == 401)
        #expect(security.handle(request(["authorization": basic("eve", "s3cret")]), ok).status == 401)
        #expect(security.handle(request(["authorization": "Basic !!!"]), ok).status == 401)
        #expect(security.handle(request(["authorization": basic("admin", "s3cret")]), ok).status == 200)
        #expect(RestSecurity().handle(request(), ok).status == 200)
    }

    @Test("requests between workers (task configurations, fencing) pass without credentials: their signature counts")
    func internalRequests() {
        let security = RestSecurity(credentials: ["admin": "s3cret"])
        func status(_ method: String, _ path: String) -> Int {
            security.handle(HTTPRequest(method: method, path: path, headers: [:], body: []), ok).status
        }
        #expect(status("POST", "/connectors/orders/tasks") == 200)
        #expect(status("PUT", "/connectors/orders/fence") == 200)
        #expect(status("GET", "/connectors/orders/tasks") == 401)
        #expect(status("POST", "/connectors/orders/restart") == 401)
        #expect(status("POST", "/connectors/orders/tasks/0/restart") == 401)
    }

    @Test("CORS: preflights and responses for the allowed origin only")
    func cors() {
        let security = RestSecurity(allowOrigin: "https://ui.example", allowMethods: "GET,PUT")
        let preflight = security.handle(
            request(["origin": "https://ui.example", "access-control-request-method": "PUT"], method: "OPTIONS"), ok)
        #expect(preflight.status == 204)
        #expect(preflight.headers.contains { $0 == ("Access-Control-Allow-Methods", "GET,PUT") })
        let plain = security.handle(request(["origin": "https://ui.example"]), ok)
        #expect(plain.headers.contains { $0 == ("Access-Control-Allow-Origin", "https://ui.example") })
        let other = security.handle(request(["origin": "https://evil.example"]), ok)
        #expect(!other.headers.contains { $0.name == "Access-Control-Allow-Origin" })
    }

    @Test("a PEM keystore is split into its key and certificate chain; anything else is refused")
    func pem() throws {
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        let cert = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"
        let tls = try TLSCredentials(combinedPEM: key + cert + cert)
        #expect(tls.privateKeyPEM == key)
        #expect(tls.certificateChainPEM == cert + cert)
        #expect(throws: HTTPServerError.self) { try TLSCredentials(combinedPEM: cert) }
        #expect(throws: HTTPServerError.self) { try TLSCredentials(combinedPEM: key) }
    }
}
