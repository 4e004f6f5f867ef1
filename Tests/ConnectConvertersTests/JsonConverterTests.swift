import ConnectAPI
import ConnectConverters
import JSON
import Testing

@Suite struct JsonConverterTests {
    func converter(_ configs: [String: String] = [:], isKey: Bool = false) throws -> JsonConverter {
        let c = JsonConverter()
        try c.configure(configs, isKey: isKey)
        return c
    }

    func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    @Test("a struct is written in Connect's envelope, byte for byte")
    func envelopeBytes() throws {
        let schema = SchemaBuilder.struct().name("x")
            .field("id", Schema.int32)
            .field("ts", LogicalTypes.timestamp(optional: true))
            .build()
        var s = Struct(schema: schema)
        try s.put("id", .int32(1))
        try s.put("ts", .timestamp(1_700_000_000_000))
        let bytes = try converter().fromConnectData(topic: "t", headers: Headers(), schema: schema, value: .struct(s))
        #expect(
            text(bytes)
                == #"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"}],"optional":false,"name":"x"},"payload":{"id":1,"ts":1700000000000}}"#
        )
    }

    @Test("every schema attribute is written in Connect's key order")
    func schemaAttributes() throws {
        let schema = SchemaBuilder(.string).optional().name("n").version(2).doc("d").parameter("p", "v")
            .defaultValue(.string("def")).build()
        let json = try converter().asJSONSchema(schema)
        #expect(
            JSONWriter.string(json)
                == #"{"type":"string","optional":true,"name":"n","version":2,"doc":"d","parameters":{"p":"v"},"default":"def"}"#
        )
        let map = SchemaBuilder.map(Schema.int32, Schema.float32).build()
        #expect(
            JSONWriter.string(try converter().asJSONSchema(map))
                == #"{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"float","optional":false},"optional":false}"#
        )
    }

    @Test("decimals are base64 of the unscaled value by default and numbers with decimal.format=NUMERIC")
    func decimals() throws {
        let schema = LogicalTypes.decimal(scale: 4)
        let value = Value.decimal(BigDecimal(unscaledValue: 102_345, scale: 4))
        let b64 = try converter(["schemas.enable": "false"]).fromConnectData(
            topic: "t", headers: Headers(), schema: schema, value: value)
        #expect(text(b64) == #""AY/J""#)
        let numeric = try converter(["schemas.enable": "false", "decimal.format": "numeric"])
            .fromConnectData(topic: "t", headers: Headers(), schema: schema, value: value)
        #expect(text(numeric) == "10.2345")
        let back = try converter().toConnectData(
            topic: "t", headers: Headers(),
            value: Array(
                #"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"4"}},"payload":"AY/J"}"#
                    .utf8))
        #expect(back.value == value)
    }

    @Test("what it writes it reads back to the same schema and value")
    func roundTrip() throws {
        let address = SchemaBuilder.struct().name("address").field("city", Schema.string).field("zip", Schema.int64)
            .build()
        let schema = SchemaBuilder.struct().name("order")
            .field("units", Schema.float64).field("f", Schema.float32).field(
                "tags", SchemaBuilder.array(Schema.string).build()
            )
            .field("attrs", SchemaBuilder.map(Schema.string, Schema.int32).optional().build())
            .field("pairs", SchemaBuilder.map(Schema.int32, Schema.string).build())
            .field("raw", Schema.bytes).field("day", LogicalTypes.date()).field("address", address)
            .build()
        var a = Struct(schema: address)
        try a.put("city", .string("City_1"))
        try a.put("zip", .int64(12345))
        var s = Struct(schema: schema)
        try s.put("units", .float64(2.5))
        try s.put("f", .float32(0.5))
        try s.put("tags", .array([.string("a"), .string("b")]))
        try s.put("attrs", .map([.init(.string("x"), .int32(1))]))
        try s.put("pairs", .map([.init(.int32(1), .string("one"))]))
        try s.put("raw", .bytes([0, 1, 255]))
        try s.put("day", .timestamp(86_400_000 * 2))
        try s.put("address", .struct(a))
        let c = try converter()
        let bytes = try c.fromConnectData(topic: "t", headers: Headers(), schema: schema, value: .struct(s))
        let back = try c.toConnectData(topic: "t", headers: Headers(), value: bytes)
        #expect(back.schema == schema)
        #expect(back.value == .struct(s))
        #expect(text(bytes)?.contains(#""pairs":[[1,"one"]]"#) == true)
    }

    @Test("schemaless JSON is read with Connect's inference")
    func schemaless() throws {
        let v = try converter(["schemas.enable": "false"]).toConnectData(
            topic: "t", headers: Headers(), value: Array(#"{"a":1,"b":1.5,"c":[true],"d":null}"#.utf8))
        #expect(v.schema == nil)
        #expect(
            v.value
                == .map([
                    .init(.string("a"), .int64(1)), .init(.string("b"), .float64(1.5)),
                    .init(.string("c"), .array([.boolean(true)])), .init(.string("d"), nil),
                ]))
    }

    @Test(
        "JSON numbers as Connect's Jackson reads them: leading zeros, exact decimals at their written scale, exponents, floats"
    )
    func numbers() throws {
        let schemaless = try converter(["schemas.enable": "false"])
        func read(_ c: JsonConverter, _ json: String) throws -> Value? {
            try c.toConnectData(topic: "t", headers: Headers(), value: Array(json.utf8)).value
        }
        #expect(
            try read(schemaless, #"{"a":007,"b":-00.5,"c":0}"#)
                == .map([
                    .init(.string("a"), .int64(7)), .init(.string("b"), .float64(-0.5)), .init(.string("c"), .int64(0)),
                ]))
        let withSchemas = try converter()
        #expect(try read(withSchemas, #"{"schema":{"type":"int32"},"payload":0042}"#) == .int32(42))
        func decimal(_ scale: Int, _ payload: String) throws -> String? {
            let json =
                #"{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"\#(scale)"}},"payload":\#(payload)}"#
            guard case .decimal(let d)? = try read(withSchemas, json) else { return nil }
            return d.description
        }
        #expect(try decimal(3, "123456789012345.123") == "123456789012345.123")
        #expect(try decimal(2, "-1.2") == "-1.2")
        #expect(try decimal(2, "5") == "5")
        #expect(try decimal(8, "1.5E-7") == "0.00000015")
        #expect(try decimal(0, "12345678901234567890123") == "12345678901234567890123")
        #expect(try decimal(4, "-1234567890123456789.0123") == "-1234567890123456789.0123")
        #expect(try decimal(0, "0e5") == "0")
        #expect(try decimal(0, "12e2") == "1200")
        #expect(try read(withSchemas, #"{"schema":{"type":"double"},"payload":0.1}"#) == .float64(0.1))
        #expect(try read(withSchemas, #"{"schema":{"type":"float"},"payload":1e-3}"#) == .float32(0.001))
        #expect(try read(withSchemas, #"{"schema":{"type":"int64"},"payload":5.0}"#) == .int64(5))
        // Jackson's intValue() of a fraction truncates toward zero; a long beyond an int wraps as Java's (int).
        #expect(try read(withSchemas, #"{"schema":{"type":"int32"},"payload":-1.9}"#) == .int32(-1))
        #expect(try read(withSchemas, #"{"schema":{"type":"int32"},"payload":4294967297}"#) == .int32(1))
        // Beyond 64 bits and beyond a double's 53: BigInteger/BigDecimal.longValue() keep the low 64 bits, exactly.
        #expect(try read(withSchemas, #"{"schema":{"type":"int64"},"payload":18446744073709551617}"#) == .int64(1))
        #expect(try read(withSchemas, #"{"schema":{"type":"int64"},"payload":-18446744073709551617}"#) == .int64(-1))
        #expect(
            try read(withSchemas, #"{"schema":{"type":"int64"},"payload":9223372036854775808}"#)
                == .int64(Int64.min))
        #expect(
            try read(withSchemas, #"{"schema":{"type":"int64"},"payload":9007199254740993.5}"#)
                == .int64(9_007_199_254_740_993))
        #expect(try read(withSchemas, #"{"schema":{"type":"int64"},"payload":1.5e3}"#) == .int64(1500))
        #expect(try read(withSchemas, #"{"schema":{"type":"int64"},"payload":1e100}"#) == .int64(0))
        #expect(try read(withSchemas, #"{"schema":{"type":"int64"},"payload":-2.5E-3}"#) == .int64(0))
        #expect(try read(withSchemas, #"{"schema":{"type":"int8"},"payload":256.7}"#) == .int8(0))
        #expect(throws: ConnectError.self) {
            try read(withSchemas, #"{"schema":{"type":"int64"},"payload":1e9223372036854775807}"#)
        }
        // Schemaless, an integral number beyond 64 bits is still INT64 (Connect infers INT64 for integral nodes).
        #expect(
            try read(schemaless, #"{"a":18446744073709551618,"b":1.0}"#)
                == .map([.init(.string("a"), .int64(2)), .init(.string("b"), .float64(1))]))
    }

    @Test("a JSON number's integer part modulo 2^64, as BigDecimal.longValue()")
    func wrappedLong() {
        #expect(JsonConverter.wrappedLong("123") == 123)
        #expect(JsonConverter.wrappedLong("-0.9") == 0)
        #expect(JsonConverter.wrappedLong("12.34e1") == 123)
        #expect(JsonConverter.wrappedLong("1234e-2") == 12)
        #expect(JsonConverter.wrappedLong("36893488147419103233") == 1)  // 2^65 + 1
        #expect(JsonConverter.wrappedLong("1e19") == Int64(bitPattern: 10_000_000_000_000_000_000))
        #expect(JsonConverter.wrappedLong("x") == nil)
        // An exponent beyond an int is no number (BigDecimal refuses it), and never an arithmetic trap.
        #expect(JsonConverter.wrappedLong("1e9223372036854775807") == nil)
        #expect(JsonConverter.wrappedLong("1.5e-9223372036854775808") == nil)
        #expect(JsonConverter.wrappedLong("1e2147483647") == 0)
    }

    @Test("a tombstone stays null both ways")
    func tombstones() throws {
        #expect(try converter().fromConnectData(topic: "t", headers: Headers(), schema: nil, value: nil) == nil)
        #expect(try converter().toConnectData(topic: "t", headers: Headers(), value: nil) == .null)
    }

    @Test("plain JSON with schemas.enable=true fails with Connect's message")
    func envelopeRequired() throws {
        #expect {
            _ = try converter().toConnectData(topic: "t", headers: Headers(), value: Array(#"{"a":1}"#.utf8))
        } throws: { error in
            (error as? ConnectError)?.message == JsonConverter.envelopeMessage
                && (error as? ConnectError)?.kind == .data
        }
    }

    @Test("bytes that are not JSON fail as a serialization error")
    func notJSON() throws {
        #expect {
            _ = try converter().toConnectData(topic: "t", headers: Headers(), value: [0x00, 0x01, 0x02])
        } throws: { error in
            (error as? ConnectError)?.message
                == "Converting byte[] to Kafka Connect data failed due to serialization error: "
        }
    }

    @Test("a null in a required field is a DataException on write")
    func requiredNull() throws {
        #expect(throws: ConnectError.self) {
            _ = try converter().fromConnectData(topic: "t", headers: Headers(), schema: Schema.int32, value: nil)
        }
    }
}

@Suite struct SimpleConvertersTests {
    @Test("StringConverter writes toString() and reads optional strings")
    func stringConverter() throws {
        let c = StringConverter()
        try c.configure([:], isKey: true)
        #expect(
            try c.fromConnectData(topic: "t", headers: Headers(), schema: nil, value: .int32(42)) == Array("42".utf8))
        #expect(try c.fromConnectData(topic: "t", headers: Headers(), schema: nil, value: nil) == nil)
        #expect(
            try c.toConnectData(topic: "t", headers: Headers(), value: Array("é".utf8))
                == SchemaAndValue(schema: Schema.optionalString, value: .string("é")))
    }

    @Test("ByteArrayConverter passes bytes and rejects other types")
    func byteArrayConverter() throws {
        let c = ByteArrayConverter()
        #expect(try c.fromConnectData(topic: "t", headers: Headers(), schema: nil, value: .bytes([1, 2])) == [1, 2])
        #expect(throws: ConnectError.self) {
            _ = try c.fromConnectData(topic: "t", headers: Headers(), schema: Schema.string, value: .string("x"))
        }
    }

    @Test(
        "SimpleHeaderConverter infers the narrowest type",
        arguments: [
            ("1", SchemaAndValue(schema: Schema.int8, value: .int8(1))),
            ("300", SchemaAndValue(schema: Schema.int16, value: .int16(300))),
            ("70000", SchemaAndValue(schema: Schema.int32, value: .int32(70000))),
            ("5000000000", SchemaAndValue(schema: Schema.int64, value: .int64(5_000_000_000))),
            ("true", SchemaAndValue(schema: Schema.boolean, value: .boolean(true))),
            ("1.5", SchemaAndValue(schema: Schema.float32, value: .float32(1.5))),
            ("hello", SchemaAndValue(schema: Schema.string, value: .string("hello"))),
        ])
    func headerInference(text: String, expected: SchemaAndValue) throws {
        #expect(
            try SimpleHeaderConverter().toConnectHeader(topic: "t", headerKey: "h", value: Array(text.utf8)) == expected
        )
    }
}
