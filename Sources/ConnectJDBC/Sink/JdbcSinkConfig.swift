import ConnectAPI
import Foundation

/// The JDBC sink's configuration (Confluent's `JdbcSinkConfig`), keys and defaults as Confluent defines them.
struct JdbcSinkConfig: Sendable {
    enum InsertMode: String, Sendable, CaseIterable { case insert, upsert, update }
    enum PrimaryKeyMode: String, Sendable, CaseIterable {
        case none, kafka
        case recordKey = "record_key"
        case recordValue = "record_value"
    }

    static let configDef = ConfigDef().definingConnection(group: "Connection")
        .define(
            "insert.mode", .string, default: "insert",
            validator: .oneOf(InsertMode.allCases.map(\.rawValue), caseInsensitive: true), importance: .high,
            documentation: "insert, upsert (insert or update on the primary key) or update", group: "Writes",
            orderInGroup: 1
        )
        .define(
            "batch.size", .int, default: 3000, validator: .atLeast(0), importance: .medium,
            documentation: "Records written with one statement, when possible", group: "Writes", orderInGroup: 2
        )
        .define(
            "delete.enabled", .boolean, default: false, importance: .medium,
            documentation: "Delete the row of a record with a null value (a tombstone); needs pk.mode=record_key",
            group: "Writes", orderInGroup: 3
        )
        .define(
            "table.name.format", .string, default: "${topic}", importance: .medium,
            documentation: "The destination table name; ${topic} is the record's topic", group: "Data Mapping",
            orderInGroup: 1
        )
        .define(
            "pk.mode", .string, default: "none",
            validator: .oneOf(PrimaryKeyMode.allCases.map(\.rawValue), caseInsensitive: true), importance: .high,
            documentation:
                "none, kafka (__connect_topic, __connect_partition, __connect_offset), record_key or record_value",
            group: "Data Mapping", orderInGroup: 2
        )
        .define(
            "pk.fields", .list, default: "", importance: .medium,
            documentation: "The primary key fields; their meaning depends on pk.mode", group: "Data Mapping",
            orderInGroup: 3
        )
        .define(
            "fields.whitelist", .list, default: "", importance: .medium,
            documentation: "The record value fields written as columns; empty: all", group: "Data Mapping",
            orderInGroup: 4
        )
        .define(
            "auto.create", .boolean, default: false, importance: .medium,
            documentation: "Create a missing table (CREATE TABLE) from the record schema", group: "DDL Support",
            orderInGroup: 1
        )
        .define(
            "auto.evolve", .boolean, default: false, importance: .medium,
            documentation: "Add the columns a record schema has and the table has not (ALTER TABLE ... ADD)",
            group: "DDL Support", orderInGroup: 2
        )
        .define(
            "quote.sql.identifiers", .string, default: "always",
            validator: .oneOf(["always", "never"], caseInsensitive: true), importance: .medium,
            documentation: "Quote table and column names in the SQL (always) or not (never)", group: "DDL Support",
            orderInGroup: 3
        )
        .define(
            "max.retries", .int, default: 10, validator: .atLeast(0), importance: .medium,
            documentation: "How often a batch is tried again after the database was lost", group: "Retries",
            orderInGroup: 1
        )
        .define(
            "retry.backoff.ms", .int, default: 3000, validator: .atLeast(0), importance: .medium,
            documentation: "The wait before such a try", group: "Retries", orderInGroup: 2)

    let url: JdbcUrl
    let user: String?
    let password: String?
    let insertMode: InsertMode
    let batchSize: Int
    let deleteEnabled: Bool
    let tableNameFormat: String
    let pkMode: PrimaryKeyMode
    let pkFields: [String]
    let fieldsWhitelist: Set<String>
    let autoCreate: Bool
    let autoEvolve: Bool
    let quoteIdentifiers: Bool
    let maxRetries: Int
    let retryBackoffMs: Int64

    init(_ props: [String: String]) throws(ConnectError) {
        let c = try Self.configDef.parse(props)
        url = try JdbcUrl(c.string("connection.url") ?? "")
        user = c.string("connection.user").flatMap { $0.isEmpty ? nil : $0 }
        password = c.string("connection.password")
        insertMode = InsertMode(rawValue: (c.string("insert.mode") ?? "insert").lowercased()) ?? .insert
        batchSize = max(1, Int(c.int("batch.size") ?? 3000))
        deleteEnabled = c.bool("delete.enabled") ?? false
        tableNameFormat = c.string("table.name.format") ?? "${topic}"
        pkMode = PrimaryKeyMode(rawValue: (c.string("pk.mode") ?? "none").lowercased()) ?? .none
        pkFields = c.list("pk.fields")
        fieldsWhitelist = Set(c.list("fields.whitelist"))
        autoCreate = c.bool("auto.create") ?? false
        autoEvolve = c.bool("auto.evolve") ?? false
        quoteIdentifiers = (c.string("quote.sql.identifiers") ?? "always").lowercased() == "always"
        maxRetries = Int(c.int("max.retries") ?? 10)
        retryBackoffMs = c.int("retry.backoff.ms") ?? 3000
        if deleteEnabled && pkMode != .recordKey {
            throw ConnectError.invalidConfig(
                "delete.enabled", "true", "Deletes are only supported for pk.mode record_key")
        }
        if insertMode != .insert && pkMode == .none {
            throw ConnectError.invalidConfig(
                "insert.mode", insertMode.rawValue,
                "Write in \(insertMode.rawValue.uppercased()) mode requires key field names to be known, check the primary key configuration (pk.mode)"
            )
        }
        if pkMode == .kafka && !pkFields.isEmpty && pkFields.count != 3 {
            throw ConnectError.invalidConfig(
                "pk.fields", pkFields.joined(separator: ","),
                "PK mode for table is kafka, so there should either be no field names defined for defaults __connect_topic,__connect_partition,__connect_offset to be applicable, or exactly 3"
            )
        }
    }

    /// The table for a topic (`table.name.format`).
    func tableName(_ topic: String) -> String { tableNameFormat.replacingOccurrences(of: "${topic}", with: topic) }

    var dialect: any DatabaseDialect {
        url.subprotocol == .postgresql ? PostgreSqlDatabaseDialect() : MySqlDatabaseDialect()
    }
}

extension ConfigDef {
    /// `connection.url`, `connection.user` and `connection.password`, as both of Confluent's JDBC connectors
    /// declare them.
    func definingConnection(group: String) -> ConfigDef {
        define(
            "connection.url", .string, default: .required, importance: .high,
            documentation:
                "JDBC connection URL: jdbc:postgresql://host:5432/db, jdbc:mysql://host:3306/db, jdbc:mariadb://host/db",
            group: group, orderInGroup: 1
        )
        .define(
            "connection.user", .string, default: .none, importance: .high, documentation: "JDBC connection user",
            group: group, orderInGroup: 2
        )
        .define(
            "connection.password", .password, default: .none, importance: .high,
            documentation: "JDBC connection password", group: group, orderInGroup: 3)
    }
}
