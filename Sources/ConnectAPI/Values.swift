/// Connect's `Values` helpers.
public enum Values {
    /// Infers a schema and value from text.
    public static func parseString(_ text: String) -> SchemaAndValue {
        if text.isEmpty { return SchemaAndValue(schema: Schema.string, value: .string(text)) }
        switch text.lowercased() {
        case "true": return SchemaAndValue(schema: Schema.boolean, value: .boolean(true))
        case "false": return SchemaAndValue(schema: Schema.boolean, value: .boolean(false))
        default: break
        }
        if let i = Int64(text) {
            if let v = Int8(exactly: i) { return SchemaAndValue(schema: Schema.int8, value: .int8(v)) }
            if let v = Int16(exactly: i) { return SchemaAndValue(schema: Schema.int16, value: .int16(v)) }
            if let v = Int32(exactly: i) { return SchemaAndValue(schema: Schema.int32, value: .int32(v)) }
            return SchemaAndValue(schema: Schema.int64, value: .int64(i))
        }
        if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }),
            text.first.map({ $0.isNumber || $0 == "-" }) ?? false,
            let d = Double(text)
        {
            if let f = Float(text), Double(f) == d { return SchemaAndValue(schema: Schema.float32, value: .float32(f)) }
            return SchemaAndValue(schema: Schema.float64, value: .float64(d))
        }
        return SchemaAndValue(schema: Schema.string, value: .string(text))
    }
}
