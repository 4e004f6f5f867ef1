import ConnectAPI
import Testing

@Suite struct SchemaAndStructTests {
    let schema = SchemaBuilder.struct().name("x")
        .field("id", Schema.int32)
        .field("name", Schema.optionalString)
        .field("count", SchemaBuilder(.int64).defaultValue(.int64(7)).build())
        .build()

    @Test("a struct accepts values of the field's type and reports the default for unset fields")
    func putAndGet() throws {
        var s = Struct(schema: schema)
        try s.put("id", .int32(1))
        #expect(s.get("id") == .int32(1))
        #expect(s.get("name") == nil)
        #expect(s.get("count") == .int64(7))
        #expect(s.getWithoutDefault("count") == nil)
        try s.validate()
    }

    @Test("a value of the wrong type is rejected with Connect's message")
    func wrongType() {
        var s = Struct(schema: schema)
        #expect {
            try s.put("id", .string("1"))
        } throws: { error in
            (error as? ConnectError)?.message
                == "Invalid Java object for schema \"INT32\" with type INT32: class java.lang.String for field: \"id\""
        }
    }

    @Test("a missing required field fails validation and names the field")
    func missingRequired() {
        let s = Struct(schema: schema)
        #expect {
            try s.validate()
        } throws: { error in
            (error as? ConnectError)?.message
                == "Invalid value: null used for required field: \"id\", schema type: INT32"
        }
    }

    @Test("an unknown field name is a DataException")
    func unknownField() {
        var s = Struct(schema: schema)
        #expect(throws: ConnectError.self) { try s.put("nope", .int32(1)) }
    }

    @Test("logical types convert to and from their serialized forms")
    func logicalTypes() throws {
        #expect(try LogicalTypes.fromLogical(LogicalTypes.date(), .timestamp(86_400_000 * 3)) == .int32(3))
        #expect(LogicalTypes.toLogical(LogicalTypes.date(), .int32(3)) == .timestamp(86_400_000 * 3))
        #expect(try LogicalTypes.fromLogical(LogicalTypes.time(), .timestamp(1000)) == .int32(1000))
        #expect(
            try LogicalTypes.fromLogical(LogicalTypes.timestamp(), .timestamp(1_700_000_000_000))
                == .int64(1_700_000_000_000))
        let dec = BigDecimal(unscaledValue: 102_345, scale: 4)
        #expect(dec.description == "10.2345")
        #expect(
            try LogicalTypes.fromLogical(LogicalTypes.decimal(scale: 4), .decimal(dec)) == .bytes([0x01, 0x8F, 0xC9]))
        #expect(throws: ConnectError.self) { try LogicalTypes.fromLogical(LogicalTypes.date(), .timestamp(5)) }
    }

    @Test("BigDecimal keeps sign and scale", arguments: [("-1.50", -150, 2), ("0.001", 1, 3), ("42", 42, 0)])
    func bigDecimal(text: String, unscaled: Int64, scale: Int32) throws {
        let d = try #require(BigDecimal(text))
        #expect(d.unscaledInt64 == unscaled)
        #expect(d.scale == scale)
        #expect(d.description == text)
    }
}

@Suite struct ConfigDefTests {
    let def = ConfigDef()
        .define(
            "name", .string, default: .required, validator: .nonEmptyStringWithoutControlChars, importance: .high,
            documentation: ""
        )
        .define("tasks.max", .int, default: 1, validator: .atLeast(1), importance: .high, documentation: "")
        .define(
            "errors.tolerance", .string, default: "none", validator: .oneOf(["none", "all"]), importance: .medium,
            documentation: ""
        )
        .define("topics", .list, default: "", importance: .high, documentation: "")
        .define("flag", .boolean, default: false, importance: .low, documentation: "")

    @Test("parses typed values with defaults")
    func parses() throws {
        let c = try def.parse(["name": "c", "tasks.max": " 3 ", "topics": "a, b", "flag": "TRUE"])
        #expect(c.string("name") == "c")
        #expect(c.int("tasks.max") == 3)
        #expect(c.list("topics") == ["a", "b"])
        #expect(c.bool("flag") == true)
        #expect(c.string("errors.tolerance") == "none")
    }

    @Test(
        "errors name the key and the reason in Connect's words",
        arguments: [
            (["name": "c", "tasks.max": "x"], "Invalid value x for configuration tasks.max: Not a number of type INT"),
            (["name": "c", "tasks.max": "0"], "Invalid value 0 for configuration tasks.max: Value must be at least 1"),
            (
                ["name": "c", "errors.tolerance": "some"],
                "Invalid value some for configuration errors.tolerance: String must be one of: none, all"
            ),
            ([:], "Missing required configuration \"name\" which has no default value."),
            (
                ["name": "c", "flag": "yes"],
                "Invalid value yes for configuration flag: Expected value to be either true or false"
            ),
        ])
    func errors(props: [String: String], message: String) {
        #expect {
            _ = try def.parse(props)
        } throws: { error in
            (error as? ConnectError)?.message == message
        }
    }

    @Test("validate reports every key's errors without throwing")
    func validate() {
        let results = def.validate(["tasks.max": "-1"])
        #expect(
            results.first { $0.name == "name" }?.errors == [
                "Missing required configuration \"name\" which has no default value."
            ])
        #expect(results.first { $0.name == "tasks.max" }?.errors.count == 1)
        #expect(results.first { $0.name == "topics" }?.errors == [])
    }

    @Test("a ConnectError trace reads like Connect's")
    func trace() {
        let cause = ConnectError.data("bad bytes")
        let e = ConnectError(
            .connect, "Tolerance exceeded in error handler", cause: cause, context: ["WorkerSinkTask.convert"])
        #expect(
            e.trace == """
                org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler
                \tat WorkerSinkTask.convert
                Caused by: org.apache.kafka.connect.errors.DataException: bad bytes
                """)
    }

    @Test("Values.parseString: scalars in the narrowest type, Connect's ISO date, time and timestamp, arrays and maps")
    func parseString() {
        #expect(Values.parseString("300") == SchemaAndValue(schema: Schema.int16, value: .int16(300)))
        #expect(Values.parseString("TRUE") == SchemaAndValue(schema: Schema.boolean, value: .boolean(true)))
        #expect(Values.parseString("1.5") == SchemaAndValue(schema: Schema.float32, value: .float32(1.5)))
        #expect(
            Values.parseString("1970-01-02T00:00:01.500Z")
                == SchemaAndValue(schema: LogicalTypes.timestamp(), value: .timestamp(86_401_500)))
        #expect(
            Values.parseString("10:00:00.000Z")
                == SchemaAndValue(schema: LogicalTypes.time(), value: .timestamp(36_000_000)))
        #expect(Values.parseString("2023-02-29").schema == Schema.string, "not a date: 2023 is no leap year")
        #expect(
            Values.parseString(#"{a: [1], b: [2]}"#).schema
                == SchemaBuilder.map(Schema.string, SchemaBuilder.array(Schema.int8).build()).build())
        #expect(Values.parseString("").value == .string(""))
        #expect(Values.parseString(" [ ] ").value == .array([]))
    }

    @Test(
        "Values.parseString types numbers as Connect's parseAsNumber: whole numbers as integers, scaled ones as floats, the rest Decimal; arrays widen"
    )
    func parseStringNumbers() {
        func parsed(_ text: String) -> SchemaAndValue { Values.parseString(text) }
        #expect(parsed("1.0") == SchemaAndValue(schema: Schema.int8, value: .int8(1)))
        #expect(parsed("1e3") == SchemaAndValue(schema: Schema.int16, value: .int16(1000)))
        #expect(parsed("+5") == SchemaAndValue(schema: Schema.int8, value: .int8(5)))
        #expect(parsed("-0.00") == SchemaAndValue(schema: Schema.int8, value: .int8(0)))
        #expect(parsed("10000000000000000000").schema == LogicalTypes.decimal(scale: 0), "1e19 is beyond a long")
        #expect(parsed("9223372036854775807") == SchemaAndValue(schema: Schema.int64, value: .int64(Int64.max)))
        // Not exact as a float, FLOAT32 all the same (floatValue() is finite and the scale is not 0).
        #expect(parsed("0.1") == SchemaAndValue(schema: Schema.float32, value: .float32(0.1)))
        #expect(parsed("1e20") == SchemaAndValue(schema: Schema.float32, value: .float32(1e20)))
        #expect(parsed("3.5e38") == SchemaAndValue(schema: Schema.float64, value: .float64(3.5e38)))
        guard case .decimal(let big)? = parsed("99999999999999999999").value else {
            Issue.record("a whole number beyond a long is a Decimal")
            return
        }
        #expect(big.description == "99999999999999999999" && big.scale == 0)
        // KAFKA-17792: a trace id that reads as a number with a huge exponent is typed at once, as a Decimal.
        guard case .decimal(let huge)? = parsed("407127e212797209").value else {
            Issue.record("an exponent beyond any double is a Decimal")
            return
        }
        #expect(huge.scale == -212_797_209)
        // Printed as Java's BigDecimal.toString prints it, not as 212 million zeros.
        #expect(ValueFormatter.string(.decimal(huge)) == "4.07127E+212797214")
        #expect(huge.description == "4.07127E+212797214")
        #expect(
            parsed("1e-50") == SchemaAndValue(schema: Schema.float32, value: .float32(0)),
            "floatValue() underflows to 0")
        #expect(parsed("74320e6e26adc8f8") == SchemaAndValue(schema: Schema.string, value: .string("74320e6e26adc8f8")))
        #expect(parsed("1e99999999999").schema == Schema.string, "an exponent beyond an int is not a number")
        #expect(parsed("-") == SchemaAndValue(schema: Schema.string, value: .string("-")))
        // Elements widen to their common numeric type, as Connect's SchemaMerger and alignListEntriesWithSchema.
        #expect(
            parsed("[1, 300]")
                == SchemaAndValue(
                    schema: SchemaBuilder.array(Schema.int16).build(), value: .array([.int16(1), .int16(300)])))
        #expect(
            parsed("[1, 2.5, null]")
                == SchemaAndValue(
                    schema: SchemaBuilder.array(Schema.float32).build(),
                    value: .array([.float32(1), .float32(2.5), nil])))
        #expect(
            parsed("{a: 1, b: 70000}")
                == SchemaAndValue(
                    schema: SchemaBuilder.map(Schema.string, Schema.int32).build(),
                    value: .map([.init(.string("a"), .int32(1)), .init(.string("b"), .int32(70000))])))
        #expect(parsed(#"[1, "a"]"#).schema == nil, "no common schema")
        // INT64 widened to FLOAT32 goes through a double first, as Java's (float) asDouble(...).
        #expect(
            parsed("[1.5, 1152921573326323713]").value
                == .array([.float32(1.5), .float32(Float(Double(1_152_921_573_326_323_713 as Int64)))]))
    }

    @Test("BigDecimal prints as Java's toString (scientific for a negative scale or a small adjusted exponent)")
    func bigDecimalJavaString() {
        func d(_ unscaled: Int64, _ scale: Int32) -> BigDecimal { BigDecimal(unscaledValue: unscaled, scale: scale) }
        #expect(d(1, -3).javaString == "1E+3")
        #expect(d(15, 8).javaString == "1.5E-7")
        #expect(d(15, 7).javaString == "0.0000015")
        #expect(d(0, -3).javaString == "0E+3")
        #expect(d(-12345, 2).javaString == "-123.45")
        #expect(d(1, -3).description == "1000", "description stays plain while short")
        #expect(d(1, Int32.max).description == "1E-2147483647")
    }
}
