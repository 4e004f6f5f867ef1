import ConnectAPI
import Foundation
import Kafka
import Synchronization

/// The stages of record processing, named as Connect names them in logs, traces and DLQ headers (`Stage`).
enum ErrorStage: String, Sendable, CaseIterable {
    case taskPoll = "TASK_POLL"
    case taskPut = "TASK_PUT"
    case transformation = "TRANSFORMATION"
    case keyConverter = "KEY_CONVERTER"
    case valueConverter = "VALUE_CONVERTER"
    case headerConverter = "HEADER_CONVERTER"
    case kafkaProduce = "KAFKA_PRODUCE"
    case kafkaConsume = "KAFKA_CONSUME"

    /// Whether `errors.tolerance=all` tolerates any error in this stage; elsewhere only retriable ones.
    var toleratesAnyError: Bool {
        switch self {
        case .transformation, .keyConverter, .valueConverter, .headerConverter: true
        default: false
        }
    }
}

/// An error from one processing stage, with the class (Connect's name for the plug-in) that was executing.
struct StagedError: Error {
    let stage: ErrorStage
    let className: String
    let error: any Error
}

/// A connector's `errors.*` settings, parsed through the connector's `ConfigDef` (`ConnectorConfig`).
struct ErrorHandlingConfig: Sendable, Equatable {
    enum Tolerance: String, Sendable { case none, all }

    var tolerance = Tolerance.none
    /// `errors.retry.timeout`: how long a retriable failure is retried; zero: not at all; nil (-1): forever.
    var retryTimeout: Duration? = .zero
    /// `errors.retry.delay.max.ms`.
    var retryDelayMax: Duration = .seconds(60)
    var logEnable = false
    var logIncludeMessages = false
    /// The dead letter queue topic, when there is one (sink connectors; source connectors with the extension on).
    var dlqTopic: String?
    var dlqReplicationFactor: Int16 = 3
    var dlqContextHeaders = false

    init() {}

    /// From a connector's configuration; throws when an `errors.*` value does not parse.
    init(_ props: [String: String], isSink: Bool) throws(ConnectError) {
        let p = try ConnectorConfig.parse(props, keysStartingWith: "errors.", isSink: isSink)
        tolerance = Tolerance(rawValue: p.string("errors.tolerance") ?? "") ?? .none
        let timeout = p.int("errors.retry.timeout") ?? 0
        retryTimeout = timeout < 0 ? nil : .milliseconds(timeout)
        retryDelayMax = .milliseconds(p.int("errors.retry.delay.max.ms") ?? 0)
        logEnable = p.bool("errors.log.enable") ?? false
        logIncludeMessages = p.bool("errors.log.include.messages") ?? false
        let topic = (p.string("errors.deadletterqueue.topic.name") ?? "").trimmingSpaces
        if !topic.isEmpty && (isSink || p.bool("errors.deadletterqueue.source.enable") == true) { dlqTopic = topic }
        dlqReplicationFactor = Int16(p.int("errors.deadletterqueue.topic.replication.factor") ?? 3)
        dlqContextHeaders = p.bool("errors.deadletterqueue.context.headers.enable") ?? false
    }

    /// The retry timeout in milliseconds as the retry loop counts it: -1 forever.
    var retryTimeoutMs: Int64 { retryTimeout?.inMilliseconds ?? -1 }
    var retryDelayMaxMs: Int64 { retryDelayMax.inMilliseconds }

    /// Whether sink tasks get an `ErrantRecordReporter` (a DLQ or the error log is configured), as in Connect.
    var enablesErrantRecordReporter: Bool { dlqTopic != nil || logEnable }
}

/// What one record went through when it failed: the consumed Kafka record (sink) or the source record (source),
/// the stage and class executing, the attempts made and the error (`ProcessingContext`).
struct ProcessingContext {
    var consumed: KafkaMessage?
    var source: SourceRecord?
    var stage = ErrorStage.kafkaConsume
    var className = ""
    var attempts = 0
    var error: (any Error)?

    var failed: Bool { error != nil }

    init(consumed: KafkaMessage) { self.consumed = consumed }
    init(source: SourceRecord) { self.source = source }
}

/// Receives each failed record (`ErrorReporter`): the error log, the dead letter queue.
protocol ErrorReporter: AnyObject {
    func report(_ context: ProcessingContext)
    /// Waits up to `timeoutMs` for what was reported to be written.
    func close(timeoutMs: Int)
}

/// Clock, sleep and randomness of the retry loop, injectable for tests.
struct RetryTiming: Sendable {
    var nowMs: @Sendable () -> Int64
    /// Waits up to the given milliseconds, ending early when the task is asked to stop.
    var sleep: @Sendable (Int64, TaskControl) -> Void
    /// A random value in `0..<bound`.
    var random: @Sendable (Int64) -> Int64

    static let system = RetryTiming(
        nowMs: { Int64(Date().timeIntervalSince1970 * 1000) },
        sleep: { ms, control in control.wait(milliseconds: ms) },
        random: { bound in bound > 0 ? Int64.random(in: 0..<bound) : 0 })
}

/// Runs record-processing stages with Connect's retry and tolerance rules (`RetryWithToleranceOperator`):
/// retriable errors are retried with exponential backoff until `errors.retry.timeout`; errors a stage tolerates
/// (any error in converters and transforms, only retriable ones elsewhere) skip the record under
/// `errors.tolerance=all`; anything else fails the task with "Tolerance exceeded in error handler". Every failed
/// record goes to the reporters, and the `task-error-metrics` counters follow. Stages run on the task thread;
/// `executeFailed` (the errant record reporter) may also be called from a connector's own threads.
///
/// `@unchecked Sendable`: `execute` is called from the task thread only; what `executeFailed` shares with it is
/// thread-safe: `failureCount` is a `Mutex`, every report is made while holding `reportLock`, and `reporters` is
/// filled before the task starts and never changed after.
final class RetryWithToleranceOperator: @unchecked Sendable {
    static let retriesDelayMinMs: Int64 = 300

    let config: ErrorHandlingConfig
    let timing: RetryTiming
    let metrics: ErrorMetrics
    /// Set up by the worker before the task starts.
    var reporters: [any ErrorReporter] = []
    private let reportLock = NSLock()
    /// Failed records so far (`totalFailures`): with `errors.tolerance=none`, one is too many.
    private let failureCount = Mutex(0)
    var totalFailures: Int { failureCount.withLock { $0 } }
    /// The task's stop latch: once it is set, retries end and the record counts as failed, and a backoff in
    /// progress ends at once.
    let control: TaskControl

    init(
        config: ErrorHandlingConfig, metrics: ErrorMetrics, timing: RetryTiming = .system,
        control: TaskControl = TaskControl()
    ) {
        self.config = config
        self.metrics = metrics
        self.timing = timing
        self.control = control
    }

    var withinToleranceLimits: Bool { config.tolerance == .all || totalFailures == 0 }

    /// Runs `operation` as `stage` of `context`'s record. Returns its result, or nil when the record failed and is
    /// skipped (the context is then `failed`); throws when the failure is not tolerated. A `StagedError` thrown by
    /// the operation names the stage and class that actually failed.
    func execute<T>(
        _ context: inout ProcessingContext, _ stage: ErrorStage, _ className: String, _ operation: () throws -> T
    ) throws -> T? {
        guard !context.failed else { return nil }
        context.stage = stage
        context.className = className
        let result: T?
        do {
            result = try executeAndRetry(&context, operation)
        } catch {
            metrics.recordFailure(context.stage, error)
            markAsFailed()
            context.error = error
            let tolerated = context.stage.toleratesAnyError || ErrorClassification.isRetriable(error)
            if let failure = finishFailure(context, tolerated: tolerated) { throw failure }
            return nil
        }
        if context.failed {
            // Retries ran out (or the task is stopping).
            markAsFailed()
            if let failure = finishFailure(context, tolerated: true) { throw failure }
        }
        return result
    }

    /// Reports a record the task itself failed (`ErrantRecordReporter`, stage `TASK_PUT`); throws when the tolerance
    /// is exceeded (`executeFailed`).
    func executeFailed(
        _ context: inout ProcessingContext, _ stage: ErrorStage, _ className: String, error: any Error
    )
        throws
    {
        markAsFailed()
        context.stage = stage
        context.className = className
        context.error = error
        metrics.recordFailure(stage, error)
        report(context)
        if !withinToleranceLimits {
            metrics.recordError()
            throw Self.toleranceExceeded(context)
        }
        metrics.recordSkipped()
    }

    /// The delay before retry `attempt` (1-based): 300 ms doubling, a random delay below `errors.retry.delay.max.ms`
    /// once doubling passes it, never past the deadline.
    func backoffMs(attempt: Int, deadline: Int64) -> Int64 {
        let shift = min(attempt - 1, 40)
        var delay = Self.retriesDelayMinMs << shift
        if delay > config.retryDelayMaxMs { delay = timing.random(config.retryDelayMaxMs) }
        let now = timing.nowMs()
        if delay + now > deadline { delay = max(0, deadline - now) }
        return delay
    }

    private func executeAndRetry<T>(_ context: inout ProcessingContext, _ operation: () throws -> T) throws -> T? {
        let start = timing.nowMs()
        // The deadline is worked out at the first failure: most records never need it.
        var deadline: Int64 {
            let timeout = config.retryTimeoutMs
            return timeout >= 0 ? start + timeout : Int64.max
        }
        var attempt = 0
        while true {
            attempt += 1
            context.attempts = attempt
            do {
                return try operation()
            } catch let staged as StagedError {
                context.stage = staged.stage
                context.className = staged.className
                guard ErrorClassification.isRetriable(staged.error) else { throw staged.error }
                if !retryOrGiveUp(&context, staged.error, attempt: attempt, deadline: deadline) { return nil }
            } catch {
                guard ErrorClassification.isRetriable(error) else { throw error }
                if !retryOrGiveUp(&context, error, attempt: attempt, deadline: deadline) { return nil }
            }
        }
    }

    /// After a retriable failure: waits and returns true to try again, or records the error and returns false.
    private func retryOrGiveUp(
        _ context: inout ProcessingContext, _ error: any Error, attempt: Int, deadline: Int64
    )
        -> Bool
    {
        metrics.recordFailure(context.stage, error)
        if timing.nowMs() < deadline && !control.isStopping {
            timing.sleep(backoffMs(attempt: attempt, deadline: deadline), control)
            metrics.recordRetry()
            if !control.isStopping { return true }
        }
        context.error = error
        return false
    }

    /// Counts and reports a failed record; returns the error to fail the task with, or nil when it is skipped.
    private func finishFailure(_ context: ProcessingContext, tolerated: Bool) -> ConnectError? {
        metrics.recordError()
        report(context)
        if !tolerated {
            return ConnectError.connect("Unhandled exception in error handler", cause: context.error)
                .adding(context: Self.describe(context))
        }
        if !withinToleranceLimits { return Self.toleranceExceeded(context) }
        metrics.recordSkipped()
        return nil
    }

    private func markAsFailed() {
        metrics.recordErrorTimestamp(timing.nowMs())
        failureCount.withLock { $0 += 1 }
    }

    private func report(_ context: ProcessingContext) {
        reportLock.withLock {
            for reporter in reporters { reporter.report(context) }
        }
    }

    /// Closes the reporters, giving the dead letter queue up to `timeoutMs` to acknowledge what it was sent.
    func close(timeoutMs: Int) {
        reportLock.withLock {
            for reporter in reporters { reporter.close(timeoutMs: timeoutMs) }
        }
    }

    static func toleranceExceeded(_ context: ProcessingContext) -> ConnectError {
        ConnectError.connect("Tolerance exceeded in error handler", cause: context.error)
            .adding(context: describe(context))
    }

    /// "Executing stage 'VALUE_CONVERTER' with class '…', where consumed record is {topic='…', partition=…,
    /// offset=…}": the context a person needs to find the record. Source records are described by their partition,
    /// offset and topic; `withValues` adds key, value and headers, as the error log does with
    /// `errors.log.include.messages=true` (traces leave them out, so record contents stay out of `/status`).
    static func describe(_ context: ProcessingContext, includeMessage: Bool = true, withValues: Bool = false) -> String
    {
        var text = "Executing stage '\(context.stage.rawValue)' with class '\(context.className)'"
        if includeMessage, let m = context.consumed {
            text += ", where consumed record is " + consumedRecord(m)
        } else if includeMessage, let r = context.source {
            text += ", where source record is = " + sourceRecord(r, withValues: withValues)
        }
        return text
    }

    static func consumedRecord(_ m: KafkaMessage) -> String {
        var text = "{topic='\(m.topic)', partition=\(m.partition), offset=\(m.offset)"
        if let ts = m.timestamp, m.timestampType != .none {
            text +=
                ", timestamp=\(ts), timestampType=\(m.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime")"
        }
        return text + "}"
    }

    static func sourceRecord(_ r: SourceRecord, withValues: Bool = false) -> String {
        func map(_ m: OffsetMap?) -> String {
            guard let m else { return "null" }
            return "{" + m.keys.sorted().map { k in "\(k)=\(ValueFormatter.string(m[k]))" }.joined(separator: ", ")
                + "}"
        }
        var text =
            "SourceRecord{sourcePartition=\(map(r.sourcePartition)), sourceOffset=\(map(r.sourceOffset))} ConnectRecord{topic='\(r.topic)', kafkaPartition=\(r.kafkaPartition.map(String.init) ?? "null")"
        if withValues {
            text +=
                ", key=\(ValueFormatter.string(r.key)), keySchema=\(r.keySchema.map { "\($0)" } ?? "null"), value=\(ValueFormatter.string(r.value)), valueSchema=\(r.valueSchema.map { "\($0)" } ?? "null")"
        }
        text += ", timestamp=\(r.timestamp.map(String.init) ?? "null")"
        if withValues { text += ", headers=\(r.headers.map { "\($0.key)=\(ValueFormatter.string($0.value))" })" }
        return text + "}"
    }
}
