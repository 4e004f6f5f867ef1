import Foundation
import HTTPClient

/// A real Prometheus Pushgateway (Debian's package) on a free loopback port.
public final class PushgatewayServer: Sendable {
    public let port: Int
    private let process: Process

    public init() throws {
        let binary = "/usr/bin/prometheus-pushgateway"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestKitError("Pushgateway not found at \(binary): run ./scripts/install")
        }
        port = try FreePort.allocate()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--web.listen-address=127.0.0.1:\(port)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
    }

    deinit { stop() }

    public var url: String { "http://127.0.0.1:\(port)" }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// The gateway's own exposition (every pushed series, with its job and grouping labels); nil if unreachable.
    public func metrics() -> String? {
        guard let response = try? HTTPClient().get("\(url)/metrics"), response.status == 200 else { return nil }
        return response.text
    }
}
