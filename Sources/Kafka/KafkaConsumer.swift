import CRdKafka
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a consumer poll returns.
public enum ConsumerEvent: Sendable {
    case message(KafkaMessage)
    /// Partitions newly assigned by a group rebalance (already assigned when this is returned).
    case assigned([KafkaTopicPartition])
    /// Partitions about to be taken away; the caller commits what it must, then calls `completeRevocation`.
    case revoked([KafkaTopicPartition])
    case error(KafkaError)
}

/// A group consumer with manual commits. Rebalances arrive as events from `poll`, so the owner commits and
/// cleans up on its own thread before partitions move.
///
/// `@unchecked Sendable`: `poll`, `completeRevocation` and `close` must be called from one thread, the owner's (a
/// sink task's); they alone touch `pendingRevocation`, `cooperative` and `lastTopic`. Every other method only calls librdkafka,
/// whose consumer is thread-safe.
public final class KafkaConsumer: @unchecked Sendable {
    private let client: RDKafkaClient
    /// The partitions of the last `.revoked` event, until the owner completes the revocation.
    private var pendingRevocation: RDKafkaTopicPartitionList?
    private var cooperative = false
    /// Whether the consumer is between joins: subscribed and not yet assigned, or revoked and not yet reassigned.
    private var joining = false
    /// Set by `close`: nothing reaches librdkafka afterwards (its handle may be gone).
    private let closed = Atomic<Bool>(false)
    private var isClosed: Bool { closed.load(ordering: .acquiring) }
    private static let closedError = KafkaError(kind: .fatal, message: "The consumer is closed")

    public init(
        config: KafkaClientConfig, logger: Logger = Logger(label: "org.apache.kafka.clients.consumer")
    ) throws(KafkaError) {
        var config = config
        config["enable.auto.commit"] = config["enable.auto.commit"] ?? "false"
        config["enable.auto.offset.store"] = "false"
        client = try RDKafkaClient(
            role: .consumer, config: config, events: RD_KAFKA_EVENT_REBALANCE | RD_KAFKA_EVENT_FETCH, logger: logger)
    }

    /// Subscribes to topics; a name starting with `^` is a regular expression.
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        guard !isClosed else { throw Self.closedError }
        let err = RDKafkaTopicPartitionList(topics: topics).withPointer { rd_kafka_subscribe(client.handle, $0) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, "Subscribe failed") }
        joining = true
    }

    /// Waits up to `timeoutMs` for the next event.
    public func poll(timeoutMs: Int32) -> ConsumerEvent? {
        guard !isClosed else { return nil }
        var wait = timeoutMs
        while let event = rd_kafka_queue_poll(client.queue, wait) {
            defer { rd_kafka_event_destroy(event) }
            wait = 0
            if client.handleCommonEvent(event) { continue }
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_FETCH:
                guard let msg = rd_kafka_event_message_next(event) else { continue }
                if msg.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    if msg.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
                    return .error(KafkaError(msg.pointee.err, "Fetch failed"))
                }
                return .message(Self.message(msg, topic: topicName(msg.pointee.rkt)))
            case RD_KAFKA_EVENT_REBALANCE:
                return handleRebalance(event)
            default:
                continue
            }
        }
        return nil
    }

    private func handleRebalance(_ event: OpaquePointer) -> ConsumerEvent? {
        let partitions = rd_kafka_event_topic_partition_list(event)!
        let list = RDKafkaTopicPartitionList.partitions(of: partitions)
        cooperative = String(cString: rd_kafka_rebalance_protocol(client.handle)) == "COOPERATIVE"
        switch rd_kafka_event_error(event) {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if cooperative {
                if let e = rd_kafka_incremental_assign(client.handle, partitions) {
                    return .error(KafkaError(owning: e))
                }
            } else {
                let err = rd_kafka_assign(client.handle, partitions)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { return .error(KafkaError(err, "Assign failed")) }
            }
            joining = false
            return .assigned(list)
        default:
            joining = true
            // Revocation is completed by the owner once it has committed.
            pendingRevocation = RDKafkaTopicPartitionList(adopting: rd_kafka_topic_partition_list_copy(partitions))
            return .revoked(list)
        }
    }

    /// Gives up the partitions of the last `.revoked` event.
    public func completeRevocation() {
        guard !isClosed else { return }
        guard let list = pendingRevocation else { return }
        pendingRevocation = nil
        if cooperative {
            if let e = list.withPointer({ rd_kafka_incremental_unassign(client.handle, $0) }) {
                rd_kafka_error_destroy(e)
            }
        } else {
            _ = rd_kafka_assign(client.handle, nil)
        }
    }

    /// Reads these partitions from these offsets, outside any group rebalance (a reader, not a group member).
    public func assign(_ offsets: [KafkaTopicPartition: Int64]) throws(KafkaError) {
        guard !isClosed else { throw Self.closedError }
        let err = RDKafkaTopicPartitionList(offsets).withPointer { rd_kafka_assign(client.handle, $0) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, "Assigning partitions failed") }
    }

    /// Commits the given next-offsets synchronously.
    public func commit(_ offsets: [KafkaTopicPartition: Int64]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        guard !isClosed else { throw Self.closedError }
        let err = RDKafkaTopicPartitionList(offsets).withPointer { rd_kafka_commit(client.handle, $0, 0) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(err, "Offset commit failed")
        }
    }

    /// The group's committed next-offsets for the given partitions (absent when none).
    public func committed(
        _ partitions: [KafkaTopicPartition], timeoutMs: Int32 = 10000
    ) throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        guard !isClosed else { throw Self.closedError }
        let list = RDKafkaTopicPartitionList(partitions)
        let err = list.withPointer { rd_kafka_committed(client.handle, $0, timeoutMs) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, "Fetching committed offsets failed") }
        return list.offsets
    }

    /// The partition's low and high watermarks, asked of the broker (blocks up to `timeoutMs`).
    public func queryWatermarks(
        _ partition: KafkaTopicPartition, timeoutMs: Int32 = 2000
    ) throws(KafkaError) -> (low: Int64, high: Int64) {
        guard !isClosed else { throw Self.closedError }
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(
            client.handle, partition.topic, partition.partition, &low, &high, timeoutMs)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, "Watermark query for \(partition) failed") }
        return (low, high)
    }

    /// The watermarks the client last saw, without asking the broker: the high one arrives with every fetch
    /// response, the low one with statistics. Nil when the client has none for the partition yet.
    public func cachedWatermarks(_ partition: KafkaTopicPartition) -> (low: Int64, high: Int64)? {
        guard !isClosed else { return nil }
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    public func pause(_ partitions: [KafkaTopicPartition]) {
        apply(partitions) { rd_kafka_pause_partitions(client.handle, $0) }
    }

    public func resume(_ partitions: [KafkaTopicPartition]) {
        apply(partitions) { rd_kafka_resume_partitions(client.handle, $0) }
    }

    /// Moves the fetch position of an assigned partition.
    public func seek(_ partition: KafkaTopicPartition, to offset: Int64) throws(KafkaError) {
        guard !isClosed else { throw Self.closedError }
        let list = RDKafkaTopicPartitionList([partition: offset])
        if let e = list.withPointer({ rd_kafka_seek_partitions(client.handle, $0, 5000) }) {
            throw KafkaError(owning: e)
        }
        if let err = list.firstError { throw KafkaError(err, "Seek failed") }
    }

    /// The current assignment.
    public func assignment() -> [KafkaTopicPartition] {
        guard !isClosed else { return [] }
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        return RDKafkaTopicPartitionList(adopting: list).partitions
    }

    /// Leaves the group. Pending revocations are completed first. Nothing may use the consumer afterwards (its
    /// methods then do nothing or throw).
    ///
    /// A consumer caught in the middle of a group join (its first, or a rejoin after a revocation) first waits up
    /// to `joinWait` for the join to complete, so it leaves a stable group. If the join does not complete in time
    /// (it holds no partitions then, and has nothing to commit), it is destroyed without sending LeaveGroup and the
    /// broker ends its membership at its session timeout, as for a consumer that crashed: a member that leaves while
    /// its group rebalances stays in Tansu's group as a leader that never syncs, and no later member is ever given a
    /// partition (found by `scripts/test-chaos`: a sink task stopped during its consumer's join left its connector
    /// with no partitions for good). Apache Kafka processes such a leave; there the bound only delays the close.
    public func close(joinWait: Duration = .zero) {
        guard !isClosed else { return }
        completeRevocation()
        let deadline = ContinuousClock.now + joinWait
        // A rebalance may have completed or begun since the owner's last poll: its events wait in the queue.
        var drained = 0
        while drained < 10_000, let event = poll(timeoutMs: 0) {
            if case .revoked = event { completeRevocation() }
            drained += 1
        }
        while joining, ContinuousClock.now < deadline {
            let leftMs = (deadline - ContinuousClock.now) / .milliseconds(1)
            if case .revoked? = poll(timeoutMs: Int32(max(1, min(100, leftMs)))) { completeRevocation() }
        }
        completeRevocation()
        closed.store(true, ordering: .releasing)
        if joining {
            client.logger.info(
                "Closing the consumer in the middle of a group join: its session ends it instead of a leave")
            client.destroyWithoutConsumerClose()
            return
        }
        _ = rd_kafka_consumer_close(client.handle)
    }

    public func describeTopics(
        _ names: [String]? = nil, timeoutMs: Int32 = 5000
    ) throws(KafkaError) -> [KafkaTopicDescription] {
        guard !isClosed else { throw Self.closedError }
        return try client.describeTopics(names, timeoutMs: timeoutMs)
    }

    public var lastStatistics: String? { client.lastStatistics }

    /// The last error the client reported (connection, authentication, TLS), if any.
    public var lastError: String? { client.lastError }

    /// Calls `handler` with each statistics document (every `statistics.interval.ms`), on the thread that polls.
    public func onStatistics(_ handler: @escaping @Sendable (String) -> Void) { client.onStatistics(handler) }

    private func apply(
        _ partitions: [KafkaTopicPartition],
        _ op: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> rd_kafka_resp_err_t
    ) {
        guard !partitions.isEmpty, !isClosed else { return }
        let err = RDKafkaTopicPartitionList(partitions).withPointer(op)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            client.logger.warning("Pause/resume of \(partitions) failed: \(String(cString: rd_kafka_err2str(err)))")
        }
    }

    /// The last topic name a message had: the next message's is compared with it (a poll's messages mostly share a
    /// topic) rather than copied into a new `String`.
    private var lastTopic: String?

    private func topicName(_ rkt: OpaquePointer?) -> String? {
        guard let rkt, let cName = rd_kafka_topic_name(rkt) else { return nil }
        if let lastTopic, lastTopic.withCString({ strcmp($0, cName) == 0 }) { return lastTopic }
        let name = String(cString: cName)
        lastTopic = name
        return name
    }

    static func message(_ msg: UnsafePointer<rd_kafka_message_t>, topic: String? = nil) -> KafkaMessage {
        let m = msg.pointee
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) }
        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(msg, &tsType)
        var headers: [KafkaHeader] = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            headers.reserveCapacity(rd_kafka_header_cnt(hdrs))
            var idx = 0
            var name: UnsafePointer<CChar>?
            var val: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(
                    KafkaHeader(
                        key: name.map { String(cString: $0) } ?? "",
                        value: val.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                idx += 1
            }
        }
        let type: KafkaTimestampType =
            switch tsType {
            case RD_KAFKA_TIMESTAMP_CREATE_TIME: .createTime
            case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: .logAppendTime
            default: .none
            }
        return KafkaMessage(
            topic: topic ?? String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition, offset: m.offset,
            key: key,
            value: value, timestamp: type == .none ? nil : ts, timestampType: type, headers: headers)
    }
}
