import ConnectTestKit
import Foundation
import Kafka
import Testing

@Suite("Kafka client against a real Tansu broker", .timeLimit(.minutes(2)))
struct KafkaClientTests {
    let broker = TansuBroker.shared

    func uniqueTopic(_ base: String) -> String { "\(base)-\(UInt32.random(in: 0...UInt32.max))" }

    @Test("an unknown client key is a config error that names the key")
    func unknownKeyNamed() {
        #expect {
            _ = try KafkaProducer(
                config: KafkaClientConfig(["bootstrap.servers": broker.bootstrapServers, "no.such.key": "1"]))
        } throws: { error in
            (error as? KafkaError)?.kind == .config && "\(error)".contains("no.such.key")
        }
    }

    @Test("produced records with keys, tombstones and headers are consumed back in order by a group")
    func produceAndConsume() throws {
        let topic = uniqueTopic("kafka-roundtrip")
        let admin = try KafkaAdmin(config: KafkaClientConfig(["bootstrap.servers": broker.bootstrapServers]))
        let created = try admin.createTopics([.init(name: topic, partitions: 1, replicationFactor: 1)])
        #expect(created == [topic])
        #expect(try admin.describeTopics([topic]) == [KafkaTopicDescription(name: topic, partitions: 1)])

        var producerConfig = KafkaClientConfig(KafkaProducer.connectDefaults)
        producerConfig["bootstrap.servers"] = broker.bootstrapServers
        let producer = try KafkaProducer(config: producerConfig)
        for i in 0..<10 {
            try producer.send(
                id: UInt64(i), topic: topic, key: Array("k\(i)".utf8), value: i == 9 ? nil : Array("v\(i)".utf8),
                headers: [KafkaHeader(key: "h", value: Array("\(i)".utf8)), KafkaHeader(key: "n", value: nil)])
        }
        let reports = producer.flush(timeoutMs: 10000)
        #expect(reports.count == 10)
        #expect(reports.allSatisfy { if case .success = $0.result { true } else { false } })

        let consumer = try KafkaConsumer(
            config: KafkaClientConfig([
                "bootstrap.servers": broker.bootstrapServers, "group.id": "g-\(topic)", "auto.offset.reset": "earliest",
                "session.timeout.ms": "6000",
            ]))
        try consumer.subscribe([topic])
        var messages: [KafkaMessage] = []
        var assigned: [KafkaTopicPartition] = []
        let deadline = Date().addingTimeInterval(30)
        while messages.count < 10 && Date() < deadline {
            switch consumer.poll(timeoutMs: 200) {
            case .message(let m)?: messages.append(m)
            case .assigned(let p)?: assigned += p
            default: break
            }
        }
        #expect(assigned == [KafkaTopicPartition(topic, 0)])
        #expect(messages.map(\.offset) == Array(0..<10))
        #expect(messages[0].key == Array("k0".utf8))
        #expect(messages[0].value == Array("v0".utf8))
        #expect(messages[9].value == nil)
        #expect(
            messages[3].headers == [KafkaHeader(key: "h", value: Array("3".utf8)), KafkaHeader(key: "n", value: nil)])

        try consumer.commit([KafkaTopicPartition(topic, 0): 10])
        #expect(try consumer.committed([KafkaTopicPartition(topic, 0)]) == [KafkaTopicPartition(topic, 0): 10])
        consumer.close()
    }

    @Test(
        "a consumer closed while its first join is under way leaves the group usable: the next member gets partitions")
    func closeDuringFirstJoin() throws {
        let topic = uniqueTopic("kafka-early-close")
        let admin = try KafkaAdmin(config: KafkaClientConfig(["bootstrap.servers": broker.bootstrapServers]))
        _ = try admin.createTopics([.init(name: topic, partitions: 1, replicationFactor: 1)])
        let config = KafkaClientConfig([
            "bootstrap.servers": broker.bootstrapServers, "group.id": "g-\(topic)", "session.timeout.ms": "6000",
        ])
        // Tansu keeps a member that leaves between MEMBER_ID_REQUIRED and the join's end as the group's leader,
        // and no later member is ever given partitions; a close that cannot wait for the join does not leave (the
        // session ends the member).
        let early = try KafkaConsumer(config: config)
        try early.subscribe([topic])
        _ = early.poll(timeoutMs: 300)
        early.close()

        let next = try KafkaConsumer(config: config)
        try next.subscribe([topic])
        var assigned: [KafkaTopicPartition] = []
        let deadline = Date().addingTimeInterval(40)
        while assigned.isEmpty && Date() < deadline {
            if case .assigned(let p)? = next.poll(timeoutMs: 200) { assigned = p }
        }
        #expect(assigned == [KafkaTopicPartition(topic, 0)])
        next.close()
    }

    @Test("a consumer closed in the middle of a rejoin (revoked, not yet reassigned) leaves the group usable")
    func closeDuringRejoin() throws {
        let topic = uniqueTopic("kafka-rejoin-close")
        let admin = try KafkaAdmin(config: KafkaClientConfig(["bootstrap.servers": broker.bootstrapServers]))
        _ = try admin.createTopics([.init(name: topic, partitions: 1, replicationFactor: 1)])
        let config = KafkaClientConfig([
            "bootstrap.servers": broker.bootstrapServers, "group.id": "g-\(topic)", "session.timeout.ms": "6000",
        ])
        func poll(_ c: KafkaConsumer, seconds: Double, until done: (ConsumerEvent) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let e = c.poll(timeoutMs: 100), done(e) { return true }
            }
            return false
        }
        let first = try KafkaConsumer(config: config)
        try first.subscribe([topic])
        #expect(poll(first, seconds: 30) { if case .assigned = $0 { true } else { false } })
        // A second member joins: the first is revoked and must rejoin; it is closed before the rejoin completes.
        let second = try KafkaConsumer(config: config)
        try second.subscribe([topic])
        var revoked = false
        let deadline = Date().addingTimeInterval(30)
        while !revoked && Date() < deadline {
            if case .revoked? = first.poll(timeoutMs: 50) { revoked = true }
            _ = second.poll(timeoutMs: 50)
        }
        #expect(revoked)
        first.close()
        var assigned: [KafkaTopicPartition] = []
        _ = poll(second, seconds: 40) { e in
            if case .assigned(let p) = e, !p.isEmpty { assigned = p }
            return !assigned.isEmpty
        }
        #expect(assigned == [KafkaTopicPartition(topic, 0)])
        second.close()
    }
}
