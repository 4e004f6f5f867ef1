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
    /// The lifecycle, and whether the connector was asked to stop or cancelled. Status writes are made while holding
    /// it, so once `cancel` returns nothing more is written.
    private let state = Mutex(State())

    struct State {
        var phase = Phase.initial
        /// `shutdown` was called: queued work that has not begun is skipped.
        var stopRequested = false
        var cancelled = false
    }

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

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// The error a caller gets for work that did not happen because the connector was stopped first.
    private var superseded: ConnectError {
        ConnectError.connect("Connector \(name) was stopped before the work asked of it could run")
    }

    /// Queues `job`; when the connector's thread has ended, `otherwise` runs at once instead.
    private func submit(_ job: @escaping @Sendable () -> Void, otherwise: () -> Void) {
        if !thread.submit(job) { otherwise() }
    }

    /// Moves to `phase` and writes `status` unless the connector was cancelled; returns whether it was cancelled.
    @discardableResult
    private func record(_ phase: Phase, _ status: ConnectorState?, trace: String? = nil) -> Bool {
        state.withLock { s in
            s.phase = phase
            guard !s.cancelled else { return true }
            if let status { statusStore.putConnector(name, status, trace: trace) }
            return false
        }
    }

    /// Starts the plug-in in `target` on the connector's thread (STOPPED: it is not started, only recorded so, at
    /// once); `then` gets nil once it runs, or the failure (also recorded as FAILED with its trace). `then` is
    /// always called exactly once: with an error when the connector was stopped or cancelled first.
    func start(_ target: TargetState, then: @escaping @Sendable (ConnectError?) -> Void) {
        if target == .stopped {
            record(.stopped, .stopped)
            then(nil)
            return
        }
        submit(
            { [self] in
                guard !state.withLock({ $0.stopRequested || $0.cancelled }) else { return then(superseded) }
                do {
                    try plugin.connector.start(resolved)
                } catch {
                    let e = ConnectError.wrap(error).adding(context: "\(desc.className).start [connector \(name)]")
                    if !record(.failed, .failed, trace: e.trace) {
                        logger.error("[\(name)|worker] Failed to start connector \(name): \(e.description)")
                    }
                    return then(e)
                }
                // Started even when cancelled meanwhile, so that the queued shutdown stops it.
                if record(.started, target == .paused ? .paused : .running) { return then(superseded) }
                logger.info("[\(name)|worker] Finished creating connector \(name)")
                then(nil)
            }, otherwise: { then(superseded) })
    }

    /// Pauses or resumes a started connector (its status follows, in order with its other calls).
    func transition(to target: TargetState) {
        thread.submit { [self] in
            state.withLock { s in
                guard s.phase == .started, !s.cancelled else { return }
                statusStore.putConnector(name, target == .paused ? .paused : .running)
            }
        }
    }

    /// The plug-in's task configurations, checked against `tasks.max` and given back with the connector's
    /// `${provider:...}` references in place of their values; `then` runs on the connector's thread (or at once when
    /// it has ended), exactly once. A failure also marks the connector FAILED.
    func taskConfigs(
        maxTasks: Int, then: @escaping @Sendable (Result<[[String: String]], ConnectError>) -> Void
    ) {
        submit(
            { [self] in
                let (phase, skip) = state.withLock { ($0.phase, $0.stopRequested || $0.cancelled) }
                guard !skip else { return then(.failure(superseded)) }
                guard phase == .started else {
                    return then(.failure(ConnectError.connect("Connector \(name) is not running")))
                }
                let configs: [[String: String]]
                do {
                    configs = try plugin.connector.taskConfigs(maxTasks: maxTasks)
                } catch {
                    return then(
                        .failure(
                            fail(
                                ConnectError.wrap(error).adding(
                                    context: "\(desc.className).taskConfigs [connector \(name)]"))))
                }
                guard configs.count <= maxTasks else {
                    return then(
                        .failure(
                            fail(
                                ConnectError.connect(
                                    "The connector \(name) has generated \(configs.count) tasks, which is greater than \(maxTasks), the maximum number of tasks it is configured to create. This behaviour should be considered a bug and is disallowed. If necessary, it can be permitted by reconfiguring the connector with 'tasks.max.enforce' set to false; however, this option will be removed in a future release of Kafka Connect."
                                ))))
                }
                // Stored and shown with the connector's references, never their values.
                then(.success(configs.map { configTransformer.reverseTransform($0, raw: raw, resolved: resolved) }))
            }, otherwise: { then(.failure(superseded)) })
    }

    private func fail(_ e: ConnectError) -> ConnectError {
        record(.failed, .failed, trace: e.trace)
        return e
    }

    /// Stops the plug-in (when it was started) on the connector's thread, after whatever is running, and ends the
    /// thread; work queued and not begun is skipped. With `reportUnassigned` (the connector leaves this worker:
    /// revoked, or the worker stops) its status becomes UNASSIGNED once it stopped, as Connect's
    /// `WorkerConnector.doShutdown` reports `onShutdown`. Unlike Connect, which does so on every stop, a restart's
    /// stop writes nothing (the start that follows writes the next state) and a FAILED status stays, with its trace.
    func shutdown(reportUnassigned: Bool = false) {
        state.withLock { $0.stopRequested = true }
        thread.submit { [self] in
            let wasStarted = state.withLock { s in
                defer { s.phase = .stopped }
                return s.phase == .started
            }
            defer {
                if reportUnassigned {
                    state.withLock { s in
                        if !s.cancelled { statusStore.putConnector(name, .unassigned) }
                    }
                }
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

    /// Gives up on a connector that did not stop in time: once this returns, nothing it does is reported. With
    /// `reportUnassigned` its status becomes UNASSIGNED now, as Connect's `WorkerConnector.cancel` reports it, since
    /// no one will report for this instance again.
    func cancel(reportUnassigned: Bool = false) {
        state.withLock { s in
            s.cancelled = true
            if reportUnassigned { statusStore.putConnector(name, .unassigned) }
        }
    }
}
