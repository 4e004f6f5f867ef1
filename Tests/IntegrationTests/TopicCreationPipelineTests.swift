import ConnectTestKit
import ConnectWorkerKit
import Foundation
import Kafka
import Testing

/// KIP-158 through a worker on the shared Tansu broker: a source connector's topic.creation.* keys create its topics.
@Suite("Topic creation for source connectors", .serialized, .timeLimit(.minutes(3)))
struct TopicCreationPipelineTests {
    @Test("the topic a source writes to is created with topic.creation.default's partitions before its first record")
    func createdWithDefaultGroup() throws {
        let topic = "created-\(UInt32.random(in: 0...UInt32.max))"
        let runtime = try WorkerFixture.start([
            #"{"name": "gen-\#(topic)", "config": {"connector.class": "DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "users", "iterations": 5, "max.interval": 1, "topic.creation.default.replication.factor": "1", "topic.creation.default.partitions": "3"}}"#
        ])
        defer { runtime.stop() }
        #expect(TopicReader.read(topic, 5).count == 5)
        let admin = try KafkaAdmin(
            config: KafkaClientConfig(["bootstrap.servers": TansuBroker.shared.bootstrapServers]))
        #expect(try admin.describeTopics([topic]).first?.partitions == 3)
    }
}
