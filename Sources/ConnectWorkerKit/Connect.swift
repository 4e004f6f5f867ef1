import ConnectAPI
import ConnectMetrics
import ConnectREST
import ConnectRuntime
import Dispatch
import Foundation
import Logging
import Synchronization

/// One long-running part of a worker (the herder, the metrics topic reporter, the pusher): `Connect` starts the
/// services in order and stops them in reverse.
public protocol ConnectService: Sendable {
    /// What the log calls it.
    var name: String { get }
    func start() throws
    func stop()
}

/// A service made of a start and a stop closure.
public struct WorkerService: ConnectService {
    public let name: String
    let onStart: @Sendable () throws -> Void
    let onStop: @Sendable () -> Void

    public init(
        _ name: String, start: @escaping @Sendable () throws -> Void = {}, stop: @escaping @Sendable () -> Void
    ) {
        self.name = name
        self.onStart = start
        self.onStop = stop
    }

    public func start() throws { try onStart() }
    public func stop() { onStop() }
}

/// A running worker, in the role of Connect's `Connect`: the REST server (bound before anything else, so the worker
/// id is known) and the services of its mode, started in order (a failure stops what was started, in reverse, and
/// is rethrown) and stopped in reverse on `stop` or on SIGTERM / SIGINT; the REST server closes last, after tasks
/// have committed their offsets.
public final class Connect: Sendable {
    /// The herder the REST API drives.
    public let herder: any Herder
    public let restServer: RestServer
    /// The worker's metrics registry.
    public let metrics: MetricsRegistry
    private let services: [any ConnectService]
    /// How many of `services` are running, from the first.
    private let running = Mutex(0)
    private let logger: Logger

    public init(
        herder: any Herder, restServer: RestServer, metrics: MetricsRegistry, services: [any ConnectService],
        logger: Logger
    ) {
        self.herder = herder
        self.restServer = restServer
        self.metrics = metrics
        self.services = services
        self.logger = logger
    }

    /// A URL that reaches this worker's REST API from this host.
    public var restURL: String { restServer.localURL }

    /// Starts every service in order; on a failure stops those already started, then the REST server, and rethrows.
    public func start() throws {
        logger.info("Kafka Connect starting")
        for service in services {
            do {
                try service.start()
            } catch {
                logger.error("Failed to start \(service.name): \(ConnectError.describe(error))")
                stop()
                throw error
            }
            running.withLock { $0 += 1 }
        }
        logger.info("Kafka Connect started")
    }

    /// Stops the running services in reverse order, then the REST server. Safe to call more than once.
    public func stop() {
        let count = running.withLock { count in
            defer { count = 0 }
            return count
        }
        logger.info("Kafka Connect stopping")
        for service in services.prefix(count).reversed() { service.stop() }
        restServer.stop()
        logger.info("Kafka Connect stopped")
    }

    /// Blocks until `signal` is received (it may already have been, during start-up), then stops gracefully.
    public func awaitShutdown(_ signal: ShutdownSignal) {
        signal.wait()
        stop()
    }
}

/// SIGTERM and SIGINT, caught from the moment this is made: installed before start-up, so a stop asked while the
/// worker is still starting (waiting for the broker, reading the config topic) is a graceful stop once start-up
/// returns rather than the default action that kills the process (exit 143), as Connect's shutdown hook, registered
/// before the herder starts, does. A second signal exits at once (status 130).
public final class ShutdownSignal {
    private let received = DispatchSemaphore(value: 0)
    private let sources: [any DispatchSourceSignal]

    public init() {
        let queue = DispatchQueue(label: "signals")
        let received = self.received
        let count = SignalCount()
        sources = [SIGTERM, SIGINT].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                // A second signal while the first is still being served (a start-up waiting for the broker, a
                // stop waiting for tasks) ends the process at once.
                count.value += 1
                if count.value > 1 { exit(130) }
                received.signal()
            }
            source.resume()
            return source
        }
    }

    /// Blocks until SIGTERM or SIGINT.
    public func wait() {
        received.wait()
        withExtendedLifetime(sources) {}
    }
}

/// Signals received so far; touched only on the signal sources' serial queue.
private final class SignalCount: @unchecked Sendable {
    var value = 0
}
