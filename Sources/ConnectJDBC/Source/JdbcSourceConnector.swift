import ConnectAPI
import Foundation
import Logging

/// `io.confluent.connect.jdbc.JdbcSourceConnector`: copies tables (or one query) of PostgreSQL, MySQL or MariaDB to
/// topics, as Confluent's JDBC source does: `bulk`, `incrementing`, `timestamp` and `timestamp+incrementing`
/// modes, the tables split between `tasks.max` tasks (Connect's `ConnectorUtils.groupPartitions`), Confluent's
/// offsets (`{"protocol": "1", "table": "db.schema.table"}` → `{"incrementing": N, "timestamp": ms,
/// "timestamp_nanos": n}`).
///
/// The tables are listed when the connector starts; one created later is picked up when the connector restarts
/// (Confluent's `TableMonitorThread` asks for a reconfiguration every `table.poll.interval.ms`; this worker's
/// connectors cannot ask yet).
public final class JdbcSourceConnector: SourceConnector {
    public static let className = "io.confluent.connect.jdbc.JdbcSourceConnector"
    /// The Confluent release whose keys and behaviour this follows.
    public static var version: String? { "10.8.0" }
    public static var configDef: ConfigDef { JdbcSourceConfig.configDef }

    private var props: [String: String] = [:]
    private var tables: [TableId] = []
    private let logger = Logger(label: "io.confluent.connect.jdbc.JdbcSourceConnector")

    public init() {}

    public var taskType: any Task.Type { JdbcSourceTask.self }

    public func start(_ props: [String: String]) throws {
        let config = try JdbcSourceConfig(props)
        self.props = props
        logger.info("Starting JDBC Source Connector")
        guard config.query.isEmpty else { return }
        let session = try JdbcSourceTask.connect(config, logger: logger)
        tables = try Self.listTables(config, session)
        // Topics are named after the unqualified table: two tables of one name would mix in one topic.
        let duplicates = Dictionary(grouping: tables, by: \.table).filter { $0.value.count > 1 }
        if !duplicates.isEmpty {
            let names = duplicates.values.flatMap { $0.map(\.unquoted) }.sorted().joined(separator: ", ")
            throw ConnectError(
                .connect,
                "Tables of the same name in different schemas would share a topic (topic.prefix + table name): \(names). List one of each in table.whitelist or table.include.list"
            )
        }
        logger.info("Found \(tables.count) tables to copy: \(tables.map(\.unquoted).joined(separator: ", "))")
    }

    /// The tables of the database the configuration selects (`table.types`, `catalog.pattern`, `schema.pattern`,
    /// the white, black, include and exclude lists), in a stable order.
    static func listTables(_ config: JdbcSourceConfig, _ session: any SqlSession) throws -> [TableId] {
        do {
            let catalog = config.catalogPattern ?? (config.url.database.isEmpty ? nil : config.url.database)
            return try session.tables(catalog: catalog, schema: config.schemaPattern, types: config.tableTypes)
                .filter(config.includes)
        } catch {
            throw ConnectError(
                .connect, "Failed to list the tables of the database", cause: ConnectError(.io, error.description))
        }
    }

    public func taskConfigs(maxTasks: Int) throws -> [[String: String]] {
        let config = try JdbcSourceConfig(props)
        if !config.query.isEmpty { return [props] }
        guard !tables.isEmpty else {
            logger.warning("No tasks will be run because no tables were found")
            return []
        }
        let dialect = config.dialect
        let names = tables.map { dialect.quote($0, always: true) }
        return Self.groups(names, count: min(tables.count, max(1, maxTasks))).map { group in
            props.merging([JdbcSourceConfig.tablesKey: group.joined(separator: ",")]) { $1 }
        }
    }

    /// Connect's `ConnectorUtils.groupPartitions`: `count` contiguous groups whose sizes differ by one at most,
    /// the larger first.
    static func groups<T>(_ items: [T], count: Int) -> [[T]] {
        guard count > 0 else { return [] }
        let per = items.count / count
        let leftover = items.count % count
        var out: [[T]] = []
        var start = 0
        for i in 0..<count {
            let size = per + (i < leftover ? 1 : 0)
            out.append(Array(items[start..<start + size]))
            start += size
        }
        return out
    }

    public func stop() throws { logger.info("Stopping table monitoring") }

    /// The cross-key rules (`table.whitelist` with `table.blacklist`, `timestamp.column.name` for a timestamp
    /// mode, the URL's form), under their keys.
    public func validate(_ props: [String: String]) -> [String: [String]] {
        guard (try? JdbcSourceConfig.configDef.parse(props)) != nil else { return [:] }
        do { _ = try JdbcSourceConfig(props) } catch {
            return [error.configKey ?? "connection.url": [error.message]]
        }
        return [:]
    }
}
