import ConnectAPI
import DebeziumCore
import MariaDB

/// A captured table's columns, schemas, topic and row conversion (`TableSchemaBuilder`), built from the server's
/// catalog.
final class MySqlTable {
    struct Column {
        var definition: MySqlColumn
        var converter: MySqlColumnConverter
        var included: Bool
    }

    let id: TableId
    let columns: [Column]
    let topic: String
    let keySchema: Schema?
    let rowSchema: Schema
    let envelopeSchema: Schema
    /// Indexes of the key columns, in key order.
    let keyColumns: [Int]

    init(id: TableId, columns: [MySqlColumn], config: MySqlConnectorConfig, sourceSchema: Schema) {
        self.id = id
        let cols = columns.map {
            Column(
                definition: $0, converter: config.converter.column($0),
                included: config.filter.captures(column: $0.name, of: id))
        }
        self.columns = cols
        let prefix = "\(config.serverName).\(id.schema).\(id.table)"
        topic = ChangeEventBuilder.sanitizedTopic(prefix)
        keyColumns = cols.indices.filter { cols[$0].definition.keyPosition != nil }.sorted {
            cols[$0].definition.keyPosition! < cols[$1].definition.keyPosition!
        }
        keySchema =
            keyColumns.isEmpty
            ? nil
            : keyColumns.reduce(SchemaBuilder.struct().name(prefix + ".Key")) {
                $0.field(cols[$1].definition.name, cols[$1].converter.schema)
            }.build()
        rowSchema = cols.filter(\.included).reduce(SchemaBuilder.struct().name(prefix + ".Value").optional()) {
            $0.field($1.definition.name, $1.converter.schema)
        }.build()
        envelopeSchema = Envelope.schema(name: prefix + ".Envelope", row: rowSchema, source: sourceSchema)
    }

    /// The row struct of the included columns. A value the mapping cannot represent fails the row, naming the
    /// column.
    func row(_ values: [ColumnValue]) throws(ConnectError) -> Struct {
        var s = Struct(schema: rowSchema)
        for (i, c) in columns.enumerated() where c.included {
            try s.put(c.definition.name, try value(i, values))
        }
        return s
    }

    /// The key struct, nil for a table without a primary key.
    func key(_ values: [ColumnValue]) throws(ConnectError) -> Struct? {
        guard let keySchema else { return nil }
        var s = Struct(schema: keySchema)
        for i in keyColumns { try s.put(columns[i].definition.name, try value(i, values)) }
        return s
    }

    private func value(_ i: Int, _ values: [ColumnValue]) throws(ConnectError) -> Value? {
        guard i < values.count else { return nil }
        let v = values[i]
        if v == .null { return nil }
        let c = columns[i]
        guard let converted = c.converter.convert(v) else {
            if c.definition.optional { return nil }
            throw ConnectError(
                .debezium,
                "Cannot convert the value \(v) of column \(id).\(c.definition.name) (\(c.definition.columnType))")
        }
        return converted
    }

    /// The type code the binlog writes for a column of this definition (a CHAR, ENUM or SET column's real type),
    /// nil for a type whose code varies by server version (then any code is accepted).
    static func binlogType(_ c: MySqlColumn) -> UInt8? {
        switch c.dataType {
        case "tinyint": ColumnType.tiny
        case "smallint": ColumnType.short
        case "mediumint": ColumnType.int24
        case "int", "integer": ColumnType.long
        case "bigint": ColumnType.longlong
        case "float": ColumnType.float
        case "double", "real", "double precision": ColumnType.double
        case "decimal", "numeric", "dec", "fixed": ColumnType.newdecimal
        case "date": ColumnType.date
        case "year": ColumnType.year
        case "bit": ColumnType.bit
        case "varchar", "varbinary": ColumnType.varchar
        case "char", "binary": ColumnType.string
        case "enum": ColumnType.enumeration
        case "set": ColumnType.set
        case "tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob":
            ColumnType.blob
        default: nil
        }
    }

    /// A column only the binlog describes (named by `binlog_row_metadata=FULL`, gone from the catalog since and
    /// never recorded): its definition read from the table map's type, metadata, signedness and nullability.
    /// Text and binary columns of one code are told apart only by character set, which is not read: they are
    /// taken as text.
    static func synthesized(_ map: TableMapEvent, _ i: Int) -> MySqlColumn {
        let meta = map.metadata[i]
        let numericIndex = map.types[..<i].filter(TableMapEvent.isNumeric).count
        let unsigned = numericIndex < map.unsignedNumeric.count && map.unsignedNumeric[numericIndex]
        var fsp = 0
        var precision: Int?
        var scale: Int?
        let dataType: String
        switch realType(map, i) ?? map.types[i] {
        case ColumnType.tiny: dataType = "tinyint"
        case ColumnType.short: dataType = "smallint"
        case ColumnType.int24: dataType = "mediumint"
        case ColumnType.long: dataType = "int"
        case ColumnType.longlong: dataType = "bigint"
        case ColumnType.float: dataType = "float"
        case ColumnType.double: dataType = "double"
        case ColumnType.newdecimal:
            dataType = "decimal"
            precision = Int(meta >> 8)
            scale = Int(meta & 0xFF)
        case ColumnType.date: dataType = "date"
        case ColumnType.year: dataType = "year"
        case ColumnType.bit: dataType = "bit"
        case ColumnType.time, ColumnType.time2:
            dataType = "time"
            fsp = Int(meta)
        case ColumnType.datetime, ColumnType.datetime2:
            dataType = "datetime"
            fsp = Int(meta)
        case ColumnType.timestamp, ColumnType.timestamp2:
            dataType = "timestamp"
            fsp = Int(meta)
        case ColumnType.string: dataType = "char"
        case ColumnType.enumeration: dataType = "enum"
        case ColumnType.set: dataType = "set"
        case ColumnType.json: dataType = "json"
        case ColumnType.varchar: dataType = "varchar"
        default: dataType = "longtext"
        }
        let bits = Int(meta & 0xFF) * 8 + Int(meta >> 8)
        let columnType = dataType == "bit" ? "bit(\(bits))" : dataType + (unsigned ? " unsigned" : "")
        return MySqlColumn(
            name: map.columnNames[i], dataType: dataType, columnType: columnType,
            optional: i < map.nullable.count ? map.nullable[i] : true, precision: precision, scale: scale, fsp: fsp,
            charset: nil, keyPosition: nil)
    }

    /// Column `i`'s type code in a table map, with STRING resolved to its real type (CHAR, ENUM, SET).
    static func realType(_ map: TableMapEvent, _ i: Int) -> UInt8? {
        let t = map.types[i]
        switch t {
        case ColumnType.string:
            let real = UInt8(map.metadata[i] >> 8)
            return real & 0x30 == 0x30 ? (real == ColumnType.enumeration || real == ColumnType.set ? real : t) : t
        case ColumnType.tinyBlob, ColumnType.mediumBlob, ColumnType.longBlob: return ColumnType.blob
        case ColumnType.newdate: return ColumnType.date
        // Temporal types and JSON: the code depends on the server and on when the column was created.
        case ColumnType.time, ColumnType.time2, ColumnType.datetime, ColumnType.datetime2, ColumnType.timestamp,
            ColumnType.timestamp2, ColumnType.json, ColumnType.geometry:
            return nil
        default: return t
        }
    }

    /// Each column's signedness, for the binlog's row decoder.
    var unsigned: [Bool] { columns.map(\.definition.unsigned) }
}

/// The tables of a server as its catalog describes them now (`information_schema`).
enum MySqlCatalog {
    /// The base tables of every database but the server's own.
    static func tables(_ conn: MariaDBConnection) throws(MariaDBError) -> [TableId] {
        try conn.query(
            """
            SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'
            AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
            ORDER BY TABLE_SCHEMA, TABLE_NAME
            """
        ).strings.compactMap { r in
            guard let db = r[0], let t = r[1] else { return nil }
            return TableId(schema: db, table: t)
        }
    }

    /// The columns of one table in their order, with the primary key's positions.
    static func columns(_ conn: MariaDBConnection, _ id: TableId) throws(MariaDBError) -> [MySqlColumn] {
        let db = conn.quoteLiteral(id.schema)
        let table = conn.quoteLiteral(id.table)
        let keys = try conn.query(
            """
            SELECT COLUMN_NAME, SEQ_IN_INDEX FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA = \(db) AND TABLE_NAME = \(table) AND INDEX_NAME = 'PRIMARY'
            """
        ).strings
        var keyPositions: [String: Int] = [:]
        for k in keys { if let n = k[0], let p = k[1].flatMap({ Int($0) }) { keyPositions[n] = p } }
        return try conn.query(
            """
            SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_PRECISION, NUMERIC_SCALE,
            DATETIME_PRECISION, CHARACTER_SET_NAME, CHARACTER_OCTET_LENGTH FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = \(db) AND TABLE_NAME = \(table) ORDER BY ORDINAL_POSITION
            """
        ).strings.map { r in
            MySqlColumn(
                name: r[0] ?? "", dataType: (r[1] ?? "").lowercased(), columnType: r[2] ?? "",
                optional: r[3] == "YES", precision: r[4].flatMap { Int($0) }, scale: r[5].flatMap { Int($0) },
                fsp: r[6].flatMap { Int($0) } ?? 0, charset: r[7], keyPosition: keyPositions[r[0] ?? ""],
                octetLength: r[8].flatMap { Int($0) })
        }
    }
}
