import ConnectAPI
import ConnectMetrics
import ConnectREST
import ConnectRuntime
import Foundation
import Kafka
import Logging
import Synchronization

/// What a mode hands back to `ConnectCLI.startConnect`: its herder, the service that starts and stops it, and the
/// status store the metrics topic reporter follows.
public struct HerderParts: Sendable {
    public let herder: any Herder
    public let service: any ConnectService
    public let statusStore: StatusStore

    public init(herder: any Herder, service: any ConnectService, statusStore: StatusStore) {
        self.herder = herder
        self.service = service
        self.statusStore = statusStore
    }
}

/// What a mode gets to build its herder from, once REST is bound and the Kafka cluster answered.
public struct HerderContext: Sendable {
    public let config: WorkerConfig
    /// The advertised `host:port` of the REST server.
    public let workerId: String
    public let restServer: RestServer
    public let metrics: MetricsRegistry
    /// The Kafka cluster id (cached once known).
    public let clusterID: @Sendable () -> String?
    public let plugins: PluginRegistry
}

/// The start-up both modes share, in the order of Connect's `AbstractConnectCli.startConnect`: worker properties
/// (file, then `CONNECT_*` variables, then extras) parsed and checked; the REST server bound first, answering 503,
/// so the advertised URL (the worker id) is known; the Kafka cluster reached within `startup.broker.timeout.ms`;
/// then the mode's herder, the REST resources, and the services (metrics topic reporter, pusher, herder) started
/// in that order. Whatever fails stops what was started.
public enum ConnectCLI {
    /// The worker's configuration: the properties file, overridden by `CONNECT_*` variables, overridden by `extra`.
    /// Sets the log level (`logLevel` wins over `log.level`) and checks the `producer.*` / `consumer.*` / `admin.*`
    /// keys against librdkafka, so a bad key stops start-up with its name.
    public static func workerConfig(
        file: String?, environment: [String: String], extra: [String: String] = [:], logLevel: String?
    ) throws -> WorkerConfig {
        var props: [String: String] = [:]
        if let file { props = try PropertiesParser.parse(try readText(file), source: file) }
        for (k, v) in WorkerConfig.environmentOverrides(environment) { props[k] = v }
        for (k, v) in extra { props[k] = v }
        let config = try WorkerConfig(props)
        try Worker.validateClientConfigs(config)
        if let level = ConnectLogHandler.level(named: logLevel ?? config.logLevel) {
            LogLevels.shared.set(level, for: "root")
        }
        return config
    }

    /// Binds REST, reaches the Kafka cluster, builds the mode's herder with `createHerder`, serves the REST
    /// resources, and starts the services. Throws Connect's start-up errors; nothing is left running on failure.
    public static func startConnect(
        config: WorkerConfig, plugins: PluginRegistry, logger: Logger,
        createHerder: (HerderContext) throws -> HerderParts
    ) throws -> Connect {
        let restServer = try RestServer(
            config: config, logger: Logger(label: "org.apache.kafka.connect.runtime.rest.RestServer"))
        do {
            try restServer.initializeServer()
            let admin = try KafkaAdmin(config: KafkaClientConfig(config.adminClientProperties))
            let clusterID = ClusterIDCache(admin: admin)
            logger.info("Kafka cluster: \(config.bootstrapServers)")
            guard clusterID.get(timeoutMs: Int32(clamping: config.startupBrokerTimeout.inMilliseconds)) != nil else {
                throw ConnectError.connect(
                    "Failed to connect to and describe Kafka cluster. Check worker's broker connection and security properties. (bootstrap.servers=\(config.bootstrapServers))"
                )
            }
            let metrics = MetricsRegistry(
                config: MetricConfig(
                    windowMs: config.metrics.sampleWindow.inMilliseconds, samples: config.metrics.numSamples,
                    recording: config.metrics.recordingEnabled))
            let workerId = restServer.workerId
            let parts = try createHerder(
                HerderContext(
                    config: config, workerId: workerId, restServer: restServer, metrics: metrics,
                    clusterID: { clusterID.get(timeoutMs: 2000) }, plugins: plugins))
            try restServer.initializeResources(herder: parts.herder, metrics: metrics)
            var services: [any ConnectService] = []
            if let settings = MetricsTopicReporter.Settings.from(config, workerId: workerId) {
                let reporter = try MetricsTopicReporter.make(
                    settings: settings, config: config, registry: metrics, status: parts.statusStore,
                    logger: Logger(label: "org.apache.kafka.connect.runtime.MetricsTopicReporter"))
                services.append(WorkerService("metrics topic reporter", start: reporter.start, stop: reporter.stop))
            }
            if let settings = MetricsPusher.Settings.from(config, workerId: workerId) {
                let pusher = MetricsPusher(
                    settings: settings, registry: metrics,
                    logger: Logger(label: "org.apache.kafka.connect.runtime.MetricsPusher"))
                services.append(WorkerService("metrics pusher", start: pusher.start, stop: pusher.stop))
            }
            services.append(parts.service)
            let connect = Connect(
                herder: parts.herder, restServer: restServer, metrics: metrics, services: services, logger: logger)
            try connect.start()
            return connect
        } catch {
            restServer.stop()
            throw error
        }
    }
}

/// The Kafka cluster id, fetched once it is reachable; the admin client is let go then, as nothing else uses it.
final class ClusterIDCache: Sendable {
    private let state: Mutex<(admin: KafkaAdmin?, id: String?)>

    init(admin: KafkaAdmin) { state = Mutex((admin, nil)) }

    func get(timeoutMs: Int32) -> String? {
        let (admin, cached) = state.withLock { ($0.admin, $0.id) }
        if let cached { return cached }
        guard let id = admin?.clusterID(timeoutMs: timeoutMs) else { return nil }
        state.withLock { $0 = (nil, id) }
        return id
    }
}

/// Facts fixed at build time.
public enum BuildInfo {
    /// The source commit, from `SWIFT_CONNECT_COMMIT` at run time when set by the scripts.
    public static var commit: String {
        ProcessInfo.processInfo.environment["SWIFT_CONNECT_COMMIT"] ?? "unknown"
    }
}
