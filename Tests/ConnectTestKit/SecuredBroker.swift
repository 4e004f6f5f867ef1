import Foundation

/// A Tansu broker that clients reach only through a secured listener (`scripts/python/broker_listener.py`) on
/// `port`, in front of a broker that advertises that port: TLS with a certificate of a private CA for 127.0.0.1 and
/// localhost (`SSL`; with `requireClientCertificate`, a broker with `ssl.client.auth=required`), SASL with PLAIN and
/// SCRAM users (`SASL_PLAINTEXT`), or both (`SASL_SSL`). What a production broker's listener looks like to a worker.
public final class SecuredBroker: Sendable {
    public let ca: PrivateCA
    public let port: Int
    public var bootstrapServers: String { "127.0.0.1:\(port)" }
    /// A PEM keystore (private key and certificate in one file) with a client certificate of the CA.
    public let keystore: String
    public let tls: Bool
    /// The SASL users (name → password); empty without SASL.
    public let users: [String: String]
    /// `security.protocol` for this listener: SSL, SASL_PLAINTEXT or SASL_SSL (PLAINTEXT with neither).
    public var securityProtocol: String { Self.securityProtocol(tls: tls, sasl: !users.isEmpty) }
    static func securityProtocol(tls: Bool, sasl: Bool) -> String {
        switch (tls, sasl) {
        case (false, false): "PLAINTEXT"
        case (true, false): "SSL"
        case (false, true): "SASL_PLAINTEXT"
        case (true, true): "SASL_SSL"
        }
    }
    /// Java's client keys for this listener: `security.protocol`, a PEM truststore and keystore with TLS, and the
    /// first user's credentials by SCRAM-SHA-512 (in `sasl.jaas.config`) with SASL.
    public var clientProperties: [String: String] {
        guard let (user, password) = users.sorted(by: { $0.key < $1.key }).first else { return tlsProperties }
        return clientProperties(mechanism: "SCRAM-SHA-512", user: user, password: password)
    }
    var tlsProperties: [String: String] {
        guard tls else { return ["security.protocol": securityProtocol] }
        return [
            "security.protocol": securityProtocol, "ssl.truststore.type": "PEM", "ssl.truststore.location": ca.caFile,
            "ssl.keystore.type": "PEM", "ssl.keystore.location": keystore,
        ]
    }
    /// Java's client keys with the given SASL credentials (`sasl.jaas.config` of the mechanism's login module).
    public func clientProperties(mechanism: String, user: String, password: String) -> [String: String] {
        let module =
            mechanism == "PLAIN"
            ? "org.apache.kafka.common.security.plain.PlainLoginModule"
            : "org.apache.kafka.common.security.scram.ScramLoginModule"
        var p = tlsProperties
        p["sasl.mechanism"] = mechanism
        p["sasl.jaas.config"] = "\(module) required username=\"\(user)\" password=\"\(password)\";"
        return p
    }
    private let proxy: Process
    private let broker: TansuBroker

    /// - Parameters:
    ///   - tls: serve TLS.
    ///   - requireClientCertificate: with TLS, refuse clients without a certificate of the CA.
    ///   - users: SASL users (name → password), with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; none: no SASL.
    public init(tls: Bool = true, requireClientCertificate: Bool = false, users: [String: String] = [:]) throws {
        self.tls = tls
        self.users = users
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
        var arguments = [ProjectPaths.script("scripts/python/broker_listener.py"), "--port", String(port)]
        arguments += ["--target", String(target)]
        if tls { arguments += ["--cert", certificate, "--key", key] }
        if tls && requireClientCertificate { arguments += ["--ca", ca.caFile] }
        if !users.isEmpty {
            let sasl: [String: Any] = ["mechanisms": ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], "users": users]
            let json = try JSONSerialization.data(withJSONObject: sasl)
            arguments += ["--sasl", String(decoding: json, as: UTF8.self)]
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ProjectPaths.python)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        proxy = p
        guard out.fileHandleForReading.availableLine() == "ready" else {
            kill(p.processIdentifier, SIGKILL)
            throw TestKitError("The broker listener did not start")
        }
        var ready = [
            "bootstrap.servers": "127.0.0.1:\(port)",
            "security.protocol": Self.securityProtocol(tls: tls, sasl: !users.isEmpty),
        ]
        if tls {
            ready["ssl.ca.location"] = ca.caFile
            ready["ssl.certificate.location"] = clientCertificate
            ready["ssl.key.location"] = clientKey
        }
        if let (user, password) = users.first {
            ready["sasl.mechanism"] = "PLAIN"
            ready["sasl.username"] = user
            ready["sasl.password"] = password
        }
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
