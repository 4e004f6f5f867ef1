import ConnectAPI
import Foundation

/// The JDBC source's configuration (Confluent's `JdbcSourceConnectorConfig` and `JdbcSourceTaskConfig`), keys and
/// defaults as Confluent defines them.
struct JdbcSourceConfig: Sendable {
    /// `mode`: how each poll finds the rows to send (Confluent's `TableQuerier` kinds).
    enum Mode: String, Sendable, CaseIterable {
        case bulk, incrementing, timestamp
        case timestampIncrementing = "timestamp+incrementing"

        var usesIncrementing: Bool { self == .incrementing || self == .timestampIncrementing }
        var usesTimestamp: Bool { self == .timestamp || self == .timestampIncrementing }
    }

    /// `numeric.mapping`: what `NUMERIC`/`DECIMAL` columns become.
    enum NumericMapping: String, Sendable, CaseIterable {
        case none
        case precisionOnly = "precision_only"
        case bestFit = "best_fit"
        case bestFitEagerDouble = "best_fit_eager_double"
    }

    /// The key that hands each task its tables (Confluent's `JdbcSourceTaskConfig.TABLES_CONFIG`).
    static let tablesKey = "tables"

    static let configDef = ConfigDef().definingConnection(group: "Database")
        .define(
            "connection.attempts", .int, default: "3", validator: .atLeast(1), importance: .low,
            documentation: "Maximum number of attempts to retrieve a valid JDBC connection", group: "Database",
            orderInGroup: 4
        )
        .define(
            "connection.backoff.ms", .long, default: "10000", validator: .atLeast(0), importance: .low,
            documentation: "Backoff time in milliseconds between connection attempts", group: "Database",
            orderInGroup: 5
        )
        .define(
            "query.retry.attempts", .int, default: "-1", validator: .atLeast(-1), importance: .low,
            documentation: "How often a query that lost its connection is tried again; -1 for ever", group: "Database",
            orderInGroup: 6
        )
        .define(
            "table.whitelist", .list, default: "", importance: .medium,
            documentation: "Tables to copy (all when empty); not with table.blacklist", group: "Database",
            orderInGroup: 6
        )
        .define(
            "table.blacklist", .list, default: "", importance: .medium,
            documentation: "Tables not to copy; not with table.whitelist", group: "Database", orderInGroup: 7
        )
        .define(
            "table.include.list", .list, default: "", importance: .medium,
            documentation: "Regular expressions of the fully qualified tables to copy", group: "Database",
            orderInGroup: 8
        )
        .define(
            "table.exclude.list", .list, default: "", importance: .medium,
            documentation: "Regular expressions of the fully qualified tables not to copy", group: "Database",
            orderInGroup: 9
        )
        .define(
            "schema.pattern", .string, default: .none, importance: .medium,
            documentation: "The schema the tables are read from (PostgreSQL); all but the system schemas when unset",
            group: "Database", orderInGroup: 10
        )
        .define(
            "catalog.pattern", .string, default: .none, importance: .medium,
            documentation: "The catalog (database) the tables are read from; the URL's when unset", group: "Database",
            orderInGroup: 11
        )
        .define(
            "table.types", .list, default: "TABLE", importance: .low,
            documentation: "The kinds of table copied: TABLE, VIEW", group: "Database", orderInGroup: 12
        )
        .define(
            "numeric.mapping", .string, default: .none,
            validator: .oneOf(NumericMapping.allCases.map(\.rawValue), caseInsensitive: true), importance: .low,
            documentation:
                "How NUMERIC and DECIMAL columns map: none (Decimal), precision_only, best_fit, best_fit_eager_double",
            group: "Database", orderInGroup: 13
        )
        .define(
            "mode", .string, default: .required,
            validator: .oneOf(Mode.allCases.map(\.rawValue), caseInsensitive: true), importance: .high,
            documentation: "bulk, incrementing, timestamp or timestamp+incrementing", group: "Mode", orderInGroup: 1
        )
        .define(
            "incrementing.column.name", .string, default: "", importance: .medium,
            documentation: "The strictly increasing column (the auto-increment column when empty)", group: "Mode",
            orderInGroup: 2
        )
        .define(
            "timestamp.column.name", .list, default: "", importance: .medium,
            documentation: "The timestamp columns; with several, the first non-null one (COALESCE)", group: "Mode",
            orderInGroup: 3
        )
        .define(
            "timestamp.initial", .long, default: .none, importance: .low,
            documentation: "The first timestamp read, in ms since the epoch; -1 is now; unset: from the start",
            group: "Mode", orderInGroup: 4
        )
        .define(
            "validate.non.null", .boolean, default: "true", importance: .low,
            documentation: "Refuse incrementing and timestamp columns that may be NULL", group: "Mode", orderInGroup: 5
        )
        .define(
            "query", .string, default: "", importance: .medium,
            documentation: "A query to run in place of copying tables", group: "Mode", orderInGroup: 6
        )
        .define(
            "query.suffix", .string, default: "", importance: .low,
            documentation: "Appended to the generated query", group: "Mode", orderInGroup: 7
        )
        .define(
            "quote.sql.identifiers", .string, default: "always",
            validator: .oneOf(["always", "never"], caseInsensitive: true), importance: .medium,
            documentation: "Quote table and column names in the SQL (always) or not (never)", group: "Mode",
            orderInGroup: 8
        )
        .define(
            "poll.interval.ms", .int, default: "5000", validator: .atLeast(1), importance: .high,
            documentation: "Frequency in ms to poll for new data in each table", group: "Connector", orderInGroup: 1
        )
        .define(
            "batch.max.rows", .int, default: "100", validator: .atLeast(1), importance: .low,
            documentation: "Maximum number of rows in one poll", group: "Connector", orderInGroup: 2
        )
        .define(
            "table.poll.interval.ms", .long, default: "60000", validator: .atLeast(0), importance: .low,
            documentation: "Frequency in ms to look for new or removed tables", group: "Connector", orderInGroup: 3
        )
        .define(
            "topic.prefix", .string, default: .required, importance: .high,
            documentation: "Prefix of the topic names: the prefix and the table name, or the prefix alone with query",
            group: "Connector", orderInGroup: 4
        )
        .define(
            "timestamp.delay.interval.ms", .long, default: "0", validator: .atLeast(0), importance: .high,
            documentation: "How long after a row's timestamp it is read, for transactions still open",
            group: "Connector", orderInGroup: 5
        )
        .define(
            "db.timezone", .string, default: "UTC", importance: .medium,
            documentation: "The time zone of timestamps without one (only UTC)", group: "Connector", orderInGroup: 6)

    let url: JdbcUrl
    let user: String?
    let password: String?
    let connectionAttempts: Int
    let connectionBackoffMs: Int64
    let queryRetryAttempts: Int
    let whitelist: [String]
    let blacklist: [String]
    let includeList: [String]
    let excludeList: [String]
    let schemaPattern: String?
    let catalogPattern: String?
    let tableTypes: [String]
    let numericMapping: NumericMapping
    let mode: Mode
    let incrementingColumn: String
    let timestampColumns: [String]
    let timestampInitial: Int64?
    let validateNonNull: Bool
    let query: String
    let querySuffix: String
    let quoteIdentifiers: Bool
    let pollIntervalMs: Int64
    let batchMaxRows: Int
    let tablePollIntervalMs: Int64
    let topicPrefix: String
    let timestampDelayMs: Int64
    /// The tables a task reads (set by the connector): fully qualified, each part quoted by the dialect (a name
    /// may hold `,` or `.`), separated by commas.
    let tablesText: String
    /// `tablesText`'s names, still quoted (`DatabaseDialect.tableId` reads them).
    var tables: [String] { dialect.tableList(tablesText) }

    init(_ props: [String: String]) throws(ConnectError) {
        let c = try Self.configDef.parse(props)
        url = try JdbcUrl(c.string("connection.url") ?? "")
        user = c.string("connection.user").flatMap { $0.isEmpty ? nil : $0 }
        password = c.string("connection.password")
        connectionAttempts = Int(c.int("connection.attempts") ?? 3)
        connectionBackoffMs = c.int("connection.backoff.ms") ?? 10_000
        queryRetryAttempts = Int(c.int("query.retry.attempts") ?? -1)
        whitelist = c.list("table.whitelist")
        blacklist = c.list("table.blacklist")
        includeList = c.list("table.include.list")
        excludeList = c.list("table.exclude.list")
        schemaPattern = c.string("schema.pattern").flatMap { $0.isEmpty ? nil : $0 }
        catalogPattern = c.string("catalog.pattern").flatMap { $0.isEmpty ? nil : $0 }
        tableTypes = c.list("table.types").map { $0.uppercased() }
        numericMapping = NumericMapping(rawValue: (c.string("numeric.mapping") ?? "none").lowercased()) ?? .none
        mode = Mode(rawValue: (c.string("mode") ?? "bulk").lowercased()) ?? .bulk
        incrementingColumn = c.string("incrementing.column.name") ?? ""
        timestampColumns = c.list("timestamp.column.name")
        timestampInitial = c.int("timestamp.initial")
        validateNonNull = c.bool("validate.non.null") ?? true
        query = c.string("query") ?? ""
        querySuffix = c.string("query.suffix") ?? ""
        quoteIdentifiers = (c.string("quote.sql.identifiers") ?? "always").lowercased() == "always"
        pollIntervalMs = c.int("poll.interval.ms") ?? 5000
        batchMaxRows = Int(c.int("batch.max.rows") ?? 100)
        tablePollIntervalMs = c.int("table.poll.interval.ms") ?? 60_000
        topicPrefix = c.string("topic.prefix") ?? ""
        timestampDelayMs = c.int("timestamp.delay.interval.ms") ?? 0
        tablesText = props[Self.tablesKey] ?? ""

        // Confluent's cross-key checks, in its words where it has them.
        if !whitelist.isEmpty && !blacklist.isEmpty {
            throw ConnectError.invalidConfig(
                "table.whitelist", whitelist.joined(separator: ","),
                "table.whitelist and table.blacklist are exclusive.")
        }
        if (!whitelist.isEmpty || !blacklist.isEmpty) && (!includeList.isEmpty || !excludeList.isEmpty) {
            throw ConnectError.invalidConfig(
                "table.include.list", includeList.joined(separator: ","),
                "table.include.list and table.exclude.list cannot be combined with the deprecated table.whitelist and table.blacklist"
            )
        }
        if !query.isEmpty && !(whitelist.isEmpty && blacklist.isEmpty && includeList.isEmpty && excludeList.isEmpty) {
            throw ConnectError.invalidConfig(
                "query", query, "Do not specify table filtering configs with 'query'")
        }
        if mode.usesTimestamp && timestampColumns.isEmpty {
            throw ConnectError.invalidConfig(
                "timestamp.column.name", "", "timestamp.column.name is required for mode \(mode.rawValue)")
        }
        if mode.usesIncrementing && incrementingColumn.isEmpty && !query.isEmpty {
            throw ConnectError.invalidConfig(
                "incrementing.column.name", "",
                "incrementing.column.name is required with query in mode \(mode.rawValue)")
        }
        let zone = c.string("db.timezone") ?? "UTC"
        if !["UTC", "Z", "GMT", "Etc/UTC", "+00:00"].contains(zone) {
            throw ConnectError.invalidConfig("db.timezone", zone, "Only UTC is supported")
        }
        for (key, patterns) in [("table.include.list", includeList), ("table.exclude.list", excludeList)] {
            for p in patterns where (try? Regex(p)) == nil {
                throw ConnectError.invalidConfig(key, p, "Not a valid regular expression")
            }
        }
    }

    var dialect: any DatabaseDialect {
        url.subprotocol == .postgresql ? PostgreSqlDatabaseDialect() : MySqlDatabaseDialect()
    }

    /// Whether a table found in the database is copied: the whitelist or blacklist (the fully qualified name, or
    /// its last parts: `orders`, `public.orders`; exactly, as Confluent compares them), or the include and exclude
    /// expressions (matching the whole fully qualified name).
    func includes(_ table: TableId) -> Bool {
        let fqn = table.unquoted
        let parts = [table.catalog, table.schema, table.table].compactMap { $0 }
        let names = Set(parts.indices.map { parts[$0...].joined(separator: ".") })
        func named(_ list: [String]) -> Bool { list.contains { names.contains($0) } }
        func matches(_ patterns: [String]) -> Bool {
            patterns.contains { p in (try? Regex(p).wholeMatch(in: fqn)).flatMap { $0 } != nil }
        }
        if !whitelist.isEmpty { return named(whitelist) }
        if !blacklist.isEmpty { return !named(blacklist) }
        if !includeList.isEmpty && !matches(includeList) { return false }
        return !matches(excludeList)
    }
}
