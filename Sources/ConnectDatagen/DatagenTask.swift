import ConnectAPI
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Generates records; record n of a task is a pure function of (seed, task id, n), so a restarted task that resumes
/// from its committed offset produces exactly the records that follow the last committed one.
public final class DatagenTask: SourceTask {
    static let taskGenerationField = "task.generation"
    static let taskIDField = "task.id"
    static let currentIterationField = "current.iteration"
    static let randomSeedField = "random.seed"
    /// With `max.interval=0` a poll returns up to this many records, so generation is not bounded by poll overhead
    /// (and the batch's array stays below glibc's 64 KiB, whose frees consolidate the whole heap).
    static let maxBatch = 256

    private var context: (any SourceTaskContext)?
    private var config: DatagenConfig?
    private var count: Int64 = 0
    private var generation: Int64 = 0
    private var seed: Int64 = 0
    /// The task's source partition, built once: every record shares its storage.
    private var partition: OffsetMap = [:]
    private var rng = SystemRandomNumberGenerator()
    /// When the next record is due (with `max.interval`), once a poll returned before it.
    private var nextRecord: ContinuousClock.Instant?

    public init() {}

    public func initialize(_ context: any SourceTaskContext) { self.context = context }

    public func start(_ props: [String: String]) throws {
        let config = try DatagenConfig(props)
        self.config = config
        seed = config.seed ?? Int64.random(in: Int64.min...Int64.max)
        partition = [Self.taskIDField: .int32(Int32(config.taskID))]
        if let offset = context?.offsetStorageReader.offset(for: partition) {
            // The stored offset is the next state.
            generation = (offset[Self.taskGenerationField]?.int64Value ?? 0) + 1
            count = offset[Self.currentIterationField]?.int64Value ?? 0
            if config.seed == nil, let stored = offset[Self.randomSeedField]?.int64Value { seed = stored }
        }
    }

    /// With `iterations` set, the records still to generate.
    public func recordsBehindSource() -> Int64? {
        guard let config, config.iterations > 0 else { return nil }
        return max(0, config.iterations - count)
    }

    public func poll() throws -> [SourceRecord]? {
        guard let config else { return nil }
        if config.maxInterval > 0 {
            // A random wait of 0..<max.interval ms before each record, as Confluent's datagen; a poll waits at most
            // a second of it and returns nothing before the record is due, so that a stop (which the runtime acts
            // on between polls) never waits for a long interval.
            let now = ContinuousClock.now
            let due =
                nextRecord ?? now.advanced(by: .milliseconds(Int64.random(in: 0..<config.maxInterval, using: &rng)))
            if due - now > .seconds(1) {
                nextRecord = due
                Thread.sleep(forTimeInterval: 1)
                return nil
            }
            nextRecord = nil
            if due > now { Thread.sleep(forTimeInterval: Double((due - now).inMilliseconds) / 1000) }
        }
        let batch = config.maxInterval > 0 ? 1 : Self.maxBatch
        var records: [SourceRecord] = []
        records.reserveCapacity(batch)
        for _ in 0..<batch {
            if config.iterations > 0 && count >= config.iterations {
                if records.isEmpty {
                    throw ConnectError.connect(
                        "Stopping connector: generated the configured \(config.iterations) number of messages")
                }
                break
            }
            records.append(record(config))
            count += 1
        }
        return records
    }

    private func record(_ config: DatagenConfig) -> SourceRecord {
        var gen = SplitMix64(seed: seed, task: config.taskID, iteration: count)
        let value = config.quickstart.generate(iteration: count, using: &gen)
        var headers = Headers(capacity: 3)
        headers.addInt64(Self.taskGenerationField, generation)
        headers.addInt64(Self.taskIDField, Int64(config.taskID))
        headers.addInt64(Self.currentIterationField, count)
        let keySchema = config.keyField.flatMap { value.schema.field($0)?.schema } ?? Schema.optionalString
        return SourceRecord(
            sourcePartition: partition,
            sourceOffset: [
                Self.taskGenerationField: .int64(generation), Self.currentIterationField: .int64(count + 1),
                Self.randomSeedField: .int64(seed),
            ],
            topic: config.topic, keySchema: keySchema, key: config.keyField.flatMap { value.get($0) },
            valueSchema: value.schema, value: .struct(value), headers: headers)
    }

    public func stop() throws {}
}
