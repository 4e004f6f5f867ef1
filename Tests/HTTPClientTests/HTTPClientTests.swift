import ConnectTestKit
import Foundation
import HTTPClient
import HTTPServer
import Synchronization
import Testing

@Suite("HTTP client against real servers", .serialized, .timeLimit(.minutes(2)))
struct HTTPClientTests {
    /// Echoes the request: method, path, body and Authorization header, as JSON-ish text; `/slow` answers after 3 s.
    static func echoServer(tls: TLSCredentials? = nil) throws -> (HTTPServer, Int) {
        let server = HTTPServer(errorResponder: { HTTPResponse.text($0, $1) }) { request in
            if request.path == "/slow" { Thread.sleep(forTimeInterval: 3) }
            let text =
                "\(request.method) \(request.path) body=\(String(decoding: request.body, as: UTF8.self)) auth=\(request.header("authorization") ?? "-") ct=\(request.header("content-type") ?? "-")"
            return HTTPResponse(
                status: request.method == "DELETE" ? 202 : 200, headers: [("X-Echo", "yes")], body: Array(text.utf8))
        }
        let bound = try server.start(
            listeners: [HTTPListener(scheme: tls == nil ? "http" : "https", host: "127.0.0.1", port: 0)], tls: tls)
        return (server, bound[0].port)
    }

    @Test(
        "methods, bodies, headers and Basic credentials reach the server; the answer's status, headers and body come back"
    )
    func plainHTTP() throws {
        let (server, port) = try Self.echoServer()
        defer { server.stop() }
        var configuration = HTTPClientConfiguration()
        configuration.basicAuth = .init(username: "ops", password: "s3cr:et")
        let client = HTTPClient(configuration: configuration)
        let put = try client.execute(
            HTTPClientRequest(
                method: "PUT", url: "http://127.0.0.1:\(port)/metrics/job/x",
                headers: [("Content-Type", "text/plain")], body: Array("a 1\n".utf8)))
        #expect(put.status == 200)
        #expect(put.header("x-echo") == "yes")
        let basic = "Basic " + Data("ops:s3cr:et".utf8).base64EncodedString()
        #expect(put.text == "PUT /metrics/job/x body=a 1\n auth=\(basic) ct=text/plain")
        let get = try client.get("http://127.0.0.1:\(port)/connectors")
        #expect(get.text.hasPrefix("GET /connectors body= "))
        let delete = try client.execute(HTTPClientRequest(method: "DELETE", url: "http://127.0.0.1:\(port)/g"))
        #expect(delete.status == 202)
        let post = try client.execute(
            HTTPClientRequest(method: "POST", url: "http://127.0.0.1:\(port)/connectors", body: []))
        #expect(post.text.hasPrefix("POST /connectors body= "))
    }

    @Test("one client serves many threads at once")
    func concurrent() throws {
        let (server, port) = try Self.echoServer()
        defer { server.stop() }
        let client = HTTPClient()
        let ok = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 32) { i in
            if let r = try? client.get("http://127.0.0.1:\(port)/n/\(i)"), r.text.hasPrefix("GET /n/\(i) ") {
                ok.withLock { $0 += 1 }
            }
        }
        #expect(ok.withLock { $0 } == 32)
    }

    @Test(
        "HTTPS with a private CA: trusted through caFile, refused as a TLS error without it, accepted when not verifying"
    )
    func privateCA() throws {
        let ca = try PrivateCA()
        let (cert, key) = try ca.issue("127.0.0.1")
        let tls = TLSCredentials(
            certificateChainPEM: try String(contentsOfFile: cert, encoding: .utf8),
            privateKeyPEM: try String(contentsOfFile: key, encoding: .utf8))
        let (server, port) = try Self.echoServer(tls: tls)
        defer { server.stop() }
        let url = "https://127.0.0.1:\(port)/connectors"

        var trusting = HTTPClientConfiguration()
        trusting.tls.caFile = ca.caFile
        #expect(try HTTPClient(configuration: trusting).get(url).status == 200)

        #expect {
            try HTTPClient().get(url)
        } throws: { ($0 as? HTTPClientError)?.kind == .tls }

        var insecure = HTTPClientConfiguration()
        insecure.tls.verifyPeer = false
        #expect(try HTTPClient(configuration: insecure).get(url).status == 200)
    }

    @Test("a server that asks for a client certificate gets the configured one, and refuses a client without one")
    func clientCertificate() throws {
        let ca = try PrivateCA()
        let (serverCert, serverKey) = try ca.issue("127.0.0.1")
        let (clientCert, clientKey) = try ca.issue("connect-worker-1", client: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ProjectPaths.python)
        p.arguments = [
            ProjectPaths.script("scripts/python/tls_client_auth_server.py"), serverCert, serverKey, ca.caFile,
        ]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer {
            // SIGKILL: a child of the test runner inherits its blocked signals, SIGTERM among them.
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        let line = out.fileHandleForReading.availableLine()
        let port = try #require(Int(line ?? ""))
        let url = "https://127.0.0.1:\(port)/"

        var withCertificate = HTTPClientConfiguration()
        withCertificate.tls = .init(caFile: ca.caFile, certificateFile: clientCert, keyFile: clientKey)
        let answer = try HTTPClient(configuration: withCertificate).get(url)
        #expect(answer.status == 200)
        #expect(answer.text == "connect-worker-1")

        var without = HTTPClientConfiguration()
        without.tls.caFile = ca.caFile
        #expect(throws: HTTPClientError.self) { try HTTPClient(configuration: without).get(url) }
    }

    @Test("no answer is classified: refused, unknown host, timeout, not a URL")
    func failures() throws {
        let client = HTTPClient()
        func kind(_ url: String, timeout: Duration? = nil) -> HTTPClientError.Kind? {
            do {
                _ = try client.get(url, timeout: timeout)
                return nil
            } catch {
                return error.kind
            }
        }
        let closed = try FreePort.allocate()
        #expect(kind("http://127.0.0.1:\(closed)/") == .connectionRefused)
        #expect(kind("http://no-such-host.invalid/") == .unknownHost)
        #expect(kind("ftp://127.0.0.1/") == .invalidURL)
        let (server, port) = try Self.echoServer()
        defer { server.stop() }
        let started = ContinuousClock.now
        #expect(kind("http://127.0.0.1:\(port)/slow", timeout: .milliseconds(500)) == .timeout)
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(HTTPClientError(.timeout, "").isRetriable)
        #expect(!HTTPClientError(.tls, "").isRetriable)
    }

    @Test(
        "idleTimeout bounds the server's silence, not the whole answer; a timeout of zero sets no total limit"
    )
    func idleTimeout() throws {
        func trickle(_ arguments: [String]) throws -> (Process, Int) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: ProjectPaths.python)
            p.arguments = [ProjectPaths.script("scripts/python/trickle_http_server.py")] + arguments
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            return (p, try #require(Int(out.fileHandleForReading.availableLine() ?? "")))
        }
        // 20 bytes, one every 100 ms: two seconds in all, never silent for one.
        let (steady, steadyPort) = try trickle(["20", "100"])
        defer {
            kill(steady.processIdentifier, SIGKILL)
            steady.waitUntilExit()
        }
        var c = HTTPClientConfiguration()
        c.timeout = .zero
        c.idleTimeout = .seconds(1)
        let answer = try HTTPClient(configuration: c).get("http://127.0.0.1:\(steadyPort)/")
        #expect(answer.text == String(repeating: "x", count: 20))
        // Silent for three seconds: given up after about one.
        let (silent, silentPort) = try trickle(["1", "0", "3000"])
        defer {
            kill(silent.processIdentifier, SIGKILL)
            silent.waitUntilExit()
        }
        let started = ContinuousClock.now
        #expect {
            try HTTPClient(configuration: c).get("http://127.0.0.1:\(silentPort)/")
        } throws: { ($0 as? HTTPClientError)?.kind == .timeout }
        #expect(ContinuousClock.now - started < .milliseconds(2900))
    }
}
