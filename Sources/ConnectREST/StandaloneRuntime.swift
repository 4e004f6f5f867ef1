import ConnectAPI
import ConnectMetrics
import ConnectRuntime
import Dispatch
import Foundation
import HTTPServer
import Kafka
import Logging
import Synchronization

/// Starts and stops a whole standalone worker in Connect's order: REST (answering 503 on /health while starting),
/// then the herder and the connectors; on SIGTERM/SIGINT, tasks stop and commit their offsets, connectors stop,
/// and the REST server closes last.
public final class StandaloneRuntime: Sendable {
    public let herder: StandaloneHerder
    public let restServer: HTTPServer
    /// Serves only `/metrics` on `metrics.listeners`, when set.
    public let metricsServer: HTTPServer?
    /// Serves only `/admin` on `admin.listeners`, when set.
    public let adminServer: HTTPServer?
    /// Pushes metrics to `metrics.push.url`, when set.
    let pusher: MetricsPusher?
    /// Writes metrics documents and lifecycle events to `metrics.reporter.topic`, when set.
    let reporter: MetricsTopicReporter?
    public let restURL: String
    /// The worker's metrics registry.
    public let metrics: MetricsRegistry
    let logger: Logger

    init(
        herder: StandaloneHerder, restServer: HTTPServer, metricsServer: HTTPServer?, adminServer: HTTPServer? = nil,
        pusher: MetricsPusher? = nil, reporter: MetricsTopicReporter? = nil, restURL: String, metrics: MetricsRegistry,
        logger: Logger
    ) {
        self.herder = herder
        self.pusher = pusher
        self.reporter = reporter
        self.adminServer = adminServer
        self.metrics = metrics
        self.restServer = restServer
        self.metricsServer = metricsServer
        self.restURL = restURL
        self.logger = logger
    }

    public static func start(
        workerProperties: String?, connectorFiles: [String], extraProperties: [String: String] = [:], logLevel: String?,
        environment: [String: String], logger: Logger, plugins: PluginRegistry = .builtIn
    ) throws -> StandaloneRuntime {
        var props: [String: String] = [:]
        if let workerProperties {
            props = try PropertiesParser.parse(try readText(workerProperties), source: workerProperties)
        }
        for (k, v) in WorkerConfig.environmentOverrides(environment) { props[k] = v }
        for (k, v) in extraProperties { props[k] = v }
        let config = try WorkerConfig(props)
        try Worker.validateClientConfigs(config)
        if let level = ConnectLogHandler.level(named: logLevel ?? config.parsed.string("log.level") ?? "INFO") {
            LogLevels.shared.set(level, for: "root")
        }
        guard let offsetFile = config.offsetFile else {
            throw ConnectError.config(
                "Missing required configuration \"offset.storage.file.filename\" which has no default value.")
        }
        let connectorConfigs = try connectorFiles.map { path throws(ConnectError) in try ConnectorConfigFile.load(path)
        }

        // Every REST request waits for the herder, which does not exist yet: answer 503 until it does.
        let holder = HerderHolder()
        let security = try RestSecurity.from(config)
        let timeoutSeconds = Int((config.parsed.int("rest.connection.idle.timeout.ms") ?? 30000) / 1000)
        let restServer = HTTPServer(
            maxRequestBodyBytes: Int(config.parsed.int("rest.max.request.body.bytes") ?? 16_777_216),
            connectionTimeoutSeconds: timeoutSeconds, errorResponder: ConnectRestServer.errorResponse
        ) { request in
            security.handle(request) { request in
                guard let rest = holder.rest else { return ConnectRestServer.startingResponse(request) }
                return rest.handle(request)
            }
        }
        let listeners = try config.listeners.map { text throws(HTTPServerError) in try HTTPListener.parse(text) }
        let bound = try restServer.start(listeners: listeners, tls: security.tls)
        // `admin.listeners`: unset keeps /admin on the REST listeners; empty switches it off; else its own listeners.
        let adminListeners = config.originals["admin.listeners"].map { _ in config.parsed.list("admin.listeners") }
        var adminServer: HTTPServer?
        if let adminListeners, !adminListeners.isEmpty {
            var router = Router(errorResponder: ConnectRestServer.errorResponse)
            LoggingResource.addRoutes(&router)
            let server = HTTPServer(
                connectionTimeoutSeconds: timeoutSeconds, errorResponder: ConnectRestServer.errorResponse
            ) { [router] request in security.handle(request) { router.handle($0) } }
            let adminBound = try server.start(
                listeners: try adminListeners.map { text throws(HTTPServerError) in try HTTPListener.parse(text) },
                tls: security.tls)
            logger.info("Admin REST API listening at \(adminBound.map(\.description).joined(separator: ", "))")
            adminServer = server
        }
        let first = bound[0]
        let advertisedHost =
            config.parsed.string("rest.advertised.host.name") ?? (first.host.isEmpty ? hostName() : first.host)
        let advertisedPort = config.parsed.int("rest.advertised.port").map(Int.init) ?? first.port
        let workerId = "\(advertisedHost):\(advertisedPort)"
        let restURL =
            "\(first.scheme)://\(first.host.isEmpty || first.host == "0.0.0.0" ? "localhost" : first.host):\(first.port)/"
        logger.info(
            "REST server listening at \(bound.map(\.description).joined(separator: ", ")), advertising URL http://\(workerId)/"
        )

        let admin = try KafkaAdmin(config: KafkaClientConfig(config.adminClientProperties))
        let clusterID = ClusterIDCache(admin: admin)
        logger.info("Kafka cluster: \(config.bootstrapServers)")
        guard clusterID.get(timeoutMs: Int32(config.parsed.int("startup.broker.timeout.ms") ?? 30000)) != nil else {
            restServer.stop()
            throw ConnectError.connect(
                "Failed to connect to and describe Kafka cluster. Check worker's broker connection and security properties. (bootstrap.servers=\(config.bootstrapServers))"
            )
        }
        let store = try FileOffsetBackingStore(path: offsetFile)
        let metrics = MetricsRegistry(
            config: MetricConfig(
                windowMs: config.parsed.int("metrics.sample.window.ms") ?? 30000,
                samples: Int(config.parsed.int("metrics.num.samples") ?? 2),
                recording: config.parsed.bool("metrics.recording.enabled") ?? true))
        let worker = Worker(
            config: config, plugins: plugins, offsetStore: store, statusStore: StatusStore(workerId: workerId),
            metrics: metrics, logger: Logger(label: "org.apache.kafka.connect.runtime.Worker"),
            configTransformer: try ConfigTransformer(workerProperties: config.originals))
        let herder = StandaloneHerder(
            worker: worker, commit: BuildInfo.commit, clusterID: { clusterID.get(timeoutMs: 2000) },
            logger: Logger(label: "org.apache.kafka.connect.runtime.standalone.StandaloneHerder"))
        holder.set(ConnectRestServer(herder: herder, metrics: metrics, includeAdmin: adminListeners == nil))
        let metricsServer = try startMetricsListeners(config, metrics, logger: logger)
        let pusher = MetricsPusher.Settings.from(config, workerId: workerId).map {
            MetricsPusher(
                settings: $0, registry: metrics, logger: Logger(label: "org.apache.kafka.connect.runtime.MetricsPusher")
            )
        }
        pusher?.start()
        let reporter = try MetricsTopicReporter.Settings.from(config, workerId: workerId).map {
            try MetricsTopicReporter.make(
                settings: $0, config: config, registry: metrics, status: worker.statusStore,
                logger: Logger(label: "org.apache.kafka.connect.runtime.MetricsTopicReporter"))
        }
        reporter?.start()
        for c in connectorConfigs {
            let name = c["name"] ?? ""
            do {
                _ = try herder.putConnectorConfig(name, config: c, allowReplace: false, initialState: nil)
            } catch {
                pusher?.stop()
                herder.stop()
                reporter?.stop()
                restServer.stop()
                throw ConnectError.connect("Failed to create connector \(name): \(error.message)", cause: error)
            }
        }
        herder.markReady()
        logger.info("Kafka Connect started")
        return StandaloneRuntime(
            herder: herder, restServer: restServer, metricsServer: metricsServer, adminServer: adminServer,
            pusher: pusher, reporter: reporter, restURL: restURL, metrics: metrics, logger: logger)
    }

    /// Stops connectors and tasks (committing offsets), then the REST server.
    public func stop() {
        logger.info("Kafka Connect stopping")
        pusher?.stop()
        herder.stop()
        reporter?.stop()
        restServer.stop()
        metricsServer?.stop()
        adminServer?.stop()
        logger.info("Kafka Connect stopped")
    }

    /// Blocks until SIGTERM or SIGINT, then stops gracefully.
    public func waitForShutdownSignal() {
        let done = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "signals")
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        done.wait()
        stop()
        withExtendedLifetime(sources) {}
    }

    static func startMetricsListeners(
        _ config: WorkerConfig, _ metrics: MetricsRegistry, logger: Logger
    ) throws -> HTTPServer? {
        let texts = config.parsed.list("metrics.listeners")
        guard !texts.isEmpty else { return nil }
        var router = Router(errorResponder: ConnectRestServer.errorResponse)
        ConnectRestServer.addMetricsRoute(&router, metrics)
        let server = HTTPServer(errorResponder: ConnectRestServer.errorResponse) { [router] in router.handle($0) }
        let bound = try server.start(
            listeners: try texts.map { text throws(HTTPServerError) in try HTTPListener.parse(text) })
        logger.info("Metrics listening at \(bound.map(\.description).joined(separator: ", "))")
        return server
    }

    static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "localhost" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Lets the REST handler find the server once the herder exists.
final class HerderHolder: Sendable {
    private let value = Mutex<ConnectRestServer?>(nil)
    var rest: ConnectRestServer? { value.withLock { $0 } }
    func set(_ rest: ConnectRestServer) { value.withLock { $0 = rest } }
}

/// The Kafka cluster id, fetched once it is reachable.
final class ClusterIDCache: Sendable {
    private let admin: KafkaAdmin
    private let cached = Mutex<String?>(nil)

    init(admin: KafkaAdmin) { self.admin = admin }

    func get(timeoutMs: Int32) -> String? {
        if let id = cached.withLock({ $0 }) { return id }
        let id = admin.clusterID(timeoutMs: timeoutMs)
        if let id { cached.withLock { $0 = id } }
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
