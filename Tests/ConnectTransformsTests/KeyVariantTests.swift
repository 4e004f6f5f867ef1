import ConnectAPI
import ConnectTransforms
import Testing

/// Every `$Key` variant works on the key and leaves the value alone; every `$Value` variant the reverse.
@Suite struct KeyVariantTests {
    static let cases: [(String, @Sendable () -> any Transformation, [String: String])] = [
        ("Cast$Key", { CastKey() }, ["spec": "orderid:string"]),
        ("ReplaceField$Key", { ReplaceFieldKey() }, ["exclude": "itemid"]),
        ("InsertField$Key", { InsertFieldKey() }, ["topic.field": "t"]),
        ("ExtractField$Key", { ExtractFieldKey() }, ["field": "orderid"]),
        ("HoistField$Key", { HoistFieldKey() }, ["field": "wrapped"]),
        ("MaskField$Key", { MaskFieldKey() }, ["fields": "itemid"]),
        ("Flatten$Key", { FlattenKey() }, [:]),
        ("HeaderFrom$Key", { HeaderFromKey() }, ["fields": "orderid", "headers": "id", "operation": "move"]),
        ("SetSchemaMetadata$Key", { SetSchemaMetadataKey() }, ["schema.name": "renamed"]),
        ("TimestampConverter$Key", { TimestampConverterKey() }, ["field": "ordertime", "target.type": "Timestamp"]),
    ]

    @Test("the key variant changes the key and keeps the value", arguments: 0..<cases.count)
    func keyVariant(index: Int) throws {
        let (name, make, configs) = Self.cases[index]
        let (address, addressValue) = try makeStruct("address", fields: [("city", Schema.string, .string("Paris"))])
        let (schema, value) = try makeStruct(
            "ksql.orders",
            fields: [
                ("ordertime", Schema.int64, .int64(1_500_000_000_000)), ("orderid", Schema.int32, .int32(7)),
                ("itemid", Schema.string, .string("Item_1")), ("address", address, addressValue),
            ])
        let t = make()
        try t.configure(configs)
        let record = sinkRecord(keySchema: schema, key: value, valueSchema: Schema.string, value: .string("untouched"))
        let out = try #require(try t.apply(record))
        #expect(out.value == .string("untouched"), "\(name) changed the value")
        #expect(out.valueSchema == Schema.string, "\(name) changed the value schema")
        #expect(connectJSON(out.keySchema, out.key) != connectJSON(schema, value), "\(name) left the key as it was")
    }

    @Test("replace.null.with.default=false keeps nulls where the default would have been used")
    func replaceNullWithDefault() throws {
        let (schema, value) = try makeStruct(fields: [
            ("a", SchemaBuilder(.string).optional().defaultValue(.string("d")).build(), nil),
            ("b", Schema.int32, .int32(1)),
        ])
        for (t, configs) in [
            (ReplaceFieldValue() as any Transformation, ["exclude": "b"]), (CastValue(), ["spec": "b:string"]),
            (InsertFieldValue(), ["topic.field": "t"]),
        ] {
            var on = configs
            on["replace.null.with.default"] = "true"
            try t.configure(on)
            let withDefault = try #require(try t.apply(sinkRecord(valueSchema: schema, value: value)))
            #expect(
                withDefault.value?.structValue?.getWithoutDefault("a") == .string("d"),
                "\(type(of: t)) did not substitute the default")
            var off = configs
            off["replace.null.with.default"] = "false"
            try t.configure(off)
            let keptNull = try #require(try t.apply(sinkRecord(valueSchema: schema, value: value)))
            #expect(keptNull.value?.structValue?.getWithoutDefault("a") == nil, "\(type(of: t)) replaced a null")
        }
    }
}
