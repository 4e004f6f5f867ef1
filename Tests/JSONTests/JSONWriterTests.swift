import JSON
import Testing

@Suite struct JSONWriterTests {
    @Test("objects keep key order and are written without whitespace")
    func compactOrdered() {
        let v: JSONValue = ["b": 1, "a": [true, nil, "x"], "c": ["z": 1.5]]
        #expect(JSONWriter.string(v) == #"{"b":1,"a":[true,null,"x"],"c":{"z":1.5}}"#)
    }

    @Test(
        "strings are escaped as Jackson escapes them",
        arguments: [
            ("a\"b", #""a\"b""#), ("back\\slash", #""back\\slash""#), ("tab\there", #""tab\there""#),
            ("nl\n", #""nl\n""#), ("\u{01}", #""\u0001""#), ("\u{1F}", #""\u001F""#), ("é/ü", "\"é/ü\""),
        ])
    func escaping(input: String, expected: String) {
        #expect(JSONWriter.string(.string(input)) == expected)
    }

    @Test(
        "doubles are written as Java's Double.toString",
        arguments: [
            (1.0, "1.0"), (0.1, "0.1"), (-2.5, "-2.5"), (1e7, "1.0E7"), (12345678.9, "1.23456789E7"), (0.001, "0.001"),
            (0.0001, "1.0E-4"), (9999999.0, "9999999.0"), (1.5e300, "1.5E300"), (0.0, "0.0"), (123.456, "123.456"),
        ])
    func javaDoubles(value: Double, expected: String) {
        #expect(JSONWriter.string(.double(value)) == expected)
    }

    @Test("floats use the shortest digits of the float, as Float.toString")
    func javaFloats() {
        #expect(JSONWriter.string(.float(0.1)) == "0.1")
        #expect(JSONWriter.string(.float(3.0)) == "3.0")
        #expect(JSONWriter.string(.float(1.0e10)) == "1.0E10")
    }
}

@Suite struct JSONParserTests {
    @Test("parses nested documents and keeps integer exactness")
    func parses() throws {
        let v = try JSONParser.parse(#" {"a": [1, -2, 3.5, 9007199254740993], "b": {"c": null, "d": "\u00e9\n"}} "#)
        #expect(v["a"] == [1, -2, 3.5, .int(9_007_199_254_740_993)])
        #expect(v["b"]?["c"] == .null)
        #expect(v["b"]?["d"] == "é\n")
        #expect(v.objectValue?.keys == ["a", "b"])
    }

    @Test("round-trips what it writes")
    func roundTrip() throws {
        let v: JSONValue = ["s": "x\"y\\z\u{7}", "n": -0.25, "i": .int(Int64.max), "arr": [[], [:]]]
        #expect(try JSONParser.parse(JSONWriter.string(v)) == v)
    }

    @Test("surrogate pairs decode to one scalar")
    func surrogates() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == "😀")
    }

    @Test(
        "malformed input is an error with a position, never a crash",
        arguments: [
            "", "{", "[1,]", "{\"a\" 1}", "tru", "01", "\"abc", "{\"a\":1} x", "[1 2]", "-", "1.", "\"\\x\"",
            String(repeating: "[", count: 10000),
        ])
    func malformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }
}
