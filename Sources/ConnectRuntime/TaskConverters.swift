import ConnectAPI
import Kafka

/// An error from one processing stage, named as Connect names its stages (`KEY_CONVERTER`, ...).
struct StagedError: Error {
    let stage: String
    let className: String
    let error: any Error
}

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

    func serialize(_ record: SourceRecord) throws(StagedError) -> KafkaOutgoingRecord {
        var headers: [KafkaHeader] = []
        for h in record.headers {
            let bytes = try stage("HEADER_CONVERTER", header) {
                try header.fromConnectHeader(topic: record.topic, headerKey: h.key, schema: h.schema, value: h.value)
            }
            headers.append(KafkaHeader(key: h.key, value: bytes))
        }
        let k = try stage("KEY_CONVERTER", key) {
            try key.fromConnectData(
                topic: record.topic, headers: record.headers, schema: record.keySchema, value: record.key)
        }
        let v = try stage("VALUE_CONVERTER", value) {
            try value.fromConnectData(
                topic: record.topic, headers: record.headers, schema: record.valueSchema, value: record.value)
        }
        return KafkaOutgoingRecord(key: k, value: v, headers: headers)
    }

    func deserialize(_ message: KafkaMessage) throws(StagedError) -> SinkRecord {
        let k = try stage("KEY_CONVERTER", key) {
            try key.toConnectData(topic: message.topic, headers: Headers(), value: message.key)
        }
        let v = try stage("VALUE_CONVERTER", value) {
            try value.toConnectData(topic: message.topic, headers: Headers(), value: message.value)
        }
        var headers = Headers()
        for h in message.headers {
            let sv = try stage("HEADER_CONVERTER", header) {
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

    private func stage<T>(_ name: String, _ plugin: AnyObject, _ body: () throws -> T) throws(StagedError) -> T {
        do {
            return try body()
        } catch {
            throw StagedError(stage: name, className: String(describing: type(of: plugin)), error: error)
        }
    }
}
