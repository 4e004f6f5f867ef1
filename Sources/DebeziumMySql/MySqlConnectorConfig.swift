import ConnectAPI
import DebeziumCore
import Foundation

/// `io.debezium.connector.mysql.MySqlConnectorConfig` (and the MariaDB connector's, which shares it through
/// `BinlogConnectorConfig`): the keys this connector reads, with Debezium's defaults; Debezium 1.x names are read as
/// their successors (`LegacyKeys`).
struct MySqlConnectorConfig {
    enum SnapshotMode: String, CaseIterable {
        case initial, initialOnly = "initial_only", noData = "no_data", whenNeeded = "when_needed", always
        /// Debezium rebuilds its schema history and streams from the stored offset; table structures here come
        /// from the server's catalog, so it is `no_data`.
        case recovery
    }

    enum BigIntUnsignedHandlingMode: String, CaseIterable { case long, precise }

    static let configDef = ConfigDef()
        .define(
            "topic.prefix", .string, default: .none, importance: .high,
            documentation: "Topic prefix naming this database server; topics are <prefix>.<database>.<table>"
        )
        .define(
            "database.hostname", .string, default: .required, importance: .high,
            documentation: "Host name of the MySQL or MariaDB server"
        )
        .define("database.port", .int, default: 3306, importance: .high, documentation: "Port of the server")
        .define(
            "database.user", .string, default: .required, importance: .high,
            documentation:
                "User with SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE and REPLICATION CLIENT privileges"
        )
        .define("database.password", .password, default: .none, importance: .high, documentation: "The user's password")
        .define(
            "database.server.id", .long, default: .required, importance: .high,
            documentation: "A numeric id, unique among the server's replicas, the connector reads the binlog as"
        )
        .define(
            "database.include.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the databases to capture"
        )
        .define(
            "database.exclude.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the databases not to capture"
        )
        .define(
            "table.include.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the tables (database.table) to capture"
        )
        .define(
            "table.exclude.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the tables not to capture"
        )
        .define(
            "column.include.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the columns (database.table.column) to include"
        )
        .define(
            "column.exclude.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the columns to leave out"
        )
        .define(
            "snapshot.mode", .string, default: "initial", importance: .medium,
            documentation: "initial, initial_only, no_data (formerly schema_only), when_needed, always or recovery"
        )
        .define(
            "include.schema.changes", .boolean, default: true, importance: .medium,
            documentation: "Write each DDL statement to the schema change topic (the topic prefix)"
        )
        .define(
            "include.query", .boolean, default: false, importance: .low,
            documentation: "Put the SQL statement of each change in source.query (needs MariaDB's annotate events)"
        )
        .define(
            "decimal.handling.mode", .string, default: "precise", importance: .medium,
            documentation: "precise (Connect Decimal), double or string"
        )
        .define(
            "time.precision.mode", .string, default: "adaptive_time_microseconds", importance: .medium,
            documentation: "adaptive_time_microseconds, adaptive or connect"
        )
        .define(
            "binary.handling.mode", .string, default: "bytes", importance: .low,
            documentation: "bytes, base64, base64-url-safe or hex"
        )
        .define(
            "bigint.unsigned.handling.mode", .string, default: "long", importance: .low,
            documentation: "long (INT64, wraps above 2^63-1) or precise (Decimal)"
        )
        .define(
            "tombstones.on.delete", .boolean, default: true, importance: .medium,
            documentation: "Follow each delete event with a tombstone (null value) for log compaction"
        )
        .define(
            "skipped.operations", .string, default: "t", importance: .low,
            documentation: "Operations not to emit: c, u, d, t, none"
        )
        .define("max.batch.size", .int, default: 2048, importance: .low, documentation: "Most records one poll returns")
        .define(
            "poll.interval.ms", .long, default: 500, importance: .low,
            documentation: "How long a poll waits for changes"
        )
        .define(
            "heartbeat.interval.ms", .int, default: 0, importance: .medium,
            documentation:
                "How often, in ms, to write a heartbeat record with the current binlog position when no captured table changes (0: never)"
        )
        .define(
            "topic.heartbeat.prefix", .string, default: "__debezium-heartbeat", importance: .low,
            documentation: "Heartbeat records go to <prefix>.<topic.prefix>"
        )
        .define(
            "connect.timeout.ms", .long, default: 30000, importance: .low,
            documentation: "How long connecting to the server may take"
        )
        .define(
            "schema.history.internal.kafka.topic", .string, default: "", importance: .low,
            documentation:
                "Accepted for compatibility: table structures are read from the server's catalog (see docs)"
        )
        .define(
            "schema.history.internal.kafka.bootstrap.servers", .string, default: "", importance: .low,
            documentation: "Accepted for compatibility, with schema.history.internal.kafka.topic")

    let serverName: String
    let hostname: String
    let port: Int
    let user: String
    let password: String
    let serverId: UInt32
    let snapshotMode: SnapshotMode
    let filter: CaptureFilter
    let includeSchemaChanges: Bool
    let includeQuery: Bool
    let converter: MySqlValueConverter
    let tombstonesOnDelete: Bool
    let skipped: Set<String>
    let maxBatchSize: Int
    let pollIntervalMs: Int64
    let connectTimeoutSeconds: Int
    let heartbeatIntervalMs: Int64
    let heartbeatTopicPrefix: String

    static func normalized(_ props: [String: String]) -> (props: [String: String], notes: [String]) {
        LegacyKeys.apply(props)
    }

    init(_ raw: [String: String]) throws(ConnectError) {
        let props = Self.normalized(raw).props
        let c = try Self.configDef.parse(props)
        guard let prefix = c.string("topic.prefix"), !prefix.isEmpty else {
            throw ConnectError.config("Missing required configuration \"topic.prefix\" which has no default value.")
        }
        serverName = prefix
        hostname = c.string("database.hostname") ?? ""
        port = Int(c.int("database.port") ?? 3306)
        user = c.string("database.user") ?? ""
        password = c.string("database.password") ?? ""
        let id = c.int("database.server.id") ?? 0
        guard id > 0, id <= Int64(UInt32.max) else {
            throw ConnectError.invalidConfig(
                "database.server.id", String(id), "The value must be a positive number below 4294967296")
        }
        serverId = UInt32(id)
        snapshotMode = try Self.enumValue("snapshot.mode", c.string("snapshot.mode"))
        filter = try CaptureFilter(props, schemaKey: "database.include.list")
        includeSchemaChanges = c.bool("include.schema.changes") ?? true
        includeQuery = c.bool("include.query") ?? false
        converter = MySqlValueConverter(
            decimalMode: try Self.enumValue("decimal.handling.mode", c.string("decimal.handling.mode")),
            temporalMode: try Self.enumValue("time.precision.mode", c.string("time.precision.mode")),
            binaryMode: try Self.enumValue("binary.handling.mode", c.string("binary.handling.mode")),
            bigintUnsignedMode: try Self.enumValue(
                "bigint.unsigned.handling.mode", c.string("bigint.unsigned.handling.mode")))
        tombstonesOnDelete = c.bool("tombstones.on.delete") ?? true
        skipped = try DebeziumConfig.skippedOperations(c.string("skipped.operations"))
        maxBatchSize = max(1, Int(c.int("max.batch.size") ?? 2048))
        pollIntervalMs = max(10, c.int("poll.interval.ms") ?? 500)
        connectTimeoutSeconds = max(1, Int((c.int("connect.timeout.ms") ?? 30000) / 1000))
        heartbeatIntervalMs = max(0, c.int("heartbeat.interval.ms") ?? 0)
        heartbeatTopicPrefix = c.string("topic.heartbeat.prefix") ?? "__debezium-heartbeat"
    }

    static func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _ value: String?) throws(ConnectError) -> E
    where E.RawValue == String { try DebeziumConfig.enumValue(key, value) }
}
