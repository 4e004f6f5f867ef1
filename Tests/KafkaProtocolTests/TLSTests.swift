import ConnectTestKit
import Foundation
import KafkaProtocol
import Testing

@Suite("Java clients' security keys, as the native client and librdkafka take them")
struct SecurityPropertiesTests {
    @Test(
        "a PEM truststore, a PEM keystore, JAAS credentials and an empty identification algorithm become librdkafka's keys"
    )
    func javaKeysToLibrdkafka() throws {
        let ca = try PrivateCA()
        let (cert, key) = try ca.issue("worker", client: true)
        let keystore = ca.directory.appendingPathComponent("keystore.pem").path
        try (String(contentsOfFile: cert, encoding: .utf8) + String(contentsOfFile: key, encoding: .utf8))
            .write(toFile: keystore, atomically: true, encoding: .utf8)
        let out = try KafkaSecurity.librdkafkaProperties([
            "bootstrap.servers": "b:9093", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
            "sasl.jaas.config":
                #"org.apache.kafka.common.security.plain.PlainLoginModule required username="svc" password="p\"w";"#,
            "ssl.truststore.type": "PEM", "ssl.truststore.location": ca.caFile, "ssl.keystore.type": "PEM",
            "ssl.keystore.location": keystore, "ssl.endpoint.identification.algorithm": "",
        ])
        #expect(
            out == [
                "bootstrap.servers": "b:9093", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
                "sasl.username": "svc", "sasl.password": #"p"w"#, "ssl.ca.location": ca.caFile,
                "ssl.certificate.location": keystore, "ssl.key.location": keystore,
                "ssl.endpoint.identification.algorithm": "none",
            ])
        // librdkafka's own keys pass unchanged, and win over translated ones.
        let native = ["security.protocol": "SSL", "ssl.ca.location": "/etc/ca.pem"]
        #expect(try KafkaSecurity.librdkafkaProperties(native) == native)
    }

    @Test("a PKCS12 truststore becomes its certificates in ssl.ca.pem; a JKS file is refused naming the key")
    func storeFormats() throws {
        let ca = try PrivateCA()
        let p12 = ca.directory.appendingPathComponent("truststore.p12").path
        _ = try ProjectPaths.run(
            "/usr/bin/openssl",
            ["pkcs12", "-export", "-nokeys", "-in", ca.caFile, "-out", p12, "-passout", "pass:changeit"])
        let out = try KafkaSecurity.librdkafkaProperties([
            "security.protocol": "SSL", "ssl.truststore.location": p12, "ssl.truststore.password": "changeit",
            "ssl.truststore.type": "PKCS12",
        ])
        #expect(out["ssl.ca.pem"]?.hasPrefix("-----BEGIN CERTIFICATE-----") == true)
        #expect(out["ssl.truststore.location"] == nil && out["ssl.truststore.password"] == nil)
        #expect(throws: KafkaProtocolError.self) {
            try KafkaSecurity.librdkafkaProperties(["ssl.truststore.location": p12, "ssl.truststore.password": "no"])
        }

        let jks = ca.directory.appendingPathComponent("truststore.jks").path
        try Data([0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2]).write(to: URL(fileURLWithPath: jks))
        #expect {
            try KafkaSecurity.librdkafkaProperties(["security.protocol": "SSL", "ssl.truststore.location": jks])
        } throws: { error in
            "\(error)".contains("ssl.truststore.location") && "\(error)".contains("Java KeyStore (JKS)")
        }
        #expect {
            try KafkaSecurity.from(["security.protocol": "SSL", "ssl.truststore.location": "/no/such/file"])
        } throws: { error in
            "\(error)".contains("Invalid value /no/such/file for configuration ssl.truststore.location")
        }
        let security = try KafkaSecurity.from(["security.protocol": "ssl", "ssl.ca.location": ca.caFile])
        #expect(security.tls?.caFile == ca.caFile && security.mechanism == nil)
    }
}

@Suite("The native client over TLS", .serialized)
struct TLSConnectionTests {
    static let broker: SecuredBroker? = try? SecuredBroker()

    func connect(_ props: [String: String], host: String = "127.0.0.1") throws -> BrokerConnection {
        let broker = try #require(Self.broker)
        return try BrokerConnection(
            host: host, port: broker.port, clientId: "tls-test", timeout: .seconds(10),
            security: KafkaSecurity.from(props))
    }

    @Test("with the broker's CA: requests go through, by address and by host name")
    func trusted() throws {
        let broker = try #require(Self.broker)
        for host in ["127.0.0.1", "localhost"] {
            let c = try connect(broker.clientProperties, host: host)
            #expect(try c.send(ApiVersionsRequest(), timeout: .seconds(10)).errorCode == .none)
        }
    }

    @Test("another CA's certificate is refused with OpenSSL's reason; no verification, or plaintext, as configured")
    func untrusted() throws {
        let broker = try #require(Self.broker)
        let other = try PrivateCA()
        #expect {
            try connect(["security.protocol": "SSL", "ssl.truststore.location": other.caFile])
        } throws: { error in
            "\(error)".contains("TLS handshake with broker 127.0.0.1:\(broker.port) failed")
                && "\(error)".contains("certificate verify failed")
        }
        let insecure = try connect([
            "security.protocol": "SSL", "ssl.ca.location": other.caFile, "enable.ssl.certificate.verification": "false",
        ])
        #expect(try insecure.send(ApiVersionsRequest(), timeout: .seconds(10)).errorCode == .none)
        // A plaintext client on a TLS port: an error, never a hang past its deadline or a crash.
        let plain = try connect([:])
        #expect(throws: KafkaProtocolError.self) { try plain.send(ApiVersionsRequest(), timeout: .seconds(3)) }
    }

    static let mutual: SecuredBroker? = try? SecuredBroker(requireClientCertificate: true)

    @Test(
        "a broker that requires client certificates gets the keystore's (PEM, encrypted PEM with ssl.key.password, PKCS12); without one it refuses; a wrong password names the key"
    )
    func clientCertificates() throws {
        let broker = try #require(Self.mutual)
        func connect(_ props: [String: String]) throws -> BrokerConnection {
            try BrokerConnection(
                host: "127.0.0.1", port: broker.port, clientId: "mtls-test", timeout: .seconds(10),
                security: KafkaSecurity.from(props))
        }
        let pem = try connect(broker.clientProperties)
        #expect(try pem.send(ApiVersionsRequest(), timeout: .seconds(10)).errorCode == .none)

        // An encrypted key in the keystore, with its password.
        let dir = broker.ca.directory
        let encrypted = dir.appendingPathComponent("encrypted-keystore.pem").path
        let certificate = dir.appendingPathComponent("connect-worker.pem").path
        let key = dir.appendingPathComponent("connect-worker.key").path
        let encryptedKey = try ProjectPaths.run(
            "/usr/bin/openssl", ["pkey", "-in", key, "-aes256", "-passout", "pass:k3y-secret"])
        try (encryptedKey + String(contentsOfFile: certificate, encoding: .utf8))
            .write(toFile: encrypted, atomically: true, encoding: .utf8)
        var withPassword = broker.clientProperties
        withPassword["ssl.keystore.location"] = encrypted
        withPassword["ssl.key.password"] = "k3y-secret"
        #expect(try connect(withPassword).send(ApiVersionsRequest(), timeout: .seconds(10)).errorCode == .none)
        withPassword["ssl.key.password"] = nil
        #expect {
            try connect(withPassword)
        } throws: { error in
            "\(error)".contains("ssl.keystore.location") && "\(error)".contains("ssl.key.password")
        }

        // A PKCS12 keystore.
        let p12 = dir.appendingPathComponent("keystore.p12").path
        _ = try ProjectPaths.run(
            "/usr/bin/openssl",
            ["pkcs12", "-export", "-in", certificate, "-inkey", key, "-out", p12, "-passout", "pass:changeit"])
        var pkcs12 = broker.clientProperties
        pkcs12["ssl.keystore.type"] = "PKCS12"
        pkcs12["ssl.keystore.location"] = p12
        pkcs12["ssl.keystore.password"] = "changeit"
        #expect(try connect(pkcs12).send(ApiVersionsRequest(), timeout: .seconds(10)).errorCode == .none)

        // No client certificate: the broker ends the connection (in TLS 1.3, after the client's handshake).
        #expect(throws: KafkaProtocolError.self) {
            let c = try connect(["security.protocol": "SSL", "ssl.ca.location": broker.ca.caFile])
            _ = try c.send(ApiVersionsRequest(), timeout: .seconds(5))
        }
    }
}

@Suite("The native client over SASL", .serialized)
struct SaslConnectionTests {
    static let plaintext: SecuredBroker? = try? SecuredBroker(tls: false, users: ["alice": "alice-secret"])
    static let tls: SecuredBroker? = try? SecuredBroker(tls: true, users: ["alice": "alice-secret"])

    func connect(_ broker: SecuredBroker, _ props: [String: String]) throws -> BrokerConnection {
        try BrokerConnection(
            host: "127.0.0.1", port: broker.port, clientId: "sasl-test", timeout: .seconds(10),
            security: KafkaSecurity.from(props))
    }

    @Test(
        "PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 authenticate against a broker's SASL listener (SASL_PLAINTEXT and SASL_SSL); after that the broker answers"
    )
    func mechanisms() throws {
        for broker in [try #require(Self.plaintext), try #require(Self.tls)] {
            for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
                let c = try connect(
                    broker, broker.clientProperties(mechanism: mechanism, user: "alice", password: "alice-secret"))
                // A request the listener passes on to the broker only once the client authenticated.
                let response = try c.send(FindCoordinatorRequest(groupId: "sasl-group"), timeout: .seconds(10))
                #expect(response.errorCode == .none, "\(broker.securityProtocol) \(mechanism)")
            }
        }
    }

    @Test(
        "a wrong password or an unknown user is refused with the broker's message; a client without SASL is cut off"
    )
    func refusals() throws {
        let broker = try #require(Self.plaintext)
        for (mechanism, user, password) in [
            ("SCRAM-SHA-512", "alice", "wrong"), ("SCRAM-SHA-256", "mallory", "x"), ("PLAIN", "alice", "wrong"),
        ] {
            #expect {
                _ = try connect(broker, broker.clientProperties(mechanism: mechanism, user: user, password: password))
            } throws: { error in
                "\(error)".contains("Authentication failed")
            }
        }
        #expect {
            _ = try connect(broker, ["security.protocol": "PLAINTEXT"])
                .send(FindCoordinatorRequest(groupId: "g"), timeout: .seconds(5))
        } throws: { _ in true }
    }
}
