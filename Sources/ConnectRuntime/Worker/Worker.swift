import ConnectAPI
import ConnectMetrics
import Foundation
import Kafka
import Logging

/// Runs connectors and tasks on this process (`Worker`): instantiates plug-ins, builds their converters and Kafka
/// clients from worker and connector configuration, and starts and stops task threads.
///
/// Not thread-safe on its own: the herder serialises every call.
public final class Worker {
    public let config: WorkerConfig
    public let plugins: PluginRegistry
    public let offsetStore: any OffsetBackingStore
    public let statusStore: StatusStore
    public let metrics: MetricsRegistry
    let logger: Logger
    private let workerMetrics: WorkerMetrics

    struct RunningConnector {
        let desc: PluginDesc
        let instance: any Connector
        /// The config as given (references unresolved) and as the connector got it.
        var raw: [String: String] = [:]
        var resolved: [String: String] = [:]
    }

    /// Resolves `${provider:path:key}` references (`config.providers`) in connector and task configs.
    public let configTransformer: ConfigTransformer

    private var connectors: [String: RunningConnector] = [:]
    private var tasks: [ConnectorTaskId: WorkerTask] = [:]
    /// Refreshes the lag of stuck sink tasks; made with the first sink task.
    private var lagWatchdog: SinkLagWatchdog?

    /// Java client keys that librdkafka has no counterpart for; Connect sets some of them itself.
    static let javaOnlyClientKeys: Set<String> = [
        "key.serializer", "value.serializer", "key.deserializer", "value.deserializer", "max.block.ms",
        "max.poll.records", "interceptor.classes", "metric.reporters",
    ]

    public init(
        config: WorkerConfig, plugins: PluginRegistry, offsetStore: any OffsetBackingStore, statusStore: StatusStore,
        metrics: MetricsRegistry = MetricsRegistry(), logger: Logger,
        configTransformer: ConfigTransformer = ConfigTransformer()
    ) {
        self.configTransformer = configTransformer
        self.config = config
        self.plugins = plugins
        self.offsetStore = offsetStore
        self.statusStore = statusStore
        self.metrics = metrics
        self.logger = logger
        self.workerMetrics = WorkerMetrics(registry: metrics)
    }

    public var connectorNames: [String] { Array(connectors.keys) }

    /// Checks the worker's `producer.*`, `consumer.*` and `admin.*` keys against librdkafka, so a wrong key stops
    /// start-up with its name instead of failing every task later.
    public static func validateClientConfigs(_ config: WorkerConfig) throws(ConnectError) {
        for prefix in ["producer.", "consumer.", "admin."] {
            for (key, value) in config.clientProperties(prefix: prefix).sorted(by: { $0.key < $1.key })
            where !javaOnlyClientKeys.contains(key) {
                do {
                    try KafkaClientConfig([key: value]).validate()
                } catch {
                    let shown = key == "bootstrap.servers" ? key : prefix + key
                    throw ConnectError(.config, "Invalid worker configuration \(shown): \(error.message)", cause: error)
                }
            }
        }
    }

    public func taskIds(_ connector: String) -> [ConnectorTaskId] {
        tasks.keys.filter { $0.connector == connector }.sorted()
    }

    public func connectorType(_ name: String) -> PluginType? { connectors[name]?.desc.type }

    // MARK: Connectors

    /// Starts a connector; its status becomes RUNNING, PAUSED or STOPPED, or FAILED with a trace (then it throws).
    public func startConnector(_ name: String, config props: [String: String], target: TargetState) throws(ConnectError)
    {
        let (desc, instance) = try plugins.newConnector(props["connector.class"] ?? "")
        let resolved = try configTransformer.transform(props)
        // What providers resolved, and literal secrets, never show in logs or traces.
        SecretScrubber.shared.add(
            resolved.filter { k, v in v != props[k] || SecretRedaction.isSecret(k) }.map(\.value))
        connectors[name] = RunningConnector(desc: desc, instance: instance, raw: props, resolved: resolved)
        workerMetrics.connectorAdded(name, desc: desc, status: statusStore)
        workerMetrics.connectorCount.set(connectors.count)
        if target == .stopped {
            statusStore.putConnector(name, .stopped)
            return
        }
        do {
            try instance.start(resolved)
        } catch {
            let e = ConnectError.wrap(error).adding(context: "\(desc.className).start [connector \(name)]")
            logger.error("[\(name)|worker] Failed to start connector \(name): \(e.description)")
            statusStore.putConnector(name, .failed, trace: e.trace)
            workerMetrics.connectorStartup(success: false)
            throw e
        }
        workerMetrics.connectorStartup(success: true)
        logger.info("[\(name)|worker] Finished creating connector \(name)")
        statusStore.putConnector(name, target == .paused ? .paused : .running)
    }

    /// The task configurations of a started connector, checked against `tasks.max`.
    public func connectorTaskConfigs(_ name: String, maxTasks: Int) throws(ConnectError) -> [[String: String]] {
        guard let c = connectors[name] else { throw ConnectError(.notFound, "Connector \(name) not found") }
        let configs: [[String: String]]
        do {
            configs = try c.instance.taskConfigs(maxTasks: maxTasks)
        } catch {
            let e = ConnectError.wrap(error).adding(context: "\(c.desc.className).taskConfigs [connector \(name)]")
            statusStore.putConnector(name, .failed, trace: e.trace)
            throw e
        }
        if configs.count > maxTasks {
            let e = ConnectError.connect(
                "The connector \(name) has generated \(configs.count) tasks, which is greater than \(maxTasks), the maximum number of tasks it is configured to create. This behaviour should be considered a bug and is disallowed. If necessary, it can be permitted by reconfiguring the connector with 'tasks.max.enforce' set to false; however, this option will be removed in a future release of Kafka Connect."
            )
            statusStore.putConnector(name, .failed, trace: e.trace)
            throw e
        }
        // Stored and shown with the connector's references, never their values.
        return configs.map { configTransformer.reverseTransform($0, raw: c.raw, resolved: c.resolved) }
    }

    public func stopConnector(_ name: String) {
        guard let c = connectors.removeValue(forKey: name) else { return }
        workerMetrics.connectorRemoved(name)
        workerMetrics.connectorCount.set(connectors.count)
        do {
            try c.instance.stop()
        } catch {
            logger.warning("[\(name)|worker] Error while stopping connector \(name): \(ConnectError.describe(error))")
        }
        logger.info("[\(name)|worker] Stopped connector \(name)")
    }

    public func setConnectorTarget(_ name: String, _ target: TargetState) {
        guard connectors[name] != nil else { return }
        statusStore.putConnector(name, target == .paused ? .paused : target == .stopped ? .stopped : .running)
        for id in taskIds(name) { tasks[id]?.transition(to: target) }
    }

    // MARK: Tasks

    /// Builds and starts one task. A failure to build it (bad converter config, client config) marks the task FAILED.
    public func startTask(
        _ id: ConnectorTaskId, connectorConfig: [String: String], taskConfig: [String: String], target: TargetState
    ) {
        do {
            let task = try buildTask(
                id, connectorConfig: try configTransformer.transform(connectorConfig),
                taskConfig: try configTransformer.transform(taskConfig), target: target)
            tasks[id] = task
            workerMetrics.taskCount.set(tasks.count)
            task.start()
            workerMetrics.taskStartup(success: true)
        } catch {
            workerMetrics.taskStartup(success: false)
            let e = ConnectError.wrap(error).adding(
                context: "org.apache.kafka.connect.runtime.Worker.startTask [\(id)]")
            logger.error("[\(id.connector)|task-\(id.task)] Failed to start task \(id): \(e.description)")
            statusStore.onFailure(id, e)
        }
    }

    /// Releases what the worker holds itself (the lag watchdog); tasks and connectors are stopped first.
    public func close() {
        lagWatchdog?.stop()
        lagWatchdog = nil
    }

    /// Stops tasks and waits for them, within `task.shutdown.graceful.timeout.ms` in total.
    public func stopAndAwaitTasks(_ ids: [ConnectorTaskId]) {
        let running = ids.compactMap { id in tasks.removeValue(forKey: id) }
        workerMetrics.taskCount.set(tasks.count)
        for t in running { t.stop() }
        let deadline = Date().addingTimeInterval(Double(config.taskShutdownGracefulTimeout.inMilliseconds) / 1000)
        for t in running {
            let left = Int64(max(0, deadline.timeIntervalSinceNow) * 1000)
            if !t.awaitStop(timeoutMs: left) {
                logger.error("[\(t.id.connector)|task-\(t.id.task)] Graceful stop of task \(t.id) failed.")
            }
            // As Connect's removeMetrics: a failed task's metrics (its FAILED status, its error counts) stay until
            // the task is stopped, so scrapes and alerts see the failure.
            t.metrics.close()
        }
    }

    private func buildTask(
        _ id: ConnectorTaskId, connectorConfig: [String: String], taskConfig: [String: String], target: TargetState
    ) throws -> WorkerTask {
        guard let running = connectors[id.connector] else {
            throw ConnectError(.notFound, "Connector \(id.connector) not found")
        }
        let converters = try buildConverters(connectorConfig)
        let chain = try buildChain(connectorConfig)
        guard let taskObject = running.instance.taskType.init() as AnyObject? else {
            throw ConnectError.connect("Cannot create task")
        }
        let taskLogger = Logger(
            label:
                "org.apache.kafka.connect.runtime.\(running.desc.type == .sink ? "WorkerSinkTask" : "WorkerSourceTask")"
        )
        switch running.desc.type {
        case .source:
            guard let task = taskObject as? any SourceTask else {
                throw ConnectError.connect("\(running.desc.className) task is not a SourceTask")
            }
            let producerConfig = try producerConfig(id, connectorConfig)
            let producer = try KafkaProducer(
                config: producerConfig, logger: Logger(label: "org.apache.kafka.clients.producer"))
            let taskMetrics = TaskMetrics(
                registry: metrics, id: id, isSource: true, status: statusStore,
                clientId: producerConfig["client.id"] ?? "")
            producer.onStatistics { [client = taskMetrics.client] in client.update($0) }
            taskMetrics.client.readLastError { [producer] in producer.lastError }
            let (errors, dlq) = try errorHandling(id, connectorConfig, isSink: false, metrics: taskMetrics.errors)
            return WorkerSourceTask(
                id: id, task: task, taskConfig: taskConfig, producer: producer, converters: converters, chain: chain,
                offsetStore: offsetStore, flushIntervalMs: config.offsetFlushInterval.inMilliseconds,
                flushTimeoutMs: config.offsetFlushTimeout.inMilliseconds,
                initialState: target, listener: statusStore, metrics: taskMetrics, logger: taskLogger,
                errors: errors, dlq: dlq)
        default:
            guard let task = taskObject as? any SinkTask else {
                throw ConnectError.connect("\(running.desc.className) task is not a SinkTask")
            }
            let (consumerConfig, maxPollRecords) = try consumerConfig(id, connectorConfig)
            if lagWatchdog == nil {
                lagWatchdog = try? SinkLagWatchdog(
                    consumerProperties: config.clientProperties(prefix: "consumer.").filter {
                        !Self.javaOnlyClientKeys.contains($0.key)
                    }, logger: logger)
            }
            let consumer = try KafkaConsumer(
                config: consumerConfig, logger: Logger(label: "org.apache.kafka.clients.consumer"))
            let taskMetrics = TaskMetrics(
                registry: metrics, id: id, isSource: false, status: statusStore,
                clientId: consumerConfig["client.id"] ?? "")
            consumer.onStatistics { [client = taskMetrics.client] in client.update($0) }
            taskMetrics.client.readLastError { [consumer] in consumer.lastError }
            let (errors, dlq) = try errorHandling(id, connectorConfig, isSink: true, metrics: taskMetrics.errors)
            return WorkerSinkTask(
                id: id, task: task, taskConfig: taskConfig, consumer: consumer,
                topics: Self.sinkTopics(connectorConfig),
                converters: converters, chain: chain, commitIntervalMs: config.offsetFlushInterval.inMilliseconds,
                maxPollRecords: maxPollRecords,
                initialState: target, listener: statusStore, metrics: taskMetrics, logger: taskLogger,
                errors: errors, dlq: dlq, lagWatchdog: lagWatchdog,
                startsAtLogStart: ["earliest", "smallest", "beginning"].contains(
                    consumerConfig["auto.offset.reset"] ?? "earliest"))
        }
    }

    /// The task's error handling from the connector's `errors.*` keys: the retry-and-tolerance operator with its
    /// reporters, the dead letter queue first (its topic created when missing) and then the error log, as Connect
    /// orders them.
    func errorHandling(
        _ id: ConnectorTaskId, _ connectorConfig: [String: String], isSink: Bool, metrics: ErrorMetrics
    ) throws -> (RetryWithToleranceOperator, DeadLetterQueueReporter?) {
        let config = ErrorHandlingConfig(connectorConfig, isSink: isSink)
        let errors = RetryWithToleranceOperator(config: config, metrics: metrics)
        var dlq: DeadLetterQueueReporter?
        if let topic = config.dlqTopic {
            var props = try producerConfig(id, connectorConfig)
            props["client.id"] = "connector-dlq-producer-\(id)"
            props["statistics.interval.ms"] = "0"
            let admin = try KafkaAdmin(
                config: KafkaClientConfig(self.config.adminClientProperties),
                logger: Logger(label: "org.apache.kafka.clients.admin"))
            try admin.ensureTopic(
                topic, replicationFactor: config.dlqReplicationFactor, describing: "dead letter queue topic",
                key: "errors.deadletterqueue.topic.replication.factor")
            let reporter = DeadLetterQueueReporter(
                topic: topic,
                producer: try KafkaProducer(config: props, logger: Logger(label: "org.apache.kafka.clients.producer")),
                id: id, contextHeaders: config.dlqContextHeaders, metrics: metrics,
                logger: Logger(label: "org.apache.kafka.connect.runtime.errors.DeadLetterQueueReporter"))
            errors.reporters.append(reporter)
            dlq = reporter
        }
        if config.logEnable {
            errors.reporters.append(LogReporter(id: id, includeMessages: config.logIncludeMessages, metrics: metrics))
        }
        return (errors, dlq)
    }

    /// The connector's transforms in order, each configured from its `transforms.<alias>.` keys and tied to its
    /// predicate, configured from `predicates.<name>.` keys.
    func buildChain(_ props: [String: String]) throws -> TransformationChain {
        var chain = TransformationChain()
        var predicates: [String: any ConnectAPI.Predicate] = [:]
        for name in ConnectorConfigValidator.list(props["predicates"]) {
            let prefix = "predicates.\(name)."
            let p = try plugins.newPredicate(props[prefix + "type"] ?? "")
            var configs = props.strippingPrefix(prefix)
            configs["type"] = nil
            try p.configure(configs)
            predicates[name] = p
        }
        for alias in ConnectorConfigValidator.list(props["transforms"]) {
            let prefix = "transforms.\(alias)."
            let t = try plugins.newTransformation(props[prefix + "type"] ?? "")
            var configs = props.strippingPrefix(prefix)
            for k in ["type", "predicate", "negate"] { configs[k] = nil }
            do {
                try t.configure(configs)
            } catch {
                throw ConnectError.wrap(error).adding(context: "configuring transform \(alias)")
            }
            let predicateName = (props[prefix + "predicate"] ?? "").trimmingSpaces
            chain.stages.append(
                TransformationChain.Stage(
                    alias: alias, transform: t, predicate: predicateName.isEmpty ? nil : predicates[predicateName],
                    negate: props[prefix + "negate"]?.lowercased() == "true",
                    className: canonicalClass(props[prefix + "type"] ?? "", .transformation)))
        }
        return chain
    }

    /// `topics` as a list, or `topics.regex` as a librdkafka pattern subscription (`^...`).
    static func sinkTopics(_ props: [String: String]) -> [String] {
        let regex = (props["topics.regex"] ?? "").trimmingSpaces
        if !regex.isEmpty { return [regex.hasPrefix("^") ? regex : "^" + regex] }
        return ConnectorConfigValidator.list(props["topics"])
    }

    /// How often task clients report the statistics their `kafka.producer` / `kafka.consumer` metrics come from
    /// (overridable with `producer.statistics.interval.ms` and the like).
    static let clientStatisticsIntervalMs = "5000"

    func producerConfig(
        _ id: ConnectorTaskId, _ connectorConfig: [String: String]
    ) throws(ConnectError) -> KafkaClientConfig {
        var props = [
            "client.id": "connector-producer-\(id)", "statistics.interval.ms": Self.clientStatisticsIntervalMs,
        ]
        props.merge(config.producerProperties) { _, new in new }
        props.merge(connectorConfig.strippingPrefix("producer.override.")) { _, new in new }
        return try checkedClientConfig(props, role: "producer", id: id)
    }

    func consumerConfig(
        _ id: ConnectorTaskId, _ connectorConfig: [String: String]
    ) throws(ConnectError) -> (KafkaClientConfig, Int) {
        var props: [String: String] = [
            "group.id": "connect-\(id.connector)", "auto.offset.reset": "earliest", "enable.auto.commit": "false",
            "client.id": "connector-consumer-\(id)", "statistics.interval.ms": Self.clientStatisticsIntervalMs,
            // A sink may start before its topics exist; the Java consumer finds them within seconds, librdkafka only
            // at its next metadata refresh (five minutes by default).
            "topic.metadata.refresh.interval.ms": "5000",
        ]
        props.merge(config.clientProperties(prefix: "consumer.")) { _, new in new }
        props.merge(connectorConfig.strippingPrefix("consumer.override.")) { _, new in new }
        let maxPoll = Int(props["max.poll.records"] ?? "") ?? 500
        return (try checkedClientConfig(props, role: "consumer", id: id), max(1, maxPoll))
    }

    private func checkedClientConfig(
        _ props: [String: String], role: String, id: ConnectorTaskId
    ) throws(ConnectError) -> KafkaClientConfig {
        var props = props
        for key in Self.javaOnlyClientKeys where props[key] != nil {
            if key != "max.poll.records" {
                logger.info(
                    "[\(id.connector)|task-\(id.task)] Ignoring Java client property \(key) for the \(role): it has no librdkafka equivalent"
                )
            }
            props[key] = nil
        }
        let config = KafkaClientConfig(props)
        do {
            try config.validate()
        } catch {
            throw ConnectError(.config, "Invalid \(role) configuration for task \(id): \(error.message)", cause: error)
        }
        return config
    }

    /// The converters a connector uses: its own `key.converter` (configured only from its own `key.converter.*`
    /// keys), else the worker's, as Connect's `Plugins.newConverter` does.
    func buildConverters(_ connectorConfig: [String: String]) throws -> TaskConverters {
        func make(_ key: String, isKey: Bool) throws -> (any Converter, String) {
            let (className, source) =
                connectorConfig[key].map { ($0, connectorConfig) } ?? (config.originals[key] ?? "", config.originals)
            let converter = try plugins.newConverter(className)
            var props = source.strippingPrefix(key + ".")
            props["converter.type"] = isKey ? "key" : "value"
            try converter.configure(props, isKey: isKey)
            return (converter, canonicalClass(className, .converter))
        }
        let headerKey = "header.converter"
        let (headerClass, headerSource) =
            connectorConfig[headerKey].map { ($0, connectorConfig) }
            ?? (
                config.headerConverter,
                config.originals
            )
        let header = try plugins.newHeaderConverter(headerClass)
        var headerProps = headerSource.strippingPrefix(headerKey + ".")
        headerProps["converter.type"] = "header"
        try header.configure(headerProps)
        let (key, keyClass) = try make("key.converter", isKey: true)
        let (value, valueClass) = try make("value.converter", isKey: false)
        return TaskConverters(
            key: key, value: value, header: header, keyClass: keyClass, valueClass: valueClass,
            headerClass: canonicalClass(headerClass, .headerConverter))
    }

    /// Connect's class name for a plug-in named by class or alias.
    func canonicalClass(_ name: String, _ type: PluginType) -> String {
        plugins.find(name.trimmingSpaces, types: [type])?.className ?? name
    }
}
