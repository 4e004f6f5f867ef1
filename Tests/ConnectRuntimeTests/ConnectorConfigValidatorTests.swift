import ConnectAPI
import ConnectRuntime
import ConnectWorkerKit
import Testing

@Suite struct PluginRegistryTests {
    let registry = PluginRegistry.builtIn

    @Test(
        "connectors are found by full class name, simple name and alias",
        arguments: [
            "org.apache.kafka.connect.file.FileStreamSinkConnector", "FileStreamSinkConnector", "FileStreamSink",
        ])
    func aliases(name: String) {
        #expect(
            registry.find(name, types: [.sink, .source])?.className
                == "org.apache.kafka.connect.file.FileStreamSinkConnector")
    }

    @Test("datagen answers to its Confluent class name and to DatagenConnector")
    func datagen() {
        #expect(
            registry.find("DatagenConnector", types: [.source])?.className
                == "io.confluent.kafka.connect.datagen.DatagenConnector")
        #expect(registry.find("io.confluent.kafka.connect.datagen.DatagenConnector", types: [.source]) != nil)
    }

    @Test("an unknown connector class gets Connect's message listing what is available")
    func unknown() {
        #expect {
            _ = try registry.newConnector("com.example.Nope")
        } throws: { error in
            let m = (error as? ConnectError)?.message ?? ""
            return m.hasPrefix(
                "Failed to find any class that implements Connector and which name matches com.example.Nope, available connectors are: "
            )
                && m.contains("io.confluent.kafka.connect.datagen.DatagenConnector")
        }
    }
}

@Suite struct ConnectorConfigValidatorTests {
    let validator = ConnectorConfigValidator(plugins: .builtIn)

    @Test("a valid datagen config has no errors")
    func valid() throws {
        let infos = try validator.validate([
            "name": "d", "connector.class": "DatagenConnector", "kafka.topic": "t", "quickstart": "orders",
            "max.interval": "750",
        ])
        #expect(infos.errorCount == 0)
        #expect(infos.name == "io.confluent.kafka.connect.datagen.DatagenConnector")
        #expect(infos.groups.first == "Common")
    }

    @Test("a missing required key is reported with Connect's wording")
    func missingKey() throws {
        let infos = try validator.validate(["name": "d", "connector.class": "DatagenConnector", "quickstart": "orders"])
        #expect(infos.errorMessages == ["Missing required configuration \"kafka.topic\" which has no default value."])
        #expect(
            ConnectorConfigValidator.invalidMessage(infos) == """
                Connector configuration is invalid and contains the following 1 error(s):
                Missing required configuration "kafka.topic" which has no default value.
                You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`
                """)
    }

    @Test("sink topics rules: exactly one of topics and topics.regex")
    func sinkTopics() throws {
        let none = try validator.validate(["name": "s", "connector.class": "FileStreamSink"])
        #expect(
            none.errorMessages == [
                "Must configure one of topics or topics.regex", "Must configure one of topics or topics.regex",
            ])
        let both = try validator.validate([
            "name": "s", "connector.class": "FileStreamSink", "topics": "a", "topics.regex": "a.*",
        ])
        #expect(both.errorCount == 2)
        #expect(both.errorMessages[0] == "topics and topics.regex are mutually exclusive options, but both are set.")
    }

    @Test(
        "the DLQ topic may not be consumed: under topics with the list as Java prints it, under topics.regex when the regex matches it"
    )
    func dlqAmongTopics() throws {
        func errors(_ extra: [String: String]) throws -> [(String, [String])] {
            let infos = try validator.validate(
                ["name": "s", "connector.class": "FileStreamSink"].merging(extra) { $1 })
            return infos.configs.filter { !$0.errors.isEmpty }.map { ($0.name, $0.errors) }
        }
        let listed = try errors(["topics": "a, b", "errors.deadletterqueue.topic.name": "b"])
        #expect(listed.map(\.0) == ["topics"])
        #expect(
            listed.first?.1 == [
                "The DLQ topic 'b' may not be included in the list of topics ('topics=[a, b]') consumed by the connector"
            ])
        let matched = try errors(["topics.regex": "orders-.*", "errors.deadletterqueue.topic.name": "orders-dlq"])
        #expect(matched.map(\.0) == ["topics.regex"])
        #expect(
            matched.first?.1 == [
                "The DLQ topic 'orders-dlq' may not be included in the regex matching the topics ('topics.regex=orders-.*') consumed by the connector"
            ])
        #expect(try errors(["topics.regex": "orders-.*", "errors.deadletterqueue.topic.name": "dlq-orders"]).isEmpty)
        #expect(try errors(["topics": "a,b", "errors.deadletterqueue.topic.name": "c"]).isEmpty)
    }

    @Test("bad values name the key: tasks.max, converters, unknown quickstart")
    func badValues() throws {
        let infos = try validator.validate([
            "name": "d", "connector.class": "DatagenConnector", "kafka.topic": "t", "quickstart": "nope",
            "tasks.max": "0",
            "value.converter": "com.example.Missing",
        ])
        #expect(infos.errorMessages.contains("Invalid value 0 for configuration tasks.max: Value must be at least 1"))
        #expect(
            infos.errorMessages.contains(
                "Invalid value com.example.Missing for configuration value.converter: Class com.example.Missing could not be found."
            ))
        #expect(
            infos.errorMessages.contains {
                $0.hasPrefix("Invalid value nope for configuration quickstart: Unknown quickstart")
            })
    }

    @Test("a config without connector.class is a bad request")
    func noClass() {
        #expect {
            _ = try validator.validate(["name": "x"])
        } throws: { error in
            (error as? ConnectError)?.kind == .badRequest
                && (error as? ConnectError)?.message == "Connector config {name=x} contains no connector type"
        }
    }

    @Test("transforms are never silently ignored: each alias needs a known type")
    func transformChain() throws {
        let infos = try validator.validate([
            "name": "d", "connector.class": "FileStreamSink", "topics": "t", "transforms": "a,b",
            "transforms.a.type": "com.example.Nope", "transforms.b.predicate": "p", "predicates": "",
        ])
        #expect(
            infos.errorMessages.contains(
                "Invalid value com.example.Nope for configuration transforms.a.type: Class com.example.Nope could not be found."
            ))
        #expect(
            infos.errorMessages.contains(
                "Missing required configuration \"transforms.b.type\" which has no default value."))
        #expect(
            infos.errorMessages.contains(
                "Invalid value p for configuration transforms.b.predicate: Predicate 'p' not found in predicates"))
    }

    @Test("a known transform's own keys are validated under its alias")
    func transformKeys() throws {
        let infos = try validator.validate([
            "name": "d", "connector.class": "FileStreamSink", "topics": "t", "transforms": "castValues",
            "transforms.castValues.type": "org.apache.kafka.connect.transforms.Cast$Value",
            "transforms.castValues.negate": "true",
        ])
        #expect(
            infos.errorMessages.contains(
                "Missing required configuration \"transforms.castValues.spec\" which has no default value."))
        #expect(
            infos.errorMessages.contains(
                "Invalid value true for configuration transforms.castValues.negate: 'negate' requires 'predicate' to be set"
            ))
        let bad = try validator.validate([
            "name": "d", "connector.class": "FileStreamSink", "topics": "t", "transforms": "r",
            "transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter", "transforms.r.regex": "(",
            "transforms.r.replacement": "x",
        ])
        #expect(
            bad.errorMessages.first?.hasPrefix("Invalid value ( for configuration transforms.r.regex: Invalid regex")
                == true)
    }

    @Test("client overrides are checked against librdkafka and the key is named")
    func clientOverrides() throws {
        let infos = try validator.validate([
            "name": "s", "connector.class": "FileStreamSink", "topics": "t", "consumer.override.no.such.setting": "1",
            "consumer.override.max.poll.records": "10", "producer.override.linger.ms": "5",
        ])
        #expect(infos.errorCount == 1)
        #expect(
            infos.errorMessages[0].hasPrefix(
                "Invalid value 1 for configuration consumer.override.no.such.setting: Unknown Kafka client configuration property 'no.such.setting'"
            ))
    }
}
