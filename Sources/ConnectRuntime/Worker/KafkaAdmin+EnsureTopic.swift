import ConnectAPI
import Kafka

extension KafkaAdmin {
    /// Creates a topic the worker writes to itself (a dead letter queue, the metrics topic) when it is missing: one
    /// partition, the given replication factor. A failure names the topic and the key that sets the factor.
    func ensureTopic(_ topic: String, replicationFactor: Int16, describing what: String, key: String) throws {
        do {
            guard try describeTopics([topic]).isEmpty else { return }
            try createTopics([.init(name: topic, partitions: 1, replicationFactor: Int32(replicationFactor))])
        } catch {
            throw ConnectError.connect(
                "Could not create \(what) \(topic) with replication factor \(replicationFactor) (\(key))",
                cause: ConnectError.wrap(error))
        }
    }
}
