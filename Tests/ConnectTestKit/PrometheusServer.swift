import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real Prometheus (Debian's package) on a free loopback port, scraping the given targets every second and
/// evaluating the given rule files every second.
public final class PrometheusServer: Sendable {
    public let port: Int
    private let process: Process
    private let directory: URL

    public init(scrapeTargets: [String], metricsPath: String = "/metrics", ruleFiles: [String] = []) throws {
        let binary = "/usr/bin/prometheus"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestKitError("Prometheus not found at \(binary): run ./scripts/install")
        }
        directory = try ProjectPaths.temporaryDirectory("prometheus")
        port = try FreePort.allocate()
        let targets = scrapeTargets.map { "'\($0)'" }.joined(separator: ", ")
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: [\(ruleFiles.map { "'\($0)'" }.joined(separator: ", "))]
            scrape_configs:
              - job_name: kafka-connect
                metrics_path: \(metricsPath)
                static_configs:
                  - targets: [\(targets)]
                    labels:
                      env: test
            """
        let configFile = directory.appendingPathComponent("prometheus.yml")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = [
            "--config.file=\(configFile.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)",
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
    }

    deinit { stop() }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Waits until Prometheus answers `/-/ready`.
    public func waitUntilReady(seconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let (_, response) = try? await URLSession.shared.data(
                from: URL(string: "http://127.0.0.1:\(port)/-/ready")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestKitError("Prometheus did not become ready on port \(port)")
    }

    /// One alert as `/api/v1/alerts` shows it.
    public struct Alert: Sendable {
        public var name: String
        public var labels: [String: String]
        /// `pending` or `firing`.
        public var state: String
    }

    /// The alerts pending or firing now.
    public func alerts() async throws -> [Alert] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/api/v1/alerts")!)
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let payload = json["data"] as? [String: Any], let alerts = payload["alerts"] as? [[String: Any]]
        else { return [] }
        return alerts.compactMap { a in
            guard let labels = a["labels"] as? [String: String], let state = a["state"] as? String else { return nil }
            return Alert(name: labels["alertname"] ?? "", labels: labels, state: state)
        }
    }

    /// Runs an instant query; returns the result vector as (labels, value) pairs.
    public func query(_ expression: String) async throws -> [(labels: [String: String], value: Double)] {
        var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: expression)]
        // A literal + in a query string reads as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        let (data, _) = try await URLSession.shared.data(from: components.url!)
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let payload = json["data"] as? [String: Any], let result = payload["result"] as? [[String: Any]]
        else { return [] }
        return result.compactMap { r in
            guard let metric = r["metric"] as? [String: String], let value = r["value"] as? [Any], value.count == 2,
                let text = value[1] as? String, let v = Double(text)
            else { return nil }
            return (metric, v)
        }
    }
}
