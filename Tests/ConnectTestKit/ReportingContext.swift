import ConnectAPI
import Synchronization

/// A sink task's context that collects the records reported as errant.
public final class ReportingContext: SinkTaskContext, ErrantRecordReporter, @unchecked Sendable {
    public let reported = Mutex<[(offset: Int64, error: String)]>([])
    public let withReporter: Bool
    public init(withReporter: Bool) { self.withReporter = withReporter }
    public var configs: [String: String] { [:] }
    public func assignment() -> Set<TopicPartition> { [] }
    public func pause(_ partitions: [TopicPartition]) {}
    public func resume(_ partitions: [TopicPartition]) {}
    public func offset(_ partition: TopicPartition, _ offset: Int64) {}
    public func requestCommit() {}
    public var errantRecordReporter: (any ErrantRecordReporter)? { withReporter ? self : nil }
    public func report(_ record: SinkRecord, error: any Error) throws {
        reported.withLock { $0.append((record.kafkaOffset, ConnectError.describe(error))) }
    }
}
