import ConnectAPI
import ConnectRuntime
import ConnectWorkerKit
import Foundation
import Testing

@Suite struct PropertiesParserTests {
    @Test("parses Java properties syntax: separators, comments, continuations and escapes")
    func parses() throws {
        let text = """
            # comment
            ! also a comment
            bootstrap.servers=localhost:9092
            key.converter : org.apache.kafka.connect.storage.StringConverter
            spaced value with spaces
            long.list=a,\\
                b,\\
                c
            unicode=caf\\u00e9
            tab=a\\tb
            key\\=with\\:colon=x
            empty=
            """
        let p = try PropertiesParser.parse(text)
        #expect(p["bootstrap.servers"] == "localhost:9092")
        #expect(p["key.converter"] == "org.apache.kafka.connect.storage.StringConverter")
        #expect(p["spaced"] == "value with spaces")
        #expect(p["long.list"] == "a,b,c")
        #expect(p["unicode"] == "café")
        #expect(p["tab"] == "a\tb")
        #expect(p["key=with:colon"] == "x")
        #expect(p["empty"] == "")
        #expect(p.count == 8)
    }

    @Test("a malformed unicode escape is an error naming the line")
    func badEscape() {
        #expect {
            _ = try PropertiesParser.parse("a=1\nb=\\u12G4", source: "w.properties")
        } throws: { error in
            (error as? ConnectError)?.message == "Malformed \\uxxxx encoding in w.properties at line 2"
        }
    }
}

@Suite struct WorkerConfigTests {
    @Test("CONNECT_* environment variables become worker keys as in the cp-kafka-connect image (__ is -, ___ is _)")
    func environment() {
        let env = [
            "CONNECT_BOOTSTRAP_SERVERS": "b:9092", "CONNECT_GROUP_ID": "g", "CONNECT_PLUGIN_PATH": "/p",
            "CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR": "1", "CONNECT_SOME___UNDERSCORE": "u", "CONNECT_A__DASH": "d",
            "PATH": "/bin",
        ]
        let o = WorkerConfig.environmentOverrides(env)
        #expect(o["bootstrap.servers"] == "b:9092")
        #expect(o["group.id"] == "g")
        #expect(o["plugin.path"] == "/p")
        #expect(o["config.storage.replication.factor"] == "1")
        #expect(o["some_underscore"] == "u")
        #expect(o["a-dash"] == "d")
        #expect(o.count == 6)
    }

    @Test("converters are required, other keys take Connect's defaults")
    func defaults() throws {
        #expect(throws: ConnectError.self) { try WorkerConfig([:]) }
        let c = try WorkerConfig(["key.converter": "StringConverter", "value.converter": "JsonConverter"])
        #expect(c.bootstrapServers == "localhost:9092")
        #expect(c.rest.listeners == ["http://:8083"])
        #expect(c.offsetFlushInterval == .milliseconds(60000))
        #expect(c.taskShutdownGracefulTimeout == .milliseconds(5000))
    }

    @Test("task client properties layer bootstrap.servers under the worker's prefixed keys")
    func clientProperties() throws {
        let c = try WorkerConfig([
            "key.converter": "x", "value.converter": "y", "bootstrap.servers": "a:1,b:2", "producer.linger.ms": "10",
            "consumer.bootstrap.servers": "c:3",
        ])
        #expect(c.clientProperties(prefix: "producer.") == ["bootstrap.servers": "a:1,b:2", "linger.ms": "10"])
        #expect(c.clientProperties(prefix: "consumer.") == ["bootstrap.servers": "c:3"])
    }
}

@Suite struct DistributedConfigTests {
    let base = [
        "bootstrap.servers": "localhost:9092", "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter", "group.id": "connect-cluster",
        "config.storage.topic": "connect-configs", "offset.storage.topic": "connect-offsets",
        "status.storage.topic": "connect-status",
    ]

    func rejection(_ change: [String: String?]) -> String? {
        var props = base
        for (k, v) in change { props[k] = v }
        do {
            _ = try DistributedConfig(props)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("Connect's defaults for the distributed keys")
    func defaults() throws {
        let c = try DistributedConfig(base)
        #expect(c.groupId == "connect-cluster")
        #expect(c.configReplicationFactor == 3 && c.offsetReplicationFactor == 3 && c.statusReplicationFactor == 3)
        #expect(c.offsetPartitions == 25 && c.statusPartitions == 5)
        #expect(c.sessionTimeout == .seconds(10) && c.heartbeatInterval == .seconds(3))
        #expect(c.rebalanceTimeout == .seconds(60) && c.workerSyncTimeout == .seconds(3))
        #expect(c.workerUnsyncBackoff == .seconds(300) && c.scheduledRebalanceMaxDelayMs == 300_000)
        #expect(c.connectProtocol == .sessioned)
        #expect(c.signatureAlgorithm == "HmacSHA256" && c.verificationAlgorithms == ["HmacSHA256"])
        #expect(c.keySizeBytes == 32 && c.keyTTL == .seconds(3600))
        #expect(try DistributedConfig(base.merging(["connect.protocol": "EAGER"]) { $1 }).connectProtocol == .eager)
    }

    @Test("a missing required key, an unknown protocol, a shared topic or a bad algorithm names the key")
    func rejections() {
        for key in ["group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic"] {
            #expect(rejection([key: nil]) == "Missing required configuration \"\(key)\" which has no default value.")
        }
        #expect(
            rejection(["connect.protocol": "cooperative"])
                == "Invalid value cooperative for configuration connect.protocol: String must be one of (case insensitive): eager, compatible, sessioned"
        )
        #expect(rejection(["status.storage.topic": "connect-configs"])?.contains("'config.storage.topic'") == true)
        #expect(
            rejection(["inter.worker.signature.algorithm": "HmacSHA512"])?.contains("inter.worker.signature.algorithm")
                == true)
        #expect(rejection(["offset.storage.partitions": "0"])?.contains("offset.storage.partitions") == true)
        #expect(rejection(["config.storage.replication.factor": "-1"]) == nil)
        #expect(rejection(["exactly.once.source.support": "enabled"])?.contains("exactly.once.source.support") == true)
    }

    @Test("internal topic settings pass the worker's prefixed keys except the reserved ones")
    func topicSettings() throws {
        let c = try DistributedConfig(
            base.merging([
                "config.storage.min.insync.replicas": "2", "config.storage.cleanup.policy": "delete",
                "config.storage.replication.factor": "1",
            ]) { $1 })
        #expect(c.topicSettings(prefix: "config.storage") == ["min.insync.replicas": "2"])
    }
}

@Suite struct InternalRequestSignatureTests {
    let key = SessionKey(key: Array(repeating: 7, count: 32), algorithm: "HmacSHA256", creationTimestamp: 0)
    let body = Array(#"[{"task.class":"T"}]"#.utf8)

    func headers(_ pairs: [(String, String)]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: pairs.map { ($0.0.lowercased(), $0.1) })
    }

    @Test("HMAC-SHA256 over the exact body, Base64, verified; a changed body or key is 403, none is 400 or 503")
    func signAndVerify() throws {
        let signed = InternalRequestSignature.headers(for: body, key: key, algorithm: "HmacSHA256")
        #expect(
            signed[0].0 == "X-Connect-Authorization"
                && signed[1] == ("X-Connect-Request-Signature-Algorithm", "HmacSHA256"))
        try InternalRequestSignature.verify(body: body, headers: headers(signed), key: key, permitted: ["HmacSHA256"])
        func failure(_ b: [UInt8], _ h: [String: String], _ k: SessionKey?) -> (String, String)? {
            do {
                try InternalRequestSignature.verify(body: b, headers: h, key: k, permitted: ["HmacSHA256"])
                return nil
            } catch {
                return (error.kind.httpStatus.map(String.init) ?? error.kind.className, error.message)
            }
        }
        #expect(failure(body + [32], headers(signed), key)! == ("403", "Internal request contained invalid signature."))
        var other = key
        other.key[0] = 8
        #expect(failure(body, headers(signed), other)?.0 == "403")
        #expect(failure(body, [:], key)?.1 == "Internal request missing required signature")
        #expect(
            failure(body, headers(signed), nil)?.1
                == "This worker is still starting up and has not been able to read a session key from the config topic yet"
        )
    }

    @Test("the signature is the one Python's hmac computes for the same key and body")
    func knownVector() {
        // python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(bytes([7]*32),b"[{\"task.class\":\"T\"}]",hashlib.sha256).digest()).decode())'
        let mac = InternalRequestSignature.mac(body, key: key.key, algorithm: "HmacSHA256")!
        #expect(Data(mac).base64EncodedString() == "UqjAheo+p7v+InyWKlWtG6oc2eCwy+gcEk8zxMomrHQ=")
    }
}
