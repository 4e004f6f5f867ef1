import ConnectAPI

/// Debezium's semantic schemas (`io.debezium.time.*`, `io.debezium.data.*`): a Connect type with a name and
/// version 1 that consumers use to read the value.
public enum SemanticTypes {
    static func named(_ type: SchemaType, _ name: String, optional: Bool) -> Schema {
        SchemaBuilder(type).name(name).version(1).optional(optional).build()
    }

    /// Days since the epoch (INT32).
    public static func date(optional: Bool) -> Schema { named(.int32, "io.debezium.time.Date", optional: optional) }
    /// Milliseconds past midnight (INT32).
    public static func time(optional: Bool) -> Schema { named(.int32, "io.debezium.time.Time", optional: optional) }
    /// Microseconds past midnight (INT64).
    public static func microTime(optional: Bool) -> Schema {
        named(.int64, "io.debezium.time.MicroTime", optional: optional)
    }
    /// Milliseconds since the epoch, no time zone (INT64).
    public static func timestamp(optional: Bool) -> Schema {
        named(.int64, "io.debezium.time.Timestamp", optional: optional)
    }
    /// Microseconds since the epoch, no time zone (INT64).
    public static func microTimestamp(optional: Bool) -> Schema {
        named(.int64, "io.debezium.time.MicroTimestamp", optional: optional)
    }
    /// ISO-8601 in UTC (`2024-01-02T02:04:05.678Z`).
    public static func zonedTimestamp(optional: Bool) -> Schema {
        named(.string, "io.debezium.time.ZonedTimestamp", optional: optional)
    }
    /// ISO-8601 time in UTC (`02:04:05.678Z`).
    public static func zonedTime(optional: Bool) -> Schema {
        named(.string, "io.debezium.time.ZonedTime", optional: optional)
    }
    /// An approximate duration in microseconds (INT64; a month is 30.4375 days).
    public static func microDuration(optional: Bool) -> Schema {
        named(.int64, "io.debezium.time.MicroDuration", optional: optional)
    }
    /// A year (INT32).
    public static func year(optional: Bool) -> Schema { named(.int32, "io.debezium.time.Year", optional: optional) }
    public static func json(optional: Bool) -> Schema { named(.string, "io.debezium.data.Json", optional: optional) }
    public static func uuid(optional: Bool) -> Schema { named(.string, "io.debezium.data.Uuid", optional: optional) }
    public static func xml(optional: Bool) -> Schema { named(.string, "io.debezium.data.Xml", optional: optional) }

    /// An enumeration, its labels in `allowed`.
    public static func enumeration(_ allowed: [String], optional: Bool) -> Schema {
        SchemaBuilder(.string).name("io.debezium.data.Enum").version(1)
            .parameter("allowed", allowed.joined(separator: ",")).optional(optional).build()
    }

    /// A set of enumeration members, comma-separated (`a,c`), the members in `allowed`.
    public static func enumSet(_ allowed: [String], optional: Bool) -> Schema {
        SchemaBuilder(.string).name("io.debezium.data.EnumSet").version(1)
            .parameter("allowed", allowed.joined(separator: ",")).optional(optional).build()
    }

    /// A bit string of `length` bits, little-endian bytes.
    public static func bits(length: Int, optional: Bool) -> Schema {
        SchemaBuilder(.bytes).name("io.debezium.data.Bits").version(1).parameter("length", String(length))
            .optional(optional).build()
    }

    /// `VariableScaleDecimal`: a decimal whose scale varies per value, as a struct of `scale` and `value`.
    public static func variableScaleDecimal(optional: Bool) -> Schema {
        SchemaBuilder.struct().name("io.debezium.data.VariableScaleDecimal").version(1).doc("Variable scaled decimal")
            .optional(optional).field("scale", .int32).field("value", .bytes).build()
    }

    /// Connect's `Decimal` with the column's precision as Debezium adds it (`connect.decimal.precision`).
    public static func decimal(precision: Int?, scale: Int32, optional: Bool) -> Schema {
        var b = SchemaBuilder(.bytes).name(LogicalTypes.decimalName).version(1)
            .parameter(LogicalTypes.scaleParameter, String(scale))
        if let precision { b = b.parameter("connect.decimal.precision", String(precision)) }
        return b.optional(optional).build()
    }
}
