import ConnectAPI
import ConnectConverters
import ConnectWorkerKit
import Kafka
import Logging
import Testing

@testable import ConnectRuntime

@Suite struct WorkerConvertersTests {
    func worker(_ props: [String: String]) throws -> Worker {
        try Worker(
            config: WorkerConfig(props), plugins: .builtIn, offsetStore: MemoryOffsetBackingStore(),
            statusStore: StatusStore(workerId: "w:1"), logger: Logger(label: "test"))
    }

    let workerProps = [
        "key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": "false",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
    ]

    @Test("without connector converters the worker's converters and their worker-level settings apply")
    func workerDefaults() throws {
        let c = try worker(workerProps).buildConverters(["name": "x"])
        #expect((c.value as? JsonConverter)?.schemasEnabled == false)
        #expect((c.key as? JsonConverter)?.schemasEnabled == false)
        #expect(c.header is SimpleHeaderConverter)
    }

    @Test("a connector's own converter is configured only from the connector's own prefixed keys")
    func connectorOverride() throws {
        let c = try worker(workerProps).buildConverters([
            "value.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter": "StringConverter",
        ])
        // The worker's value.converter.schemas.enable=false does not leak into the connector's converter.
        #expect((c.value as? JsonConverter)?.schemasEnabled == true)
        #expect(c.key is StringConverter)
        let off = try worker(workerProps).buildConverters([
            "value.converter": "JsonConverter", "value.converter.schemas.enable": "false",
        ])
        #expect((c.value as? JsonConverter) != nil)
        #expect((off.value as? JsonConverter)?.schemasEnabled == false)
    }

    @Test("an unknown worker client key stops start-up and is named")
    func workerClientKeys() throws {
        var props = workerProps
        props["producer.no.such.key"] = "1"
        #expect {
            try Worker.validateClientConfigs(WorkerConfig(props))
        } throws: { error in
            (error as? ConnectError)?.message.hasPrefix("Invalid worker configuration producer.no.such.key") == true
        }
        props["producer.no.such.key"] = nil
        props["consumer.max.poll.records"] = "100"
        try Worker.validateClientConfigs(WorkerConfig(props))
    }

    @Test("a source task's admin client: Connect's client.id, the worker's admin.* keys, then admin.override.*")
    func adminClientConfig() throws {
        var props = workerProps
        props["admin.socket.timeout.ms"] = "7000"
        props["admin.retry.backoff.ms"] = "300"
        let config = try worker(props).adminConfig(
            ConnectorTaskId("orders", 2), ["name": "orders", "admin.override.retry.backoff.ms": "500"])
        #expect(config["client.id"] == "connector-adminclient-orders-2")
        #expect(config["socket.timeout.ms"] == "7000")
        #expect(config["retry.backoff.ms"] == "500")
        #expect(throws: ConnectError.self) {
            try worker(workerProps).adminConfig(ConnectorTaskId("orders", 0), ["admin.override.no.such.key": "1"])
        }
    }
}
