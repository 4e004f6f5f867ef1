import ConnectAPI
import DebeziumCore
import MariaDB

/// `io.debezium.connector.mysql.MySqlConnector`: change data capture from MySQL and MariaDB binlogs, read as a
/// replica, producing Debezium's change events. One task, as Debezium's: a binlog has one reader per server id.
public class MySqlConnector: SourceConnector {
    public class var className: String { "io.debezium.connector.mysql.MySqlConnector" }
    public static var version: String? { Debezium.version }
    public static var configDef: ConfigDef { MySqlConnectorConfig.configDef }

    private var props: [String: String] = [:]

    public required init() {}

    public var taskType: any Task.Type { MySqlConnectorTask.self }

    /// Cross-key and value rules, reported under the key they concern; 1.x keys count as their successors. A
    /// configuration that parses is also tried against the server, as Debezium's validation does: a server that
    /// cannot be reached or refuses the login is reported under `database.hostname` ("Error while validating
    /// connector config: ..."), so a create fails with 400 instead of a task failing later.
    public func validate(_ props: [String: String]) -> [String: [String]] {
        let normalized = MySqlConnectorConfig.normalized(props).props
        if (normalized["topic.prefix"] ?? "").isEmpty {
            return ["topic.prefix": ["Missing required configuration \"topic.prefix\" which has no default value."]]
        }
        // A key the ConfigDef rejects is reported by the framework's own validation: not twice.
        if (try? MySqlConnectorConfig.configDef.parse(normalized)) == nil { return [:] }
        let config: MySqlConnectorConfig
        do {
            config = try MySqlConnectorConfig(props)
        } catch {
            return [error.configKey ?? "topic.prefix": [error.message]]
        }
        do {
            _ = try MariaDBConnection(
                host: config.hostname, port: config.port, user: config.user, password: config.password,
                connectTimeout: 5)
            return [:]
        } catch {
            return ["database.hostname": ["Error while validating connector config: \(error.message)"]]
        }
    }

    public func start(_ props: [String: String]) throws {
        _ = try MySqlConnectorConfig(props)
        self.props = props
    }

    /// One task whatever `tasks.max` says.
    public func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [props] }

    public func stop() throws {}
}

/// `io.debezium.connector.mariadb.MariaDbConnector`: the same connector for MariaDB, as Debezium 2.7+ ships it
/// (`mariadb` in `source.connector`, `io.debezium.connector.mariadb.Source`).
public final class MariaDbConnector: MySqlConnector {
    public override class var className: String { "io.debezium.connector.mariadb.MariaDbConnector" }
    public override var taskType: any Task.Type { MariaDbConnectorTask.self }
}
