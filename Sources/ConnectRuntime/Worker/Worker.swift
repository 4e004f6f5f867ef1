import ConnectAPI
import ConnectMetrics
import Foundation
import Kafka
import Logging
import Synchronization

/// Runs connectors and tasks on this process (`Worker`): instantiates plug-ins, builds their converters and Kafka
/// clients from worker and connector configuration, runs each connector on a thread of its own
/// (`WorkerConnector`) and each task on its own thread, and stops them within their timeouts, cancelling what
/// overruns.
///
/// Safe to call from any thread: the running connectors and tasks sit behind one `Mutex`, which is never held
/// across a plug-in call or a wait.
public final class Worker: Sendable {
    public let config: WorkerConfig
    public let plugins: PluginRegistry
    public let offsetStore: any OffsetBackingStore
    public let statusStore: StatusStore
    public let metrics: MetricsRegistry
    /// `swift_connect_task_restarts_total`, fed by the status store's RESTARTING events; a herder forgets a deleted
    /// connector's series where the delete reaches it (the leader's status removal publishes the event only there).
    let restartMetrics: RestartMetrics
    let logger: Logger
    private let workerMetrics: WorkerMetrics

    /// Resolves `${provider:path:key}` references (`config.providers`) in connector and task configs.
    public let configTransformer: ConfigTransformer

    struct State {
        var connectors: [String: WorkerConnector] = [:]
        var tasks: [ConnectorTaskId: WorkerTask] = [:]
        /// Refreshes the lag of stuck sink tasks; made with the first sink task.
        var lagWatchdog: SinkLagWatchdog?
        /// Set by `close`: nothing new starts.
        var closed = false
    }

    private let state = Mutex(State())

    /// How long a connector has to stop before it is cancelled (Connect's `Worker.CONNECTOR_GRACEFUL_SHUTDOWN_TIMEOUT_MS`).
    static let connectorShutdownTimeout = Duration.seconds(5)

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
        // Every RESTARTING a task reports is one restart, whichever way it came (a task's or a connector's REST
        // restart, the restart policy, either herder): counted here, once.
        let restarts = RestartMetrics(registry: metrics)
        restartMetrics = restarts
        statusStore.observe { event in
            switch event {
            case .task(let id, .restarting, _, _, let reason): restarts.restarted(id, reason: reason ?? "rest")
            case .connectorDeleted(let name): restarts.remove(connector: name)
            default: break
            }
        }
    }

    public var connectorNames: [String] { state.withLock { Array($0.connectors.keys) } }

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
        state.withLock { $0.tasks.keys.filter { $0.connector == connector }.sorted() }
    }

    /// Every task this worker runs.
    public func allTaskIds() -> [ConnectorTaskId] { state.withLock { $0.tasks.keys.sorted() } }

    /// Which instance of the task runs now (a restart makes a new one); nil when none does.
    func taskInstance(_ id: ConnectorTaskId) -> ObjectIdentifier? {
        state.withLock { $0.tasks[id].map(ObjectIdentifier.init) }
    }

    public func connectorType(_ name: String) -> PluginType? { state.withLock { $0.connectors[name]?.desc.type } }

    /// The connector running under `name`, if any.
    func connector(_ name: String) -> WorkerConnector? { state.withLock { $0.connectors[name] } }

    // MARK: Connectors

    /// Starts a connector on a thread of its own, in `target`, and returns at once. `then` is called exactly once:
    /// with the connector and nil once it runs (or is recorded STOPPED), or with the failure (also its FAILED
    /// status), on the connector's thread; at once, without a connector, when it could not even be made (an unknown
    /// class, a config provider failing), when one of that name runs already, or when the worker is closing.
    func startConnector(
        _ name: String, config props: [String: String], target: TargetState,
        then: @escaping @Sendable (WorkerConnector?, ConnectError?) -> Void
    ) {
        let connector: WorkerConnector
        do throws(ConnectError) {
            let (desc, instance) = try plugins.newConnector(props["connector.class"] ?? "")
            let resolved = try configTransformer.transform(props)
            // What providers resolved, and literal secrets, never show in logs or traces.
            SecretScrubber.shared.add(
                resolved.filter { k, v in v != props[k] || SecretRedaction.isSecret(k) }.map(\.value))
            connector = WorkerConnector(
                name: name, desc: desc, instance: instance, raw: props, resolved: resolved, statusStore: statusStore,
                configTransformer: configTransformer, logger: logger)
        } catch {
            logger.error("[\(name)|worker] Failed to start connector \(name): \(error.description)")
            statusStore.putConnector(name, .failed, trace: error.trace)
            workerMetrics.connectorStartup(success: false)
            then(nil, error)
            return
        }
        let added = state.withLock { s -> Result<Int, ConnectError> in
            guard !s.closed else { return .failure(ConnectError.connect("The worker is shutting down")) }
            guard s.connectors[name] == nil else {
                return .failure(ConnectError(.alreadyExists, "Connector with name \(name) already exists"))
            }
            s.connectors[name] = connector
            return .success(s.connectors.count)
        }
        guard case .success(let count) = added else {
            connector.shutdown()
            if case .failure(let e) = added { then(nil, e) }
            return
        }
        workerMetrics.connectorAdded(name, desc: connector.desc, status: statusStore)
        workerMetrics.connectorCount.set(count)
        let metrics = workerMetrics
        connector.start(target) { error in
            if target != .stopped { metrics.connectorStartup(success: error == nil) }
            then(connector, error)
        }
    }

    /// Stops connectors and waits up to `connectorShutdownTimeout` for them; one that overruns is cancelled and
    /// left behind with Connect's warning.
    func stopAndAwaitConnectors(_ names: [String], reportUnassigned: Bool = false) {
        let stopping = state.withLock { s in
            let found = names.compactMap { s.connectors.removeValue(forKey: $0) }
            return (found, s.connectors.count)
        }
        workerMetrics.connectorCount.set(stopping.1)
        for c in stopping.0 {
            workerMetrics.connectorRemoved(c.name)
            c.shutdown(reportUnassigned: reportUnassigned)
        }
        let deadline = ContinuousClock.now.advanced(by: Self.connectorShutdownTimeout)
        for c in stopping.0 where !c.awaitShutdown(timeout: max(.zero, deadline - ContinuousClock.now)) {
            c.cancel(reportUnassigned: reportUnassigned)
            logger.error(
                "[\(c.name)|worker] Connector '\(c.name)' failed to properly shut down, has become unresponsive, and may be consuming external resources. Correct the configuration for this connector or remove the connector. After fixing the connector, it may be necessary to restart this worker to release any consumed resources."
            )
        }
    }

    func stopAndAwaitConnector(_ name: String) { stopAndAwaitConnectors([name]) }

    /// Pauses or resumes a connector and its tasks.
    public func setTargetState(_ name: String, _ target: TargetState) {
        let (connector, tasks) = state.withLock { s in
            (s.connectors[name], s.tasks.filter { $0.key.connector == name }.map { $0.value })
        }
        connector?.transition(to: target)
        for task in tasks { task.transition(to: target) }
    }

    // MARK: Tasks

    /// Builds and starts one task; false when it could not be built (a bad converter or client config: it is FAILED
    /// then) or the worker is closing.
    @discardableResult
    public func startTask(
        _ id: ConnectorTaskId, connectorConfig: [String: String], taskConfig: [String: String], target: TargetState
    ) -> Bool {
        let task: WorkerTask
        do {
            task = try buildTask(
                id, connectorConfig: try configTransformer.transform(connectorConfig),
                taskConfig: try configTransformer.transform(taskConfig), target: target)
        } catch {
            workerMetrics.taskStartup(success: false)
            let e = ConnectError.wrap(error).adding(
                context: "org.apache.kafka.connect.runtime.Worker.startTask [\(id)]")
            logger.error("[\(id.connector)|task-\(id.task)] Failed to start task \(id): \(e.description)")
            statusStore.onFailure(id, e)
            return false
        }
        let count = state.withLock { s -> Int? in
            guard !s.closed, s.tasks[id] == nil else { return nil }
            s.tasks[id] = task
            return s.tasks.count
        }
        guard let count else {
            task.metrics.close()
            return false
        }
        workerMetrics.taskCount.set(count)
        task.start()
        workerMetrics.taskStartup(success: true)
        return true
    }

    /// Refuses new connectors and tasks from now on (a worker shutting down).
    public func beginClosing() { state.withLock { $0.closed = true } }

    /// Refuses new connectors and tasks, and releases what the worker holds itself (the lag watchdog). Connectors
    /// and tasks are stopped first.
    public func close() {
        let watchdog = state.withLock { s in
            s.closed = true
            defer { s.lagWatchdog = nil }
            return s.lagWatchdog
        }
        watchdog?.stop()
    }

    /// Stops tasks and waits for them, within `task.shutdown.graceful.timeout.ms` in total; a task that overruns is
    /// cancelled (Connect's `Worker.awaitStopTask`): it commits no more offsets and reports no more status, and
    /// its status says so. Returns the tasks that had to be cancelled.
    @discardableResult
    public func stopAndAwaitTasks(_ ids: [ConnectorTaskId]) -> [ConnectorTaskId] {
        let (running, count) = state.withLock { s in
            (ids.compactMap { s.tasks.removeValue(forKey: $0) }, s.tasks.count)
        }
        workerMetrics.taskCount.set(count)
        for t in running { t.stop() }
        let timeout = config.taskShutdownGracefulTimeout
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let overran = running.filter {
            !$0.awaitStop(timeoutMs: max(.zero, deadline - ContinuousClock.now).inMilliseconds)
        }
        for t in overran {
            logger.error("[\(t.id.connector)|task-\(t.id.task)] Graceful stop of task \(t.id) failed.")
            t.cancel()
            let e = ConnectError.connect(
                "Task \(t.id) did not stop within task.shutdown.graceful.timeout.ms=\(timeout.inMilliseconds) ms and was cancelled: it commits no more offsets and reports no more status; its thread may still be blocked in the connector's code"
            ).adding(context: "org.apache.kafka.connect.runtime.Worker.awaitStopTask [\(t.id)]")
            logger.error("[\(t.id.connector)|task-\(t.id.task)] \(e.message)")
            statusStore.putTask(t.id, .unassigned, trace: e.trace)
            statusStore.history.recordFailure(.task(t.id), trace: e.trace)
        }
        // A commit the cancelled tasks began before their cancellation gets a last moment to end.
        let commitDeadline = ContinuousClock.now.advanced(by: config.offsetFlushTimeout)
        for t in overran where !t.awaitCommitEnd(until: commitDeadline) {
            logger.warning(
                "[\(t.id.connector)|task-\(t.id.task)] An offset commit task \(t.id) began before it was cancelled is still under way"
            )
        }
        // As Connect's removeMetrics: a failed task's metrics (its FAILED status, its error counts) stay until the
        // task is stopped, so scrapes and alerts see the failure.
        for t in running { t.metrics.close() }
        return overran.map(\.id)
    }

    /// The worker's one lag watchdog, made with the first sink task.
    private func sinkLagWatchdog() -> SinkLagWatchdog? {
        state.withLock { s in
            if s.lagWatchdog == nil && !s.closed {
                s.lagWatchdog = try? SinkLagWatchdog(
                    consumerProperties: config.clientProperties(prefix: "consumer.").filter {
                        !Self.javaOnlyClientKeys.contains($0.key)
                    }, logger: logger)
            }
            return s.lagWatchdog
        }
    }

    private func buildTask(
        _ id: ConnectorTaskId, connectorConfig: [String: String], taskConfig: [String: String], target: TargetState
    ) throws -> WorkerTask {
        // The task's class comes from its connector's class: the connector may run on another worker of a cluster.
        let running: (desc: PluginDesc, taskType: any Task.Type)
        if let local = connector(id.connector) {
            running = (local.desc, local.taskType)
        } else {
            let (desc, instance) = try plugins.newConnector(connectorConfig["connector.class"] ?? "")
            running = (desc, instance.taskType)
        }
        let converters = try buildConverters(connectorConfig)
        let chain = try buildChain(connectorConfig)
        guard let taskObject = running.taskType.init() as AnyObject? else {
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
            var topicCreator: SourceTopicCreator?
            if let creation = try TopicCreation(
                connectorConfig: connectorConfig, workerEnabled: config.topicCreationEnabled)
            {
                let adminConfig = try adminConfig(id, connectorConfig)
                topicCreator = SourceTopicCreator(
                    creation: creation,
                    makeAdmin: {
                        try KafkaAdmin(config: adminConfig, logger: Logger(label: "org.apache.kafka.clients.admin"))
                    },
                    logger: Logger(label: "org.apache.kafka.connect.util.TopicAdmin"))
            }
            return WorkerSourceTask(
                id: id, task: task, taskConfig: taskConfig, producer: producer, converters: converters, chain: chain,
                offsetStore: offsetStore, flushIntervalMs: config.offsetFlushInterval.inMilliseconds,
                flushTimeoutMs: config.offsetFlushTimeout.inMilliseconds,
                initialState: target, listener: statusStore, metrics: taskMetrics, logger: taskLogger,
                errors: errors, dlq: dlq, topicCreator: topicCreator)
        default:
            guard let task = taskObject as? any SinkTask else {
                throw ConnectError.connect("\(running.desc.className) task is not a SinkTask")
            }
            let (consumerConfig, maxPollRecords) = try consumerConfig(id, connectorConfig)
            let lagWatchdog = sinkLagWatchdog()
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
                topics: try Self.sinkTopics(connectorConfig),
                converters: converters, chain: chain, commitIntervalMs: config.offsetFlushInterval.inMilliseconds,
                maxPollRecords: maxPollRecords,
                initialState: target, listener: statusStore, metrics: taskMetrics, logger: taskLogger,
                errors: errors, dlq: dlq, lagWatchdog: lagWatchdog,
                startsAtLogStart: ["earliest", "smallest", "beginning"].contains(
                    consumerConfig["auto.offset.reset"] ?? "earliest"),
                flushTimeoutMs: config.offsetFlushTimeout.inMilliseconds)
        }
    }

    /// The task's error handling from the connector's `errors.*` keys: the retry-and-tolerance operator with its
    /// reporters, the dead letter queue first (its topic created when missing) and then the error log, as Connect
    /// orders them.
    func errorHandling(
        _ id: ConnectorTaskId, _ connectorConfig: [String: String], isSink: Bool, metrics: ErrorMetrics
    ) throws -> (RetryWithToleranceOperator, DeadLetterQueueReporter?) {
        let config = try ErrorHandlingConfig(connectorConfig, isSink: isSink)
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
                id: id, contextHeaders: config.dlqContextHeaders, metrics: metrics, control: errors.control,
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
        let predicateNames = try ConnectorConfig.parse(props, keysStartingWith: "predicates")
        for name in ConnectorConfig.list("predicates", in: predicateNames) {
            let prefix = "predicates.\(name)."
            let p = try plugins.newPredicate(props[prefix + "type"] ?? "")
            var configs = props.strippingPrefix(prefix)
            configs["type"] = nil
            try p.configure(configs)
            predicates[name] = p
        }
        for alias in ConnectorConfig.list(
            "transforms", in: try ConnectorConfig.parse(props, keysStartingWith: "transforms"))
        {
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
    static func sinkTopics(_ props: [String: String]) throws(ConnectError) -> [String] {
        let p = try ConnectorConfig.parse(props, keysStartingWith: "topics", isSink: true)
        let regex = (p.string("topics.regex") ?? "").trimmingSpaces
        if !regex.isEmpty { return [regex.hasPrefix("^") ? regex : "^" + regex] }
        return ConnectorConfig.list("topics", in: p)
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

    /// A source task's admin client (KIP-158 topic creation), as Connect's `Worker.adminConfigs` builds it:
    /// `client.id=connector-adminclient-<connector>-<task>`, the worker's `admin.*` keys, then the connector's
    /// `admin.override.*` keys. Throws for a key librdkafka refuses, naming it.
    func adminConfig(
        _ id: ConnectorTaskId, _ connectorConfig: [String: String]
    ) throws(ConnectError) -> KafkaClientConfig {
        var props = ["client.id": "connector-adminclient-\(id)"]
        props.merge(config.clientProperties(prefix: "admin.")) { _, new in new }
        props.merge(connectorConfig.strippingPrefix("admin.override.")) { _, new in new }
        return try checkedClientConfig(props, role: "admin client", id: id)
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
