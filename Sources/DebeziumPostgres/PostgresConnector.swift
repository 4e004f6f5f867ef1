import ConnectAPI
import DebeziumCore
import Postgres

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
    /// A configuration that parses is also tried against the server, as Debezium's validation does: a server that
    /// cannot be reached or refuses the login is reported under `database.hostname` ("Error while validating
    /// connector config: ..."), so a create fails with 400 instead of a task failing later.
    public func validate(_ props: [String: String]) -> [String: [String]] {
        let normalized = PostgresConnectorConfig.normalized(props).props
        if (normalized["topic.prefix"] ?? "").isEmpty {
            return ["topic.prefix": ["Missing required configuration \"topic.prefix\" which has no default value."]]
        }
        // A key the ConfigDef rejects is reported by the framework's own validation: not twice.
        if (try? PostgresConnectorConfig.configDef.parse(normalized)) == nil { return [:] }
        let config: PostgresConnectorConfig
        do {
            config = try PostgresConnectorConfig(props)
        } catch {
            return [error.configKey ?? "topic.prefix": [error.message]]
        }
        var params = config.connection
        params["connect_timeout"] = "5"
        do {
            _ = try PostgresConnection(parameters: params)
            return [:]
        } catch {
            return ["database.hostname": ["Error while validating connector config: \(error.message)"]]
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
