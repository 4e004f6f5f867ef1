import ConnectAPI
import DebeziumCore
import Foundation

/// `io.debezium.connector.postgresql.PostgresConnectorConfig`: the keys this connector reads, with Debezium's
/// defaults; Debezium 1.x names are read as their successors (`LegacyKeys`).
struct PostgresConnectorConfig {
    enum SnapshotMode: String, CaseIterable {
        case initial, always, noData = "no_data", initialOnly = "initial_only", whenNeeded = "when_needed"
    }

    enum PublicationAutocreateMode: String, CaseIterable {
        case allTables = "all_tables", disabled, filtered, noTables = "no_tables"
    }

    static let configDef = ConfigDef()
        .define(
            "topic.prefix", .string, default: .none, importance: .high,
            documentation: "Topic prefix naming this database server; topics are <prefix>.<schema>.<table>"
        )
        .define(
            "database.hostname", .string, default: .required, importance: .high,
            documentation: "Host name of the PostgreSQL server"
        )
        .define("database.port", .int, default: 5432, importance: .high, documentation: "Port of the PostgreSQL server")
        .define(
            "database.user", .string, default: .required, importance: .high,
            documentation: "User with the REPLICATION attribute (or rds_replication) and SELECT on the tables"
        )
        .define("database.password", .password, default: .none, importance: .high, documentation: "The user's password")
        .define(
            "database.dbname", .string, default: .required, importance: .high, documentation: "The database to capture"
        )
        .define(
            "plugin.name", .string, default: "pgoutput", importance: .medium,
            documentation: "The logical decoding plug-in; only pgoutput (built into PostgreSQL 10+) is supported"
        )
        .define(
            "slot.name", .string, default: "debezium", importance: .medium,
            documentation: "The logical replication slot the connector streams from (one per connector)"
        )
        .define(
            "slot.drop.on.stop", .boolean, default: false, importance: .low,
            documentation: "Drop the slot when the task stops (tests); the server then keeps no WAL for it"
        )
        .define(
            "publication.name", .string, default: "dbz_publication", importance: .medium,
            documentation: "The publication pgoutput streams"
        )
        .define(
            "publication.autocreate.mode", .string, default: "all_tables", importance: .medium,
            documentation: "all_tables, disabled, filtered (only the captured tables) or no_tables"
        )
        .define(
            "snapshot.mode", .string, default: "initial", importance: .medium,
            documentation: "initial, always, no_data (formerly never), initial_only or when_needed"
        )
        .define(
            "schema.include.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the schemas to capture"
        )
        .define(
            "schema.exclude.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the schemas not to capture"
        )
        .define(
            "table.include.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the tables (schema.table) to capture"
        )
        .define(
            "table.exclude.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the tables not to capture"
        )
        .define(
            "column.include.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the columns (schema.table.column) to include"
        )
        .define(
            "column.exclude.list", .string, default: "", importance: .medium,
            documentation: "Regular expressions of the columns to leave out"
        )
        .define(
            "decimal.handling.mode", .string, default: "precise", importance: .medium,
            documentation: "precise (Connect Decimal), double or string"
        )
        .define(
            "time.precision.mode", .string, default: "adaptive", importance: .medium,
            documentation: "adaptive, adaptive_time_microseconds or connect"
        )
        .define(
            "binary.handling.mode", .string, default: "bytes", importance: .low,
            documentation: "bytes, base64, base64-url-safe or hex"
        )
        .define(
            "tombstones.on.delete", .boolean, default: true, importance: .medium,
            documentation: "Follow each delete event with a tombstone (null value) for log compaction"
        )
        .define(
            "skipped.operations", .string, default: "t", importance: .low,
            documentation: "Operations not to emit: c, u, d, t (truncate, skipped by default), none"
        )
        .define(
            "max.batch.size", .int, default: 2048, importance: .low,
            documentation: "Most records one poll returns"
        )
        .define(
            "poll.interval.ms", .long, default: 500, importance: .low,
            documentation: "How long a poll waits for changes"
        )
        .define(
            "status.update.interval.ms", .long, default: 10000, importance: .low,
            documentation: "How often the connector reports its position to the server"
        )
        .define(
            "snapshot.fetch.size", .int, default: 10240, importance: .low,
            documentation: "Rows read per round trip while snapshotting"
        )
        .define(
            "slot.max.retries", .int, default: 6, importance: .low,
            documentation: "How often a reconnect tries again while the slot is still active for another process"
        )
        .define(
            "slot.retry.delay.ms", .long, default: 10000, importance: .low,
            documentation: "The pause between those tries"
        )
        .define(
            "wal.receiver.timeout.ms", .long, default: .none, importance: .low,
            documentation:
                "Extension, after PostgreSQL's wal_receiver_timeout: a stream silent this long is lost and reconnected; at half of it the connector asks the server for a keepalive; 0 never; default 60000 on PostgreSQL 15 and later, 0 before (older servers send nothing while decoding a long transaction of tables not published)"
        )

    let serverName: String
    let connection: [String: String]
    let slotName: String
    let dropSlotOnStop: Bool
    let publicationName: String
    let publicationMode: PublicationAutocreateMode
    let snapshotMode: SnapshotMode
    let filter: CaptureFilter
    let converter: PostgresValueConverter
    let tombstonesOnDelete: Bool
    let skipped: Set<String>
    let maxBatchSize: Int
    let pollIntervalMs: Int64
    let statusIntervalMs: Int64
    let fetchSize: Int
    let slotMaxRetries: Int
    let slotRetryDelayMs: Int64
    /// 0: the stream is never timed out; nil: by the server's version.
    let receiverTimeoutMs: Int64?

    /// The properties with 1.x keys moved to their successors, and the notes saying so.
    static func normalized(_ props: [String: String]) -> (props: [String: String], notes: [String]) {
        LegacyKeys.apply(props)
    }

    init(_ raw: [String: String]) throws(ConnectError) {
        let props = Self.normalized(raw).props
        let c = try Self.configDef.parse(props)
        // Not `.required` in the ConfigDef: the 1.x name `database.server.name` may give it.
        guard let prefix = c.string("topic.prefix"), !prefix.isEmpty else {
            throw ConnectError.config(
                "Missing required configuration \"topic.prefix\" which has no default value.")
        }
        serverName = prefix
        let plugin = c.string("plugin.name") ?? "pgoutput"
        guard plugin == "pgoutput" else {
            throw ConnectError.invalidConfig(
                "plugin.name", plugin,
                "Only pgoutput is supported: it is built into PostgreSQL 10 and later; decoderbufs needs a server extension"
            )
        }
        connection = [
            "host": c.string("database.hostname") ?? "", "port": String(c.int("database.port") ?? 5432),
            "user": c.string("database.user") ?? "", "password": c.string("database.password") ?? "",
            "dbname": c.string("database.dbname") ?? "", "connect_timeout": "10",
            // The text forms the converters read, whatever the database's own settings say.
            "options":
                "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex -c lc_monetary=C",
            "keepalives": "1", "keepalives_idle": "30",
            "application_name": "swift-connect-debezium",
        ]
        slotName = c.string("slot.name") ?? "debezium"
        // Debezium's check: PostgreSQL would refuse the name only when the slot is created, after the snapshot.
        guard slotName.count <= 63, slotName.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else {
            throw ConnectError.invalidConfig(
                "slot.name", slotName,
                "Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63"
            )
        }
        dropSlotOnStop = c.bool("slot.drop.on.stop") ?? false
        publicationName = c.string("publication.name") ?? "dbz_publication"
        publicationMode = try Self.enumValue("publication.autocreate.mode", c.string("publication.autocreate.mode"))
        snapshotMode = try Self.enumValue("snapshot.mode", c.string("snapshot.mode"))
        filter = try CaptureFilter(props, schemaKey: "schema.include.list")
        converter = PostgresValueConverter(
            decimalMode: try Self.enumValue("decimal.handling.mode", c.string("decimal.handling.mode")),
            temporalMode: try Self.enumValue("time.precision.mode", c.string("time.precision.mode")),
            binaryMode: try Self.enumValue("binary.handling.mode", c.string("binary.handling.mode")))
        tombstonesOnDelete = c.bool("tombstones.on.delete") ?? true
        skipped = try DebeziumConfig.skippedOperations(c.string("skipped.operations"))
        maxBatchSize = max(1, Int(c.int("max.batch.size") ?? 2048))
        pollIntervalMs = max(10, c.int("poll.interval.ms") ?? 500)
        statusIntervalMs = max(100, c.int("status.update.interval.ms") ?? 10000)
        fetchSize = max(1, Int(c.int("snapshot.fetch.size") ?? 10240))
        slotMaxRetries = max(0, Int(c.int("slot.max.retries") ?? 6))
        slotRetryDelayMs = max(0, c.int("slot.retry.delay.ms") ?? 10000)
        // Shorter than two polls would time out between a keepalive request and the poll that reads its answer.
        receiverTimeoutMs = c.int("wal.receiver.timeout.ms").map { [pollIntervalMs] in
            $0 <= 0 ? 0 : max($0, 2 * pollIntervalMs + 1000)
        }
    }

    static func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _ value: String?) throws(ConnectError) -> E
    where E.RawValue == String { try DebeziumConfig.enumValue(key, value) }
}
