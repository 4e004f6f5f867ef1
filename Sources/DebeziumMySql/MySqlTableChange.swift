import ConnectAPI
import DebeziumCore
import Foundation
import JSON

/// A table's structure after a DDL statement (Debezium's `TableChanges.TableChange`): what the schema change topic
/// and the schema history carry, and what the history gives back on restart.
struct MySqlTableChange: Equatable {
    enum Kind: String { case create = "CREATE", alter = "ALTER", drop = "DROP" }

    var kind: Kind
    var id: TableId
    var columns: [MySqlColumn]

    /// `"db"."table"`, as Debezium writes a table id.
    var quotedId: String { "\"\(id.schema)\".\"\(id.table)\"" }

    var primaryKey: [String] {
        columns.filter { $0.keyPosition != nil }.sorted { $0.keyPosition! < $1.keyPosition! }.map(\.name)
    }

    static func isTemporal(_ dataType: String) -> Bool { ["time", "datetime", "timestamp"].contains(dataType) }

    /// The column's `java.sql.Types` code, as Debezium's MySQL DDL parser assigns it.
    static func jdbcType(_ c: MySqlColumn) -> Int32 {
        switch c.dataType {
        case "bit": -7
        case "tinyint": -6
        case "smallint": 5
        case "mediumint", "int", "integer": 4
        case "bigint": -5
        case "float": 6
        case "real": 7
        case "double", "double precision": 8
        case "decimal", "numeric", "dec", "fixed": 3
        case "char": 1
        case "varchar", "enum", "set": 12
        case "tinytext", "text", "mediumtext", "longtext", "json": -1
        case "binary": -2
        case "varbinary": -3
        case "tinyblob", "blob", "mediumblob", "longblob": 2004
        case "date": 91
        case "time": 92
        case "datetime", "timestamp": 93
        case "year": 4
        default: 1111
        }
    }

    /// `length` as Debezium gives it: fractional digits for temporal types, precision for numbers, characters for
    /// text.
    static func length(_ c: MySqlColumn) -> Int? {
        if isTemporal(c.dataType) { return c.fsp }
        if c.dataType == "bit" { return c.bitLength }
        if c.dataType == "binary" { return c.octetLength }
        return c.precision
    }

    // MARK: The schema change topic's Connect schemas (`io.debezium.connector.schema.*`).

    static let columnSchema = SchemaBuilder.struct().name("io.debezium.connector.schema.Column")
        .field("name", .string).field("jdbcType", .int32).field("nativeType", .optionalInt32)
        .field("typeName", .string).field("typeExpression", .optionalString).field("charsetName", .optionalString)
        .field("length", .optionalInt32).field("scale", .optionalInt32).field("position", .int32)
        .field("optional", .optionalBoolean).field("autoIncremented", .optionalBoolean)
        .field("generated", .optionalBoolean).field("comment", .optionalString)
        .field("defaultValueExpression", .optionalString)
        .field("enumValues", SchemaBuilder.array(.string).optional().build()).build()
    static let tableSchema = SchemaBuilder.struct().name("io.debezium.connector.schema.Table")
        .field("defaultCharsetName", .optionalString)
        .field("primaryKeyColumnNames", SchemaBuilder.array(.string).optional().build())
        .field("columns", SchemaBuilder.array(columnSchema).build()).field("comment", .optionalString).build()
    static let changeSchema = SchemaBuilder.struct().name("io.debezium.connector.schema.Change")
        .field("type", .string).field("id", .string).field("table", tableSchema).build()

    var value: Struct {
        var table = Struct(schema: Self.tableSchema)
        try? table.put("defaultCharsetName", columns.compactMap(\.charset).first.map(Value.string))
        try? table.put("primaryKeyColumnNames", .array(primaryKey.map(Value.string)))
        try? table.put(
            "columns",
            .array(
                columns.enumerated().map { i, c in
                    var s = Struct(schema: Self.columnSchema)
                    try? s.put("name", .string(c.name))
                    try? s.put("jdbcType", .int32(Self.jdbcType(c)))
                    try? s.put("typeName", .string(c.dataType.uppercased()))
                    try? s.put("typeExpression", .string(c.columnType))
                    try? s.put("charsetName", c.charset.map(Value.string))
                    try? s.put("length", Self.length(c).map { .int32(Int32($0)) })
                    try? s.put("scale", c.scale.map { .int32(Int32($0)) })
                    try? s.put("position", .int32(Int32(i + 1)))
                    try? s.put("optional", .boolean(c.optional))
                    try? s.put("enumValues", .array(c.members.map(Value.string)))
                    return .struct(s)
                }))
        var change = Struct(schema: Self.changeSchema)
        try? change.put("type", .string(kind.rawValue))
        try? change.put("id", .string(quotedId))
        try? change.put("table", .struct(table))
        return change
    }

    // MARK: The schema history's JSON (`HistoryRecord`'s `tableChanges`).

    private func obj(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs)) }

    var json: JSONValue {
        obj([
            ("type", .string(kind.rawValue)), ("id", .string(quotedId)),
            (
                "table",
                obj([
                    ("defaultCharsetName", columns.compactMap(\.charset).first.map(JSONValue.string) ?? .null),
                    ("primaryKeyColumnNames", .array(primaryKey.map(JSONValue.string))),
                    (
                        "columns",
                        .array(
                            columns.enumerated().map { i, c in
                                obj([
                                    ("name", .string(c.name)), ("jdbcType", .int(Int64(Self.jdbcType(c)))),
                                    ("typeName", .string(c.dataType.uppercased())),
                                    ("typeExpression", .string(c.columnType)),
                                    ("charsetName", c.charset.map(JSONValue.string) ?? .null),
                                    ("length", Self.length(c).map { .int(Int64($0)) } ?? .null),
                                    ("scale", c.scale.map { .int(Int64($0)) } ?? .null),
                                    ("position", .int(Int64(i + 1))), ("optional", .bool(c.optional)),
                                    ("enumValues", .array(c.members.map(JSONValue.string))),
                                ])
                            })
                    ), ("attributes", .array([])),
                ])
            ), ("comment", .null),
        ])
    }

    /// A change read back from the history; nil when it is not one this connector wrote or understands.
    init?(json: JSONValue) {
        guard let kind = json["type"]?.stringValue.flatMap(Kind.init), let rawId = json["id"]?.stringValue else {
            return nil
        }
        let parts = rawId.split(separator: ".", maxSplits: 1).map { $0.trimmingCharacters(in: ["\""]) }
        guard parts.count == 2 else { return nil }
        self.kind = kind
        id = TableId(schema: parts[0], table: parts[1])
        let key = json["table"]?["primaryKeyColumnNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
        columns = (json["table"]?["columns"]?.arrayValue ?? []).map { c in
            let dataType = (c["typeName"]?.stringValue ?? "").lowercased()
            let length = c["length"]?.intValue.map { Int($0) }
            let name = c["name"]?.stringValue ?? ""
            return MySqlColumn(
                name: name, dataType: dataType, columnType: c["typeExpression"]?.stringValue ?? dataType,
                optional: c["optional"]?.boolValue ?? true,
                precision: Self.isTemporal(dataType) ? nil : length, scale: c["scale"]?.intValue.map { Int($0) },
                fsp: Self.isTemporal(dataType) ? length ?? 0 : 0, charset: c["charsetName"]?.stringValue,
                keyPosition: key.firstIndex(of: name).map { $0 + 1 }, octetLength: dataType == "binary" ? length : nil)
        }
    }

    init(kind: Kind, id: TableId, columns: [MySqlColumn]) {
        self.kind = kind
        self.id = id
        self.columns = columns
    }
}

/// The schema change topic's records (`<topic.prefix>`, `include.schema.changes`): key `SchemaChangeKey`
/// {`databaseName`}, value `SchemaChangeValue` {`source`, `ts_ms`, `databaseName`, `schemaName`, `ddl`,
/// `tableChanges`}, as the binlog connectors write them.
struct MySqlSchemaChangeEvents {
    let topic: String
    let keySchema: Schema
    let valueSchema: Schema
    let partition: OffsetMap

    init(flavor: MySqlFlavor, serverName: String, source: MySqlSourceInfo) {
        topic = ChangeEventBuilder.sanitizedTopic(serverName)
        let ns = "io.debezium.connector.\(flavor.rawValue)"
        keySchema = SchemaBuilder.struct().name("\(ns).SchemaChangeKey").field("databaseName", .string).build()
        valueSchema = SchemaBuilder.struct().name("\(ns).SchemaChangeValue").field("source", source.schema)
            .field("ts_ms", .int64).field("databaseName", .optionalString).field("schemaName", .optionalString)
            .field("ddl", .optionalString)
            .field("tableChanges", SchemaBuilder.array(MySqlTableChange.changeSchema).build()).build()
        partition = ["server": .string(serverName)]
    }

    func record(
        database: String, ddl: String, changes: [MySqlTableChange], source: Struct, offset: OffsetMap
    )
        throws(ConnectError) -> SourceRecord
    {
        var key = Struct(schema: keySchema)
        try key.put("databaseName", .string(database))
        var value = Struct(schema: valueSchema)
        try value.put("source", .struct(source))
        try value.put("ts_ms", .int64(ChangeEventBuilder.nowMicros() / 1000))
        try value.put("databaseName", .string(database))
        try value.put("ddl", .string(ddl))
        try value.put("tableChanges", .array(changes.map { .struct($0.value) }))
        return SourceRecord(
            sourcePartition: partition, sourceOffset: offset, topic: topic, keySchema: keySchema, key: .struct(key),
            valueSchema: valueSchema, value: .struct(value))
    }
}
