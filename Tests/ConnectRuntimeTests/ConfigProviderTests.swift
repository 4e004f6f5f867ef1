import ConnectAPI
import Foundation
import Testing

@testable import ConnectRuntime

@Suite("Config providers and secret redaction")
struct ConfigProviderTests {
    func files() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("providers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "db.password=s3cr3t-value\nuser=alice\n".write(
            to: dir.appendingPathComponent("secrets.properties"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("k8s"), withIntermediateDirectories: true)
        try "token-from-dir".write(to: dir.appendingPathComponent("k8s/api-token"), atomically: true, encoding: .utf8)
        return dir
    }

    func transformer() throws -> ConfigTransformer {
        try ConfigTransformer(workerProperties: [
            "config.providers": "file,dir,env",
            "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
            "config.providers.dir.class": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
            "config.providers.env.class": "EnvVarConfigProvider",
        ])
    }

    @Test("file, directory and environment references resolve; unknown ones stay as written")
    func resolves() throws {
        let dir = try files()
        let t = try transformer()
        let path = dir.appendingPathComponent("secrets.properties").path
        let out = try t.transform([
            "connection.password": "${file:\(path):db.password}",
            "connection.url": "jdbc:postgresql://db/${file:\(path):user}",
            "api.token": "${dir:\(dir.appendingPathComponent("k8s").path):api-token}",
            "home": "${env:HOME}",
            "other": "${vault:secret/x:y}",
            "missing": "${file:\(path):nope}",
        ])
        #expect(out["connection.password"] == "s3cr3t-value")
        #expect(out["connection.url"] == "jdbc:postgresql://db/alice")
        #expect(out["api.token"] == "token-from-dir")
        #expect(out["home"] == ProcessInfo.processInfo.environment["HOME"])
        #expect(out["other"] == "${vault:secret/x:y}")
        #expect(out["missing"] == "${file:\(path):nope}")
    }

    @Test("an unknown provider class is a config error naming the key")
    func unknownClass() {
        #expect {
            _ = try ConfigTransformer(workerProperties: [
                "config.providers": "x", "config.providers.x.class": "com.example.Nope",
            ])
        } throws: { "\($0)".contains("config.providers.x.class") }
    }

    @Test("task configs put resolved values back as the connector's references")
    func reverse() throws {
        let dir = try files()
        let t = try transformer()
        let raw = [
            "connection.password": "${file:\(dir.appendingPathComponent("secrets.properties").path):db.password}"
        ]
        let resolved = try t.transform(raw)
        let task = t.reverseTransform(
            ["connection.password": "s3cr3t-value", "task.id": "0"], raw: raw, resolved: resolved)
        #expect(task == ["connection.password": raw["connection.password"]!, "task.id": "0"])
    }

    @Test("secret keys read [hidden]; references and ordinary keys show as they are")
    func redaction() {
        #expect(SecretRedaction.isSecret("connection.password"))
        #expect(SecretRedaction.isSecret("consumer.override.sasl.jaas.config"))
        #expect(SecretRedaction.isSecret("aws.secret.access.key"))
        #expect(SecretRedaction.isSecret("anything", type: .password))
        #expect(!SecretRedaction.isSecret("key.converter"))
        #expect(!SecretRedaction.isSecret("topics"))
        for secret in [
            "ssl.key.PASSWORD", "Client.Secret", "ssl.keystore.passphrase", "passphrase", "ssl.key", "gcp.private.key",
            "x.api.key", "s3.access.key", "auth.token", "token", "SASL.JAAS.CONFIG", "ssl.passphrase.",
            "auth.to\u{212A}en",
        ] {
            #expect(SecretRedaction.isSecret(secret), "\(secret)")
        }
        for plain in ["tokens", "passphrase.file", "key", "", "tasks.max", "my.tokenizer", "api.keys"] {
            #expect(!SecretRedaction.isSecret(plain), "\(plain)")
        }
        #expect(
            SecretRedaction.redact([
                "db.password": "hunter22", "api.secret": "${file:/s:k}", "topics": "t",
            ]) == ["db.password": "[hidden]", "api.secret": "${file:/s:k}", "topics": "t"])
        #expect(
            ConnectError.invalidConfig("db.password", "hunter22", "too short").message
                == "Invalid value [hidden] for configuration db.password: too short")
    }

    @Test("the scrubber hides registered values in any text")
    func scrubber() {
        let s = SecretScrubber()
        s.add(["abc", "Sup3rSecret!", "Sup3rSecret!-longer"])
        #expect(s.scrub("x Sup3rSecret!-longer y Sup3rSecret! abc") == "x [hidden] y [hidden] abc")
    }
}
