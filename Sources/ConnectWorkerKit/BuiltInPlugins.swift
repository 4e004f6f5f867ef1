import ConnectDatagen
import ConnectElasticsearch
import ConnectFile
import ConnectJDBC
import ConnectNeo4j
import ConnectRuntime
import DebeziumMySql
import DebeziumPostgres

extension PluginRegistry {
    /// Every plug-in this worker ships: the framework's converters, transforms and predicates, and the connectors.
    public static let builtIn: PluginRegistry = {
        var r = PluginRegistry.framework
        r.register(connector: FileStreamSinkConnector.self, className: FileStreamSinkConnector.className, type: .sink)
        r.register(
            connector: FileStreamSourceConnector.self, className: FileStreamSourceConnector.className, type: .source)
        r.register(connector: DatagenConnector.self, className: DatagenConnector.className, type: .source)
        r.register(connector: PostgresConnector.self, className: PostgresConnector.className, type: .source)
        r.register(connector: MySqlConnector.self, className: MySqlConnector.className, type: .source)
        r.register(connector: MariaDbConnector.self, className: MariaDbConnector.className, type: .source)
        r.register(connector: JdbcSinkConnector.self, className: JdbcSinkConnector.className, type: .sink)
        r.register(connector: JdbcSourceConnector.self, className: JdbcSourceConnector.className, type: .source)
        r.register(
            connector: ElasticsearchSinkConnector.self, className: ElasticsearchSinkConnector.className, type: .sink)
        r.register(connector: Neo4jSinkConnector.self, className: Neo4jSinkConnector.className, type: .sink)
        r.register(connector: Neo4jConnector.self, className: Neo4jConnector.className, type: .sink)
        return r
    }()
}
