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

    /// Whether a row image of `types` columns fits this definition (same column count).
    func fits(columnCount: Int) -> Bool { columns.count == columnCount }

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
            DATETIME_PRECISION, CHARACTER_SET_NAME FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = \(db) AND TABLE_NAME = \(table) ORDER BY ORDINAL_POSITION
            """
        ).strings.map { r in
            MySqlColumn(
                name: r[0] ?? "", dataType: (r[1] ?? "").lowercased(), columnType: r[2] ?? "",
                optional: r[3] == "YES", precision: r[4].flatMap { Int($0) }, scale: r[5].flatMap { Int($0) },
                fsp: r[6].flatMap { Int($0) } ?? 0, charset: r[7], keyPosition: keyPositions[r[0] ?? ""])
        }
    }
}
