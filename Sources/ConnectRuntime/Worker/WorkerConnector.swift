import ConnectAPI
import Logging
import Synchronization

/// One running connector (Connect's `WorkerConnector`): the plug-in instance and its configuration, driven on a
/// `JobThread` of its own. `start`, `taskConfigs` and `stop` of the plug-in run there in the order asked, so a
/// connector whose `start` hangs holds up only itself; whoever needs an outcome gets it in a callback on that
/// thread. Its state goes to the status store as the calls return; once `cancel`led (it did not stop in time) it
/// reports nothing more and its callbacks are not called.
final class WorkerConnector: Sendable {
    let name: String
    let desc: PluginDesc
    /// The config as given (references unresolved) and as the connector got it.
    let raw: [String: String]
    let resolved: [String: String]
    private let plugin: PluginInstance
    private let thread: JobThread
    private let statusStore: StatusStore
    private let configTransformer: ConfigTransformer
    private let logger: Logger
    private let cancelled = Atomic<Bool>(false)
    private let phase = Mutex(Phase.initial)

    enum Phase: Sendable {
        /// `start` not called yet (or the connector was created STOPPED).
        case initial
        case started
        case failed
        case stopped
    }

    /// The plug-in object, which is not `Sendable`.
    ///
    /// `@unchecked Sendable`: the connector is called only from its `JobThread`, one call at a time.
    final class PluginInstance: @unchecked Sendable {
        let connector: any Connector
        /// Read once, when the connector is made.
        let taskType: any Task.Type

        init(_ connector: any Connector) {
            self.connector = connector
            self.taskType = connector.taskType
        }
    }

    /// The connector's task class.
    var taskType: any Task.Type { plugin.taskType }

    init(
        name: String, desc: PluginDesc, instance: any Connector, raw: [String: String], resolved: [String: String],
        statusStore: StatusStore, configTransformer: ConfigTransformer, logger: Logger
    ) {
        self.name = name
        self.desc = desc
        self.plugin = PluginInstance(instance)
        self.raw = raw
        self.resolved = resolved
        self.statusStore = statusStore
        self.configTransformer = configTransformer
        self.logger = logger
        self.thread = JobThread(name: "connector-thread-\(name)")
    }

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Starts the plug-in in `target` on the connector's thread (STOPPED: it is not started, only recorded so);
    /// `then` gets nil once it runs, or the failure (also recorded as FAILED with its trace).
    func start(_ target: TargetState, then: @escaping @Sendable (ConnectError?) -> Void) {
        thread.submit { [self] in
            guard !isCancelled else { return }
            if target == .stopped {
                phase.withLock { $0 = .stopped }
                statusStore.putConnector(name, .stopped)
                then(nil)
                return
            }
            do {
                try plugin.connector.start(resolved)
            } catch {
                let e = ConnectError.wrap(error).adding(context: "\(desc.className).start [connector \(name)]")
                guard !isCancelled else { return }
                phase.withLock { $0 = .failed }
                logger.error("[\(name)|worker] Failed to start connector \(name): \(e.description)")
                statusStore.putConnector(name, .failed, trace: e.trace)
                then(e)
                return
            }
            guard !isCancelled else { return }
            phase.withLock { $0 = .started }
            logger.info("[\(name)|worker] Finished creating connector \(name)")
            statusStore.putConnector(name, target == .paused ? .paused : .running)
            then(nil)
        }
    }

    /// Pauses or resumes a started connector (its status follows, in order with its other calls).
    func transition(to target: TargetState) {
        thread.submit { [self] in
            guard !isCancelled, phase.withLock({ $0 }) == .started else { return }
            statusStore.putConnector(name, target == .paused ? .paused : .running)
        }
    }

    /// The plug-in's task configurations, checked against `tasks.max` and given back with the connector's
    /// `${provider:...}` references in place of their values; `then` runs on the connector's thread. A failure
    /// also marks the connector FAILED.
    func taskConfigs(
        maxTasks: Int, then: @escaping @Sendable (Result<[[String: String]], ConnectError>) -> Void
    ) {
        thread.submit { [self] in
            guard !isCancelled else { return }
            guard phase.withLock({ $0 }) == .started else {
                then(.failure(ConnectError.connect("Connector \(name) is not running")))
                return
            }
            let configs: [[String: String]]
            do {
                configs = try plugin.connector.taskConfigs(maxTasks: maxTasks)
            } catch {
                then(
                    .failure(
                        fail(
                            ConnectError.wrap(error).adding(
                                context: "\(desc.className).taskConfigs [connector \(name)]"))))
                return
            }
            guard configs.count <= maxTasks else {
                then(
                    .failure(
                        fail(
                            ConnectError.connect(
                                "The connector \(name) has generated \(configs.count) tasks, which is greater than \(maxTasks), the maximum number of tasks it is configured to create. This behaviour should be considered a bug and is disallowed. If necessary, it can be permitted by reconfiguring the connector with 'tasks.max.enforce' set to false; however, this option will be removed in a future release of Kafka Connect."
                            ))))
                return
            }
            // Stored and shown with the connector's references, never their values.
            then(.success(configs.map { configTransformer.reverseTransform($0, raw: raw, resolved: resolved) }))
        }
    }

    private func fail(_ e: ConnectError) -> ConnectError {
        if !isCancelled {
            phase.withLock { $0 = .failed }
            statusStore.putConnector(name, .failed, trace: e.trace)
        }
        return e
    }

    /// Stops the plug-in (when it was started) on the connector's thread, after whatever is queued, and ends the
    /// thread.
    func shutdown() {
        thread.submit { [self] in
            let wasStarted = phase.withLock { phase in
                defer { phase = .stopped }
                return phase == .started
            }
            guard wasStarted else { return }
            do {
                try plugin.connector.stop()
            } catch {
                logger.warning(
                    "[\(name)|worker] Error while stopping connector \(name): \(ConnectError.describe(error))")
            }
            logger.info("[\(name)|worker] Stopped connector \(name)")
        }
        thread.close()
    }

    /// Waits up to `timeout` for `shutdown` to finish; returns whether it did.
    func awaitShutdown(timeout: Duration) -> Bool { thread.awaitTermination(timeout: timeout) }

    /// Gives up on a connector that did not stop in time: nothing it does from now on is reported.
    func cancel() { cancelled.store(true, ordering: .releasing) }
}
