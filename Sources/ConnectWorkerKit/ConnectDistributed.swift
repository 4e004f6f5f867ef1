import ConnectAPI
import ConnectREST
import ConnectRuntime
import Kafka
import Logging
import Synchronization

/// Distributed mode (Connect's `ConnectDistributed`): a worker of the cluster named by `group.id`. Connectors come
/// over REST only; configurations, offsets and statuses live in the internal topics, which are created with
/// Connect's settings when missing and checked when present.
public enum ConnectDistributed {
    /// Starts a distributed worker from a properties file (nil: from `CONNECT_*` variables alone, as the Confluent
    /// image does). Throws Connect's start-up errors (a missing key, a wrong internal topic, an unreachable Kafka
    /// cluster); nothing is left running then.
    public static func start(
        workerProperties: String?, extraProperties: [String: String] = [:], logLevel: String?,
        environment: [String: String], logger: Logger, plugins: PluginRegistry = .builtIn
    ) throws -> Connect {
        let workerConfig = try ConnectCLI.workerConfig(
            file: workerProperties, environment: environment, extra: extraProperties, logLevel: logLevel)
        let config = try DistributedConfig(workerConfig.originals)
        return try ConnectCLI.startConnect(config: workerConfig, plugins: plugins, logger: logger) { context in
            let clients = config.internalClientProperties
            try ensureInternalTopics(config)
            let storeLogger = Logger(label: "org.apache.kafka.connect.storage.KafkaBasedLog")
            let offsets = try KafkaOffsetBackingStore(
                topic: config.offsetTopic, clients: clients, clientId: "\(config.groupId)-offsets", logger: storeLogger)
            let statuses = try KafkaStatusBackingStore(
                topic: config.statusTopic, clients: clients, clientId: "\(config.groupId)-statuses",
                logger: storeLogger)
            let configs = try KafkaConfigBackingStore(
                topic: config.configTopic, clients: clients, clientId: "\(config.groupId)-configs",
                logger: storeLogger)
            let herderRef = HerderReference()
            let statusStore = StatusStore(
                workerId: context.workerId, backing: statuses,
                groupGeneration: { Int(herderRef.herder?.generation ?? -1) })
            let worker = Worker(
                config: workerConfig, plugins: plugins, offsetStore: offsets, statusStore: statusStore,
                metrics: context.metrics, logger: Logger(label: "org.apache.kafka.connect.runtime.Worker"),
                configTransformer: try ConfigTransformer(workerProperties: workerConfig.originals))
            let herder = try DistributedHerder(
                config: config, worker: worker, configStore: configs, url: context.restServer.advertisedURL,
                commit: BuildInfo.commit, clusterID: context.clusterID,
                logger: Logger(label: "org.apache.kafka.connect.runtime.distributed.DistributedHerder"))
            herderRef.set(herder)
            let timeout = Duration.seconds(60)
            let service = WorkerService(
                "distributed herder",
                start: {
                    var started: [@Sendable () -> Void] = []
                    do {
                        try offsets.start(timeout: timeout)
                        started.append(offsets.stop)
                        try statuses.start(timeout: timeout)
                        started.append(statuses.stop)
                        try configs.start(timeout: timeout)
                        started.append(configs.stop)
                    } catch {
                        for stop in started.reversed() { stop() }
                        throw error
                    }
                    herder.start()
                },
                stop: {
                    herder.stop()
                    configs.stop()
                    statuses.stop()
                    offsets.stop()
                })
            return HerderParts(herder: herder, service: service, statusStore: statusStore)
        }
    }

    /// Creates the three internal topics when missing (compacted; one partition for the config topic) and checks
    /// the ones that exist, naming the topic and the key when one is wrong.
    static func ensureInternalTopics(_ config: DistributedConfig) throws {
        let admin = try KafkaAdmin(config: KafkaClientConfig(config.worker.adminClientProperties))
        try admin.ensureInternalTopic(
            config.configTopic, partitions: 1, replicationFactor: config.configReplicationFactor,
            configs: config.topicSettings(prefix: "config.storage"), exactPartitions: 1,
            describing: "connector configuration topic", key: "config.storage.topic")
        try admin.ensureInternalTopic(
            config.offsetTopic, partitions: config.offsetPartitions, replicationFactor: config.offsetReplicationFactor,
            configs: config.topicSettings(prefix: "offset.storage"), describing: "offset storage topic",
            key: "offset.storage.topic")
        try admin.ensureInternalTopic(
            config.statusTopic, partitions: config.statusPartitions, replicationFactor: config.statusReplicationFactor,
            configs: config.topicSettings(prefix: "status.storage"), describing: "status storage topic",
            key: "status.storage.topic")
    }
}

/// The herder, for what is made before it and needs it later (the status store's group generation).
/// Held weakly: the herder owns what holds this.
final class HerderReference: Sendable {
    private struct Weak {
        weak var herder: DistributedHerder?
    }
    private let value = Mutex(Weak())
    var herder: DistributedHerder? { value.withLock { $0.herder } }
    func set(_ herder: DistributedHerder) { value.withLock { $0.herder = herder } }
}
