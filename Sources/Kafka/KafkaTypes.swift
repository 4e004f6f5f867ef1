/// A topic partition, with an offset where one is meant.
public struct KafkaTopicPartition: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)-\(partition)" }
}

/// Kafka's timestamp type of a consumed record.
public enum KafkaTimestampType: Sendable {
    case none, createTime, logAppendTime
}

/// A record header; a nil value is allowed, as in Kafka.
public struct KafkaHeader: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// A consumed record. A nil value is a tombstone.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var timestamp: Int64?
    public var timestampType: KafkaTimestampType
    public var headers: [KafkaHeader]

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, timestamp: Int64?,
        timestampType: KafkaTimestampType, headers: [KafkaHeader]
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.headers = headers
    }
}

/// The outcome of one produced record.
public struct DeliveryReport: Sendable {
    /// The id the producer was given with the record.
    public var id: UInt64
    public var result: Result<(partition: Int32, offset: Int64), KafkaError>
}

/// Topic metadata from the broker.
public struct KafkaTopicDescription: Sendable, Equatable {
    public var name: String
    public var partitions: Int

    public init(name: String, partitions: Int) {
        self.name = name
        self.partitions = partitions
    }
}
