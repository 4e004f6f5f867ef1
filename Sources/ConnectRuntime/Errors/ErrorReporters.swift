import ConnectAPI
import ConnectConverters
import Foundation
import Kafka
import Logging
import Synchronization

/// The error log (`LogReporter`): one ERROR line per failed record, in Connect's words, from the logger Connect
/// uses, when `errors.log.enable=true`.
final class LogReporter: ErrorReporter {
    private let id: ConnectorTaskId
    private let includeMessages: Bool
    private let metrics: ErrorMetrics
    private var logger: Logger

    init(id: ConnectorTaskId, includeMessages: Bool, metrics: ErrorMetrics) {
        self.id = id
        self.includeMessages = includeMessages
        self.metrics = metrics
        var logger = Logger(label: "org.apache.kafka.connect.runtime.errors.LogReporter")
        logger[metadataKey: ConnectLogHandler.contextKey] = "[\(id.connector)|task-\(id.task)] "
        self.logger = logger
    }

    /// "Error encountered in task <c>-<t>. Executing stage '<STAGE>' with class '<class>'[, where … record is …]."
    func message(_ context: ProcessingContext) -> String {
        "Error encountered in task \(id). "
            + RetryWithToleranceOperator.describe(context, includeMessage: includeMessages, withValues: true) + "."
    }

    func report(_ context: ProcessingContext) {
        guard let error = context.error else { return }
        logger.error("\(message(context))\n\(ConnectError.wrap(error).trace)")
        metrics.recordErrorLogged()
    }

    func close(timeoutMs: Int) {}
}

/// The dead letter queue (`DeadLetterQueueReporter`): each failed record is written to the DLQ topic with its
/// original key, value, headers and timestamp, plus the `__connect.errors.*` context headers when enabled. Writes
/// are asynchronous; the sink task holds back the offset commit of a dead-lettered record until its write is
/// acknowledged (`pendingOffsets`). A failed write is counted and logged, not fatal. Reports may come from the task
/// thread and, through the errant record reporter, from a connector's threads (one at a time, under the retry
/// operator's report lock); the writes in flight are kept behind a `Mutex` the task thread reads too.
final class DeadLetterQueueReporter: ErrorReporter {
    static let headerPrefix = "__connect.errors."

    let topic: String
    private let producer: KafkaProducer
    private let id: ConnectorTaskId
    private let contextHeaders: Bool
    private let metrics: ErrorMetrics
    private let logger: Logger
    /// Writes not yet acknowledged, by id: the consumed record's partition and offset (none for source records).
    private let pending = Mutex<(nextID: UInt64, origins: [UInt64: (TopicPartition, Int64)?])>((0, [:]))
    /// Renders source records that failed conversion: schemaless JSON.
    private let fallback: JsonConverter = {
        let c = JsonConverter()
        try? c.configure(["schemas.enable": "false"], isKey: false)
        return c
    }()

    /// The task's stop latch: a write that waits for room in a full producer queue gives up once it is set.
    private let control: TaskControl

    init(
        topic: String, producer: KafkaProducer, id: ConnectorTaskId, contextHeaders: Bool, metrics: ErrorMetrics,
        control: TaskControl, logger: Logger
    ) {
        self.control = control
        self.topic = topic
        self.producer = producer
        self.id = id
        self.contextHeaders = contextHeaders
        self.metrics = metrics
        self.logger = logger
    }

    func report(_ context: ProcessingContext) {
        guard let error = context.error else { return }
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [KafkaHeader] = []
        var timestamp: Int64?
        var origin: (TopicPartition, Int64)?
        var partition: Int32 = -1
        var offset: Int64 = -1
        var originalTopic = ""
        if let m = context.consumed {
            (key, value, headers, timestamp) = (m.key, m.value, m.headers, m.timestamp)
            origin = (TopicPartition(m.topic, m.partition), m.offset)
            (originalTopic, partition, offset) = (m.topic, m.partition, m.offset)
        } else if let r = context.source {
            key = try? fallback.fromConnectData(topic: r.topic, headers: r.headers, schema: r.keySchema, value: r.key)
            value = try? fallback.fromConnectData(
                topic: r.topic, headers: r.headers, schema: r.valueSchema, value: r.value)
            timestamp = r.timestamp
            (originalTopic, partition) = (r.topic, r.kafkaPartition ?? -1)
        }
        if contextHeaders {
            headers += Self.contextHeaders(
                topic: originalTopic, partition: partition, offset: offset, id: id, context: context, error: error)
        }
        let id = pending.withLock { p in
            p.nextID += 1
            p.origins[p.nextID] = origin
            return p.nextID
        }
        metrics.recordDeadLetterQueueProduceRequest()
        do {
            try send(id: id, key: key, value: value, headers: headers, timestamp: timestamp)
        } catch {
            metrics.recordDeadLetterQueueProduceFailed()
            let record = origin.map { "\($0.0)@\($0.1)" } ?? "from the source"
            if error.kind == .queueFull {
                // Given up because the task is stopping: the record stays pending, so no offset is committed past
                // it and the task that runs next consumes it again.
                logger.warning(
                    "Dead letter queue write of record \(record) given up: the task is stopping with the producer queue full; its offset is not committed"
                )
                return
            }
            _ = pending.withLock { $0.origins.removeValue(forKey: id) }
            logger.error(
                "Could not produce message to dead letter queue. topic=\(topic) (record \(record)): \(error.description)"
            )
        }
    }

    private func send(
        id: UInt64, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader], timestamp: Int64?
    ) throws(KafkaError) {
        while true {
            do {
                try producer.send(id: id, topic: topic, key: key, value: value, headers: headers, timestamp: timestamp)
                return
            } catch {
                guard error.kind == .queueFull, !control.isStopping else { throw error }
                handle(producer.poll(timeoutMs: 100))
            }
        }
    }

    /// The ten context headers of Connect's DLQ, values as UTF-8 strings.
    static func contextHeaders(
        topic: String, partition: Int32, offset: Int64, id: ConnectorTaskId, context: ProcessingContext,
        error: any Error
    ) -> [KafkaHeader] {
        func h(_ name: String, _ value: String?) -> KafkaHeader {
            KafkaHeader(key: headerPrefix + name, value: value.map { Array($0.utf8) })
        }
        let described = ConnectError.wrap(error)
        let exception = error as? ConnectError ?? described
        return [
            h("topic", topic),
            h("partition", String(partition)),
            h("offset", String(offset)),
            h("connector.name", id.connector),
            h("task.id", String(id.task)),
            h("stage", context.stage.rawValue),
            h("class.name", context.className),
            h("exception.class.name", ErrorClassification.javaClassName(of: error)),
            h("exception.message", exception.message),
            h("exception.stacktrace", described.trace),
        ]
    }

    /// Takes in the DLQ producer's delivery reports.
    func poll() { handle(producer.poll(timeoutMs: 0)) }

    private func handle(_ reports: [DeliveryReport]) {
        for report in reports {
            let origin = pending.withLock { $0.origins.removeValue(forKey: report.id) } ?? nil
            if case .failure(let error) = report.result {
                metrics.recordDeadLetterQueueProduceFailed()
                logger.error(
                    "Could not produce message to dead letter queue. topic=\(topic) (record \(origin.map { "\($0.0)@\($0.1)" } ?? "from the source")): \(error.description)"
                )
            }
        }
    }

    /// The lowest consumed offset per partition whose DLQ write is not acknowledged yet.
    var pendingOffsets: [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for case let (tp, offset)? in pending.withLock({ Array($0.origins.values) }) {
            out[tp] = min(out[tp] ?? offset, offset)
        }
        return out
    }

    /// Waits up to `timeoutMs` for every write to be acknowledged.
    func flush(timeoutMs: Int) { handle(producer.flush(timeoutMs: timeoutMs)) }

    func close(timeoutMs: Int) {
        flush(timeoutMs: timeoutMs)
        let unacknowledged = pending.withLock { $0.origins.count }
        if unacknowledged > 0 {
            logger.warning("\(unacknowledged) dead letter queue write(s) were not acknowledged before the task stopped")
        }
    }
}

/// What kind of failure an error is, and who can fix it: the error classes shown with failures and counted in
/// `swift_connect_task_errors_total`.
struct ErrorClassification: Sendable, Equatable {
    enum ErrorClass: String, Sendable, CaseIterable {
        case config, auth, network, serialization, schema, downstream, broker, `internal`
    }

    let errorClass: ErrorClass
    let retriable: Bool

    /// `retry` when waiting may fix it, `person` when someone must change something.
    var fixableBy: String { retriable ? "retry" : "person" }

    static func isRetriable(_ error: any Error) -> Bool {
        switch error {
        case let e as ConnectError: e.isRetriable
        case let e as KafkaError: e.isRetriable
        case let e as StagedError: isRetriable(e.error)
        default: false
        }
    }

    /// Every message and class name of an error and its causes, lower-cased, for matching.
    static func text(of error: any Error) -> String {
        var parts: [String] = []
        var next: (any Error)? = error
        while let e = next {
            if let ce = e as? ConnectError {
                parts.append(ce.description)
                next = ce.cause?.error
            } else if let staged = e as? StagedError {
                next = staged.error
            } else {
                parts.append(ConnectError.describe(e))
                next = nil
            }
        }
        return parts.joined(separator: "\n").lowercased()
    }

    static func classify(_ error: any Error, stage: ErrorStage?) -> ErrorClassification {
        ErrorClassification(
            errorClass: errorClass(text: text(of: error), stage: stage, isKafkaError: error is KafkaError),
            retriable: isRetriable(error))
    }

    /// The class of a failure from what its messages say (lower-cased) and the stage it happened in.
    static func errorClass(text: String, stage: ErrorStage?, isKafkaError: Bool = false) -> ErrorClass {
        func has(_ words: String...) -> Bool { words.contains { text.contains($0) } }
        if has("sasl", "authentication", "authoriz", "access denied", "permission denied", "password") {
            return .auth
        }
        if has(
            "connection refused", "connection reset", "timed out", "timeoutexception", "unreachable",
            "could not resolve",
            "name resolution", "transport failure", "all brokers are down", "ssl handshake", "certificate")
        {
            return .network
        }
        if has("configexception", "missing required configuration", "invalid value") { return .config }
        switch stage {
        case .keyConverter?, .valueConverter?, .headerConverter?: return .serialization
        case .transformation?: return .schema
        case .taskPut?, .taskPoll?: return .downstream
        case .kafkaProduce?, .kafkaConsume?: return .broker
        case nil:
            if isKafkaError || has("kafkaexception", "record is too large", "unknown topic") { return .broker }
            return has("serialization", "jsonconverter") ? .serialization : .internal
        }
    }

    /// The Java exception class Connect would name for an error.
    static func javaClassName(of error: any Error) -> String {
        switch error {
        case let e as ConnectError: e.kind.className
        case let e as StagedError: javaClassName(of: e.error)
        case let e as KafkaError:
            e.isRetriable
                ? "org.apache.kafka.common.errors.RetriableException" : "org.apache.kafka.common.KafkaException"
        default: "java.lang.RuntimeException"
        }
    }
}

/// What a failure trace says at a glance: its error class, the stage it happened in, and whether waiting may fix it.
/// Read from the trace text alone, so it works the same for any Connect-layout trace.
public struct FailureSummary: Sendable, Equatable {
    public let errorClass: String
    public let stage: String?
    public let retriable: Bool

    /// `retry` when waiting may fix it, `person` when someone must change something.
    public var fixableBy: String { retriable ? "retry" : "person" }

    public init(trace: String) {
        var stage: ErrorStage?
        if let r = trace.range(of: "stage '") {
            let rest = trace[r.upperBound...]
            stage = rest.firstIndex(of: "'").flatMap { ErrorStage(rawValue: String(rest[..<$0])) }
        }
        if stage == nil {
            stage = ErrorStage.allCases.first { trace.contains("[\($0.rawValue)]") }
        }
        self.stage = stage?.rawValue
        let lines = trace.split(separator: "\n").filter { !$0.hasPrefix("\t") }
        retriable = lines.contains { $0.contains("RetriableException") || $0.contains("TimeoutException") }
        errorClass = ErrorClassification.errorClass(text: trace.lowercased(), stage: stage).rawValue
    }
}
