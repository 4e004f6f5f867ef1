import ConnectAPI
import Foundation
import JSON
import Logging

/// `io.confluent.connect.elasticsearch.ElasticsearchSinkConnector`: records into Elasticsearch or OpenSearch
/// indexes, one per topic, through the `_bulk` API, as Confluent's sink writes them (document ids, external
/// versions, `write.method`, `behavior.on.null.values`, `behavior.on.malformed.documents`).
public final class ElasticsearchSinkConnector: SinkConnector {
    public static let className = "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector"
    /// The Confluent release whose keys and behaviour this follows.
    public static var version: String? { "14.1.2" }
    public static var configDef: ConfigDef { ElasticsearchSinkConnectorConfig.configDef }

    private var props: [String: String] = [:]

    public init() {}

    public var taskType: any Task.Type { ElasticsearchSinkTask.self }

    public func start(_ props: [String: String]) throws {
        _ = try ElasticsearchSinkConnectorConfig(props)
        self.props = props
    }

    public func taskConfigs(maxTasks: Int) throws -> [[String: String]] {
        Array(repeating: props, count: max(1, maxTasks))
    }

    public func stop() throws {}

    /// The cross-key rules of Confluent's `Validator` (URLs, credentials in pairs, `topic.key.ignore` or
    /// `topic.schema.ignore` next to `key.ignore` or `schema.ignore`), each message under every key it names.
    public func validate(_ props: [String: String]) -> [String: [String]] {
        guard let c = try? ElasticsearchSinkConnectorConfig.configDef.parse(props) else { return [:] }
        var errors: [String: [String]] = [:]
        for (all, some) in [("key.ignore", "topic.key.ignore"), ("schema.ignore", "topic.schema.ignore")]
        where c.bool(all) == true && !c.list(some).isEmpty {
            let message = "'\(some)' can not be set if '\(all)' is true."
            errors[all, default: []].append(message)
            errors[some, default: []].append(message)
        }
        do { _ = try ElasticsearchSinkConnectorConfig(props) } catch {
            errors[error.configKey ?? "connection.url", default: []].append(error.message)
        }
        return errors
    }

    /// A sink keeps its position in the consumer group only.
    public func alterOffsets(
        _ config: [String: String], _ offsets: [(partition: OffsetMap, offset: OffsetMap?)]
    ) throws -> Bool { true }
}

/// Writes each `put` synchronously: records become bulk actions (`DataConverter`), indexes are created on first
/// use (with the schema's mapping unless `schema.ignore`), and the actions go out in `_bulk` requests of at most
/// `batch.size` actions and `bulk.size.bytes`. A record the converter refuses follows `drop.invalid.message` or the
/// errant record reporter; an item Elasticsearch refuses as malformed follows `behavior.on.malformed.documents`; a
/// version conflict on an externally versioned action (a record seen before) is ignored; any other refused item
/// fails the task: `Indexing record failed. Please check DLQ topic for errors.`
public final class ElasticsearchSinkTask: SinkTask {
    /// Errors Confluent counts as a malformed document.
    static let malformedDocumentErrors = [
        "strict_dynamic_mapping_exception", "mapper_parsing_exception", "illegal_argument_exception",
        "action_request_validation_exception", "document_parsing_exception",
    ]

    private var config: ElasticsearchSinkConnectorConfig!
    private var converter: DataConverter!
    private var client: ElasticsearchClient!
    private var context: (any SinkTaskContext)?
    private var knownIndexes: Set<String> = []
    private var metrics: SinkWriterMetrics?
    private let logger = Logger(label: "io.confluent.connect.elasticsearch.ElasticsearchSinkTask")

    public init() {}

    public func initialize(_ context: any SinkTaskContext) { self.context = context }

    public func start(_ props: [String: String]) throws {
        logger.info("Starting ElasticsearchSinkTask.")
        config = try ElasticsearchSinkConnectorConfig(props)
        converter = DataConverter(config)
        metrics = SinkWriterMetrics(server: context?.mbeanServer)
        client = ElasticsearchClient(config, logger: logger, metrics: metrics)
    }

    public func stop() throws { logger.info("Stopping ElasticsearchSinkTask") }

    public func put(_ records: [SinkRecord]) throws {
        var batch: [(record: SinkRecord, operation: BulkOperation)] = []
        for record in records {
            let index = ElasticsearchSinkConnectorConfig.indexName(record.topic)
            let operation: BulkOperation?
            do { operation = try converter.convert(record, index: index) } catch let e as ConnectError
                where e.kind == .data
            {
                try handleInvalid(record, e)
                continue
            }
            guard let operation else { continue }
            try ensureIndex(index, record)
            batch.append((record, operation))
        }
        var start = 0
        while start < batch.count {
            // Up to batch.size actions and, past the first, bulk.size.bytes.
            var end = start
            var bytes = 0
            while end < batch.count && end - start < config.batchSize {
                let size = batch[end].operation.ndjson.count
                if end > start && config.bulkSizeBytes >= 0 && bytes + size > config.bulkSizeBytes { break }
                bytes += size
                end += 1
            }
            let slice = Array(batch[start..<end])
            let began = ContinuousClock.now
            let failures: [ElasticsearchClient.ItemFailure]
            do { failures = try client.bulk(slice.map(\.operation)) } catch {
                metrics?.failed(slice.count, reason: "bulk-request")
                throw error
            }
            // A conflict with an external version is a record written before (a redelivery): it counts as written.
            let refused = failures.filter { f in
                f.type != "version_conflict_engine_exception" || f.position >= slice.count
                    || slice[f.position].operation.version == nil
            }
            metrics?.written(slice.count - refused.count, duration: ContinuousClock.now - began)
            for f in refused { metrics?.failed(1, reason: f.type) }
            try handle(failures, slice)
            start = end
        }
    }

    /// As Confluent's `tryWriteRecord`: the errant record reporter (when there is one) gets the record first; then
    /// `drop.invalid.message` drops it with a log line, or the task fails with the converter's DataException.
    private func handleInvalid(_ record: SinkRecord, _ error: ConnectError) throws {
        metrics?.failed(1, reason: "invalid-record")
        try context?.errantRecordReporter?.report(record, error: error)
        guard config.dropInvalidMessage else { throw error }
        logger.error(
            "Can't convert record from topic/partition/offset \(record.topic)/\(record.kafkaPartition ?? -1)/\(record.kafkaOffset). Error message: \(error.message)"
        )
    }

    private func ensureIndex(_ index: String, _ record: SinkRecord) throws {
        guard !knownIndexes.contains(index) else { return }
        // The mapping is inferred only when it is written (a tombstone or a schemaless record has no schema to
        // infer from; an index that has a mapping keeps it).
        let usesSchema = !config.ignoresSchema(record.topic)
        if try !client.indexExists(index) {
            let mapping: JSONValue? = usesSchema ? try Mapping.infer(record.valueSchema) : nil
            if try client.createIndex(index, mapping: mapping) {
                logger.info("Created index \(index)\(mapping == nil ? "" : " with a mapping from the record schema")")
            }
        } else if usesSchema, record.valueSchema != nil, try !client.hasMapping(index) {
            // As Confluent's checkMapping: an index made beforehand without fields gets the schema's mapping.
            try client.putMapping(index, try Mapping.infer(record.valueSchema))
            logger.info("Created mapping for index \(index) from the record schema")
        }
        knownIndexes.insert(index)
    }

    private func handle(
        _ failures: [ElasticsearchClient.ItemFailure], _ batch: [(record: SinkRecord, operation: BulkOperation)]
    ) throws {
        for failure in failures where failure.position < batch.count {
            let (record, operation) = batch[failure.position]
            if failure.type == "version_conflict_engine_exception" {
                if operation.version != nil {
                    // A record seen before (a redelivery) or older than the document: the newer one stays.
                    logger.debug(
                        "Ignoring EXTERNAL version conflict for document '\(operation.id)' in index '\(operation.index)'."
                    )
                    continue
                }
                logger.warning(
                    "Version conflict for operation \(operation.action.rawValue) on document '\(operation.id)' in index '\(operation.index)'."
                )
                try report(record, failure)
                continue
            }
            try report(record, failure)
            if Self.malformedDocumentErrors.contains(where: failure.type.contains) {
                switch config.behaviorOnMalformedDocs {
                case .ignore: continue
                case .warn:
                    logger.warning(
                        "Encountered an illegal document error. Ignoring and will not index record. \(failure.message)")
                    continue
                case .fail:
                    logger.error(
                        "Encountered an illegal document error. Please check DLQ topic for errors. To ignore future records like this, change the configuration 'behavior.on.malformed.documents' to 'ignore'."
                    )
                }
            }
            throw ConnectError(
                .connect, "Indexing record failed. Please check DLQ topic for errors.",
                cause: ConnectError(
                    .io,
                    "\(failure.message) (document '\(operation.id)' in index '\(operation.index)', topic/partition/offset \(record.topic)/\(record.kafkaPartition ?? -1)/\(record.kafkaOffset))"
                ))
        }
    }

    private func report(_ record: SinkRecord, _ failure: ElasticsearchClient.ItemFailure) throws {
        try context?.errantRecordReporter?.report(
            record, error: ConnectError(.connect, "Indexing failed: \(failure.message)"))
    }
}
