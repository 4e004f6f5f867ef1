import ConnectAPI
import ConnectTransforms
import Testing

@Suite struct ExtractNewRecordStateTests {
    let row = SchemaBuilder.struct().name("dbserver1.inventory.customers.Value").optional()
        .field("id", Schema.int32).field("email", Schema.string).build()
    let source = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
        .field("db", Schema.string).field("table", Schema.string).field("ts_ms", Schema.int64).build()
    var envelope: Schema {
        SchemaBuilder.struct().name("dbserver1.inventory.customers.Envelope")
            .field("before", row).field("after", row).field("source", source).field("op", Schema.string)
            .field("ts_ms", Schema.optionalInt64).build()
    }

    func rowValue(_ id: Int32, _ email: String) throws -> Value {
        var s = Struct(schema: row)
        try s.put("id", .int32(id))
        try s.put("email", .string(email))
        return .struct(s)
    }

    func event(op: String, before: Value?, after: Value?) throws -> SinkRecord {
        var src = Struct(schema: source)
        try src.put("db", .string("inventory"))
        try src.put("table", .string("customers"))
        try src.put("ts_ms", .int64(1_700_000_000_000))
        var e = Struct(schema: envelope)
        try e.put("before", before)
        try e.put("after", after)
        try e.put("source", .struct(src))
        try e.put("op", .string(op))
        try e.put("ts_ms", .int64(1_700_000_000_500))
        return sinkRecord(
            topic: "dbserver1.inventory.customers", key: .int32(1), valueSchema: envelope, value: .struct(e))
    }

    @Test("a create becomes the after state, with added fields and headers")
    func create() throws {
        let t = try configured(
            ExtractNewRecordState(), ["add.fields": "op,source.ts_ms,table,db:database", "add.headers": "op"])
        let out = try #require(try t.apply(try event(op: "c", before: nil, after: try rowValue(1, "a@x.org"))))
        #expect(
            connectJSON(out.valueSchema, out.value)
                == #"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":false,"field":"email"},{"type":"string","optional":true,"field":"__op"},{"type":"int64","optional":true,"field":"__source_ts_ms"},{"type":"string","optional":true,"field":"__table"},{"type":"string","optional":true,"field":"database"}],"optional":true,"name":"dbserver1.inventory.customers.Value"},"payload":{"id":1,"email":"a@x.org","__op":"c","__source_ts_ms":1700000000000,"__table":"customers","database":"inventory"}}"#
        )
        #expect(out.headers.last("__op")?.value == .string("c"))
        #expect(out.key == .int32(1))
    }

    @Test("by default a delete becomes a tombstone and an incoming tombstone is dropped")
    func defaultDeletes() throws {
        let t = try configured(ExtractNewRecordState(), [:])
        let out = try #require(try t.apply(try event(op: "d", before: try rowValue(1, "a@x.org"), after: nil)))
        #expect(out.value == nil)
        #expect(out.key == .int32(1))
        #expect(try t.apply(sinkRecord(key: .int32(1), value: nil)) == nil)
    }

    @Test("rewrite keeps the before state of deletes with __deleted, and marks other events false")
    func rewrite() throws {
        let t = try configured(ExtractNewRecordState(), ["delete.tombstone.handling.mode": "rewrite"])
        let deleted = try #require(try t.apply(try event(op: "d", before: try rowValue(1, "a@x.org"), after: nil)))
        #expect(
            connectJSON(deleted.valueSchema, deleted.value).hasSuffix(
                #""payload":{"id":1,"email":"a@x.org","__deleted":"true"}}"#))
        let updated = try #require(
            try t.apply(try event(op: "u", before: try rowValue(1, "a@x.org"), after: try rowValue(1, "b@x.org"))))
        #expect(
            connectJSON(updated.valueSchema, updated.value).hasSuffix(
                #""payload":{"id":1,"email":"b@x.org","__deleted":"false"}}"#))
        #expect(try t.apply(sinkRecord(value: nil)) == nil)
        let withTombstones = try configured(
            ExtractNewRecordState(), ["delete.tombstone.handling.mode": "rewrite-with-tombstone"])
        #expect(try withTombstones.apply(sinkRecord(value: nil)) != nil)
    }

    @Test("drop mode removes deletes and tombstones; truncates are always dropped")
    func drop() throws {
        let t = try configured(ExtractNewRecordState(), ["delete.tombstone.handling.mode": "drop"])
        #expect(try t.apply(try event(op: "d", before: try rowValue(1, "a"), after: nil)) == nil)
        #expect(try t.apply(sinkRecord(value: nil)) == nil)
        #expect(try configured(ExtractNewRecordState(), [:]).apply(try event(op: "t", before: nil, after: nil)) == nil)
    }

    @Test("the legacy keys still work: delete.handling.mode=none with drop.tombstones=false")
    func legacy() throws {
        let t = try configured(ExtractNewRecordState(), ["delete.handling.mode": "none", "drop.tombstones": "false"])
        let out = try #require(try t.apply(try event(op: "d", before: try rowValue(1, "a"), after: nil)))
        #expect(out.value == nil)
        #expect(try t.apply(sinkRecord(value: nil)) != nil)
    }

    @Test("route.by.field sends the record to the topic named by a field; non-events pass unchanged")
    func routeAndPassThrough() throws {
        let t = try configured(ExtractNewRecordState(), ["route.by.field": "email"])
        #expect(
            try t.apply(try event(op: "c", before: nil, after: try rowValue(1, "customers-eu")))?.topic
                == "customers-eu")
        let other = sinkRecord(valueSchema: Schema.string, value: .string("heartbeat"))
        #expect(try t.apply(other) == other)
    }

    @Test("schemaless envelopes unwrap to maps")
    func schemaless() throws {
        let t = try configured(ExtractNewRecordState(), ["add.fields": "op"])
        let out = try #require(
            try t.apply(sinkRecord(value: plain(#"{"before":null,"after":{"id":1},"op":"r","source":{"ts_ms":5}}"#))))
        #expect(connectJSON(nil, out.value) == #"{"schema":null,"payload":{"id":1,"__op":"r"}}"#)
    }
}
