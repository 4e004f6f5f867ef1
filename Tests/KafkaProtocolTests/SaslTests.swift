import Crypto
import Foundation
import Testing

@testable import KafkaProtocol

@Suite("SASL for the group membership client: settings, PLAIN and SCRAM")
struct SaslTests {
    @Test("SCRAM-SHA-256 reproduces RFC 7677's example exchange byte for byte")
    func scramRFC7677() throws {
        var sent: [String] = []
        let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        try SaslAuthenticator.scram(
            SHA256.self, username: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO"
        ) { bytes throws(KafkaProtocolError) in
            sent.append(String(decoding: bytes, as: UTF8.self))
            return Array((sent.count == 1 ? serverFirst : serverFinal).utf8)
        }
        #expect(
            sent == [
                "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
                "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            ])
    }

    @Test("a server signature that does not match, or a server error, fails the authentication")
    func scramRejections() {
        let serverFirst = "r=abcSERVER,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=16"
        for final in ["v=AAAA", "e=invalid-proof"] {
            var round = 0
            #expect(throws: KafkaProtocolError.self) {
                try SaslAuthenticator.scram(SHA512.self, username: "u", password: "p", nonce: "abc") {
                    _ throws(KafkaProtocolError) in
                    round += 1
                    return Array((round == 1 ? serverFirst : final).utf8)
                }
            }
        }
        // A server nonce that does not extend the client's is refused before any proof is sent.
        var rounds = 0
        #expect(throws: KafkaProtocolError.self) {
            try SaslAuthenticator.scram(SHA256.self, username: "u", password: "p", nonce: "abc") {
                _ throws(KafkaProtocolError) in
                rounds += 1
                return Array("r=other,s=AAAA,i=16".utf8)
            }
        }
        #expect(rounds == 1)
    }

    @Test("settings from Java's or librdkafka's keys; an unknown protocol or mechanism is an error naming the key")
    func settings() throws {
        #expect(try KafkaSecurity.from([:]) == .plaintext)
        let jaas = try KafkaSecurity.from([
            "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.jaas.config":
                #"org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="s3\"cret";"#,
        ])
        #expect(jaas == KafkaSecurity(mechanism: .scramSHA512, username: "connect", password: #"s3"cret"#))
        let rd = try KafkaSecurity.from([
            "security.protocol": "sasl_plaintext", "sasl.mechanisms": "PLAIN", "sasl.username": "a",
            "sasl.password": "b",
        ])
        #expect(rd == KafkaSecurity(mechanism: .plain, username: "a", password: "b"))
        func message(_ props: [String: String]) -> String {
            do {
                _ = try KafkaSecurity.from(props)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(message(["security.protocol": "TLS"]).contains("Invalid value TLS for configuration security.protocol"))
        #expect(message(["security.protocol": "SASL_PLAINTEXT"]).contains("sasl.mechanism=GSSAPI"))
        #expect(
            message(["security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN"]).contains("sasl.jaas.config"))
    }

    @Test("SaslHandshake v1 and SaslAuthenticate v1 bodies as Kafka lays them out")
    func wire() {
        var w = ByteWriter()
        SaslHandshakeRequest(mechanism: "PLAIN").encode(into: &w)
        #expect(w.bytes == [0, 5] + Array("PLAIN".utf8))
        var a = ByteWriter()
        SaslAuthenticateRequest(authBytes: [0, 117, 0, 112]).encode(into: &a)
        #expect(a.bytes == [0, 0, 0, 4, 0, 117, 0, 112])
        var r = ByteReader([0, 0, 255, 255, 0, 0, 0, 1, 42] + [0, 0, 0, 0, 0, 0, 0, 9])
        let response = try? SaslAuthenticateRequest.decodeResponse(&r)
        #expect(response == .init(errorCode: .none, errorMessage: nil, authBytes: [42], sessionLifetimeMs: 9))
    }
}
