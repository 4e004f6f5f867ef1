import Foundation
import HTTPServer
import Testing

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite struct HTTPListenerTests {
    @Test(
        "listeners parse as Connect writes them",
        arguments: [
            ("http://:8083", HTTPListener(host: "", port: 8083)),
            ("http://localhost:8083", HTTPListener(host: "localhost", port: 8083)),
            ("http://[::1]:0/", HTTPListener(host: "::1", port: 0)),
            ("HTTPS://0.0.0.0:443", HTTPListener(scheme: "https", host: "0.0.0.0", port: 443)),
        ])
    func parses(text: String, expected: HTTPListener) throws {
        #expect(try HTTPListener.parse(text) == expected)
    }

    @Test("malformed listeners are rejected", arguments: ["localhost:8083", "ftp://x:1", "http://x", "http://x:99999"])
    func rejects(text: String) {
        #expect(throws: HTTPServerError.self) { try HTTPListener.parse(text) }
    }
}

@Suite struct RouterTests {
    func router() -> Router {
        var r = Router { status, message in HTTPResponse.text(status, message) }
        r.add("GET", "/connectors/{name}/status") { _, p in HTTPResponse.text(200, "status of \(p["name"]!)") }
        r.add("DELETE", "/connectors/{name}") { _, p in HTTPResponse.text(204, p["name"]!) }
        r.add("GET", "/connectors/{name}") { _, p in HTTPResponse.text(200, p["name"]!) }
        return r
    }

    @Test("path parameters are extracted")
    func params() {
        let r = router().handle(HTTPRequest(method: "GET", path: "/connectors/abc/status"))
        #expect(r.status == 200)
        #expect(String(decoding: r.body, as: UTF8.self) == "status of abc")
    }

    @Test("unknown paths are 404 and wrong methods 405 with Allow")
    func notFoundAndMethod() {
        #expect(router().handle(HTTPRequest(method: "GET", path: "/nope")).status == 404)
        let r = router().handle(HTTPRequest(method: "POST", path: "/connectors/x"))
        #expect(r.status == 405)
        #expect(r.header("Allow") == "DELETE, GET")
    }
}

@Suite("HTTP server over a real loopback port", .timeLimit(.minutes(2)))
struct HTTPServerLiveTests {
    /// Requests to /barrier wait until four of them are in the handler at once (or give up with 504 after 10 s).
    ///
    /// `@unchecked Sendable`: `arrived` is read and written only while holding `condition`.
    final class Barrier: @unchecked Sendable {
        let condition = NSCondition()
        var arrived = 0

        func arriveAndWait() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            arrived += 1
            condition.broadcast()
            let deadline = Date().addingTimeInterval(10)
            while arrived < 4 {
                if !condition.wait(until: deadline) { return false }
            }
            return true
        }
    }

    func start(limit: Int = 1024) throws -> (HTTPServer, Int) {
        let barrier = Barrier()
        let server = HTTPServer(
            maxRequestBodyBytes: limit, errorResponder: { s, m in HTTPResponse.text(s, "error: \(m)") }
        ) { req in
            if req.path == "/barrier" && !barrier.arriveAndWait() { return HTTPResponse.text(504, "alone") }
            let summary =
                "\(req.method) \(req.path) q=\(req.queryValues("expand")) ct=\(req.header("content-type") ?? "-") body=\(req.body.count)"
            return HTTPResponse.text(200, summary)
        }
        let bound = try server.start(listeners: [HTTPListener(host: "127.0.0.1", port: 0)])
        return (server, bound[0].port)
    }

    func request(_ port: Int, _ path: String, method: String = "GET", body: Data? = nil) async throws -> (Int, String) {
        var req = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        req.httpMethod = method
        req.httpBody = body
        if body != nil { req.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: req)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    @Test("serves a request with repeated query parameters, headers and a body")
    func basic() async throws {
        let (server, port) = try start()
        defer { server.stop() }
        let (status, text) = try await request(
            port, "/connectors?expand=status&expand=info", method: "POST", body: Data("{}".utf8))
        #expect(status == 200)
        #expect(text == #"POST /connectors q=["status", "info"] ct=application/json body=2"#)
    }

    @Test("a process holding more than 1024 descriptors (a worker with many Kafka clients) is still served")
    func manyDescriptors() async throws {
        // Descriptors opened first, so the listening socket and the connection are numbered above FD_SETSIZE.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 2048 {
            limit.rlim_cur = min(2048, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let held = (0..<1100).map { _ in open("/dev/null", O_RDONLY) }.filter { $0 >= 0 }
        defer { for fd in held { close(fd) } }
        #expect(held.count == 1100)
        let (server, port) = try start()
        defer { server.stop() }
        let (status, _) = try await request(port, "/connectors")
        #expect(status == 200)
    }

    @Test("a body over the limit gets 413 from the error responder")
    func tooLarge() async throws {
        let (server, port) = try start(limit: 100)
        defer { server.stop() }
        let (status, text) = try await request(port, "/x", method: "PUT", body: Data(repeating: 65, count: 5000))
        #expect(status == 413)
        #expect(text.hasPrefix("error: Request body is larger"))
    }

    @Test("a body of several megabytes within the limit arrives whole")
    func largeBody() async throws {
        let (server, port) = try start(limit: 8 * 1024 * 1024)
        defer { server.stop() }
        let (status, text) = try await request(port, "/x", method: "PUT", body: Data(repeating: 65, count: 3_000_000))
        #expect(status == 200)
        #expect(text.hasSuffix("body=3000000"))
    }

    @Test("requests are handled concurrently: four handlers are inside at the same time")
    func concurrent() async throws {
        let (server, port) = try start()
        defer { server.stop() }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await request(port, "/barrier").0 } }
            for try await status in group { #expect(status == 200) }
        }
    }

    @Test("after stop the port no longer accepts requests")
    func stops() async throws {
        let (server, port) = try start()
        server.stop()
        await #expect(throws: (any Error).self) { _ = try await request(port, "/x") }
    }
}
