import ConnectAPI
import ConnectRuntime
import ConnectWorkerKit
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
    @Test("CONNECT_* environment variables become worker keys as in the cp-kafka-connect image")
    func environment() {
        let env = [
            "CONNECT_BOOTSTRAP_SERVERS": "b:9092", "CONNECT_GROUP_ID": "g", "CONNECT_PLUGIN_PATH": "/p",
            "CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR": "1", "CONNECT_SOME__UNDERSCORE": "u", "CONNECT_A___DASH": "d",
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
