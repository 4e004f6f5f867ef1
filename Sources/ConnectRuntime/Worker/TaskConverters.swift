import ConnectAPI
import Kafka

/// A record ready for the producer.
struct KafkaOutgoingRecord {
    var key: [UInt8]?
    var value: [UInt8]?
    var headers: [KafkaHeader]
}

/// A task's key, value and header converters, applied in Connect's order: for source records headers, then key,
/// then value; for consumed records key, then value, then headers.
struct TaskConverters {
    let key: any Converter
    let value: any Converter
    let header: any HeaderConverter
    /// Connect's class names of the three, for error reports.
    var keyClass = ""
    var valueClass = ""
    var headerClass = ""

    func serialize(_ record: SourceRecord) throws(StagedError) -> KafkaOutgoingRecord {
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(record.headers.count)
        for h in record.headers {
            let bytes = try stage(.headerConverter, headerClass) {
                try header.fromConnectHeader(topic: record.topic, headerKey: h.key, schema: h.schema, value: h.value)
            }
            headers.append(KafkaHeader(key: h.key, value: bytes))
        }
        let k = try stage(.keyConverter, keyClass) {
            try key.fromConnectData(
                topic: record.topic, headers: record.headers, schema: record.keySchema, value: record.key)
        }
        let v = try stage(.valueConverter, valueClass) {
            try value.fromConnectData(
                topic: record.topic, headers: record.headers, schema: record.valueSchema, value: record.value)
        }
        return KafkaOutgoingRecord(key: k, value: v, headers: headers)
    }

    func deserialize(_ message: KafkaMessage) throws(StagedError) -> SinkRecord {
        let k = try stage(.keyConverter, keyClass) {
            try key.toConnectData(topic: message.topic, headers: Headers(), value: message.key)
        }
        let v = try stage(.valueConverter, valueClass) {
            try value.toConnectData(topic: message.topic, headers: Headers(), value: message.value)
        }
        var headers = Headers(capacity: message.headers.count)
        for h in message.headers {
            let sv = try stage(.headerConverter, headerClass) {
                try header.toConnectHeader(topic: message.topic, headerKey: h.key, value: h.value)
            }
            headers.add(h.key, schema: sv.schema, value: sv.value)
        }
        let type: TimestampType =
            switch message.timestampType {
            case .createTime: .createTime
            case .logAppendTime: .logAppendTime
            case .none: .noTimestampType
            }
        return SinkRecord(
            topic: message.topic, kafkaPartition: message.partition, keySchema: k.schema, key: k.value,
            valueSchema: v.schema,
            value: v.value, kafkaOffset: message.offset, timestamp: message.timestamp, timestampType: type,
            headers: headers)
    }

    private func stage<T>(_ stage: ErrorStage, _ className: String, _ body: () throws -> T) throws(StagedError) -> T {
        do {
            return try body()
        } catch {
            throw StagedError(stage: stage, className: className, error: error)
        }
    }
}
