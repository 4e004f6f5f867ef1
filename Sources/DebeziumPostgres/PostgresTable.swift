import ConnectAPI
import DebeziumCore
import Postgres

/// What the catalog says about a table's columns that pgoutput's RELATION message does not: nullability, the
/// primary key and enum labels.
struct CatalogColumn {
    var typeOID: UInt32
    var typeModifier: Int32
    var notNull: Bool
    /// 1-based position in the primary key.
    var keyPosition: Int?
    var enumLabels: [String]?
}

/// A captured table's schemas, topic and row decoding, built from its columns (`TableSchemaBuilder`).
final class PostgresTable {
    struct Column {
        var name: String
        var converter: ColumnConverter
        var included: Bool
        var keyPosition: Int?
    }

    let id: TableId
    let oid: UInt32
    let columns: [Column]
    let topic: String
    let keySchema: Schema?
    let rowSchema: Schema
    let envelopeSchema: Schema
    /// Indexes of the key columns, in key order.
    let keyColumns: [Int]

    static let unavailableValue = "__debezium_unavailable_value"

    /// `columns` in the order rows carry them; `catalog` by column name.
    init(
        id: TableId, oid: UInt32, columns: [(name: String, typeOID: UInt32, typeModifier: Int32)],
        catalog: [String: CatalogColumn], config: PostgresConnectorConfig, sourceSchema: Schema
    ) {
        self.id = id
        self.oid = oid
        var cols: [Column] = []
        for c in columns {
            let info = catalog[c.name]
            let converter = config.converter.column(
                typeOID: c.typeOID, typeModifier: c.typeModifier, optional: !(info?.notNull ?? false),
                enumLabels: info?.enumLabels)
            cols.append(
                Column(
                    name: c.name, converter: converter,
                    included: config.filter.captures(column: c.name, of: id), keyPosition: info?.keyPosition))
        }
        self.columns = cols
        let prefix = "\(config.serverName).\(id.schema).\(id.table)"
        topic = ChangeEventBuilder.sanitizedTopic(prefix)
        keyColumns = cols.indices.filter { cols[$0].keyPosition != nil }.sorted {
            cols[$0].keyPosition! < cols[$1].keyPosition!
        }
        if keyColumns.isEmpty {
            keySchema = nil
        } else {
            keySchema = keyColumns.reduce(SchemaBuilder.struct().name(prefix + ".Key")) {
                $0.field(cols[$1].name, cols[$1].converter.schema)
            }.build()
        }
        rowSchema = cols.filter(\.included).reduce(SchemaBuilder.struct().name(prefix + ".Value").optional()) {
            $0.field($1.name, $1.converter.schema)
        }.build()
        envelopeSchema = Envelope.schema(name: prefix + ".Envelope", row: rowSchema, source: sourceSchema)
    }

    /// A row from its column values (text, nil for NULL). `unchanged` marks TOASTed values the change did not send:
    /// text reads `__debezium_unavailable_value`, bytes its UTF-8, a text array one such element, as Debezium's
    /// placeholder. `keyOnly` says the values are a key-only old tuple: the other columns were not sent, and a NOT NULL
    /// one holds its type's empty value, as Debezium's converters give a required column without data.
    func row(_ values: [String?], unchanged: Set<Int> = [], keyOnly: Bool = false) throws(ConnectError) -> Struct {
        try checkCount(values)
        var s = Struct(schema: rowSchema)
        for (i, column) in columns.enumerated() where column.included {
            let schema = column.converter.schema
            var value: Value?
            if unchanged.contains(i) {
                value = Self.placeholder(schema)
            } else if let text = values[i] {
                guard let v = column.converter.convert(text) else {
                    // NUMERIC's NaN and infinities have no Decimal: null, as Debezium gives them in precise mode.
                    if ["NaN", "Infinity", "-Infinity"].contains(text) && schema.type != .float32
                        && schema.type != .float64
                    {
                        if !schema.isOptional { value = Self.fallback(schema) }
                        try s.put(column.name, value)
                        continue
                    }
                    throw ConnectError(
                        .debezium,
                        "Cannot convert value '\(text.prefix(80))' of column \(id).\(column.name) to \(schema.name ?? schema.type.rawValue)"
                    )
                }
                value = v
            }
            if value == nil && !schema.isOptional && (keyOnly || unchanged.contains(i)) {
                value = Self.fallback(schema)
            }
            try s.put(column.name, value)
        }
        return s
    }

    private func checkCount(_ values: [String?]) throws(ConnectError) {
        guard values.count == columns.count else {
            throw ConnectError(
                .debezium,
                "Row of table \(id) has \(values.count) columns, the table's schema \(columns.count): its structure changed"
            )
        }
    }

    /// Debezium's placeholder for a TOASTed value the server did not send, where the type can carry it.
    static func placeholder(_ schema: Schema) -> Value? {
        switch schema.type {
        case .string: .string(unavailableValue)
        case .bytes where schema.name == nil: .bytes(Array(unavailableValue.utf8))
        case .array where schema.valueSchema?.type == .string: .array([.string(unavailableValue)])
        default: nil
        }
    }

    static func fallback(_ schema: Schema) -> Value? {
        switch schema.type {
        case .int8: .int8(0)
        case .int16: .int16(0)
        case .int32:
            schema.name == LogicalTypes.dateName || schema.name == LogicalTypes.timeName ? .timestamp(0) : .int32(0)
        case .int64: schema.name == LogicalTypes.timestampName ? .timestamp(0) : .int64(0)
        case .float32: .float32(0)
        case .float64: .float64(0)
        case .boolean: .boolean(false)
        case .string: .string("")
        case .bytes:
            schema.name == LogicalTypes.decimalName
                ? .decimal(BigDecimal(unscaledValue: 0, scale: Int32(schema.parameter("scale") ?? "") ?? 0))
                : .bytes([])
        case .array: .array([])
        case .map: .map([])
        case .struct:
            {
                var s = Struct(schema: schema)
                for f in schema.fields { try? s.put(f.name, fallback(f.schema)) }
                return .struct(s)
            }()
        }
    }

    /// The key struct of a row's values; nil for a table without a primary key, or when the values leave a key
    /// column out (an old tuple of a replica identity index that is not the key).
    func key(_ values: [String?]) throws(ConnectError) -> Struct? {
        guard let keySchema else { return nil }
        try checkCount(values)
        var s = Struct(schema: keySchema)
        for i in keyColumns {
            guard let text = values[i], let v = columns[i].converter.convert(text) else { return nil }
            try s.put(columns[i].name, v)
        }
        return s
    }
}

/// Reads the catalog: every table's columns with their nullability, primary key and enum labels.
enum PostgresCatalog {
    /// Gives up after `timeoutMilliseconds` (a frozen server must not hang the task thread); the connection is then
    /// unusable.
    static func load(
        _ conn: PostgresConnection, timeoutMilliseconds: Int32 = 60_000
    ) throws(PostgresError) -> [TableId: (oid: UInt32, columns: [(name: String, info: CatalogColumn)])] {
        let result = try conn.query(
            """
            SELECT n.nspname, c.relname, c.oid, a.attname, a.atttypid, a.atttypmod, a.attnotnull,
              (SELECT array_position(i.indkey::int2[], a.attnum) FROM pg_index i
                 WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
              (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e
                 WHERE e.enumtypid = a.atttypid) AS labels
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_attribute a ON a.attrelid = c.oid
            WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
            ORDER BY n.nspname, c.relname, a.attnum
            """, timeoutMilliseconds: timeoutMilliseconds)
        var out: [TableId: (oid: UInt32, columns: [(name: String, info: CatalogColumn)])] = [:]
        for row in result.rows {
            let id = TableId(schema: row[0] ?? "", table: row[1] ?? "")
            let info = CatalogColumn(
                typeOID: UInt32(row[4] ?? "") ?? 0, typeModifier: Int32(row[5] ?? "") ?? -1, notNull: row[6] == "t",
                keyPosition: row[7].flatMap { Int($0) },
                enumLabels: row[8].map { $0.split(separator: ",").map(String.init) })
            out[id, default: (UInt32(row[2] ?? "") ?? 0, [])].columns.append((row[3] ?? "", info))
        }
        return out
    }
}
