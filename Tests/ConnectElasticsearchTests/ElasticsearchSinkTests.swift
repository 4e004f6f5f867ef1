import ConnectAPI
import ConnectTestKit
import Foundation
import JSON
import Synchronization
import Testing

@testable import ConnectElasticsearch

@Suite("The Elasticsearch sink's ids, documents, mappings and configuration")
struct ElasticsearchSinkUnitTests {
    static let schema = SchemaBuilder.struct().name("orders").field("id", .int32).field("item", .string)
        .field("price", LogicalTypes.decimal(scale: 2, optional: true)).build()

    static func record(
        _ id: Int32, _ item: String?, offset: Int64, topic: String = "orders", price: Int64? = 999
    ) throws -> SinkRecord {
        var value: Value?
        if let item {
            var s = Struct(schema: schema)
            try s.put("id", .int32(id))
            try s.put("item", .string(item))
            try s.put("price", price.map { .decimal(BigDecimal(unscaledValue: $0, scale: 2)) })
            value = .struct(s)
        }
        return SinkRecord(
            topic: topic, kafkaPartition: 0, keySchema: .int32, key: .int32(id), valueSchema: schema, value: value,
            kafkaOffset: offset)
    }

    static func config(_ extra: [String: String] = [:]) throws -> ElasticsearchSinkConnectorConfig {
        try ElasticsearchSinkConnectorConfig(["connection.url": "http://127.0.0.1:1"].merging(extra) { $1 })
    }

    @Test("index names follow convertTopicToIndexName")
    func indexNames() {
        #expect(
            ElasticsearchSinkConnectorConfig.indexName("Dbserver1.Inventory.ORDERS") == "dbserver1.inventory.orders")
        #expect(ElasticsearchSinkConnectorConfig.indexName("_private") == "private")
        #expect(ElasticsearchSinkConnectorConfig.indexName("__private") == "_private", "one character only")
        #expect(ElasticsearchSinkConnectorConfig.indexName(".") == "dot")
        #expect(ElasticsearchSinkConnectorConfig.indexName(String(repeating: "a", count: 300)).count == 255)
    }

    @Test("ids: the key, or topic+partition+offset; external versions only with the key; bulk lines as NDJSON")
    func actions() throws {
        let keyed = try DataConverter(try Self.config()).convert(
            try Self.record(7, "widget", offset: 42), index: "orders")
        #expect(keyed?.id == "7" && keyed?.version == 42 && keyed?.action == .index)
        #expect(
            String(decoding: keyed!.ndjson, as: UTF8.self)
                == #"{"index":{"_index":"orders","_id":"7","version":42,"version_type":"external"}}"# + "\n"
                + #"{"id":7,"item":"widget","price":9.99}"# + "\n")
        let ignored = try DataConverter(try Self.config(["key.ignore": "true", "schema.ignore": "true"]))
            .convert(try Self.record(7, "widget", offset: 42), index: "orders")
        #expect(ignored?.id == "orders+0+42" && ignored?.version == nil)
        #expect(
            String(decoding: ignored!.document!, as: UTF8.self) == #"{"id":7,"item":"widget","price":"A+c="}"#,
            "schema.ignore leaves decimals to JsonConverter's BASE64, as Confluent's sink does")
        let upsert = try DataConverter(try Self.config(["write.method": "upsert"]))
            .convert(try Self.record(7, "widget", offset: 42), index: "orders")
        #expect(
            String(decoding: upsert!.ndjson, as: UTF8.self)
                == #"{"update":{"_index":"orders","_id":"7","retry_on_conflict":5}}"# + "\n"
                + #"{"doc":{"id":7,"item":"widget","price":9.99},"upsert":{"id":7,"item":"widget","price":9.99}}"#
                + "\n")
        let delete = try DataConverter(try Self.config(["behavior.on.null.values": "delete"]))
            .convert(try Self.record(7, nil, offset: 43), index: "orders")
        #expect(delete == BulkOperation(action: .delete, index: "orders", id: "7", version: 43))
        #expect(
            try DataConverter(try Self.config(["behavior.on.null.values": "ignore"])).convert(
                try Self.record(7, nil, offset: 1), index: "o") == nil)
    }

    @Test("refused records: a null value with fail, a null or struct key, say why as Confluent does")
    func refusals() throws {
        let converter = DataConverter(try Self.config())
        #expect {
            try converter.convert(try Self.record(7, nil, offset: 3), index: "orders")
        } throws: {
            ($0 as? ConnectError)?.message.contains("'behavior.on.null.values' from 'fail' to 'ignore'") == true
        }
        #expect {
            try DataConverter.documentId(nil, nil)
        } throws: { ($0 as? ConnectError)?.message == "Key is used as document id and can not be null." }
        #expect {
            try DataConverter.documentId(Self.schema, .struct(Struct(schema: Self.schema)))
        } throws: { ($0 as? ConnectError)?.message == "STRUCT is not supported as the document id." }
        // Confluent upserts with key.ignore too: each record its own document, topic+partition+offset.
        let upsert = try DataConverter(try Self.config(["write.method": "upsert", "key.ignore": "true"]))
            .convert(try Self.record(7, "widget", offset: 3), index: "orders")
        #expect(upsert?.action == .update && upsert?.id == "orders+0+3")
        #expect(throws: ConnectError.self) { try Self.config(["connection.url": "localhost:9200"]) }
    }

    @Test("Confluent's cross-key rules: topic.key.ignore or topic.schema.ignore next to key.ignore or schema.ignore")
    func crossKeyRules() {
        let connector = ElasticsearchSinkConnector()
        let errors = connector.validate([
            "connection.url": "http://127.0.0.1:9200", "key.ignore": "true", "topic.key.ignore": "a",
            "schema.ignore": "true", "topic.schema.ignore": "b",
        ])
        #expect(errors["key.ignore"] == ["'topic.key.ignore' can not be set if 'key.ignore' is true."])
        #expect(errors["topic.key.ignore"] == ["'topic.key.ignore' can not be set if 'key.ignore' is true."])
        #expect(errors["topic.schema.ignore"] == ["'topic.schema.ignore' can not be set if 'schema.ignore' is true."])
        #expect(connector.validate(["connection.url": "http://127.0.0.1:9200", "topic.key.ignore": "a"]).isEmpty)
    }

    @Test("mappings from the schema: text with a keyword field, decimals as double, timestamps as date")
    func mappings() throws {
        let schema = SchemaBuilder.struct().field("item", .string).field("qty", .int32)
            .field("price", LogicalTypes.decimal(scale: 2)).field("at", LogicalTypes.timestamp())
            .field("tags", SchemaBuilder.map(.string, .int64).build()).build()
        let m = try Mapping.infer(schema)
        #expect(
            m["properties"]?["item"] == [
                "type": "text", "fields": ["keyword": ["type": "keyword", "ignore_above": 256]],
            ])
        #expect(m["properties"]?["qty"] == ["type": "integer"])
        #expect(m["properties"]?["price"] == ["type": "double"])
        #expect(m["properties"]?["at"] == ["type": "date"])
        #expect(m["properties"]?["tags"]?["properties"]?["value"] == ["type": "long"])
        #expect(throws: ConnectError.self) { try Mapping.infer(nil) }
    }

    @Test("maps with other than string keys become key/value arrays; compact.map.entries=false does it for all")
    func maps() throws {
        let schema = SchemaBuilder.struct().field("m", SchemaBuilder.map(.int32, .string).build()).build()
        var s = Struct(schema: schema)
        try s.put("m", .map([.init(.int32(1), .string("a"))]))
        let r = SinkRecord(
            topic: "t", kafkaPartition: 0, keySchema: .string, key: .string("k"), valueSchema: schema,
            value: .struct(s), kafkaOffset: 0)
        let op = try DataConverter(try Self.config()).convert(r, index: "t")
        #expect(String(decoding: op!.document!, as: UTF8.self) == #"{"m":[{"key":1,"value":"a"}]}"#)
    }
}

/// The Elasticsearch sink against a real OpenSearch-compatible server (osmem-server), checked over its REST API.
@Suite("The Elasticsearch sink against a real server", .serialized)
struct ElasticsearchSinkTaskTests {
    static func start(_ props: [String: String], _ context: ReportingContext? = nil) throws -> ElasticsearchSinkTask {
        let task = ElasticsearchSinkTask()
        task.initialize(context ?? ReportingContext(withReporter: false))
        try task.start(["connection.url": OpenSearchServer.shared.url].merging(props) { $1 })
        return task
    }

    static func topic() -> String { "orders-\(UInt32.random(in: 0...UInt32.max))" }

    @Test(
        "keyed documents with the schema's mapping; a redelivery and an older offset change nothing; a tombstone deletes"
    )
    func keyedIdempotent() throws {
        let es = OpenSearchServer.shared
        let t = Self.topic()
        let task = try Self.start(["behavior.on.null.values": "delete"])
        let batch = [
            try ElasticsearchSinkUnitTests.record(1, "widget", offset: 0, topic: t),
            try ElasticsearchSinkUnitTests.record(2, "gadget", offset: 1, topic: t),
            try ElasticsearchSinkUnitTests.record(1, "widget v2", offset: 2, topic: t),
        ]
        try task.put(batch)
        try task.put(batch)  // redelivered after a crash
        try task.put([try ElasticsearchSinkUnitTests.record(1, "stale", offset: 0, topic: t)])
        let docs = try es.documents(t)
        #expect(docs["1"]?["item"] == "widget v2")
        #expect(docs["2"]?["item"] == "gadget" && docs["2"]?["price"] == .double(9.99))
        #expect(docs.count == 2)
        let (_, mapping) = try es.call("GET", "/\(t)/_mapping")
        #expect(mapping?[t]?["mappings"]?["properties"]?["price"]?["type"] == "double")
        try task.put([try ElasticsearchSinkUnitTests.record(2, nil, offset: 3, topic: t)])
        #expect(try es.documents(t).keys.sorted() == ["1"])
    }

    @Test("the course's keys: key.ignore and schema.ignore give one document per record, ids topic+partition+offset")
    func courseKeys() throws {
        let t = Self.topic()
        let task = try Self.start(["key.ignore": "true", "schema.ignore": "true"])
        try task.put([
            try ElasticsearchSinkUnitTests.record(1, "widget", offset: 5, topic: t),
            try ElasticsearchSinkUnitTests.record(1, "widget", offset: 6, topic: t),
        ])
        #expect(try OpenSearchServer.shared.documents(t).keys.sorted() == ["\(t)+0+5", "\(t)+0+6"])
    }

    @Test("a document the mapping refuses fails the task by default; with warn it goes to the reporter only")
    func malformed() throws {
        let es = OpenSearchServer.shared
        let t = Self.topic()
        try es.call("PUT", "/\(t)", #"{"mappings": {"properties": {"item": {"type": "integer"}}}}"#)
        let strict = try Self.start(["schema.ignore": "true"])
        #expect {
            try strict.put([try ElasticsearchSinkUnitTests.record(1, "not a number", offset: 0, topic: t)])
        } throws: { error in
            let e = error as? ConnectError
            return e?.message == "Indexing record failed. Please check DLQ topic for errors."
                && e?.trace.contains("mapper_parsing_exception") == true
        }
        let context = ReportingContext(withReporter: true)
        let lenient = try Self.start(["schema.ignore": "true", "behavior.on.malformed.documents": "warn"], context)
        try lenient.put([
            try ElasticsearchSinkUnitTests.record(1, "not a number", offset: 0, topic: t),
            try ElasticsearchSinkUnitTests.record(2, "42", offset: 1, topic: t),
        ])
        #expect(context.reported.withLock { $0.map(\.offset) } == [0])
        #expect(
            context.reported.withLock { $0.first?.error.contains("Indexing failed: mapper_parsing_exception") } == true)
        #expect(try es.documents(t).keys.sorted() == ["2"])
    }

    @Test("an index made beforehand without fields gets the schema's mapping; one with a mapping keeps it")
    func mappingOnExistingIndex() throws {
        let es = OpenSearchServer.shared
        let t = Self.topic()
        try es.call("PUT", "/\(t)", "{}")
        try Self.start([:]).put([try ElasticsearchSinkUnitTests.record(1, "widget", offset: 0, topic: t)])
        let (_, mapping) = try es.call("GET", "/\(t)/_mapping")
        #expect(mapping?[t]?["mappings"]?["properties"]?["price"]?["type"] == "double")
        let other = Self.topic()
        try es.call("PUT", "/\(other)", #"{"mappings": {"properties": {"item": {"type": "keyword"}}}}"#)
        try Self.start([:]).put([try ElasticsearchSinkUnitTests.record(1, "widget", offset: 0, topic: other)])
        let (_, kept) = try es.call("GET", "/\(other)/_mapping")
        #expect(kept?[other]?["mappings"]?["properties"]?["item"]?["type"] == "keyword")
        // A task whose first record for an existing index is a tombstone (no schema to infer from) deletes.
        try Self.start(["behavior.on.null.values": "delete"]).put([
            try ElasticsearchSinkUnitTests.record(1, nil, offset: 1, topic: t)
        ])
        #expect(try es.documents(t).isEmpty)
    }

    @Test("a strict mapping's refusal of a new field is a malformed document (ignore skips it)")
    func strictMapping() throws {
        let es = OpenSearchServer.shared
        let t = Self.topic()
        try es.call(
            "PUT", "/\(t)", #"{"mappings": {"dynamic": "strict", "properties": {"id": {"type": "integer"}}}}"#)
        #expect {
            try Self.start(["schema.ignore": "true"]).put([
                try ElasticsearchSinkUnitTests.record(1, "widget", offset: 0, topic: t)
            ])
        } throws: { ($0 as? ConnectError)?.trace.contains("strict_dynamic_mapping_exception") == true }
        try Self.start(["schema.ignore": "true", "behavior.on.malformed.documents": "ignore"]).put([
            try ElasticsearchSinkUnitTests.record(1, "widget", offset: 0, topic: t)
        ])
        #expect(try es.documents(t).isEmpty)
    }

    @Test("a record that cannot be converted is reported first, then dropped (drop.invalid.message) or fails the put")
    func invalidRecords() throws {
        var keyless = try ElasticsearchSinkUnitTests.record(1, "widget", offset: 3, topic: Self.topic())
        keyless.key = nil
        let unreachable = ["connection.url": "http://127.0.0.1:\(try FreePort.allocate())", "max.retries": "0"]
        let failing = ReportingContext(withReporter: true)
        #expect(throws: ConnectError.self) { try Self.start(unreachable, failing).put([keyless]) }
        #expect(failing.reported.withLock { $0.map(\.offset) } == [3])
        let dropping = ReportingContext(withReporter: true)
        try Self.start(unreachable.merging(["drop.invalid.message": "true"]) { $1 }, dropping).put([keyless])
        #expect(dropping.reported.withLock { $0.map(\.offset) } == [3])
    }

    @Test("an unreachable server fails the put after max.retries, naming the bulk request")
    func unreachable() throws {
        let task = try Self.start([
            "connection.url": "http://127.0.0.1:\(try FreePort.allocate())", "max.retries": "1",
            "retry.backoff.ms": "10",
            "key.ignore": "true", "schema.ignore": "true",
        ])
        #expect {
            try task.put([try ElasticsearchSinkUnitTests.record(1, "widget", offset: 0, topic: Self.topic())])
        } throws: { ($0 as? ConnectError)?.trace.contains("after total of 2 attempt(s)") == true }
    }
}
