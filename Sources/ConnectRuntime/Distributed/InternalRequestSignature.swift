import ConnectAPI
import Crypto
import Foundation

/// The signature of a request between the workers of a cluster (KIP-507, Connect's `InternalRequestSignature`):
/// HMAC over the exact body bytes with the session key the leader wrote to the config topic, sent as standard
/// Base64 in `X-Connect-Authorization`, with the JCA name of the algorithm in
/// `X-Connect-Request-Signature-Algorithm`. Used when the group's protocol is `sessioned`.
public struct InternalRequestSignature: Sendable, Equatable {
    public static let signatureHeader = "X-Connect-Authorization"
    public static let algorithmHeader = "X-Connect-Request-Signature-Algorithm"
    /// The JCA Mac names this worker signs and verifies with.
    public static let algorithms = ["HmacSHA256", "HmacSHA384", "HmacSHA512", "HmacSHA1"]

    public var algorithm: String
    public var signature: [UInt8]

    public init(algorithm: String, signature: [UInt8]) {
        self.algorithm = algorithm
        self.signature = signature
    }

    /// The HMAC of `body` under `key` with the named algorithm; nil for an algorithm this worker lacks.
    public static func mac(_ body: [UInt8], key: [UInt8], algorithm: String) -> [UInt8]? {
        let k = SymmetricKey(data: key)
        switch algorithm {
        case "HmacSHA256": return Array(HMAC<SHA256>.authenticationCode(for: body, using: k))
        case "HmacSHA384": return Array(HMAC<SHA384>.authenticationCode(for: body, using: k))
        case "HmacSHA512": return Array(HMAC<SHA512>.authenticationCode(for: body, using: k))
        case "HmacSHA1": return Array(HMAC<Insecure.SHA1>.authenticationCode(for: body, using: k))
        default: return nil
        }
    }

    /// The two headers for `body` signed with `key`.
    public static func headers(for body: [UInt8], key: SessionKey, algorithm: String) -> [(String, String)] {
        let mac = mac(body, key: key.key, algorithm: algorithm) ?? []
        return [(signatureHeader, Data(mac).base64EncodedString()), (algorithmHeader, algorithm)]
    }

    /// Checks an internal request's headers (lower-cased names) against the session key, answering as Connect's
    /// `InternalRequestSignature.fromHeaders` / `DistributedHerder.requestNotSignedProperly` do:
    /// 400 when a header is missing or the algorithm is not permitted, 503 before a key is known, 403 when the
    /// signature does not match.
    public static func verify(
        body: [UInt8], headers: [String: String], key: SessionKey?, permitted: [String]
    ) throws(ConnectError) {
        guard let encoded = headers[signatureHeader.lowercased()], let algorithm = headers[algorithmHeader.lowercased()]
        else {
            throw ConnectError(.badRequest, "Internal request missing required signature")
        }
        guard permitted.contains(algorithm), algorithms.contains(algorithm) else {
            throw ConnectError(
                .badRequest,
                "This worker does not support the requested signature algorithm (\(algorithm)); permitted: \(permitted.joined(separator: ", "))"
            )
        }
        guard let given = Data(base64Encoded: encoded) else {
            throw ConnectError(.badRequest, "Internal request signature is not valid Base64")
        }
        guard let key else {
            throw ConnectError(
                .serviceUnavailable,
                "This worker is still starting up and has not been able to read a session key from the config topic yet"
            )
        }
        guard let expected = mac(body, key: key.key, algorithm: algorithm),
            constantTimeEqual(expected, Array(given))
        else {
            throw ConnectError(.forbidden, "Internal request contained invalid signature.")
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
