import Foundation
import HTTPClient
import JSON

/// A real OpenSearch-compatible server (`osmem-server` from PyPI, in the project virtualenv) on a free loopback
/// port, started for tests; it exits with the test process (`-parent-pid`).
public final class OpenSearchServer: Sendable {
    public let port: Int
    private let process: Process

    /// One server shared by every test in the process; each test uses its own indexes.
    public static let shared: OpenSearchServer = {
        do {
            return try OpenSearchServer()
        } catch {
            fatalError("Cannot start osmem-server for tests: \(error)")
        }
    }()

    public init() throws {
        let binary = ProjectPaths.root.appendingPathComponent(
            ".venv/lib/python3.11/site-packages/osmem_server/bin/osmem-server"
        ).path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestKitError("osmem-server not found at \(binary): run ./scripts/install")
        }
        port = try FreePort.allocate()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["-addr", "127.0.0.1:\(port)", "-no-stdin-watch", "-parent-pid", String(getpid())]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(30)
        while (try? HTTPClient().get(url))?.status != 200 {
            guard Date() < deadline else { throw TestKitError("osmem-server did not answer on \(url)") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// `method path` with an optional JSON body; the status and the parsed answer (nil when not JSON).
    @discardableResult
    public func call(_ method: String, _ path: String, _ body: String? = nil) throws -> (Int, JSONValue?) {
        let r = try HTTPClient().execute(
            HTTPClientRequest(
                method: method, url: url + path, headers: body == nil ? [] : [("Content-Type", "application/json")],
                body: body.map { Array($0.utf8) }))
        return (r.status, try? JSONParser.parse(r.body))
    }

    /// Every document of `index` (after a refresh), as `_id` → `_source`.
    public func documents(_ index: String) throws -> [String: JSONValue] {
        try call("POST", "/\(index)/_refresh")
        let (_, answer) = try call("GET", "/\(index)/_search?size=10000")
        var out: [String: JSONValue] = [:]
        for hit in answer?["hits"]?["hits"]?.arrayValue ?? [] {
            if let id = hit["_id"]?.stringValue { out[id] = hit["_source"] ?? .null }
        }
        return out
    }
}
