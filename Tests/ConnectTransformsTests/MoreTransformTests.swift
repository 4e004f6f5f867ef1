import ConnectAPI
import ConnectTransforms
import Testing

@Suite struct MaskFieldTests {
    @Test("fields are replaced with their type's empty value; others are kept")
    func emptyValues() throws {
        let (schema, value) = try makeStruct(fields: [
            ("s", Schema.string, .string("secret")), ("i", Schema.int32, .int32(5)),
            ("b", Schema.boolean, .boolean(true)),
            ("d", Schema.float64, .float64(2.5)),
            ("a", SchemaBuilder.array(Schema.string).build(), .array([.string("x")])),
            ("keep", Schema.string, .string("k")),
        ])
        let out = try #require(
            try configured(MaskFieldValue(), ["fields": "s,i,b,d,a"]).apply(
                sinkRecord(valueSchema: schema, value: value)))
        #expect(
            connectJSON(out.valueSchema, out.value).hasSuffix(
                #""payload":{"s":"","i":0,"b":false,"d":0.0,"a":[],"keep":"k"}}"#))
    }

    @Test("a replacement applies to numbers and strings; other types are refused")
    func replacement() throws {
        let t = try configured(MaskFieldValue(), ["fields": "s,i", "replacement": "9"])
        let out = try #require(try t.apply(sinkRecord(value: plain(#"{"s":"x","i":3,"o":1}"#))))
        #expect(connectJSON(nil, out.value) == #"{"schema":null,"payload":{"s":"9","i":9,"o":1}}"#)
        #expect {
            _ = try configured(MaskFieldValue(), ["fields": "b", "replacement": "x"]).apply(
                sinkRecord(value: plain(#"{"b":true}"#)))
        } throws: {
            ($0 as? ConnectError)?.message
                == "Cannot mask value of type class java.lang.Boolean with custom replacement."
        }
        #expect {
            _ = try configured(MaskFieldValue(), ["fields": "i", "replacement": "abc"]).apply(
                sinkRecord(value: plain(#"{"i":1}"#)))
        } throws: { ($0 as? ConnectError)?.message.contains("Unable to convert abc") == true }
    }
}

@Suite struct FlattenTests {
    @Test("nested structs become delimited top-level fields; optional parents make optional children")
    func withSchema() throws {
        let (inner, innerValue) = try makeStruct(
            "address", fields: [("city", Schema.string, .string("Paris")), ("zip", Schema.int64, .int64(75001))])
        let optionalInner = SchemaBuilder.struct().name("extra").optional().field("note", Schema.string).build()
        let (schema, value) = try makeStruct(
            "order",
            fields: [("id", Schema.int32, .int32(1)), ("address", inner, innerValue), ("extra", optionalInner, nil)])
        let out = try #require(
            try configured(FlattenValue(), ["delimiter": "_"]).apply(sinkRecord(valueSchema: schema, value: value)))
        #expect(
            connectJSON(out.valueSchema, out.value)
                == #"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":false,"field":"address_city"},{"type":"int64","optional":false,"field":"address_zip"},{"type":"string","optional":true,"field":"extra_note"}],"optional":false,"name":"order"},"payload":{"id":1,"address_city":"Paris","address_zip":75001,"extra_note":null}}"#
        )
    }

    @Test("schemaless nested maps flatten with the default delimiter; arrays stay")
    func schemaless() throws {
        let out = try #require(
            try configured(FlattenValue(), [:]).apply(sinkRecord(value: plain(#"{"a":{"b":{"c":1}},"l":[1,2]}"#))))
        #expect(connectJSON(nil, out.value) == #"{"schema":null,"payload":{"a.b.c":1,"l":[1,2]}}"#)
    }

    @Test("a map inside a schema'd struct is refused with Connect's message")
    func mapRefused() throws {
        let (schema, value) = try makeStruct(fields: [
            ("m", SchemaBuilder.map(Schema.string, Schema.string).build(), .map([]))
        ])
        #expect {
            _ = try configured(FlattenValue(), [:]).apply(sinkRecord(valueSchema: schema, value: value))
        } throws: {
            ($0 as? ConnectError)?.message
                == "Flatten transformation does not support MAP for record with schemas (for field m)."
        }
    }
}

@Suite struct HeaderFromTests {
    @Test("copy keeps the field and adds a header with the field's schema; move removes it")
    func copyAndMove() throws {
        let (schema, value) = try orderValue()
        let copied = try #require(
            try configured(HeaderFromValue(), ["fields": "orderid", "headers": "id", "operation": "copy"]).apply(
                sinkRecord(valueSchema: schema, value: value)))
        #expect(copied.headers.last("id") == Header(key: "id", schema: Schema.int32, value: .int32(7)))
        #expect(copied.valueSchema === schema)
        let moved = try #require(
            try configured(HeaderFromValue(), ["fields": "orderid,itemid", "headers": "id,item", "operation": "move"])
                .apply(sinkRecord(valueSchema: schema, value: value)))
        #expect(moved.valueSchema?.fields.map(\.name) == ["ordertime", "orderunits"])
        #expect(moved.headers.map(\.key) == ["id", "item"])
        let plainMoved = try #require(
            try configured(HeaderFromKey(), ["fields": "a", "headers": "h", "operation": "move"]).apply(
                sinkRecord(key: plain(#"{"a":1,"b":2}"#), value: nil)))
        #expect(connectJSON(nil, plainMoved.key) == #"{"schema":null,"payload":{"b":2}}"#)
        #expect(plainMoved.headers.last("h")?.value == .int64(1))
    }

    @Test("fields and headers must pair up")
    func mismatch() {
        #expect { try HeaderFromValue().configure(["fields": "a,b", "headers": "h", "operation": "copy"]) } throws: {
            "\($0)".contains("'fields' config must have the same number of elements as 'headers' config.")
        }
    }
}

@Suite struct TimestampTests {
    let ts: Int64 = 1_700_000_123_456  // 2023-11-14T22:15:23.456Z

    @Test(
        "SimpleDateFormat patterns format in UTC",
        arguments: [
            ("yyyyMMdd", "20231114"), ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2023-11-14T22:15:23.456Z"),
            ("yy/M/d h:mm a", "23/11/14 10:15 PM"),
            ("EEE, d MMM yyyy", "Tue, 14 Nov 2023"), ("EEEE MMMM", "Tuesday November"), ("D", "318"),
            ("HH'h''s'", "22h's"),
        ])
    func formats(pattern: String, expected: String) throws {
        #expect(try JavaDateFormat(pattern).format(ts) == expected)
    }

    @Test("patterns parse back to the same instant")
    func parses() throws {
        #expect(try JavaDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").parse("2023-11-14T22:15:23.456Z") == ts)
        #expect(try JavaDateFormat("yyyyMMddHHmmss").parse("20231114221523") == ts - 456)
        #expect(try JavaDateFormat("yyyy-MM-dd HH:mm:ssXXX").parse("2023-11-14 23:15:23+01:00") == ts - 456)
        #expect(throws: ConnectError.self) { try JavaDateFormat("yyyy-MM-dd").parse("14/11/2023") }
        #expect(throws: ConnectError.self) { try JavaDateFormat("yyyy-qq") }
    }

    @Test("TimestampRouter formats the topic from the record timestamp")
    func router() throws {
        let t = try configured(
            TimestampRouter(), ["topic.format": "${topic}_${timestamp}", "timestamp.format": "yyyy-MM"])
        #expect(try t.apply(sinkRecord(value: nil, timestamp: ts))?.topic == "orders_2023-11")
        #expect(try TimestampRouter().apply(sinkRecord(value: nil, timestamp: ts))?.topic == "orders-20231114")
        #expect(throws: ConnectError.self) { _ = try TimestampRouter().apply(sinkRecord(value: nil, timestamp: nil)) }
    }

    @Test(
        "TimestampConverter converts between representations",
        arguments: [
            (Value.int64(1_700_000_123_456), "string", "", Value.string("2023-11-14 22:15:23")),
            (.string("2023-11-14 22:15:23"), "unix", "", .int64(1_700_000_123_000)),
            (.int64(1_700_000_123), "Timestamp", "seconds", .timestamp(1_700_000_123_000)),
            // unix.precision applies to the input long as well as to the output.
            (.int64(1_700_000_123_456_789), "unix", "microseconds", .int64(1_700_000_123_456_000)),
            (.int64(1_700_000_123_456), "Date", "", .timestamp(1_699_920_000_000)),
            (.int64(1_700_000_123_456), "Time", "", .timestamp(80_123_456)),
            // Beyond a long, unit conversions saturate as TimeUnit's do (SECONDS.toMillis(Long.MAX_VALUE) is
            // Long.MAX_VALUE): never a wrapped value, never a crash of the worker.
            (.int64(Int64.max), "Timestamp", "seconds", .timestamp(Int64.max)),
            (.int64(Int64.max), "unix", "seconds", .int64(9_223_372_036_854_775)),
            (.int64(Int64.min), "Timestamp", "seconds", .timestamp(Int64.min)),
            (.int64(-1), "Date", "", .timestamp(-86_400_000)),
            (.int64(Int64.min), "Date", "", .timestamp(Int64.min)),
        ])
    func converter(input: Value, target: String, precision: String, expected: Value) throws {
        var configs = ["target.type": target, "format": "yyyy-MM-dd HH:mm:ss"]
        if !precision.isEmpty { configs["unix.precision"] = precision }
        let out = try #require(try configured(TimestampConverterValue(), configs).apply(sinkRecord(value: input)))
        #expect(out.value == expected)
    }

    @Test("a field of a struct changes type and schema")
    func converterField() throws {
        let (schema, value) = try orderValue()
        let out = try #require(
            try configured(TimestampConverterValue(), ["field": "ordertime", "target.type": "Timestamp"]).apply(
                sourceRecord(valueSchema: schema, value: value)))
        #expect(out.valueSchema?.field("ordertime")?.schema.name == "org.apache.kafka.connect.data.Timestamp")
        #expect(connectJSON(out.valueSchema, out.value).contains(#""ordertime":1500000000000"#))
    }

    @Test(
        "a microsecond or nanosecond output beyond a long saturates; a date beyond a long is unparseable, not a crash")
    func converterBounds() throws {
        let micros = try configured(
            TimestampConverterValue(), ["target.type": "unix", "unix.precision": "nanoseconds"])
        #expect(try micros.apply(sinkRecord(value: .timestamp(Int64.max / 2)))?.value == .int64(Int64.max))
        let strings = try configured(
            TimestampConverterValue(), ["target.type": "unix", "format": "yyyy-MM-dd HH:mm:ss"])
        #expect { try strings.apply(sinkRecord(value: .string("9999999999-01-01 00:00:00"))) } throws: {
            "\($0)".contains("Could not parse timestamp")
        }
        let zoned = try configured(TimestampConverterValue(), ["target.type": "unix", "format": "yyyy-MM-dd HH:mmZ"])
        #expect { try zoned.apply(sinkRecord(value: .string("2024-01-01 10:00+999999999999999"))) } throws: {
            "\($0)".contains("Could not parse timestamp")
        }
        #expect(
            try zoned.apply(sinkRecord(value: .string("2024-01-01 10:00+0130")))?.value == .int64(1_704_097_800_000))
        let formatted = try configured(
            TimestampConverterValue(), ["target.type": "string", "format": "yyyy-MM-dd HH:mm:ss"])
        #expect(try formatted.apply(sinkRecord(value: .int64(Int64.max)))?.value != nil)
        #expect(try formatted.apply(sinkRecord(value: .int64(Int64.min)))?.value != nil)
    }

    @Test("configuration errors use Connect's wording")
    func converterErrors() {
        #expect { try TimestampConverterValue().configure(["target.type": "string"]) } throws: {
            "\($0)".contains("TimestampConverter requires format option to be specified when using string timestamps")
        }
        #expect { try TimestampConverterValue().configure(["target.type": "Instant"]) } throws: {
            "\($0)".contains("String must be one of")
        }
    }
}
