import Foundation
import JSON
import Testing

@testable import ConnectAPI
@testable import ConnectConverters

/// A path's outcome: its bytes or value, or its error's message.
enum Outcome<T: Equatable>: Equatable {
    case success(T)
    case failure(String)
}

/// The converters' fast paths (writing a record's JSON straight to bytes, reading an envelope whose schema bytes were
/// seen before) give the same bytes, values and errors as the straightforward paths (`toJSON` then `JSONWriter`;
/// parsing the whole document then `toConnectData(json:)`), on many generated schemas and values.
@Suite struct FastPathIdentityTests {
    /// A deterministic generator of schemas and matching values, with the edges JSON writing has: escapes, control
    /// characters, non-ASCII text, NaN and infinities, -0.0, tiny and huge numbers, nulls, defaults, logical types.
    struct Generator {
        var state: UInt64

        /// Knuth's MMIX linear congruential step, high bits mixed down.
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }

        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

        mutating func schema(depth: Int) -> Schema {
            let optional = chance(30)
            switch below(depth > 0 ? 17 : 13) {
            case 0: return Schema.primitive(.int8, optional: optional)
            case 1: return Schema.primitive(.int16, optional: optional)
            case 2: return Schema.primitive(.int32, optional: optional)
            case 3: return Schema.primitive(.int64, optional: optional)
            case 4: return Schema.primitive(.float32, optional: optional)
            case 5: return Schema.primitive(.float64, optional: optional)
            case 6: return Schema.primitive(.boolean, optional: optional)
            case 7, 8: return Schema.primitive(.string, optional: optional)
            case 9: return Schema.primitive(.bytes, optional: optional)
            case 10: return LogicalTypes.decimal(scale: Int32(below(4)), optional: optional)
            case 11:
                return chance(50) ? LogicalTypes.timestamp(optional: optional) : LogicalTypes.date(optional: optional)
            case 12:
                return SchemaBuilder(.string).optional(optional).defaultValue(.string("default \"d\"")).build()
            case 13: return SchemaBuilder.array(schema(depth: depth - 1)).optional(optional).build()
            case 14:
                let keys = chance(50) ? Schema.string : Schema.int32
                return SchemaBuilder.map(keys, schema(depth: depth - 1)).optional(optional).build()
            default:
                var builder = SchemaBuilder.struct().optional(optional)
                if chance(50) { builder = builder.name("com.example.S\(below(100))") }
                for i in 0..<below(6) {
                    builder = builder.field("f\(i)\(chance(10) ? "\"\\é" : "")", schema(depth: depth - 1))
                }
                return builder.build()
            }
        }

        mutating func text() -> String {
            let pieces = ["a", "order", "\"", "\\", "\n", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "日本", "🚀", " ", "/"]
            return (0..<below(8)).map { _ in pieces[below(pieces.count)] }.joined()
        }

        mutating func double() -> Double {
            let special: [Double] = [
                0, -0.0, .nan, .infinity, -.infinity, 1e-3, 9.999e-4, 1e7, 9_999_999.5, .leastNonzeroMagnitude,
                .greatestFiniteMagnitude,
            ]
            if chance(20) { return special[below(special.count)] }
            let mantissa = Double(Int64(bitPattern: next() >> 11)) / Double(1 << 40)
            return mantissa * pow10(below(40) - 20)
        }

        func pow10(_ e: Int) -> Double {
            var r = 1.0
            for _ in 0..<abs(e) { r *= 10 }
            return e < 0 ? 1 / r : r
        }

        mutating func value(_ schema: Schema) -> Value? {
            if schema.isOptional && chance(15) { return nil }
            if schema.defaultValue != nil && chance(30) { return nil }
            switch schema.name {
            case LogicalTypes.decimalName:
                let scale = Int32(schema.parameter(LogicalTypes.scaleParameter) ?? "0") ?? 0
                return .decimal(BigDecimal(unscaledValue: Int64(bitPattern: next()) >> below(60), scale: scale))
            case LogicalTypes.timestampName: return .timestamp(Int64(bitPattern: next()) >> 20)
            case LogicalTypes.dateName: return .timestamp(Int64(below(40_000) - 20_000) * 86_400_000)
            default: break
            }
            switch schema.type {
            case .int8: return .int8(Int8(truncatingIfNeeded: next()))
            case .int16: return .int16(Int16(truncatingIfNeeded: next()))
            case .int32: return .int32(Int32(truncatingIfNeeded: next()))
            case .int64: return .int64(Int64(bitPattern: next()) >> below(64))
            case .float32: return .float32(Float(double()))
            case .float64: return .float64(double())
            case .boolean: return .boolean(chance(50))
            case .string: return .string(text())
            case .bytes: return .bytes((0..<below(10)).map { _ in UInt8(truncatingIfNeeded: next()) })
            case .array: return .array((0..<below(4)).map { _ in value(schema.valueSchema!) })
            case .map:
                let keyIsString = schema.keySchema?.type == .string
                return .map(
                    (0..<below(4)).map { i in
                        Value.MapEntry(
                            keyIsString ? .string("k\(i)\(text())") : .int32(Int32(i)), value(schema.valueSchema!))
                    })
            case .struct:
                var s = Struct(schema: schema)
                for field in schema.fields where !(field.schema.isOptional && chance(20)) {
                    try? s.put(field.name, value(field.schema))
                }
                return .struct(s)
            }
        }
    }

    static let configurations: [[String: String]] = [
        [:], ["schemas.enable": "false"], ["decimal.format": "NUMERIC"],
        ["schemas.enable": "false", "decimal.format": "NUMERIC"], ["replace.null.with.default": "false"],
    ]

    func converter(_ configs: [String: String]) throws -> JsonConverter {
        let c = JsonConverter()
        try c.configure(configs, isKey: false)
        return c
    }

    /// The bytes `toJSON` gives, or its error's message.
    func straightforward(_ c: JsonConverter, _ schema: Schema?, _ value: Value?) -> Outcome<[UInt8]> {
        do { return .success(JSONWriter.bytes(try c.toJSON(schema: schema, value: value))) } catch {
            return .failure(error.message)
        }
    }

    func fast(_ c: JsonConverter, _ schema: Schema?, _ value: Value?) -> Outcome<[UInt8]> {
        do {
            return .success(try c.fromConnectData(topic: "t", headers: Headers(), schema: schema, value: value) ?? [])
        } catch let error as ConnectError {
            return .failure(error.message)
        } catch {
            return .failure("\(error)")
        }
    }

    @Test("written records are the straightforward path's bytes, for 3,000 generated schemas and values")
    func writeIdentity() throws {
        var g = Generator(state: 20_261_203)
        var compared = 0
        for configs in Self.configurations {
            let c = try converter(configs)
            for _ in 0..<600 {
                let schema = g.schema(depth: 3)
                let value = g.value(schema)
                let expected = straightforward(c, schema, value)
                let got = fast(c, schema, value)
                switch (expected, got) {
                case (.success(let e), .success(let f)):
                    #expect(f == e, "\(String(decoding: f, as: UTF8.self)) != \(String(decoding: e, as: UTF8.self))")
                case (.failure(let e), .failure(let f)): #expect(f == e)
                default: Issue.record("\(configs) \(schema.type) \(String(describing: value)): \(expected) vs \(got)")
                }
                compared += 1
            }
        }
        #expect(compared > 2_500)
    }

    @Test("a value whose type does not match its schema fails the same way on both paths")
    func writeErrors() throws {
        let c = try converter([:])
        let schema = SchemaBuilder.struct().field("a", Schema.int32).field("b", Schema.string).build()
        let other = SchemaBuilder.struct().field("a", Schema.int32).build()
        let cases: [(Schema, Value?)] = [
            (Schema.int32, .string("x")), (Schema.string, nil), (schema, .struct(Struct(schema: other))),
            (SchemaBuilder.array(Schema.int8).build(), .array([.int8(1), .string("2")])),
            (schema, .struct(Struct(schema: schema))),
        ]
        for (schema, value) in cases {
            guard case .failure(let expected) = straightforward(c, schema, value) else {
                Issue.record("\(String(describing: value)) should fail")
                continue
            }
            #expect(fast(c, schema, value) == .failure(expected))
        }
    }

    /// What the general path reads from bytes: parse the whole document, then convert; or its error's message.
    func general(_ c: JsonConverter, _ bytes: [UInt8]) -> Outcome<SchemaAndValue> {
        do {
            let json = try JSONParser.parse(bytes, options: JsonConverter.parserOptions)
            return .success(try c.toConnectData(json: json))
        } catch let error as ConnectError {
            return .failure(error.message)
        } catch {
            return .failure("parse error")
        }
    }

    func read(_ c: JsonConverter, _ bytes: [UInt8]) -> Outcome<SchemaAndValue> {
        do { return .success(try c.toConnectData(topic: "t", headers: Headers(), value: bytes)) } catch let error
            as ConnectError
        {
            return .failure(error.message.hasPrefix("Converting byte[]") ? "parse error" : error.message)
        } catch {
            return .failure("\(error)")
        }
    }

    /// Values compared through their JSON (NaN is not equal to itself as a value).
    func same(_ a: Outcome<SchemaAndValue>, _ b: Outcome<SchemaAndValue>, _ c: JsonConverter) -> Bool {
        switch (a, b) {
        case (.failure(let x), .failure(let y)): return x == y
        case (.success(let x), .success(let y)):
            // Written back, both must give the same bytes, or the same error.
            return x.schema == y.schema && fast(c, x.schema, x.value) == fast(c, y.schema, y.value)
        default: return false
        }
    }

    @Test("read envelopes give the general path's schema, value or error, also when schemas repeat, change or break")
    func readIdentity() throws {
        var g = Generator(state: 42)
        let writer = try converter([:])
        let reader = try converter([:])
        let fresh = try converter([:])
        var schemas: [Schema] = (0..<5).map { _ in g.schema(depth: 2) }
        var compared = 0
        for i in 0..<1_500 {
            if i % 100 == 0 { schemas[g.below(schemas.count)] = g.schema(depth: 2) }
            let schema = schemas[g.below(schemas.count)]
            guard let value = g.value(schema) ?? (schema.isOptional ? nil : .int8(0)),
                var bytes = try? writer.fromConnectData(topic: "t", headers: Headers(), schema: schema, value: value)
            else { continue }
            switch g.below(10) {
            case 0: bytes += Array(" \n".utf8)  // trailing whitespace: still one document
            case 1: bytes += Array(",".utf8)  // trailing junk: a parse error
            case 2: bytes.removeLast(g.below(max(1, bytes.count / 3)) + 1)  // cut short
            case 3:
                bytes = Array(String(decoding: bytes, as: UTF8.self).replacingFirst(#""payload""#, #""payload" "#).utf8)
            case 4: bytes = Array(#"{"schema":{"type":"string","optional":false},"payload":"x","extra":1}"#.utf8)
            case 5: bytes = Array(#"{"schema":{"type":"int32","optional":false},"payload":"not a number"}"#.utf8)
            default: break
            }
            #expect(
                same(read(reader, bytes), general(fresh, bytes), fresh), "\(String(decoding: bytes, as: UTF8.self))")
            compared += 1
        }
        #expect(compared > 1_000)
    }

    /// Reads `payload` under `schemaText` on a converter that has read `first` under it (so the schema's bytes are
    /// known and the fast path is taken) and expects what the general path reads.
    func expectReadAlike(_ schemaText: String, _ first: String, _ payload: String) throws {
        let reader = try converter([:])
        _ = read(reader, Array(#"{"schema":\#(schemaText),"payload":\#(first)}"#.utf8))
        let bytes = Array(#"{"schema":\#(schemaText),"payload":\#(payload)}"#.utf8)
        let fresh = try converter([:])
        #expect(same(read(reader, bytes), general(fresh, bytes), fresh), "\(payload)")
    }

    @Test("a payload read straight into values is what the general path reads, and every other shape is its call")
    func payloadReader() throws {
        let inner = SchemaBuilder.struct().name("Inner").field("x", Schema.float64).optional().build()
        let schema = SchemaBuilder.struct()
            .field("a", Schema.int32).field("b", Schema.optionalString)
            .field("c", SchemaBuilder.array(Schema.int8).optional().build())
            .field("d", inner)
            .field("m", SchemaBuilder.map(Schema.string, Schema.int64).optional().build())
            .build()
        let writer = try converter([:])
        let schemaText = String(decoding: JSONWriter.bytes(writer.asJSONSchema(schema)), as: UTF8.self)
        let payloads = [
            #"{"a":1,"b":"x","c":[1,2],"d":{"x":1.5},"m":{"k":1}}"#,
            #"{"b":"x","a":1,"c":[1,2],"d":{"x":1.5},"m":null}"#,  // keys in another order
            #"{"a":1,"c":[1],"d":{"x":1},"m":null}"#,  // a field missing
            #"{"a":1,"b":null,"c":[],"d":{"x":1},"m":{},"e":2}"#,  // an extra key
            #"{"a":1,"a":2,"b":null,"c":[],"d":null,"m":null}"#,  // a key twice
            #"{"a":"s","b":null,"c":null,"d":null,"m":null}"#,  // a string for an int32
            #"{"a":1,"b":null,"c":[1,"2"],"d":null,"m":null}"#,
            #"{"a":1,"b":null,"c":[300,-129],"d":null,"m":null}"#,  // int8 wraps as Jackson's intValue
            #"{"a":null,"b":null,"c":null,"d":null,"m":null}"#,  // null for a required field
            #"{ "a" : 1 , "b" : "x" , "c" : [ 1 , 2 ] , "d" : { "x" : 2 } , "m" : { "k" : 2 } }"#,
            #"{"a":1,"b":null,"c":[1,],"d":null,"m":null}"#,  // trailing commas
            #"{"a":1,"b":null,"c":null,"d":null,"m":null,}"#,
            #"{"a":1.9,"b":null,"c":[1e2],"d":{"x":007},"m":null}"#,
            #"{"\u0061":1,"b":"\ud83d\ude80","c":null,"d":{"x":-0.0},"m":null}"#,
            #"{"a":1,"b":null,"c":null,"d":{"x":1,"y":2},"m":null}"#,
            #"{"a":1,"b":null,"c":null,"d":{},"m":null}"#,
            #"{"a":1,"b":null,"c":null,"d":"x","m":null}"#,
            #"{"a":1,"b":null,"c":null,"d":null,"m":{"k":"v"}}"#,
            "[1]", "null", #"{"a":1"#,
        ]
        for payload in payloads { try expectReadAlike(schemaText, payloads[0], payload) }
        // Leaves read straight from their bytes (plain strings, integers, booleans) read as the general path
        // reads them, and every other spelling is left to it.
        let leaves = SchemaBuilder.struct()
            .field("s", Schema.optionalString).field("i8", Schema.int8).field("i16", Schema.int16)
            .field("i64", Schema.int64).field("b", Schema.boolean).field("ts", LogicalTypes.timestamp(optional: true))
            .build()
        let leavesText = String(decoding: JSONWriter.bytes(writer.asJSONSchema(leaves)), as: UTF8.self)
        let leafPayloads = [
            #"{"s":"plain","i8":1,"i16":2,"i64":3,"b":true,"ts":4}"#,
            #"{"s":"","i8":127,"i16":-32768,"i64":9223372036854775807,"b":false,"ts":null}"#,
            #"{"s":"é","i8":128,"i16":32768,"i64":9223372036854775808,"b":true,"ts":1}"#,
            #"{"s":"a\"b","i8":-128,"i16":0,"i64":-9223372036854775808,"b":false,"ts":1}"#,
            #"{"s":"tab\there","i8":-129,"i16":-0,"i64":-9223372036854775809,"b":true,"ts":1}"#,
            #"{"s":"\u0041","i8":01,"i16":1e2,"i64":1.0,"b":tru,"ts":1}"#,
            #"{"s":"x","i8":-,"i16":--1,"i64":99999999999999999999999,"b":truex,"ts":1}"#,
            #"{"s":"unterminated,"i8":1,"i16":2,"i64":3,"b":true,"ts":1}"#,
            #"{"s":1,"i8":"1","i16":true,"i64":"x","b":1,"ts":"t"}"#,
            #"{"s" : "x" ,"i8": 1 ,"i16":2\#t,"i64":3\#n,"b":true\#r,"ts":5 }"#,
            #"{"s":"x","i8":1x,"i16":2,"i64":3,"b":true,"ts":1}"#,
            #"{"s":"x","i8":1,"i16":2,"i64":3,"b":false]"#,
            #"{"s":"\#u{7F}","i8":1,"i16":2,"i64":3,"b":false,"ts":1}"#,
            #"{"\u0073":"x","i8":1,"i16":2,"i64":3,"b":false,"ts":1}"#,
            #"{"s\"":"x","i8":1,"i16":2,"i64":3,"b":false,"ts":1}"#,
        ]
        for payload in leafPayloads { try expectReadAlike(leavesText, leafPayloads[0], payload) }
        // Arrays of leaves, a required string, an int32 and a field name that is not ASCII.
        let more = SchemaBuilder.struct()
            .field("arr", SchemaBuilder.array(Schema.int32).build()).field("req", Schema.string)
            .field("ñame", Schema.int32).build()
        let moreText = String(decoding: JSONWriter.bytes(writer.asJSONSchema(more)), as: UTF8.self)
        let morePayloads = [
            #"{"arr":[1,2],"req":"x","ñame":3}"#, #"{"arr":[1 ,2],"req":"x","ñame":3}"#,
            #"{"arr":[ 1,2 ],"req":"é","ñame":-4}"#, #"{"arr":[],"req":"","ñame":2147483648}"#,
            #"{"arr":["a"],"req":null,"ñame":1}"#, #"{"arr":[1],"req":"x","\u00f1ame":1}"#,
            #"{"arr":[1,],"req":"x","ñame":1}"#, #"{"arr":[-2147483648],"req":"x","ñame":-2147483649}"#,
        ]
        for payload in morePayloads { try expectReadAlike(moreText, morePayloads[0], payload) }
        // Envelopes laid out otherwise, or nested past the parser's limit (the envelope counts), are the general
        // path's to read.
        let nested512 = String(repeating: "[", count: 511) + String(repeating: "]", count: 511)
        let nested513 = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        for envelope in [
            #"{"schema":null,"payload":\#(nested512)}"#, #"{"schema":null,"payload":\#(nested513)}"#,
            #"{"schema":null,"payload":{"a":1}}"#, #"{"schema":null,"payload":{"a":1} }"#,
            #"{"schema": \#(schemaText),"payload":\#(payloads[0])}"#,
            #"{"schema":\#(schemaText),"payload":\#(payloads[0]) }"#,
            #"{"schema":\#(schemaText),"payload":\#(payloads[0])}x"#,
        ] {
            let reader = try converter([:])
            _ = read(reader, Array(#"{"schema":\#(schemaText),"payload":\#(payloads[0])}"#.utf8))
            _ = read(reader, Array(#"{"schema":null,"payload":1}"#.utf8))
            let bytes = Array(envelope.utf8)
            let fresh = try converter([:])
            #expect(same(read(reader, bytes), general(fresh, bytes), fresh), "\(envelope.prefix(40))")
        }
        // A struct or array named as a logical type is read by its name first, on both paths.
        for (named, payload) in [
            (SchemaBuilder.struct().name(LogicalTypes.dateName).build(), "{}"),
            (SchemaBuilder.array(Schema.int8).name(LogicalTypes.timestampName).build(), "[1]"),
        ] {
            let text = String(decoding: JSONWriter.bytes(writer.asJSONSchema(named)), as: UTF8.self)
            let bytes = Array(#"{"schema":\#(text),"payload":\#(payload)}"#.utf8)
            let reader = try converter([:])
            _ = read(reader, bytes)
            let fresh = try converter([:])
            #expect(same(read(reader, bytes), general(fresh, bytes), fresh), "\(text)")
        }
        // Nesting past the parser's limit fails on both paths, however the depth is reached.
        let deep = SchemaBuilder.array(SchemaBuilder.array(Schema.int8).build()).build()
        let deepSchema = String(decoding: JSONWriter.bytes(writer.asJSONSchema(deep)), as: UTF8.self)
        let nested = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        for payload in ["[[1]]", "[\(nested)]", "[[\(nested)]]", "[[1],[2,3],[]]"] {
            let reader = try converter([:])
            _ = read(reader, Array(#"{"schema":\#(deepSchema),"payload":[[1]]}"#.utf8))
            let bytes = Array(#"{"schema":\#(deepSchema),"payload":\#(payload)}"#.utf8)
            let fresh = try converter([:])
            #expect(same(read(reader, bytes), general(fresh, bytes), fresh), "\(payload.prefix(20))")
        }
    }

    @Test("a header of a plain integer is the narrowest integer, as the general parse gives it")
    func plainIntegerHeaders() {
        var g = Generator(state: 7)
        var texts = [
            "0", "-0", "007", "-", "", "127", "128", "-128", "-129", "32767", "32768", "2147483648",
            "999999999999999999", "-999999999999999999", "9223372036854775807", "1-2", "+5", "1.0", "١٢",
        ]
        for _ in 0..<2_000 {
            let digits = (0..<(g.below(19) + 1)).map { _ in String(g.below(10)) }.joined()
            texts.append((g.chance(30) ? "-" : "") + digits)
        }
        for text in texts {
            #expect(Values.parseString(text) == Values.parseStringGenerally(text), "\(text)")
        }
    }

    @Test("values print to bytes as they print to a String (FileStreamSink's text)")
    func valueTextAsBytes() {
        var g = Generator(state: 7)
        for _ in 0..<3_000 {
            let schema = g.schema(depth: 3)
            let value = g.value(schema)
            var bytes: [UInt8] = []
            ValueFormatter.write(value, into: &bytes)
            #expect(bytes == Array(ValueFormatter.string(value).utf8), "\(schema)")
        }
        for v: Int64 in [0, 9, 10, -1, -10, Int64.max, Int64.min, 1_234_567_890] {
            var bytes: [UInt8] = []
            ValueFormatter.write(.int64(v), into: &bytes)
            #expect(bytes == Array(String(v).utf8))
        }
    }

    @Test("doubles and floats are written as Java's toString whichever path formats them")
    func javaNumberLayout() {
        var g = Generator(state: 99)
        for _ in 0..<20_000 {
            let d = g.double()
            guard d.isFinite && d != 0 else { continue }
            #expect(
                JavaNumberFormat.double(d) == JavaNumberFormat.relaid(description: d.description, magnitude: abs(d)))
            let f = Float(d)
            if f.isFinite && f != 0 {
                #expect(
                    JavaNumberFormat.float(f)
                        == JavaNumberFormat.relaid(description: f.description, magnitude: Double(abs(f))))
            }
        }
    }

    @Test("a struct prints as Java's Struct.toString, nested values as Values.convertToString")
    func structText() throws {
        let inner = SchemaBuilder.struct().field("x", Schema.optionalString).build()
        let schema = SchemaBuilder.struct()
            .field("a", Schema.int32).field("b", SchemaBuilder.array(Schema.float64).build())
            .field("c", SchemaBuilder.map(Schema.string, Schema.optionalInt64).build())
            .field("d", inner).field("e", Schema.optionalString).build()
        var s = Struct(schema: schema)
        var i = Struct(schema: inner)
        try i.put("x", .string("y"))
        try s.put("a", .int32(-1))
        try s.put("b", .array([.float64(1e7), .float64(0.5)]))
        try s.put("c", .map([Value.MapEntry(.string("k"), nil), Value.MapEntry(.string("l"), .int64(2))]))
        try s.put("d", .struct(i))
        #expect(s.description == "Struct{a=-1,b=[1.0E7, 0.5],c={k=null, l=2},d=Struct{x=y}}")
        #expect(ValueFormatter.string(.struct(s)) == s.description)
        // Fields are set and read by their Field as by name; another schema's field is refused, not a trap.
        let foreign = SchemaBuilder.struct().field("q", Schema.int32).field("r", Schema.int32).build().fields[1]
        #expect(throws: ConnectError.self) { try s.put(foreign, .int32(1)) }
        #expect(s.get(foreign) == nil && s.getWithoutDefault(foreign) == nil)
        try s.put(schema.fields[0], .int32(7))
        #expect(s.get(schema.fields[0]) == .int32(7))
        // A field added again under its name replaces the first, and every field's index stays its position.
        let replaced = SchemaBuilder.struct().field("id", Schema.int32).field("name", Schema.string)
            .field("id", Schema.string).build()
        #expect(replaced.fields.map(\.name) == ["name", "id"] && replaced.fields.map(\.index) == [0, 1])
        #expect(replaced.field(matching: schema.fields[0]) == nil)
        #expect(replaced.field(matching: replaced.fields[1])?.schema == Schema.string)
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, _ replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
