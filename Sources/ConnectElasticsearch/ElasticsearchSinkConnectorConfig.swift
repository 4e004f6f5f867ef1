import ConnectAPI
import Foundation

/// The Elasticsearch sink's configuration (Confluent's `ElasticsearchSinkConnectorConfig`), keys and defaults as
/// Confluent defines them.
struct ElasticsearchSinkConnectorConfig: Sendable {
    enum BehaviorOnNullValues: String, Sendable, CaseIterable { case ignore, delete, fail }
    enum BehaviorOnMalformedDocs: String, Sendable, CaseIterable { case ignore, warn, fail }
    enum WriteMethod: String, Sendable, CaseIterable { case insert, upsert }

    static let configDef = ConfigDef()
        .define(
            "connection.url", .list, default: .required, importance: .high,
            documentation: "The comma-separated list of one or more Elasticsearch URLs (http://host:9200)",
            group: "Connector", orderInGroup: 1
        )
        .define(
            "connection.username", .string, default: .none, importance: .medium,
            documentation: "The username used to authenticate with Elasticsearch", group: "Connector",
            orderInGroup: 2
        )
        .define(
            "connection.password", .password, default: .none, importance: .medium,
            documentation: "The password used to authenticate with Elasticsearch", group: "Connector",
            orderInGroup: 3
        )
        .define(
            "batch.size", .int, default: 2000, validator: .between(1, 1_000_000), importance: .medium,
            documentation: "The number of records to process as a batch when writing to Elasticsearch",
            group: "Connector", orderInGroup: 4
        )
        .define(
            "bulk.size.bytes", .long, default: 5_242_880, validator: .atLeast(-1), importance: .low,
            documentation: "The maximum size (in bytes) to be processed as a batch; -1 for no limit",
            group: "Connector", orderInGroup: 5
        )
        .define(
            "max.in.flight.requests", .int, default: 5, validator: .atLeast(1), importance: .medium,
            documentation: "The maximum number of indexing requests that can be in-flight", group: "Connector",
            orderInGroup: 6
        )
        .define(
            "max.buffered.records", .int, default: 20000, validator: .atLeast(1), importance: .low,
            documentation: "The maximum number of records each task will buffer", group: "Connector",
            orderInGroup: 7
        )
        .define(
            "linger.ms", .long, default: 1, validator: .atLeast(0), importance: .low,
            documentation: "Linger time in milliseconds for batching", group: "Connector", orderInGroup: 8
        )
        .define(
            "flush.timeout.ms", .long, default: 180_000, validator: .atLeast(1000), importance: .low,
            documentation: "The timeout in milliseconds to use for periodic flushing", group: "Connector",
            orderInGroup: 9
        )
        .define(
            "max.retries", .int, default: 5, validator: .atLeast(0), importance: .low,
            documentation: "The maximum number of retries that are allowed for failed indexing requests",
            group: "Connector", orderInGroup: 10
        )
        .define(
            "retry.backoff.ms", .long, default: 100, validator: .atLeast(0), importance: .low,
            documentation: "How long to wait in milliseconds before attempting the first retry of a failed request",
            group: "Connector", orderInGroup: 11
        )
        .define(
            "connection.timeout.ms", .int, default: 1000, validator: .atLeast(0), importance: .low,
            documentation: "How long to wait in milliseconds when establishing a connection", group: "Connector",
            orderInGroup: 12
        )
        .define(
            "read.timeout.ms", .int, default: 3000, validator: .atLeast(0), importance: .low,
            documentation:
                "How long to wait in milliseconds for the server to send more of an answer (a socket read timeout; 0 waits for ever)",
            group: "Connector", orderInGroup: 13
        )
        .define(
            "key.ignore", .boolean, default: false, importance: .high,
            documentation: "Whether to ignore the record key: the document ID is then topic+partition+offset",
            group: "Data Conversion", orderInGroup: 1
        )
        .define(
            "schema.ignore", .boolean, default: false, importance: .low,
            documentation: "Whether to ignore schemas: no mapping is created and Elasticsearch infers one",
            group: "Data Conversion", orderInGroup: 2
        )
        .define(
            "compact.map.entries", .boolean, default: true, importance: .low,
            documentation: "Write maps with string keys as JSON objects rather than arrays of key and value",
            group: "Data Conversion", orderInGroup: 3
        )
        .define(
            "topic.key.ignore", .list, default: "", importance: .low,
            documentation: "Topics for which key.ignore is true", group: "Data Conversion", orderInGroup: 4
        )
        .define(
            "topic.schema.ignore", .list, default: "", importance: .low,
            documentation: "Topics for which schema.ignore is true", group: "Data Conversion", orderInGroup: 5
        )
        .define(
            "drop.invalid.message", .boolean, default: false, importance: .low,
            documentation: "Whether to drop a record that cannot be converted instead of failing the task",
            group: "Data Conversion", orderInGroup: 6
        )
        .define(
            "behavior.on.null.values", .string, default: "fail",
            validator: .oneOf(BehaviorOnNullValues.allCases.map(\.rawValue), caseInsensitive: true),
            importance: .low, documentation: "How to handle records with a null value: ignore, delete or fail",
            group: "Data Conversion", orderInGroup: 7
        )
        .define(
            "behavior.on.malformed.documents", .string, default: "fail",
            validator: .oneOf(BehaviorOnMalformedDocs.allCases.map(\.rawValue), caseInsensitive: true),
            importance: .low,
            documentation: "How to handle records Elasticsearch rejects as malformed: ignore, warn or fail",
            group: "Data Conversion", orderInGroup: 8
        )
        .define(
            "write.method", .string, default: "insert",
            validator: .oneOf(WriteMethod.allCases.map(\.rawValue), caseInsensitive: true), importance: .low,
            documentation: "insert (index the whole document) or upsert (update, creating it when missing)",
            group: "Data Conversion", orderInGroup: 9
        )
        .define(
            "external.version.header", .string, default: "", importance: .low,
            documentation: "A header whose value is the document's external version, in place of the offset",
            group: "Data Conversion", orderInGroup: 10)

    let urls: [String]
    let username: String?
    let password: String?
    let batchSize: Int
    let bulkSizeBytes: Int
    let maxRetries: Int
    let retryBackoffMs: Int64
    let connectionTimeoutMs: Int64
    let readTimeoutMs: Int64
    let maxInFlightRequests: Int
    let keyIgnore: Bool
    let schemaIgnore: Bool
    let compactMapEntries: Bool
    let topicKeyIgnore: Set<String>
    let topicSchemaIgnore: Set<String>
    let dropInvalidMessage: Bool
    let behaviorOnNullValues: BehaviorOnNullValues
    let behaviorOnMalformedDocs: BehaviorOnMalformedDocs
    let writeMethod: WriteMethod
    let externalVersionHeader: String?

    init(_ props: [String: String]) throws(ConnectError) {
        let c = try Self.configDef.parse(props)
        urls = c.list("connection.url").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        for url in urls where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw ConnectError.invalidConfig(
                "connection.url", url,
                "The provided url '\(url)' is not a valid url: it must start with http:// or https://")
        }
        guard !urls.isEmpty else {
            throw ConnectError.invalidConfig("connection.url", "", "At least one URL is required")
        }
        username = c.string("connection.username").flatMap { $0.isEmpty ? nil : $0 }
        password = c.string("connection.password")
        if (username == nil) != (password == nil || password == "") {
            throw ConnectError.invalidConfig(
                "connection.username", username,
                "Either both or neither 'connection.username' and 'connection.password' must be set.")
        }
        batchSize = Int(c.int("batch.size") ?? 2000)
        bulkSizeBytes = Int(c.int("bulk.size.bytes") ?? 5_242_880)
        maxRetries = Int(c.int("max.retries") ?? 5)
        retryBackoffMs = c.int("retry.backoff.ms") ?? 100
        connectionTimeoutMs = c.int("connection.timeout.ms") ?? 1000
        readTimeoutMs = c.int("read.timeout.ms") ?? 3000
        maxInFlightRequests = Int(c.int("max.in.flight.requests") ?? 5)
        keyIgnore = c.bool("key.ignore") ?? false
        schemaIgnore = c.bool("schema.ignore") ?? false
        compactMapEntries = c.bool("compact.map.entries") ?? true
        topicKeyIgnore = Set(c.list("topic.key.ignore"))
        topicSchemaIgnore = Set(c.list("topic.schema.ignore"))
        dropInvalidMessage = c.bool("drop.invalid.message") ?? false
        behaviorOnNullValues =
            BehaviorOnNullValues(rawValue: (c.string("behavior.on.null.values") ?? "fail").lowercased()) ?? .fail
        behaviorOnMalformedDocs =
            BehaviorOnMalformedDocs(rawValue: (c.string("behavior.on.malformed.documents") ?? "fail").lowercased())
            ?? .fail
        writeMethod = WriteMethod(rawValue: (c.string("write.method") ?? "insert").lowercased()) ?? .insert
        externalVersionHeader = c.string("external.version.header").flatMap { $0.isEmpty ? nil : $0 }
    }

    func ignoresKey(_ topic: String) -> Bool { keyIgnore || topicKeyIgnore.contains(topic) }
    func ignoresSchema(_ topic: String) -> Bool { schemaIgnore || topicSchemaIgnore.contains(topic) }

    /// Confluent's `convertTopicToIndexName`: lower case, cut to 255 bytes, then one leading `-` or `_` dropped, `.`
    /// and `..` as `dot` and `dotdot`.
    static func indexName(_ topic: String) -> String {
        var index = topic.lowercased()
        while index.utf8.count > 255 { index.removeLast() }
        if let first = index.first, first == "-" || first == "_" { index.removeFirst() }
        if index == "." { return "dot" }
        if index == ".." { return "dotdot" }
        return index
    }
}
