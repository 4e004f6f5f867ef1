import ConnectAPI
import ConnectWorkerKit
import Foundation
import Kafka
import Synchronization
import Testing

@testable import ConnectRuntime

/// A clock that moves only when the code under test sleeps, and records every sleep.
final class SleepRecordingClock: Sendable {
    let now = Mutex<Int64>(0)
    let sleeps = Mutex<[Int64]>([])
    let randomValue: Int64

    init(random: Int64 = 1234) { randomValue = random }

    var timing: RetryTiming {
        RetryTiming(
            nowMs: { self.now.withLock { $0 } },
            sleep: { ms, _ in
                self.sleeps.withLock { $0.append(ms) }
                self.now.withLock { $0 += ms }
            },
            random: { bound in min(self.randomValue, bound - 1) })
    }
}

final class RecordingReporter: ErrorReporter {
    var reported: [ProcessingContext] = []
    func report(_ context: ProcessingContext) { reported.append(context) }
    func close(timeoutMs: Int) {}
}

@Suite("Retry and tolerance with Connect's semantics, on an injected clock")
struct ErrorHandlingTests {
    let message = KafkaMessage(
        topic: "orders", partition: 2, offset: 41, key: nil, value: Array("{oops".utf8), timestamp: 1_700_000_000_000,
        timestampType: .createTime, headers: [])

    func makeOperator(
        _ tolerance: ErrorHandlingConfig.Tolerance, retryTimeoutMs: Int64 = 0, maxDelayMs: Int64 = 60_000,
        clock: SleepRecordingClock = SleepRecordingClock()
    ) -> (RetryWithToleranceOperator, ErrorMetrics, RecordingReporter) {
        var config = ErrorHandlingConfig()
        config.tolerance = tolerance
        config.retryTimeout = retryTimeoutMs < 0 ? nil : .milliseconds(retryTimeoutMs)
        config.retryDelayMax = .milliseconds(maxDelayMs)
        let metrics = ErrorMetrics()
        let op = RetryWithToleranceOperator(config: config, metrics: metrics, timing: clock.timing)
        let reporter = RecordingReporter()
        op.reporters = [reporter]
        return (op, metrics, reporter)
    }

    func converterFailure() throws -> Int {
        throw StagedError(
            stage: .valueConverter, className: "org.apache.kafka.connect.json.JsonConverter",
            error: ConnectError.data("Converting byte[] to Kafka Connect data failed due to serialization error: "))
    }

    @Test("backoff doubles from 300 ms, turns random below the maximum once past it, and stops at the deadline")
    func backoff() {
        let clock = SleepRecordingClock(random: 777)
        let (op, _, _) = makeOperator(.all, retryTimeoutMs: 100_000, maxDelayMs: 5_000, clock: clock)
        #expect((1...5).map { op.backoffMs(attempt: $0, deadline: 100_000) } == [300, 600, 1200, 2400, 4800])
        #expect(op.backoffMs(attempt: 6, deadline: 100_000) == 777)
        clock.now.withLock { $0 = 99_900 }
        #expect(op.backoffMs(attempt: 1, deadline: 100_000) == 100)
        #expect(op.backoffMs(attempt: 1, deadline: 99_000) == 0)
    }

    @Test("a retriable failure is retried with backoff until it succeeds; failures and retries are counted")
    func retriesUntilSuccess() throws {
        let clock = SleepRecordingClock()
        let (op, metrics, reporter) = makeOperator(.none, retryTimeoutMs: 10_000, clock: clock)
        var attempts = 0
        var context = ProcessingContext(consumed: message)
        let result = try op.execute(&context, .taskPoll, "Flaky") { () throws -> String in
            attempts += 1
            if attempts < 3 { throw ConnectError(.retriable, "not yet") }
            return "done"
        }
        #expect(result == "done")
        #expect(!context.failed)
        #expect(context.attempts == 3)
        #expect(clock.sleeps.withLock { $0 } == [300, 600])
        #expect(metrics.failures.value == 2 && metrics.retries.value == 2)
        #expect(metrics.errors.value == 0 && metrics.skipped.value == 0)
        #expect(reporter.reported.isEmpty)
    }

    @Test("retries stop at errors.retry.timeout; with tolerance all the record is skipped and reported")
    func retriesRunOut() throws {
        let clock = SleepRecordingClock()
        let (op, metrics, reporter) = makeOperator(.all, retryTimeoutMs: 1_000, clock: clock)
        var context = ProcessingContext(consumed: message)
        let result = try op.execute(&context, .taskPoll, "Flaky") { () throws -> Int in
            throw ConnectError(.retriable, "still down")
        }
        #expect(result == nil)
        #expect(context.failed)
        // 300 + 600 ms, then the last 100 ms to the deadline, then the deadline has passed.
        #expect(clock.sleeps.withLock { $0 } == [300, 600, 100])
        #expect(metrics.failures.value == 4 && metrics.retries.value == 3)
        #expect(metrics.errors.value == 1 && metrics.skipped.value == 1)
        #expect(reporter.reported.count == 1)
        #expect(metrics.lastErrorTimestamp.value == 1_000)
    }

    @Test("errors.retry.timeout=0 means no retry")
    func noRetries() throws {
        let clock = SleepRecordingClock()
        let (op, metrics, _) = makeOperator(.all, clock: clock)
        var context = ProcessingContext(consumed: message)
        _ = try op.execute(&context, .taskPoll, "Flaky") { () throws -> Int in throw ConnectError(.retriable, "x") }
        #expect(clock.sleeps.withLock { $0 }.isEmpty)
        #expect(metrics.retries.value == 0 && metrics.skipped.value == 1)
    }

    @Test("with tolerance none a converter failure fails fast, naming stage, class and record, and is reported")
    func toleranceNone() throws {
        let (op, metrics, reporter) = makeOperator(.none)
        var context = ProcessingContext(consumed: message)
        #expect {
            _ = try op.execute(&context, .keyConverter, "org.apache.kafka.connect.storage.StringConverter") {
                try converterFailure()
            }
        } throws: { error in
            guard let e = error as? ConnectError else { return false }
            return e.message == "Tolerance exceeded in error handler"
                && e.trace.contains(
                    "Executing stage 'VALUE_CONVERTER' with class 'org.apache.kafka.connect.json.JsonConverter', where consumed record is {topic='orders', partition=2, offset=41, timestamp=1700000000000, timestampType=CreateTime}"
                )
                && e.trace.contains(
                    "Caused by: org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error"
                )
        }
        #expect(metrics.failures.value == 1 && metrics.errors.value == 1 && metrics.skipped.value == 0)
        #expect(reporter.reported.map(\.stage) == [.valueConverter])
        #expect(metrics.failures(stage: .valueConverter, errorClass: "serialization") == 1)
    }

    @Test("with tolerance all a converter or transform failure skips the record; later stages do not run")
    func toleranceAll() throws {
        let (op, metrics, reporter) = makeOperator(.all)
        var context = ProcessingContext(consumed: message)
        let converted = try op.execute(&context, .keyConverter, "K") { try converterFailure() }
        #expect(converted == nil && context.failed)
        var ran = false
        let transformed = try op.execute(&context, .transformation, "T") { () -> Int in
            ran = true
            return 1
        }
        #expect(transformed == nil && !ran)
        #expect(metrics.skipped.value == 1 && metrics.errors.value == 1)
        #expect(reporter.reported.count == 1)
        // Another record is handled afresh.
        var next = ProcessingContext(consumed: message)
        #expect(try op.execute(&next, .transformation, "T") { 5 } == 5)
    }

    @Test("a non-retriable error where only retriable ones are tolerated is an unhandled exception")
    func unhandled() {
        let (op, metrics, _) = makeOperator(.all)
        var context = ProcessingContext(consumed: message)
        #expect {
            _ = try op.execute(&context, .kafkaProduce, "P") { () throws -> Int in throw ConnectError.connect("no") }
        } throws: { ($0 as? ConnectError)?.message == "Unhandled exception in error handler" }
        #expect(metrics.errors.value == 1 && metrics.skipped.value == 0)
    }

    @Test("an errant record report is skipped with tolerance all and fails the task with none")
    func errantRecords() throws {
        let (all, allMetrics, allReporter) = makeOperator(.all)
        var context = ProcessingContext(consumed: message)
        try all.executeFailed(
            &context, .taskPut, "org.apache.kafka.connect.sink.SinkTask", error: ConnectError.data("bad"))
        #expect(allMetrics.skipped.value == 1 && allMetrics.failures.value == 1)
        #expect(allReporter.reported.first?.className == "org.apache.kafka.connect.sink.SinkTask")
        let (none, noneMetrics, _) = makeOperator(.none)
        var other = ProcessingContext(consumed: message)
        #expect {
            try none.executeFailed(
                &other, .taskPut, "org.apache.kafka.connect.sink.SinkTask", error: ConnectError.data("bad"))
        } throws: { ($0 as? ConnectError)?.message == "Tolerance exceeded in error handler" }
        #expect(noneMetrics.errors.value == 1 && noneMetrics.skipped.value == 0)
    }

    @Test("the error log line is Connect's, with the record only when errors.log.include.messages is set")
    func logLine() {
        var context = ProcessingContext(consumed: message)
        context.stage = .valueConverter
        context.className = "org.apache.kafka.connect.json.JsonConverter"
        let id = ConnectorTaskId("sink", 3)
        #expect(
            LogReporter(id: id, includeMessages: false, metrics: ErrorMetrics()).message(context)
                == "Error encountered in task sink-3. Executing stage 'VALUE_CONVERTER' with class 'org.apache.kafka.connect.json.JsonConverter'."
        )
        #expect(
            LogReporter(id: id, includeMessages: true, metrics: ErrorMetrics()).message(context)
                == "Error encountered in task sink-3. Executing stage 'VALUE_CONVERTER' with class 'org.apache.kafka.connect.json.JsonConverter', where consumed record is {topic='orders', partition=2, offset=41, timestamp=1700000000000, timestampType=CreateTime}."
        )
    }

    @Test("a source record is described by partition, offset and topic in traces, with its values in the error log")
    func sourceLogLine() {
        var record = SourceRecord(
            sourcePartition: ["task.id": .int32(0)], sourceOffset: ["current.iteration": .int64(7)], topic: "orders",
            kafkaPartition: nil, keySchema: Schema.string, key: .string("k7"), valueSchema: Schema.string,
            value: .string("secret-ish"), timestamp: 5)
        record.headers = Headers()
        var context = ProcessingContext(source: record)
        context.stage = .transformation
        context.className = "org.apache.kafka.connect.transforms.ExtractField$Value"
        let trace = RetryWithToleranceOperator.describe(context)
        #expect(
            trace
                == "Executing stage 'TRANSFORMATION' with class 'org.apache.kafka.connect.transforms.ExtractField$Value', where source record is = SourceRecord{sourcePartition={task.id=0}, sourceOffset={current.iteration=7}} ConnectRecord{topic='orders', kafkaPartition=null, timestamp=5}"
        )
        let log = LogReporter(id: ConnectorTaskId("src", 0), includeMessages: true, metrics: ErrorMetrics()).message(
            context)
        #expect(log.contains("key=k7") && log.contains("value=secret-ish") && log.contains("headers=[]"))
    }

    @Test("the ten DLQ context headers carry Connect's names and values")
    func contextHeaders() {
        var context = ProcessingContext(consumed: message)
        context.stage = .valueConverter
        context.className = "org.apache.kafka.connect.json.JsonConverter"
        let error = ConnectError.data("Converting byte[] to Kafka Connect data failed due to serialization error: ")
        let headers = DeadLetterQueueReporter.contextHeaders(
            topic: "orders", partition: 2, offset: 41, id: ConnectorTaskId("sink", 3), context: context, error: error)
        let values = Dictionary(
            uniqueKeysWithValues: headers.map { ($0.key, $0.value.map { String(decoding: $0, as: UTF8.self) }) })
        #expect(
            headers.map(\.key) == [
                "__connect.errors.topic", "__connect.errors.partition", "__connect.errors.offset",
                "__connect.errors.connector.name", "__connect.errors.task.id", "__connect.errors.stage",
                "__connect.errors.class.name", "__connect.errors.exception.class.name",
                "__connect.errors.exception.message", "__connect.errors.exception.stacktrace",
            ])
        #expect(values["__connect.errors.partition"] == "2")
        #expect(values["__connect.errors.offset"] == "41")
        #expect(values["__connect.errors.task.id"] == "3")
        #expect(values["__connect.errors.stage"] == "VALUE_CONVERTER")
        #expect(values["__connect.errors.exception.class.name"] == "org.apache.kafka.connect.errors.DataException")
        #expect(
            values["__connect.errors.exception.message"]
                == "Converting byte[] to Kafka Connect data failed due to serialization error: ")
        #expect(
            values["__connect.errors.exception.stacktrace"]??.hasPrefix(
                "org.apache.kafka.connect.errors.DataException: Converting byte[]") == true)
    }

    @Test("errors are classed by what they say and where they happened, with who can fix them")
    func classification() {
        func c(_ e: any Error, _ s: ErrorStage?) -> String {
            ErrorClassification.classify(e, stage: s).errorClass.rawValue
        }
        #expect(
            c(ConnectError.data("Converting byte[] to Kafka Connect data failed"), .valueConverter) == "serialization")
        #expect(c(ConnectError.data("Unknown field: price"), .transformation) == "schema")
        #expect(c(ConnectError(.retriable, "database busy"), .taskPut) == "downstream")
        #expect(c(ConnectError.connect("FATAL: password authentication failed for user"), .taskPut) == "auth")
        #expect(c(ConnectError.connect("Connection refused"), .taskPut) == "network")
        #expect(c(ConnectError.config("Missing required configuration"), nil) == "config")
        #expect(c(KafkaError(kind: .broker, message: "Broker: Message size too large"), .kafkaProduce) == "broker")
        #expect(ErrorClassification.classify(ConnectError(.retriable, "busy"), stage: .taskPut).fixableBy == "retry")
        #expect(ErrorClassification.classify(ConnectError.data("bad"), stage: .taskPut).fixableBy == "person")
    }

    @Test("errors.* keys are read from a connector config; the DLQ is for sinks unless the source extension is on")
    func config() throws {
        let props = [
            "errors.tolerance": "all", "errors.retry.timeout": "-1", "errors.log.enable": "true",
            "errors.deadletterqueue.topic.name": "dlq", "errors.deadletterqueue.topic.replication.factor": "1",
            "errors.deadletterqueue.context.headers.enable": "true",
        ]
        let sink = try ErrorHandlingConfig(props, isSink: true)
        #expect(sink.tolerance == .all && sink.retryTimeout == nil && sink.logEnable)
        #expect(sink.dlqTopic == "dlq" && sink.dlqReplicationFactor == 1 && sink.dlqContextHeaders)
        #expect(try ErrorHandlingConfig(props, isSink: false).dlqTopic == nil)
        var source = props
        source["errors.deadletterqueue.source.enable"] = "true"
        #expect(try ErrorHandlingConfig(source, isSink: false).dlqTopic == "dlq")
        #expect(throws: ConnectError.self) { try ErrorHandlingConfig(["errors.retry.timeout": "soon"], isSink: true) }
    }

    @Test("a failure summary reads class, stage and retriability from a trace, Connect's or this worker's")
    func failureSummary() {
        let converter = FailureSummary(
            trace: """
                org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler
                \tat Executing stage 'VALUE_CONVERTER' with class 'org.apache.kafka.connect.json.JsonConverter', where consumed record is {topic='t', partition=0, offset=3}
                Caused by: org.apache.kafka.connect.errors.DataException: JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.
                """)
        #expect(converter.errorClass == "serialization" && converter.stage == "VALUE_CONVERTER" && !converter.retriable)
        let put = FailureSummary(
            trace: """
                org.apache.kafka.connect.errors.ConnectException: Retriable put failures went on for longer than errors.retry.timeout=2000 ms
                \tat FlakySinkTask.put [TASK_PUT], 7 attempts [s-0]
                Caused by: org.apache.kafka.connect.errors.RetriableException: database busy
                """)
        #expect(put.stage == "TASK_PUT" && put.errorClass == "downstream" && put.retriable && put.fixableBy == "retry")
        let java = FailureSummary(
            trace: """
                org.apache.kafka.connect.errors.ConnectException: org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed
                \tat org.apache.kafka.connect.runtime.WorkerSinkTask.execute(WorkerSinkTask.java:618)
                """)
        #expect(java.errorClass == "auth" && java.stage == nil)
    }

    @Test("the errant record reporter takes reports from many threads at once; each is counted and reported once")
    func errantReportsFromManyThreads() throws {
        let (op, metrics, reporter) = makeOperator(.all)
        let errant = WorkerErrantRecordReporter(errors: op)
        errant.putting([message])
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<100 {
                let record = SinkRecord(
                    topic: "orders", kafkaPartition: 2, keySchema: nil, key: nil, valueSchema: nil,
                    value: .string("r\(thread)-\(i)"), kafkaOffset: i == 0 ? 41 : Int64(1000 + thread * 100 + i))
                try? errant.report(record, error: ConnectError(.connect, "the index refused document \(thread)-\(i)"))
            }
        }
        #expect(op.totalFailures == 800)
        #expect(metrics.failures.value == 800)
        #expect(metrics.skipped.value == 800)
        #expect(reporter.reported.count == 800)
        // A record of the batch being put is reported with the bytes it was consumed as.
        #expect(reporter.reported.filter { $0.consumed?.value == message.value }.count == 8)
        #expect(errant.takeFailure() == nil)
    }

    @Test("a report beyond the tolerance throws to its caller and fails the task after its put, once")
    func errantReportBeyondTolerance() throws {
        let (op, _, _) = makeOperator(.none)
        let errant = WorkerErrantRecordReporter(errors: op)
        let record = SinkRecord(
            topic: "orders", kafkaPartition: 0, keySchema: nil, key: nil, valueSchema: nil, value: nil, kafkaOffset: 7)
        let thrown = Mutex<(any Error)?>(nil)
        let reporting = Thread {
            do { try errant.report(record, error: ConnectError(.connect, "mapping conflict")) } catch {
                thrown.withLock { $0 = error }
            }
        }
        reporting.start()
        #expect(waitUntil(5) { thrown.withLock { $0 } != nil })
        #expect((thrown.withLock { $0 } as? ConnectError)?.message == "Tolerance exceeded in error handler")
        #expect(errant.takeFailure()?.message == "Tolerance exceeded in error handler")
        #expect(errant.takeFailure() == nil)
    }

    func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }
}
