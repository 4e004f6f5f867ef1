import Crypto
import Foundation

/// How the client reaches and authenticates to brokers: Kafka's `security.protocol` (`PLAINTEXT`, `SSL`,
/// `SASL_PLAINTEXT`, `SASL_SSL`) with its TLS and SASL settings.
public struct KafkaSecurity: Sendable, Equatable {
    public enum Mechanism: String, Sendable, Equatable {
        case plain = "PLAIN"
        case scramSHA256 = "SCRAM-SHA-256"
        case scramSHA512 = "SCRAM-SHA-512"
    }

    /// The SASL mechanism; nil: no SASL.
    public private(set) var mechanism: Mechanism?
    public private(set) var username = ""
    public private(set) var password = ""
    /// TLS settings; nil: no TLS.
    public var tls: TLSSettings?

    public static let plaintext = KafkaSecurity()

    public init() {}

    public init(mechanism: Mechanism, username: String, password: String, tls: TLSSettings? = nil) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
        self.tls = tls
    }

    /// From client properties, Java's names or librdkafka's: `security.protocol`, the TLS keys of `TLSSettings`,
    /// `sasl.mechanism` (or `sasl.mechanisms`), and the credentials from `sasl.username` / `sasl.password` or the
    /// `username="..." password="..."` options of `sasl.jaas.config`. Throws naming the key that is missing or not
    /// supported.
    public static func from(_ props: [String: String]) throws(KafkaProtocolError) -> KafkaSecurity {
        let proto = (props["security.protocol"] ?? "PLAINTEXT").uppercased()
        var security = KafkaSecurity()
        switch proto {
        case "PLAINTEXT": return security
        case "SSL":
            security.tls = try TLSSettings.from(props)
            return security
        case "SASL_PLAINTEXT": break
        case "SASL_SSL": security.tls = try TLSSettings.from(props)
        default:
            throw .config("Invalid value \(proto) for configuration security.protocol")
        }
        let name = (props["sasl.mechanism"] ?? props["sasl.mechanisms"] ?? "GSSAPI").uppercased()
        guard let mechanism = Mechanism(rawValue: name) else {
            throw .config(
                "sasl.mechanism=\(name) is not supported by the group membership client (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are)"
            )
        }
        let jaas = props["sasl.jaas.config"].map(Self.jaasOptions) ?? [:]
        guard let username = props["sasl.username"] ?? jaas["username"],
            let password = props["sasl.password"] ?? jaas["password"]
        else {
            throw .config(
                "SASL \(name) needs a username and a password: set sasl.jaas.config (username=\"...\" password=\"...\") or sasl.username and sasl.password"
            )
        }
        security.mechanism = mechanism
        security.username = username
        security.password = password
        return security
    }

    /// The `key="value"` options of a JAAS configuration line.
    static func jaasOptions(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            guard let eq = scalars[i...].firstIndex(of: "="), eq + 1 < scalars.count, scalars[eq + 1] == "\"" else {
                break
            }
            let key = String(String.UnicodeScalarView(scalars[i..<eq])).split(separator: " ").last.map(String.init)
            var j = eq + 2
            var value = ""
            while j < scalars.count, scalars[j] != "\"" {
                if scalars[j] == "\\", j + 1 < scalars.count { j += 1 }
                value.unicodeScalars.append(scalars[j])
                j += 1
            }
            if let key { out[key] = value }
            i = j + 1
        }
        return out
    }
}

/// The client side of Kafka's SASL exchanges (KIP-43, KIP-84, KIP-152): SaslHandshake, then SaslAuthenticate rounds
/// of PLAIN (RFC 4616) or SCRAM (RFC 5802 with the SHA-256 and SHA-512 hashes of RFC 7677, as Kafka's
/// `ScramSaslClient`). Written here because librdkafka, which the worker uses for everything else, exposes no
/// connection this client could borrow.
enum SaslAuthenticator {
    static func authenticate(
        _ connection: BrokerConnection, _ security: KafkaSecurity, timeout: Duration
    ) throws(KafkaProtocolError) {
        guard let mechanism = security.mechanism else { return }
        let (username, password) = (security.username, security.password)
        let handshake = try connection.send(SaslHandshakeRequest(mechanism: mechanism.rawValue), timeout: timeout)
        guard handshake.errorCode == .none else {
            throw .broker(
                handshake.errorCode,
                message: "the broker offers \(handshake.mechanisms.joined(separator: ", ")), not \(mechanism.rawValue)")
        }
        func round(_ bytes: [UInt8]) throws(KafkaProtocolError) -> [UInt8] {
            let r = try connection.send(SaslAuthenticateRequest(authBytes: bytes), timeout: timeout)
            guard r.errorCode == .none else {
                throw .broker(r.errorCode, message: r.errorMessage ?? "authentication failed for user \(username)")
            }
            return r.authBytes
        }
        switch mechanism {
        case .plain:
            _ = try round([0] + Array(username.utf8) + [0] + Array(password.utf8))
        case .scramSHA256:
            try scram(SHA256.self, username: username, password: password, round: round)
        case .scramSHA512:
            try scram(SHA512.self, username: username, password: password, round: round)
        }
    }

    static func scram<H: HashFunction>(
        _: H.Type, username: String, password: String, nonce: String = newNonce(),
        round: ([UInt8]) throws(KafkaProtocolError) -> [UInt8]
    ) throws(KafkaProtocolError) {
        let user = username.replacing("=", with: "=3D").replacing(",", with: "=2C")
        let clientFirstBare = "n=\(user),r=\(nonce)"
        let serverFirst = String(decoding: try round(Array(("n,," + clientFirstBare).utf8)), as: UTF8.self)
        let fields = attributes(serverFirst)
        guard let serverNonce = fields["r"], serverNonce.hasPrefix(nonce), let saltText = fields["s"],
            let salt = Data(base64Encoded: saltText), let iterations = fields["i"].flatMap({ Int($0) }), iterations > 0
        else {
            throw .malformed("SCRAM server-first-message: \(serverFirst)")
        }
        let clientFinalWithoutProof = "c=biws,r=\(serverNonce)"
        let proof = scramProof(
            H.self, password: password, salt: Array(salt), iterations: iterations,
            authMessage: clientFirstBare + "," + serverFirst + "," + clientFinalWithoutProof)
        let serverFinal = String(
            decoding: try round(
                Array((clientFinalWithoutProof + ",p=" + Data(proof.client).base64EncodedString()).utf8)),
            as: UTF8.self)
        let final = attributes(serverFinal)
        if let e = final["e"] { throw .broker(.saslAuthenticationFailed, message: "SCRAM: \(e)") }
        guard final["v"] == Data(proof.serverSignature).base64EncodedString() else {
            throw .broker(.saslAuthenticationFailed, message: "SCRAM: the server's signature does not match")
        }
    }

    /// The client proof and the server signature to expect (RFC 5802 §3).
    static func scramProof<H: HashFunction>(
        _: H.Type, password: String, salt: [UInt8], iterations: Int, authMessage: String
    ) -> (client: [UInt8], serverSignature: [UInt8]) {
        let salted = pbkdf2(H.self, password: Array(password.utf8), salt: salt, iterations: iterations)
        let saltedKey = SymmetricKey(data: salted)
        let clientKey = Array(HMAC<H>.authenticationCode(for: Array("Client Key".utf8), using: saltedKey))
        let storedKey = Array(H.hash(data: clientKey))
        let message = Array(authMessage.utf8)
        let clientSignature = Array(HMAC<H>.authenticationCode(for: message, using: SymmetricKey(data: storedKey)))
        let serverKey = Array(HMAC<H>.authenticationCode(for: Array("Server Key".utf8), using: saltedKey))
        let serverSignature = Array(HMAC<H>.authenticationCode(for: message, using: SymmetricKey(data: serverKey)))
        return (zip(clientKey, clientSignature).map { $0 ^ $1 }, serverSignature)
    }

    /// PBKDF2 with HMAC-H, one block (`Hi` of RFC 5802).
    static func pbkdf2<H: HashFunction>(_: H.Type, password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var u = Array(HMAC<H>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = u
        for _ in 1..<max(1, iterations) {
            u = Array(HMAC<H>.authenticationCode(for: u, using: key))
            for i in result.indices { result[i] ^= u[i] }
        }
        return result
    }

    static func attributes(_ message: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in message.split(separator: ",") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            out[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return out
    }

    static func newNonce() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(bytes).base64EncodedString().replacing("+", with: "-").replacing("/", with: "_")
    }
}
