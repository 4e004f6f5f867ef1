import ConnectAPI
import ConnectMetrics
import ConnectRuntime
import Foundation
import HTTPServer
import Logging
import Synchronization

/// The worker's HTTP side, in Connect's two steps (`RestServer.initializeServer`, then `initializeResources`):
/// `initializeServer` binds the REST listeners (and `admin.listeners`) before the herder exists, answering 503 on
/// every path, so the advertised URL, which is the worker id, is known when the herder is built;
/// `initializeResources` serves the herder's resources and opens `metrics.listeners`. Security (Basic auth, CORS,
/// HTTPS) applies to every listener but the metrics ones.
public final class RestServer: Sendable {
    /// The REST listeners' server.
    public let server: HTTPServer
    private let adminServer = Mutex<HTTPServer?>(nil)
    private let metricsServer = Mutex<HTTPServer?>(nil)
    /// The herder's resources, once `initializeResources` ran; read by every request.
    private let resources = ResourcesHolder()
    private let config: WorkerConfig
    private let security: RestSecurity
    private let logger: Logger

    /// Reads the REST keys; a bad key (credentials file, keystore) is a config error naming it.
    public init(config: WorkerConfig, logger: Logger) throws(ConnectError) {
        self.config = config
        self.logger = logger
        let security = try RestSecurity.from(config)
        self.security = security
        let resources = resources
        server = HTTPServer(
            maxRequestBodyBytes: config.rest.maxRequestBodyBytes,
            connectionTimeoutSeconds: config.rest.idleTimeoutSeconds, errorResponder: ConnectRestServer.errorResponse
        ) { request in
            security.handle(request) { request in
                guard let rest = resources.value else { return ConnectRestServer.startingResponse(request) }
                return rest.handle(request)
            }
        }
    }

    /// The listeners the REST API is bound to (ports resolved).
    public var boundListeners: [HTTPListener] { server.boundListeners }

    /// Binds the REST listeners, and `admin.listeners` when they are set apart. Every request is answered 503 until
    /// `initializeResources`.
    public func initializeServer() throws {
        let listeners = try config.rest.listeners.map { text throws(HTTPServerError) in try HTTPListener.parse(text) }
        let bound = try server.start(listeners: listeners, tls: security.tls)
        logger.info(
            "REST server listening at \(bound.map(\.description).joined(separator: ", ")), advertising URL \(advertisedURL)"
        )
        guard let admin = config.rest.adminListeners, !admin.isEmpty else { return }
        var router = Router(errorResponder: ConnectRestServer.errorResponse)
        let resources = resources
        LoggingResource.addRoutes(&router, herder: { resources.value?.herder })
        let security = security
        let adminServer = HTTPServer(
            connectionTimeoutSeconds: config.rest.idleTimeoutSeconds, errorResponder: ConnectRestServer.errorResponse
        ) { [router] request in security.handle(request) { router.handle($0) } }
        let adminBound = try adminServer.start(
            listeners: try admin.map { text throws(HTTPServerError) in try HTTPListener.parse(text) }, tls: security.tls
        )
        self.adminServer.withLock { $0 = adminServer }
        logger.info("Admin REST API listening at \(adminBound.map(\.description).joined(separator: ", "))")
    }

    /// Serves the herder's resources (and `/admin` here unless `admin.listeners` is set), then opens
    /// `metrics.listeners`, which serve only `/metrics`.
    public func initializeResources(herder: any Herder, metrics: MetricsRegistry) throws {
        resources.set(
            ConnectRestServer(herder: herder, metrics: metrics, includeAdmin: config.rest.adminListeners == nil))
        guard !config.rest.metricsListeners.isEmpty else { return }
        var router = Router(errorResponder: ConnectRestServer.errorResponse)
        ConnectRestServer.addMetricsRoute(&router, metrics)
        let server = HTTPServer(errorResponder: ConnectRestServer.errorResponse) { [router] in router.handle($0) }
        let bound = try server.start(
            listeners: try config.rest.metricsListeners.map { text throws(HTTPServerError) in
                try HTTPListener.parse(text)
            })
        metricsServer.withLock { $0 = server }
        logger.info("Metrics listening at \(bound.map(\.description).joined(separator: ", "))")
    }

    /// The worker id other workers and `/status` know this worker by: the advertised `host:port`
    /// (`rest.advertised.host.name` or the first listener's host, else the host name; `rest.advertised.port` or the
    /// first listener's bound port), as Connect's `RestServer.advertisedUrl`.
    public var workerId: String {
        let first = boundListeners.first ?? HTTPListener(host: "", port: 8083)
        let host = config.rest.advertisedHostName ?? (first.host.isEmpty ? Self.hostName() : first.host)
        return "\(host):\(config.rest.advertisedPort ?? first.port)"
    }

    /// `<scheme>://<worker id>/`, the URL other workers use.
    public var advertisedURL: String {
        let scheme = config.rest.advertisedListener ?? boundListeners.first?.scheme ?? "http"
        return "\(scheme)://\(workerId)/"
    }

    /// A URL that reaches this worker from this host (`localhost` for a wildcard listener).
    public var localURL: String {
        let first = boundListeners.first ?? HTTPListener(host: "", port: 8083)
        let host = first.host.isEmpty || first.host == "0.0.0.0" ? "localhost" : first.host
        return "\(first.scheme)://\(host):\(first.port)/"
    }

    /// Closes every listener: REST, admin, metrics.
    public func stop() {
        server.stop()
        metricsServer.withLock { $0 }?.stop()
        adminServer.withLock { $0 }?.stop()
    }

    static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "localhost" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Lets the REST handler, made before the herder exists, find the resources once they do.
final class ResourcesHolder: Sendable {
    private let rest = Mutex<ConnectRestServer?>(nil)
    var value: ConnectRestServer? { rest.withLock { $0 } }
    func set(_ value: ConnectRestServer) { rest.withLock { $0 = value } }
}
