import ConnectAPI
import DebeziumCore

/// `io.debezium.connector.postgresql.PostgresConnector`: change data capture from PostgreSQL 10+ through logical
/// replication with the built-in `pgoutput` plug-in, producing Debezium's change events. One task, as Debezium's.
public final class PostgresConnector: SourceConnector {
    public static let className = "io.debezium.connector.postgresql.PostgresConnector"
    public static var version: String? { Debezium.version }
    public static var configDef: ConfigDef { PostgresConnectorConfig.configDef }

    private var props: [String: String] = [:]

    public init() {}

    public var taskType: any Task.Type { PostgresConnectorTask.self }

    /// Cross-key and value rules (`plugin.name`, the modes, the include and exclude lists), reported under the key
    /// they concern; 1.x keys count as their successors.
    public func validate(_ props: [String: String]) -> [String: [String]] {
        do {
            _ = try PostgresConnectorConfig(props)
            return [:]
        } catch {
            return [error.configKey ?? "topic.prefix": [error.message]]
        }
    }

    public func start(_ props: [String: String]) throws {
        _ = try PostgresConnectorConfig(props)
        self.props = props
    }

    /// One task whatever `tasks.max` says: a replication slot has one reader.
    public func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [props] }

    public func stop() throws {}
}
