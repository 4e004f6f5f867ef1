import ConnectAPI
import ConnectTransforms
import Testing

@Suite struct CastTests {
    @Test("a transform configured again forgets the plans it kept for the schemas it saw")
    func reconfigured() throws {
        let (schema, value) = try orderValue()
        let record = sourceRecord(valueSchema: schema, value: value)
        let cast = try configured(CastValue(), ["spec": "orderid:int64"])
        _ = try cast.apply(record)
        try cast.configure(["spec": "orderid:string"])
        #expect(try cast.apply(record)?.valueSchema?.field("orderid")?.schema.type == .string)
        let replace = try configured(ReplaceFieldValue(), ["renames": "itemid:item"])
        _ = try replace.apply(record)
        try replace.configure(["renames": "itemid:product"])
        #expect(try replace.apply(record)?.valueSchema?.field("product") != nil)
        let insert = try configured(InsertFieldValue(), ["topic.field": "t"])
        _ = try insert.apply(record)
        try insert.configure(["static.field": "s", "static.value": "v"])
        let inserted = try #require(try insert.apply(record)?.value?.structValue)
        #expect(inserted.get("s") == .string("v") && inserted.schema.field("t") == nil)
    }

    @Test("scenario 3: orderid:string,orderunits:int32 on a struct value")
    func scenario3() throws {
        let (schema, value) = try orderValue()
        let t = try configured(CastValue(), ["spec": "orderid:string,orderunits:int32"])
        let out = try #require(try t.apply(sourceRecord(valueSchema: schema, value: value)))
        #expect(
            connectJSON(out.valueSchema, out.value)
                == #"{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ordertime"},{"type":"string","optional":false,"field":"orderid"},{"type":"string","optional":false,"field":"itemid"},{"type":"int32","optional":false,"field":"orderunits"}],"optional":false,"name":"ksql.orders"},"payload":{"ordertime":1500000000000,"orderid":"7","itemid":"Item_1","orderunits":4}}"#
        )
        #expect(out.sourceOffset == ["o": .int64(1)])
        #expect(out.topic == "orders")
    }

    @Test(
        "casting between every output type",
        arguments: [
            (Value.int32(42), SchemaType.string, Value.string("42")), (.float64(1.9), .int32, .int32(1)),
            (.float64(-1.9), .int64, .int64(-1)), (.string("12"), .int16, .int16(12)),
            (.string("2.5"), .float32, .float32(2.5)),
            (.boolean(true), .int8, .int8(1)), (.int64(0), .boolean, .boolean(false)),
            (.string("TRUE"), .boolean, .boolean(true)),
            (.string("yes"), .boolean, .boolean(false)), (.int32(300), .int8, .int8(44)),
            (.float32(1.5), .float64, .float64(1.5)),
            (.float64(1.0E7), .string, .string("1.0E7")), (.bytes([1, 2, 3]), .string, .string("AQID")),
        ])
    func wholeValue(input: Value, target: SchemaType, expected: Value) throws {
        let t = try configured(CastValue(), ["spec": target.rawValue.lowercased()])
        let out = try #require(try t.apply(sourceRecord(value: input)))
        #expect(out.value == expected)
        #expect(out.valueSchema == nil)
    }

    @Test("a whole-value cast with a schema sets the new primitive schema, keeping optionality")
    func wholeValueSchema() throws {
        let t = try configured(CastKey(), ["spec": "int64"])
        let out = try #require(try t.apply(sourceRecord(keySchema: Schema.optionalInt32, key: .int32(5), value: nil)))
        #expect(out.key == .int64(5))
        #expect(out.keySchema == Schema.optionalInt64)
        #expect(out.value == nil)
    }

    @Test("schemaless maps cast the named fields only")
    func schemalessMap() throws {
        let t = try configured(CastValue(), ["spec": "a:string,b:int32"])
        let out = try #require(try t.apply(sinkRecord(value: plain(#"{"a":1,"b":"7","c":2.5}"#))))
        #expect(connectJSON(nil, out.value) == #"{"schema":null,"payload":{"a":"1","b":7,"c":2.5}}"#)
    }

    @Test("a null value or tombstone passes unchanged")
    func tombstone() throws {
        let t = try configured(CastValue(), ["spec": "a:string"])
        let r = sourceRecord(key: .string("k"), value: nil)
        #expect(try t.apply(r) == r)
    }

    @Test("optional fields stay optional and nulls stay null; defaults are cast")
    func optionalAndDefault() throws {
        let (schema, value) = try makeStruct(fields: [
            ("a", Schema.optionalInt32, nil), ("b", SchemaBuilder(.int32).defaultValue(.int32(3)).build(), nil),
        ])
        let t = try configured(CastValue(), ["spec": "a:string,b:string"])
        let out = try #require(try t.apply(sourceRecord(valueSchema: schema, value: value)))
        #expect(
            connectJSON(out.valueSchema, out.value)
                == #"{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"field":"a"},{"type":"string","optional":false,"default":"3","field":"b"}],"optional":false},"payload":{"a":null,"b":"3"}}"#
        )
    }

    @Test(
        "bad specs are config errors with Connect's wording",
        arguments: [
            ("", "Must specify at least one field to cast."),
            ("a:bytes", "Cast transformation does not support casting to/from BYTES"),
            (
                "a:int32,int64",
                "Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec"
            ),
            ("a:nope", "No enum constant org.apache.kafka.connect.data.Schema.Type.NOPE"),
            ("a:b:c", "Invalid cast mapping: a:b:c"),
        ])
    func badSpec(spec: String, message: String) {
        #expect {
            try CastValue().configure(["spec": spec])
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("a value that is not a struct with a schema is a DataException")
    func notStruct() throws {
        let t = try configured(CastValue(), ["spec": "a:string"])
        #expect {
            _ = try t.apply(sourceRecord(valueSchema: Schema.string, value: .string("x")))
        } throws: { error in
            (error as? ConnectError)?.kind == .data
        }
        #expect {
            _ = try t.apply(sourceRecord(value: .string("x")))
        } throws: { error in
            (error as? ConnectError)?.message
                == "Only Map objects supported in absence of schema for [cast types], found: java.lang.String"
        }
    }

    @Test("an unparsable string is a DataException")
    func unparsable() throws {
        let t = try configured(CastValue(), ["spec": "int32"])
        #expect(throws: ConnectError.self) { _ = try t.apply(sourceRecord(value: .string("abc"))) }
    }

    @Test(
        "narrowing as Java does it on each path: a string out of the type's range fails (Byte.parseByte), a number wraps, a double saturates to int first"
    )
    func narrowing() throws {
        func cast(_ spec: String, _ value: Value) throws -> Value? {
            let t = try configured(CastValue(), ["spec": "a:\(spec)"])
            guard case .map(let entries)? = try t.apply(sourceRecord(value: .map([.init(.string("a"), value)])))?.value
            else { return nil }
            return entries.first?.value ?? nil
        }
        #expect {
            _ = try cast("int8", .string("300"))
        } throws: { error in
            let e = error as? ConnectError
            return e?.kind == .data && e?.trace.contains(#"Value out of range. Value:"300" Radix:10"#) == true
        }
        #expect(throws: ConnectError.self) { _ = try cast("int16", .string("40000")) }
        #expect(throws: ConnectError.self) { _ = try cast("int32", .string("3000000000")) }
        #expect(throws: ConnectError.self) { _ = try cast("int32", .string(" 7")) }
        #expect(try cast("int8", .string("-128")) == .int8(-128))
        #expect(try cast("int8", .string("+12")) == .int8(12))
        #expect(try cast("int64", .string("3000000000")) == .int64(3_000_000_000))
        // A number narrows as a Java primitive cast: (byte) 300 is 44.
        #expect(try cast("int8", .int32(300)) == .int8(44))
        // (byte) 3e9: (int) saturates to Integer.MAX_VALUE first, whose low byte is -1.
        #expect(try cast("int8", .float64(3e9)) == .int8(-1))
        #expect(try cast("int32", .float64(-1e12)) == .int32(Int32.min))
        #expect(try cast("int64", .float64(.nan)) == .int64(0))
    }
}
