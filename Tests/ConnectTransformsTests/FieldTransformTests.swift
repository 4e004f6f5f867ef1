import ConnectAPI
import ConnectTransforms
import Testing

@Suite struct ReplaceFieldTests {
    @Test("exclude, include and renames on a struct, as Connect JSON")
    func withSchema() throws {
        let (schema, value) = try orderValue()
        let t = try configured(
            ReplaceFieldValue(),
            ["exclude": "ordertime", "include": "orderid,itemid,ordertime", "renames": "itemid:item"])
        let out = try #require(try t.apply(sourceRecord(valueSchema: schema, value: value)))
        #expect(
            connectJSON(out.valueSchema, out.value)
                == #"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"orderid"},{"type":"string","optional":false,"field":"item"}],"optional":false,"name":"ksql.orders"},"payload":{"orderid":7,"item":"Item_1"}}"#
        )
    }

    @Test("schemaless maps and the key variant; the deprecated blacklist still works")
    func schemalessAndKey() throws {
        let t = try configured(ReplaceFieldKey(), ["blacklist": "b", "renames": "a:x"])
        let out = try #require(try t.apply(sinkRecord(key: plain(#"{"a":1,"b":2,"c":3}"#), value: .string("v"))))
        #expect(connectJSON(nil, out.key) == #"{"schema":null,"payload":{"x":1,"c":3}}"#)
        #expect(out.value == .string("v"))
    }

    @Test("tombstones pass; a bad rename mapping is a config error")
    func edges() throws {
        let t = try configured(ReplaceFieldValue(), ["exclude": "a"])
        let r = sinkRecord(value: nil)
        #expect(try t.apply(r) == r)
        #expect {
            try ReplaceFieldValue().configure(["renames": "a:b:c"])
        } throws: { "\($0)".contains("Invalid rename mapping: a:b:c") }
    }

    @Test("a non-struct value with a schema is Connect's DataException")
    func notStruct() throws {
        let t = try configured(ReplaceFieldValue(), ["exclude": "a"])
        #expect {
            _ = try t.apply(sinkRecord(valueSchema: Schema.string, value: .string("x")))
        } throws: {
            ($0 as? ConnectError)?.message
                == "Only Struct objects supported for [field replacement], found: java.lang.String"
        }
    }
}

@Suite struct InsertFieldTests {
    @Test("topic, partition, offset, timestamp and static fields on a sink record, with ! and ? suffixes")
    func sinkAllFields() throws {
        let (schema, value) = try makeStruct(fields: [("id", Schema.int32, .int32(1))])
        let t = try configured(
            InsertFieldValue(),
            [
                "topic.field": "t!", "partition.field": "p", "offset.field": "o?", "timestamp.field": "ts",
                "static.field": "s", "static.value": "v",
            ])
        let out = try #require(try t.apply(sinkRecord(valueSchema: schema, value: value)))
        #expect(
            connectJSON(out.valueSchema, out.value)
                == #"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":false,"field":"t"},{"type":"int32","optional":true,"field":"p"},{"type":"int64","optional":true,"field":"o"},{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"},{"type":"string","optional":true,"field":"s"}],"optional":false},"payload":{"id":1,"t":"orders","p":1,"o":42,"ts":1700000000000,"s":"v"}}"#
        )
    }

    @Test("schemaless maps get plain values (timestamps as longs)")
    func schemaless() throws {
        let t = try configured(InsertFieldValue(), ["topic.field": "t", "timestamp.field": "ts"])
        let out = try #require(try t.apply(sourceRecord(value: plain(#"{"a":1}"#))))
        #expect(connectJSON(nil, out.value) == #"{"schema":null,"payload":{"a":1,"t":"orders","ts":1700000000000}}"#)
    }

    @Test("offsets exist only on sink records; configuration errors use Connect's words")
    func errors() throws {
        let t = try configured(InsertFieldValue(), ["offset.field": "o"])
        #expect {
            _ = try t.apply(sourceRecord(value: plain(#"{"a":1}"#)))
        } throws: {
            ($0 as? ConnectError)?.message.hasPrefix("Offset insertion is only supported for sink connectors") == true
        }
        #expect { try InsertFieldValue().configure([:]) } throws: { "\($0)".contains("No field insertion configured") }
        #expect { try InsertFieldValue().configure(["static.field": "s"]) } throws: {
            "\($0)".contains("No value specified for static field: s")
        }
    }

    @Test("a field inserted under a name the record has already fails the record, as Connect's SchemaBuilder does")
    func nameClash() throws {
        let (schema, value) = try makeStruct(fields: [
            ("topic", Schema.string, .string("mine")), ("id", Schema.int32, .int32(1)),
        ])
        let t = try configured(InsertFieldValue(), ["topic.field": "topic"])
        #expect {
            _ = try t.apply(sinkRecord(valueSchema: schema, value: value))
        } throws: {
            ($0 as? ConnectError)?.message == "Cannot create field because of field name duplication topic"
        }
    }

    @Test("a tombstone passes unchanged")
    func tombstone() throws {
        let t = try configured(InsertFieldValue(), ["topic.field": "t"])
        let r = sinkRecord(value: nil)
        #expect(try t.apply(r) == r)
    }
}

@Suite struct ExtractFieldTests {
    @Test("V1 extracts a top-level field with its schema; the key variant works on keys")
    func v1() throws {
        let (schema, value) = try orderValue()
        let out = try #require(
            try configured(ExtractFieldValue(), ["field": "orderid"]).apply(
                sourceRecord(valueSchema: schema, value: value)))
        #expect(connectJSON(out.valueSchema, out.value) == #"{"schema":{"type":"int32","optional":false},"payload":7}"#)
        let key = try #require(
            try configured(ExtractFieldKey(), ["field": "id"]).apply(sinkRecord(key: plain(#"{"id":5}"#), value: nil)))
        #expect(key.key == .int64(5))
    }

    @Test("V2 follows a dotted path; backticks keep dots in a name")
    func v2() throws {
        let (inner, innerValue) = try makeStruct("address", fields: [("city", Schema.string, .string("Paris"))])
        let (schema, value) = try makeStruct(fields: [("address", inner, innerValue)])
        let out = try #require(
            try configured(ExtractFieldValue(), ["field": "address.city", "field.syntax.version": "V2"])
                .apply(sourceRecord(valueSchema: schema, value: value)))
        #expect(out.value == .string("Paris"))
        let dotted = try #require(
            try configured(ExtractFieldValue(), ["field": "`a.b`.c", "field.syntax.version": "V2"])
                .apply(sinkRecord(value: plain(#"{"a.b":{"c":9}}"#))))
        #expect(dotted.value == .int64(9))
    }

    @Test("an unknown field with a schema is Connect's IllegalArgumentException; null passes through")
    func errors() throws {
        let (schema, value) = try orderValue()
        let t = try configured(ExtractFieldValue(), ["field": "nope"])
        #expect {
            _ = try t.apply(sourceRecord(valueSchema: schema, value: value))
        } throws: { ($0 as? ConnectError)?.description == "java.lang.IllegalArgumentException: Unknown field: nope" }
        let out = try #require(try configured(ExtractFieldValue(), ["field": "a"]).apply(sinkRecord(value: nil)))
        #expect(out.value == nil)
    }
}

@Suite struct ValueToKeyTests {
    @Test("the key becomes a struct of the listed value fields")
    func withSchema() throws {
        let (schema, value) = try orderValue()
        let out = try #require(
            try configured(ValueToKey(), ["fields": "orderid,itemid"]).apply(
                sinkRecord(valueSchema: schema, value: value)))
        #expect(
            connectJSON(out.keySchema, out.key)
                == #"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"orderid"},{"type":"string","optional":false,"field":"itemid"}],"optional":false},"payload":{"orderid":7,"itemid":"Item_1"}}"#
        )
        #expect(out.value == value)
    }

    @Test("schemaless values give a map key; a missing field with a schema is Connect's error")
    func schemalessAndMissing() throws {
        let out = try #require(
            try configured(ValueToKey(), ["fields": "a"]).apply(sinkRecord(value: plain(#"{"a":1,"b":2}"#))))
        #expect(connectJSON(nil, out.key) == #"{"schema":null,"payload":{"a":1}}"#)
        let (schema, value) = try orderValue()
        #expect {
            _ = try configured(ValueToKey(), ["fields": "nope"]).apply(sinkRecord(valueSchema: schema, value: value))
        } throws: { ($0 as? ConnectError)?.message == "Field does not exist: nope" }
        #expect { try ValueToKey().configure(["fields": ""]) } throws: { "\($0)".contains("Empty list") }
    }
}

@Suite struct HoistAndMetadataTests {
    @Test("HoistField wraps a value with a schema in a struct, and a schemaless one in a map")
    func hoist() throws {
        let out = try #require(
            try configured(HoistFieldValue(), ["field": "line"]).apply(
                sourceRecord(valueSchema: Schema.string, value: .string("x"))))
        #expect(
            connectJSON(out.valueSchema, out.value)
                == #"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"line"}],"optional":false},"payload":{"line":"x"}}"#
        )
        let key = try #require(
            try configured(HoistFieldKey(), ["field": "k"]).apply(sinkRecord(key: .int64(3), value: nil)))
        #expect(connectJSON(nil, key.key) == #"{"schema":null,"payload":{"k":3}}"#)
    }

    @Test("SetSchemaMetadata renames and versions the schema and rebinds the struct")
    func metadata() throws {
        let (schema, value) = try orderValue()
        let out = try #require(
            try configured(SetSchemaMetadataValue(), ["schema.name": "com.example.Order", "schema.version": "3"]).apply(
                sinkRecord(valueSchema: schema, value: value)))
        #expect(out.valueSchema?.name == "com.example.Order")
        #expect(out.valueSchema?.version == 3)
        #expect(out.value?.structValue?.schema === out.valueSchema)
        #expect(out.value?.structValue?.get("orderid") == .int32(7))
        #expect { try SetSchemaMetadataValue().configure([:]) } throws: {
            "\($0)".contains("Neither schema name nor version configured")
        }
        #expect {
            _ = try configured(SetSchemaMetadataValue(), ["schema.name": "x"]).apply(sinkRecord(value: .string("v")))
        } throws: { ($0 as? ConnectError)?.message == "Schema required for [updating schema metadata]" }
    }
}

@Suite struct RoutingHeaderAndPredicateTests {
    @Test(
        "RegexRouter renames matching topics with $1 and leaves others",
        arguments: [
            ("(.*)", "mysql-debezium-$1", "orders", "mysql-debezium-orders"),
            ("orders-(\\d+)-(.*)", "$2.$1", "orders-12-eu", "eu.12"),
            ("ord", "x", "orders", "orders"),
            ("(.*)s", "\\$$1", "orders", "$order"),
        ])
    func regexRouter(regex: String, replacement: String, topic: String, expected: String) throws {
        let t = try configured(RegexRouter(), ["regex": regex, "replacement": replacement])
        #expect(try t.apply(sourceRecord(topic: topic, value: .string("v")))?.topic == expected)
    }

    @Test("an invalid regex is a config error")
    func badRegex() {
        #expect { try RegexRouter().configure(["regex": "(", "replacement": "x"]) } throws: {
            "\($0)".contains("Invalid regex")
        }
    }

    @Test("InsertHeader types the literal; DropHeaders removes every header with the names; Filter drops")
    func headers() throws {
        var headers = Headers()
        headers.addString("keep", "1")
        headers.addString("drop", "2")
        headers.addString("drop", "3")
        let inserted = try #require(
            try configured(InsertHeader(), ["header": "n", "value.literal": "42"]).apply(
                sinkRecord(value: nil, headers: headers)))
        #expect(inserted.headers.last("n") == Header(key: "n", schema: Schema.int8, value: .int8(42)))
        let dropped = try #require(try configured(DropHeaders(), ["headers": "drop"]).apply(inserted))
        #expect(dropped.headers.map(\.key) == ["keep", "n"])
        #expect(try Filter().apply(dropped) == nil)
    }

    @Test(
        "InsertHeader literals typed as Values.parseString: an array of int8, a map, a date, nested and quoted elements"
    )
    func typedLiterals() throws {
        func header(_ literal: String) throws -> Header? {
            try configured(InsertHeader(), ["header": "h", "value.literal": literal]).apply(sinkRecord(value: nil))?
                .headers.last("h")
        }
        #expect(
            try header("[1,2]")
                == Header(
                    key: "h", schema: SchemaBuilder.array(Schema.int8).build(), value: .array([.int8(1), .int8(2)])))
        #expect(
            try header(#"{"k":1}"#)
                == Header(
                    key: "h", schema: SchemaBuilder.map(Schema.string, Schema.int8).build(),
                    value: .map([.init(.string("k"), .int8(1))])))
        #expect(
            try header("2024-03-01")
                == Header(key: "h", schema: LogicalTypes.date(), value: .timestamp(1_709_251_200_000)))
        #expect(try header("[[1], [2, 3]]")?.value == .array([.array([.int8(1)]), .array([.int8(2), .int8(3)])]))
        #expect(try header(#"["a, b", null, c]"#)?.value == .array([.string("a, b"), nil, .string("c")]))
        // Mixed element types: the array has no element schema; a malformed one is the text.
        #expect(try header("[1, true]")?.schema == nil)
        #expect(try header("[1, 2") == Header(key: "h", schema: Schema.string, value: .string("[1, 2")))
    }

    @Test("predicates: topic full match, header presence, tombstones")
    func predicates() throws {
        var headers = Headers()
        headers.addString("h", "1")
        let r = sinkRecord(topic: "orders-eu", value: nil, headers: headers)
        #expect(try configured(TopicNameMatches(), ["pattern": "orders-.*"]).test(r))
        #expect(try !configured(TopicNameMatches(), ["pattern": "orders"]).test(r))
        #expect(try configured(HasHeaderKey(), ["name": "h"]).test(r))
        #expect(try !configured(HasHeaderKey(), ["name": "x"]).test(r))
        #expect(try RecordIsTombstone().test(r))
        #expect(try !RecordIsTombstone().test(sinkRecord(value: .string("v"))))
        #expect { try TopicNameMatches().configure(["pattern": ""]) } throws: {
            "\($0)".contains("String must be non-empty")
        }
    }
}
