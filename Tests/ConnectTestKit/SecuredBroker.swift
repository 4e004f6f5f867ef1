import Foundation

/// A Tansu broker that clients reach only over TLS: a TLS listener (`scripts/python/tls_proxy.py`) on `port`, with
/// a certificate of a private CA for 127.0.0.1 and localhost, in front of a broker that advertises that port. What
/// a broker with an SSL listener looks like to a worker; with `requireClientCertificate`, one with
/// `ssl.client.auth=required`.
public final class TLSBroker: Sendable {
    public let ca: PrivateCA
    public let port: Int
    public var bootstrapServers: String { "127.0.0.1:\(port)" }
    /// A PEM keystore (private key and certificate in one file) with a client certificate of the CA.
    public let keystore: String
    /// Java's client keys for this broker (`security.protocol=SSL`, a PEM truststore and a PEM keystore).
    public var clientProperties: [String: String] {
        [
            "security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": ca.caFile,
            "ssl.keystore.type": "PEM", "ssl.keystore.location": keystore,
        ]
    }
    private let proxy: Process
    private let broker: TansuBroker

    public init(requireClientCertificate: Bool = false) throws {
        ca = try PrivateCA()
        let (certificate, key) = try ca.issue("tansu-broker")
        let (clientCertificate, clientKey) = try ca.issue("connect-worker", client: true)
        keystore = ca.directory.appendingPathComponent("connect-worker-keystore.pem").path
        try
            (String(contentsOfFile: clientKey, encoding: .utf8)
            + String(contentsOfFile: clientCertificate, encoding: .utf8))
            .write(toFile: keystore, atomically: true, encoding: .utf8)
        port = try FreePort.allocate()
        let target = try FreePort.allocate()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ProjectPaths.python)
        p.arguments =
            [ProjectPaths.script("scripts/python/tls_proxy.py"), String(port), String(target), certificate, key]
            + (requireClientCertificate ? [ca.caFile] : [])
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        proxy = p
        guard out.fileHandleForReading.availableLine() == "ready" else {
            kill(p.processIdentifier, SIGKILL)
            throw TestKitError("The TLS listener did not start")
        }
        let ready = [
            "bootstrap.servers": "127.0.0.1:\(port)", "security.protocol": "SSL", "ssl.ca.location": ca.caFile,
            "ssl.certificate.location": clientCertificate, "ssl.key.location": clientKey,
        ]
        broker = try TansuBroker(listenPort: target, advertisedPort: port, ready: ready)
    }

    deinit { stop() }

    public func stop() {
        broker.stop()
        if proxy.isRunning {
            // SIGKILL: a child of the test runner inherits its blocked signals, SIGTERM among them.
            kill(proxy.processIdentifier, SIGKILL)
            proxy.waitUntilExit()
        }
    }
}

extension FileHandle {
    /// Reads up to the first line end (without it); nil at end of file.
    public func availableLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = readData(ofLength: 1)
            guard let byte = chunk.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
