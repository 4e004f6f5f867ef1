/// A header on a Connect record: a key and a schema'd value.
public struct Header: Sendable, Equatable {
    public var key: String
    public var schema: Schema?
    public var value: Value?

    public init(key: String, schema: Schema?, value: Value?) {
        self.key = key
        self.schema = schema
        self.value = value
    }
}

/// The ordered headers of a record; keys may repeat, as in Kafka.
public struct Headers: Sendable, Equatable, Sequence {
    public private(set) var all: [Header]

    public init(_ headers: [Header] = []) { all = headers }

    /// No headers yet, with room for `capacity` without growing.
    public init(capacity: Int) {
        all = []
        all.reserveCapacity(capacity)
    }

    public var count: Int { all.count }
    public var isEmpty: Bool { all.isEmpty }

    public mutating func add(_ key: String, schema: Schema?, value: Value?) {
        all.append(Header(key: key, schema: schema, value: value))
    }
    public mutating func addString(_ key: String, _ value: String?) {
        add(key, schema: Schema.optionalString, value: value.map { .string($0) })
    }
    public mutating func addInt64(_ key: String, _ value: Int64) {
        add(key, schema: Schema.int64, value: .int64(value))
    }
    public mutating func remove(_ key: String) { all.removeAll { $0.key == key } }
    public func last(_ key: String) -> Header? { all.last { $0.key == key } }
    public func makeIterator() -> IndexingIterator<[Header]> { all.makeIterator() }
}

/// A source partition or offset map, as connectors give them to Connect (`Map<String, ?>`).
public typealias OffsetMap = [String: Value]

/// What every Connect record has; transforms are written against this (`ConnectRecord<R>`).
public protocol ConnectRecord: Sendable {
    var topic: String { get }
    var kafkaPartition: Int32? { get }
    var keySchema: Schema? { get }
    var key: Value? { get }
    var valueSchema: Schema? { get }
    var value: Value? { get }
    var timestamp: Int64? { get }
    var headers: Headers { get }

    /// A copy with new routing and data, keeping what the record type adds (offsets, source partition).
    func newRecord(
        topic: String, kafkaPartition: Int32?, keySchema: Schema?, key: Value?, valueSchema: Schema?, value: Value?,
        timestamp: Int64?, headers: Headers
    ) -> Self
}

/// A record produced by a source task.
public struct SourceRecord: ConnectRecord, Equatable {
    public var sourcePartition: OffsetMap?
    public var sourceOffset: OffsetMap?
    public var topic: String
    public var kafkaPartition: Int32?
    public var keySchema: Schema?
    public var key: Value?
    public var valueSchema: Schema?
    public var value: Value?
    public var timestamp: Int64?
    public var headers: Headers

    public init(
        sourcePartition: OffsetMap?, sourceOffset: OffsetMap?, topic: String, kafkaPartition: Int32? = nil,
        keySchema: Schema? = nil, key: Value? = nil, valueSchema: Schema?, value: Value?, timestamp: Int64? = nil,
        headers: Headers = Headers()
    ) {
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
        self.topic = topic
        self.kafkaPartition = kafkaPartition
        self.keySchema = keySchema
        self.key = key
        self.valueSchema = valueSchema
        self.value = value
        self.timestamp = timestamp
        self.headers = headers
    }

    public func newRecord(
        topic: String, kafkaPartition: Int32?, keySchema: Schema?, key: Value?, valueSchema: Schema?, value: Value?,
        timestamp: Int64?, headers: Headers
    ) -> SourceRecord {
        SourceRecord(
            sourcePartition: sourcePartition, sourceOffset: sourceOffset, topic: topic, kafkaPartition: kafkaPartition,
            keySchema: keySchema, key: key, valueSchema: valueSchema, value: value, timestamp: timestamp,
            headers: headers)
    }
}

/// Kafka's timestamp types, named as Connect prints them.
public enum TimestampType: String, Sendable {
    case noTimestampType = "NoTimestampType"
    case createTime = "CreateTime"
    case logAppendTime = "LogAppendTime"
}

/// A record delivered to a sink task.
public struct SinkRecord: ConnectRecord, Equatable {
    public var topic: String
    public var kafkaPartition: Int32?
    public var kafkaOffset: Int64
    public var keySchema: Schema?
    public var key: Value?
    public var valueSchema: Schema?
    public var value: Value?
    public var timestamp: Int64?
    public var timestampType: TimestampType
    public var headers: Headers
    /// Where the record was consumed from, kept when transforms reroute it (KIP-793).
    public var originalTopic: String
    public var originalKafkaPartition: Int32?
    public var originalKafkaOffset: Int64

    public init(
        topic: String, kafkaPartition: Int32?, keySchema: Schema?, key: Value?, valueSchema: Schema?, value: Value?,
        kafkaOffset: Int64, timestamp: Int64? = nil, timestampType: TimestampType = .noTimestampType,
        headers: Headers = Headers()
    ) {
        self.topic = topic
        self.kafkaPartition = kafkaPartition
        self.kafkaOffset = kafkaOffset
        self.keySchema = keySchema
        self.key = key
        self.valueSchema = valueSchema
        self.value = value
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.headers = headers
        self.originalTopic = topic
        self.originalKafkaPartition = kafkaPartition
        self.originalKafkaOffset = kafkaOffset
    }

    public func newRecord(
        topic: String, kafkaPartition: Int32?, keySchema: Schema?, key: Value?, valueSchema: Schema?, value: Value?,
        timestamp: Int64?, headers: Headers
    ) -> SinkRecord {
        var r = self
        r.topic = topic
        r.kafkaPartition = kafkaPartition
        r.keySchema = keySchema
        r.key = key
        r.valueSchema = valueSchema
        r.value = value
        r.timestamp = timestamp
        r.headers = headers
        return r
    }
}

/// A Kafka topic partition.
public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)-\(partition)" }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}
