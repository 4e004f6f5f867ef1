import Foundation

/// The TLS side of `security.protocol=SSL` or `SASL_SSL`, read from Java's client keys (what a Connect worker file
/// holds) or librdkafka's:
///
/// | What | Java keys | librdkafka keys |
/// |---|---|---|
/// | trusted CAs | `ssl.truststore.location` (PEM or PKCS12, `ssl.truststore.password`), `ssl.truststore.certificates` | `ssl.ca.location`, `ssl.ca.pem` |
/// | client identity | `ssl.keystore.location` (PEM or PKCS12, `ssl.keystore.password`, `ssl.key.password`), `ssl.keystore.certificate.chain` + `ssl.keystore.key` | `ssl.certificate.location` + `ssl.key.location`, `ssl.certificate.pem` + `ssl.key.pem`, `ssl.keystore.location` (PKCS12) |
/// | host name check | `ssl.endpoint.identification.algorithm` (`https`, default; empty: off) | the same (`https`, `none`) |
/// | no certificate check | — | `enable.ssl.certificate.verification=false` |
///
/// No trusted CAs given: the system's (as librdkafka and a JVM do). A Java KeyStore (JKS) file is refused, naming
/// the key: only a JVM reads that format.
public struct TLSSettings: Sendable, Equatable {
    /// A PEM file of CA certificates, or a directory of them.
    public var caFile: String?
    public var caPEM: String?
    /// A PKCS12 truststore and its password.
    public var trustPKCS12: String?
    public var trustPKCS12Password: String?
    /// The client's certificate chain and key: PEM files (they may be one file), PEM text, or a PKCS12 keystore.
    public var certificateFile: String?
    public var keyFile: String?
    public var certificatePEM: String?
    public var keyPEM: String?
    public var keyPassword: String?
    public var identityPKCS12: String?
    public var identityPKCS12Password: String?
    public var verifyCertificate = true
    public var verifyHostname = true
    /// The keys the trusted CAs, the client certificate and its private key came from, for error messages.
    public var trustSource = "ssl.truststore.location"
    public var identitySource = "ssl.keystore.location"
    public var keySource = "ssl.keystore.location"

    public init() {}

    /// A store file's format, from its first bytes.
    enum StoreFormat { case pem, pkcs12 }

    /// Reads the TLS settings from client properties; throws naming the key whose file cannot be used.
    public static func from(_ props: [String: String]) throws(KafkaProtocolError) -> TLSSettings {
        var s = TLSSettings()
        if let location = nonEmpty(props["ssl.truststore.location"]) {
            switch try format(of: location, key: "ssl.truststore.location", declared: props["ssl.truststore.type"]) {
            case .pem: s.caFile = location
            case .pkcs12:
                s.trustPKCS12 = location
                s.trustPKCS12Password = props["ssl.truststore.password"]
            }
        } else if let pem = nonEmpty(props["ssl.truststore.certificates"]) {
            s.caPEM = pem
            s.trustSource = "ssl.truststore.certificates"
        } else {
            s.caFile = nonEmpty(props["ssl.ca.location"])
            s.caPEM = nonEmpty(props["ssl.ca.pem"])
            s.trustSource = s.caFile != nil ? "ssl.ca.location" : "ssl.ca.pem"
        }
        s.keyPassword = nonEmpty(props["ssl.key.password"])
        if let location = nonEmpty(props["ssl.keystore.location"]) {
            switch try format(of: location, key: "ssl.keystore.location", declared: props["ssl.keystore.type"]) {
            case .pem:
                s.certificateFile = location
                s.keyFile = location
            case .pkcs12:
                s.identityPKCS12 = location
                s.identityPKCS12Password = props["ssl.keystore.password"]
            }
        } else if let chain = nonEmpty(props["ssl.keystore.certificate.chain"]) {
            s.certificatePEM = chain
            s.keyPEM = nonEmpty(props["ssl.keystore.key"])
            s.identitySource = "ssl.keystore.certificate.chain"
            s.keySource = "ssl.keystore.key"
        } else {
            s.certificateFile = nonEmpty(props["ssl.certificate.location"])
            s.keyFile = nonEmpty(props["ssl.key.location"])
            s.certificatePEM = nonEmpty(props["ssl.certificate.pem"])
            s.keyPEM = nonEmpty(props["ssl.key.pem"])
            s.identitySource = s.certificateFile != nil ? "ssl.certificate.location" : "ssl.certificate.pem"
            s.keySource = s.keyFile != nil ? "ssl.key.location" : "ssl.key.pem"
        }
        let algorithm = (props["ssl.endpoint.identification.algorithm"] ?? "https").trimmingCharacters(in: .whitespaces)
        s.verifyHostname = !(algorithm.isEmpty || algorithm.lowercased() == "none")
        s.verifyCertificate = props["enable.ssl.certificate.verification"]?.lowercased() != "false"
        return s
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return value
    }

    /// PEM (text starting `-----BEGIN`) or PKCS12 (DER); a JKS file (magic `FEEDFEED`) or an unreadable one is an
    /// error naming `key`.
    static func format(of path: String, key: String, declared: String?) throws(KafkaProtocolError) -> StoreFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .config("Invalid value \(path) for configuration \(key): the file cannot be read")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 4096)) ?? Data())
        if head.starts(with: [0xFE, 0xED, 0xFE, 0xED]) {
            throw .config(
                "Invalid value \(path) for configuration \(key): it is a Java KeyStore (JKS), which only a JVM reads; convert it to PKCS12 (keytool -importkeystore -srckeystore \(path) -destkeystore \(path).p12 -deststoretype PKCS12) or PEM"
            )
        }
        // PEM may follow other text (`Bag Attributes` lines of `openssl pkcs12 -nodes`).
        if String(decoding: head, as: UTF8.self).contains("-----BEGIN") { return .pem }
        if declared?.uppercased() == "PEM" || head.first != 0x30 {
            throw .config("Invalid value \(path) for configuration \(key): neither PEM nor PKCS12")
        }
        return .pkcs12
    }
}

extension KafkaSecurity {
    /// Keys of Java's clients that librdkafka does not know and that carry nothing it needs once translated.
    static let javaOnlySecurityKeys: Set<String> = [
        "ssl.truststore.type", "ssl.truststore.password", "ssl.truststore.location", "ssl.truststore.certificates",
        "ssl.keystore.type", "ssl.keystore.certificate.chain", "ssl.keystore.key", "ssl.protocol",
        "ssl.enabled.protocols", "ssl.provider", "ssl.trustmanager.algorithm", "ssl.keymanager.algorithm",
        "ssl.secure.random.implementation", "ssl.engine.factory.class", "sasl.jaas.config", "sasl.login.class",
        "sasl.login.callback.handler.class", "sasl.client.callback.handler.class",
    ]

    /// Client properties written for a Java client, as librdkafka takes them (the worker's own clients and its
    /// tasks' are librdkafka's): `sasl.jaas.config`'s username and password become `sasl.username` /
    /// `sasl.password`; a PEM truststore becomes `ssl.ca.location`, a PKCS12 one `ssl.ca.pem` (its certificates);
    /// a PEM keystore becomes `ssl.certificate.location` + `ssl.key.location`, a PKCS12 one stays
    /// `ssl.keystore.location` (librdkafka reads PKCS12); an empty `ssl.endpoint.identification.algorithm` becomes
    /// `none`; Java-only keys are dropped. librdkafka's own keys win over translated ones. Throws naming the key that
    /// cannot be translated.
    public static func librdkafkaProperties(_ props: [String: String]) throws(KafkaProtocolError) -> [String: String] {
        let javaKeys = props.keys.filter { javaOnlySecurityKeys.contains($0) || $0 == "ssl.keystore.location" }
        let emptyAlgorithm =
            props["ssl.endpoint.identification.algorithm"].map { $0.trimmingCharacters(in: .whitespaces).isEmpty }
            ?? false
        guard !javaKeys.isEmpty || emptyAlgorithm else { return props }
        var out = props.filter { !javaOnlySecurityKeys.contains($0.key) }
        func set(_ key: String, _ value: String?) {
            if let value, out[key] == nil { out[key] = value }
        }
        if emptyAlgorithm { out["ssl.endpoint.identification.algorithm"] = "none" }
        if let jaas = props["sasl.jaas.config"] {
            let options = jaasOptions(jaas)
            guard options["username"] != nil || props["sasl.username"] != nil else {
                throw .config(
                    "Invalid value for configuration sasl.jaas.config: only a login module with username=\"...\" and password=\"...\" options (PlainLoginModule, ScramLoginModule) can be used by this worker's clients; for other mechanisms set librdkafka's sasl.* keys"
                )
            }
            set("sasl.username", options["username"])
            set("sasl.password", options["password"])
        }
        let tls = try TLSSettings.from(props)
        if props["ssl.truststore.location"] != nil || props["ssl.truststore.certificates"] != nil {
            if let file = tls.caFile { set("ssl.ca.location", file) }
            if let pem = tls.caPEM { set("ssl.ca.pem", pem) }
            if let p12 = tls.trustPKCS12 {
                set("ssl.ca.pem", try TLSSession.certificatesPEM(pkcs12: p12, password: tls.trustPKCS12Password))
            }
        }
        if props["ssl.keystore.location"] != nil {
            if tls.identityPKCS12 == nil {
                out["ssl.keystore.location"] = nil
                out["ssl.keystore.password"] = nil
                set("ssl.certificate.location", tls.certificateFile)
                set("ssl.key.location", tls.keyFile)
            }
        } else if props["ssl.keystore.certificate.chain"] != nil {
            set("ssl.certificate.pem", tls.certificatePEM)
            set("ssl.key.pem", tls.keyPEM)
        }
        return out
    }
}
