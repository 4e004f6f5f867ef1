import CRdKafka

/// Owns one `rd_kafka_topic_partition_list_t`, destroyed with it, so no call site frees a list by hand. The C list is
/// lent out only inside `withPointer`, which keeps its owner alive for the call.
final class RDKafkaTopicPartitionList {
    private let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    /// A list of these partitions, each at `offset` (`RD_KAFKA_OFFSET_INVALID` when none is meant).
    init(_ offsets: [KafkaTopicPartition: Int64]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        for (tp, offset) in offsets {
            rd_kafka_topic_partition_list_add(pointer, tp.topic, tp.partition).pointee.offset = offset
        }
    }

    convenience init(_ partitions: [KafkaTopicPartition]) {
        self.init(
            Dictionary(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Subscriptions: topic names (or `^` patterns) with no partition.
    init(topics: [String]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        for t in topics { rd_kafka_topic_partition_list_add(pointer, t, RD_KAFKA_PARTITION_UA) }
    }

    /// Takes ownership of a list librdkafka handed over (`rd_kafka_assignment`, `rd_kafka_topic_partition_list_copy`).
    init(adopting pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) { self.pointer = pointer }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    /// Lends the C list to `body`; the list lives at least until `body` returns.
    func withPointer<R>(_ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(pointer) }
    }

    private var elements: UnsafeBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeBufferPointer(start: pointer.pointee.elems, count: Int(pointer.pointee.cnt))
    }

    var partitions: [KafkaTopicPartition] { Self.partitions(of: pointer) }

    /// Each partition's offset, for those that have one (`>= 0`).
    var offsets: [KafkaTopicPartition: Int64] {
        var out: [KafkaTopicPartition: Int64] = [:]
        for e in elements where e.offset >= 0 {
            out[KafkaTopicPartition(String(cString: e.topic), e.partition)] = e.offset
        }
        return out
    }

    /// The first per-partition error, if any.
    var firstError: rd_kafka_resp_err_t? { elements.first { $0.err != RD_KAFKA_RESP_ERR_NO_ERROR }?.err }

    /// The partitions of a list this type does not own (one librdkafka lends for the length of a call).
    static func partitions(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition] {
        (0..<Int(list.pointee.cnt)).map { i in
            KafkaTopicPartition(String(cString: list.pointee.elems[i].topic), list.pointee.elems[i].partition)
        }
    }
}
