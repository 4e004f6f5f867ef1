import ConnectAPI
import Kafka
import Synchronization

/// The `ErrantRecordReporter` a sink task gets (Connect's `WorkerErrantRecordReporter`): a record `put` could not
/// process follows the connector's error handling as stage `TASK_PUT`, class `SinkTask` — counted, written to the
/// dead letter queue with the bytes it was consumed as, logged — and the tolerance decides whether the task goes on.
///
/// Thread-safe, as the API promises: a connector may report from `put` on the task thread or from threads of its
/// own (a bulk writer's callbacks). The consumed bytes of the last batch put are kept for those late reports. A
/// report from another thread that exceeds the tolerance throws to its caller and is kept, so the task thread
/// fails the task with it after its next `put`.
final class WorkerErrantRecordReporter: ErrantRecordReporter {
    private let errors: RetryWithToleranceOperator
    /// The consumed records of the batch being (or last) put, by partition and offset.
    private let consumed = Mutex<[TopicPartition: [Int64: KafkaMessage]]>([:])
    private let failure = Mutex<ConnectError?>(nil)

    init(errors: RetryWithToleranceOperator) { self.errors = errors }

    /// The task thread is about to put these records.
    func putting(_ records: [KafkaMessage]) {
        var byPartition: [TopicPartition: [Int64: KafkaMessage]] = [:]
        for m in records { byPartition[TopicPartition(m.topic, m.partition), default: [:]][m.offset] = m }
        consumed.withLock { $0 = byPartition }
    }

    /// The tolerance-exceeded error a report raised, once.
    func takeFailure() -> ConnectError? {
        failure.withLock { f in
            defer { f = nil }; return f
        }
    }

    func report(_ record: SinkRecord, error: any Error) throws {
        let tp = TopicPartition(record.originalTopic, record.originalKafkaPartition ?? 0)
        // A record no longer among the last batch's (reported long after its put) goes without its bytes.
        let raw =
            consumed.withLock { $0[tp]?[record.originalKafkaOffset] }
            ?? KafkaMessage(
                topic: tp.topic, partition: tp.partition, offset: record.originalKafkaOffset, key: nil, value: nil,
                timestamp: record.timestamp, timestampType: .none, headers: [])
        var context = ProcessingContext(consumed: raw)
        do {
            try errors.executeFailed(&context, .taskPut, "org.apache.kafka.connect.sink.SinkTask", error: error)
        } catch {
            let e = ConnectError.wrap(error)
            failure.withLock { $0 = $0 ?? e }
            throw e
        }
    }
}
