import ConnectAPI

/// The Debezium release whose event format and configuration the connectors follow (its `source.version`).
public enum Debezium {
    public static let version = "3.2.0.Final"
}

extension ConnectError.Kind {
    /// Debezium's own exception class, the one its connectors' traces show.
    public static let debezium = ConnectError.Kind(className: "io.debezium.DebeziumException")
    /// Debezium's retriable error (a lost connection to the database).
    public static let debeziumRetriable = ConnectError.Kind(
        className: "org.apache.kafka.connect.errors.RetriableException", isRetriable: true)
}

/// A change event's envelope (`io.debezium.data.Envelope`): `before`, `after`, `source`, `transaction`, `op`,
/// `ts_ms`, `ts_us`, `ts_ns`, in that order, under the name `<prefix>.<schema-or-db>.<table>.Envelope`, version 2.
/// Debezium 3.x's `TableSchemaBuilder` adds `transaction` before `SchemaFactory`'s envelope builder appends `op` and
/// the timestamps, so real 3.2 events have it right after `source` (older documentation examples show it last).
public enum Envelope {
    /// `Envelope.Operation`: the `op` codes.
    public enum Operation: String, Sendable {
        case read = "r", create = "c", update = "u", delete = "d", truncate = "t", message = "m"
    }

    /// `event.block`: the transaction block every event carries when transaction metadata is on.
    public static let transactionBlock = SchemaBuilder.struct().name("event.block").version(1).optional()
        .field("id", .string).field("total_order", .int64).field("data_collection_order", .int64).build()

    /// The value schema for a table whose row schema is `row` (its `.Value` struct).
    public static func schema(name: String, row: Schema, source: Schema) -> Schema {
        let optionalRow = SchemaBuilder(.struct).name(row.name).version(row.version).optional()
        let rowOptional = row.fields.reduce(optionalRow) { $0.field($1.name, $1.schema) }.build()
        return SchemaBuilder.struct().name(name).version(2)
            .field("before", rowOptional).field("after", rowOptional).field("source", source)
            .field("transaction", transactionBlock).field("op", .string).field("ts_ms", .optionalInt64)
            .field("ts_us", .optionalInt64).field("ts_ns", .optionalInt64).build()
    }

    /// An envelope value. `nowMicros` is when the connector processed the event (the envelope's `ts_*`).
    public static func value(
        schema: Schema, op: Operation, before: Struct?, after: Struct?, source: Struct, nowMicros: Int64
    ) throws(ConnectError) -> Struct {
        var s = Struct(schema: schema)
        let rowSchema = schema.field("after")!.schema
        try s.put("before", try before.map { v throws(ConnectError) in .struct(try v.reschema(rowSchema)) })
        try s.put("after", try after.map { v throws(ConnectError) in .struct(try v.reschema(rowSchema)) })
        try s.put("source", .struct(source))
        try s.put("op", .string(op.rawValue))
        try s.put("ts_ms", .int64(nowMicros / 1000))
        try s.put("ts_us", .int64(nowMicros))
        try s.put("ts_ns", .int64(nowMicros &* 1000))
        return s
    }
}

extension Struct {
    /// The same field values under another struct schema with the same fields (the optional copy of a row
    /// schema inside an envelope).
    func reschema(_ schema: Schema) throws(ConnectError) -> Struct {
        var s = Struct(schema: schema)
        for field in self.schema.fields { try s.put(field.name, getWithoutDefault(field.name)) }
        return s
    }
}

/// `SnapshotRecord`: what `source.snapshot` says about a record.
public enum SnapshotRecord: String, Sendable, CaseIterable {
    case `true`, first, firstInDataCollection = "first_in_data_collection",
        lastInDataCollection = "last_in_data_collection", last, `false`, incremental

    /// The `io.debezium.data.Enum` schema of `source.snapshot`: optional, default `false`.
    public static let schema = SchemaBuilder(.string).name("io.debezium.data.Enum").version(1)
        .parameter("allowed", allCases.map(\.rawValue).joined(separator: ",")).defaultValue(.string("false"))
        .optional().build()

    /// The value for the `index`-th of `count` records of a snapshot, `tableIndex`-th of `tableCount` in its table.
    public static func of(index: Int, count: Int, tableIndex: Int, tableCount: Int) -> SnapshotRecord {
        if index == 0 { return .first }
        if index == count - 1 { return .last }
        if tableIndex == 0 { return .firstInDataCollection }
        if tableIndex == tableCount - 1 { return .lastInDataCollection }
        return .true
    }

    /// The value for a record read one ahead, so its place is known: the `emitted`-th of the snapshot, `last` of
    /// all, `indexInTable`-th of its table, `endsTable` the last of its table.
    public static func of(emitted: Int, last: Bool, indexInTable: Int, endsTable: Bool) -> SnapshotRecord {
        if emitted == 0 { return .first }
        if last { return .last }
        if indexInTable == 0 { return .firstInDataCollection }
        return endsTable ? .lastInDataCollection : .true
    }
}

/// The fields every connector's `source` block starts with (`AbstractSourceInfoStructMaker.commonSchemaBuilder`),
/// in a struct of version 1 (`SchemaFactory.sourceInfoSchemaBuilder`, versioned since Debezium 3.1, DBZ-8499).
public enum SourceInfo {
    public static func commonFields(_ name: String) -> SchemaBuilder {
        SchemaBuilder.struct().name(name).version(1).field("version", .string).field("connector", .string)
            .field("name", .string).field("ts_ms", .int64).field("snapshot", SnapshotRecord.schema)
            .field("db", .string).field("sequence", .optionalString).field("ts_us", .optionalInt64)
            .field("ts_ns", .optionalInt64)
    }

    /// Sets the common fields; `changeMicros` is when the change happened in the database.
    public static func putCommon(
        _ s: inout Struct, connector: String, serverName: String, changeMicros: Int64, snapshot: SnapshotRecord?,
        database: String
    ) throws(ConnectError) {
        try s.put("version", .string(Debezium.version))
        try s.put("connector", .string(connector))
        try s.put("name", .string(serverName))
        try s.put("ts_ms", .int64(changeMicros / 1000))
        // `false` is left to the schema's default, as Debezium does.
        if let snapshot, snapshot != .false { try s.put("snapshot", .string(snapshot.rawValue)) }
        try s.put("db", .string(database))
        try s.put("ts_us", .int64(changeMicros))
        try s.put("ts_ns", .int64(changeMicros &* 1000))
    }
}
