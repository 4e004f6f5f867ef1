import ConnectAPI
import ConnectRuntime
import Logging

/// Standalone mode (Connect's `ConnectStandalone`): one worker, connectors from files given on the command line,
/// source offsets in `offset.storage.file.filename`, configurations and statuses in memory.
public enum ConnectStandalone {
    /// Starts a standalone worker and creates the connectors of `connectorFiles` (`.properties` or `.json`).
    /// Throws Connect's start-up errors (a missing key, an unreadable file, an unreachable Kafka cluster, a
    /// connector that cannot be created); nothing is left running then.
    public static func start(
        workerProperties: String?, connectorFiles: [String], extraProperties: [String: String] = [:], logLevel: String?,
        environment: [String: String], logger: Logger, plugins: PluginRegistry = .builtIn
    ) throws -> Connect {
        let config = try ConnectCLI.workerConfig(
            file: workerProperties, environment: environment, extra: extraProperties, logLevel: logLevel)
        guard let offsetFile = config.offsetFile else {
            throw ConnectError.config(
                "Missing required configuration \"offset.storage.file.filename\" which has no default value.")
        }
        let connectorConfigs = try connectorFiles.map { path throws(ConnectError) in
            try ConnectorConfigFile.load(path)
        }
        return try ConnectCLI.startConnect(config: config, plugins: plugins, logger: logger) { context in
            let statusStore = StatusStore(workerId: context.workerId)
            let worker = Worker(
                config: config, plugins: plugins, offsetStore: try FileOffsetBackingStore(path: offsetFile),
                statusStore: statusStore, metrics: context.metrics,
                logger: Logger(label: "org.apache.kafka.connect.runtime.Worker"),
                configTransformer: try ConfigTransformer(workerProperties: config.originals))
            let herder = StandaloneHerder(
                worker: worker, commit: BuildInfo.commit, clusterID: context.clusterID,
                logger: Logger(label: "org.apache.kafka.connect.runtime.standalone.StandaloneHerder"))
            let service = WorkerService(
                "standalone herder",
                start: {
                    for c in connectorConfigs {
                        let name = c["name"] ?? ""
                        do throws(ConnectError) {
                            _ = try herder.putConnectorConfig(name, config: c, allowReplace: false, initialState: nil)
                        } catch {
                            herder.stop()
                            throw ConnectError.connect(
                                "Failed to create connector \(name): \(error.message)", cause: error)
                        }
                    }
                    herder.markReady()
                }, stop: herder.stop)
            return HerderParts(herder: herder, service: service, statusStore: statusStore)
        }
    }
}
