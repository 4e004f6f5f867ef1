import ConnectAPI
import ConnectMetrics
import Foundation
import HTTPClient
import Logging
import Synchronization

/// Pushes metrics to a Prometheus Pushgateway (`metrics.push.url`) every `metrics.push.interval.ms`, on a thread of
/// its own so a slow or absent gateway never slows a task: `PUT <url>/metrics/job/<job>/<label>/<value>…` with the
/// selected families, and `DELETE` of the same group on a clean shutdown. Failures are counted
/// (`swift_connect_metrics_push_failures_total`) and logged, with the interval doubling while they last.
public final class MetricsPusher: Sendable {
    public struct Settings: Sendable {
        public var url: String
        public var intervalMs: Int64 = 30_000
        public var job = "kafka-connect"
        /// Grouping labels after the job, in order (`instance` by default).
        public var grouping: [(String, String)] = []
        /// Family name prefixes to push; empty means every family.
        public var families: [String] = MetricsPusher.defaultFamilies
        public var username: String?
        public var password: String?

        public init(url: String) { self.url = url }

        /// From the worker's `metrics.push.*` keys; nil when `metrics.push.url` is not set.
        public static func from(_ config: WorkerConfig, workerId: String) -> Settings? {
            guard let push = config.metrics.push else { return nil }
            var s = Settings(url: push.url.hasSuffix("/") ? String(push.url.dropLast()) : push.url)
            s.intervalMs = push.interval.inMilliseconds
            s.job = push.job
            let labels = push.groupingLabels.compactMap { pair -> (String, String)? in
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
                return kv.count == 2 ? (kv[0], kv[1]) : nil
            }
            s.grouping = labels.isEmpty ? [("instance", workerId)] : labels
            let families = push.families
            if families == ["all"] {
                s.families = []
            } else if !families.isEmpty && families != ["default"] {
                s.families = families
            }
            s.username = push.username
            s.password = push.password
            return s
        }
    }

    /// Lag, errors, dead letter queue and status: what an operator most wants to arrive without a scrape.
    public static let defaultFamilies = [
        "swift_connect_sink_partition_lag", "swift_connect_sink_partition_unconsumed", "swift_connect_sink_task_lag",
        "swift_connect_source_task_lag", "swift_connect_task_errors", "kafka_connect_task_error_metrics",
        "kafka_connect_connector_task_metrics_status", "kafka_connect_connector_metrics_status",
        "kafka_connect_connect_worker_metrics_connector_count", "kafka_connect_connect_worker_metrics_task_count",
    ]

    let settings: Settings
    let registry: MetricsRegistry
    let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let wake = NSCondition()
    private let done = DispatchSemaphore(value: 0)
    let pushes = AtomicCounter()
    let failures = AtomicCounter()
    private let group: MetricGroup
    private let client: HTTPClient

    public init(settings: Settings, registry: MetricsRegistry, logger: Logger) {
        self.settings = settings
        var configuration = HTTPClientConfiguration()
        if let user = settings.username {
            configuration.basicAuth = .init(username: user, password: settings.password ?? "")
        }
        client = HTTPClient(configuration: configuration)
        self.registry = registry
        self.logger = logger
        group = registry.group(ConnectMetricsCatalog.metricsPushGroup, tags: [("target", "pushgateway")])
        let (pushes, failures) = (pushes, failures)
        group.add("pushes-total", .gauge { Double(pushes.value) })
        group.add("failures-total", .gauge { Double(failures.value) })
    }

    /// `<url>/metrics/job/<job>/<label>/<value>…`, path segments escaped.
    var groupURL: URL? {
        func escape(_ s: String) -> String {
            s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~")))
                ?? s
        }
        let path =
            ["metrics", "job", escape(settings.job)] + settings.grouping.flatMap { [escape($0.0), escape($0.1)] }
        return URL(string: settings.url + "/" + path.joined(separator: "/"))
    }

    /// The Prometheus text of the selected families only.
    func body() -> String {
        let text = PrometheusExposition.render(registry, process: nil)
        guard !settings.families.isEmpty else { return text }
        var out = ""
        var keep = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# HELP ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                keep = settings.families.contains { name.hasPrefix($0) }
            }
            if keep { out += line + "\n" }
        }
        return out
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "metrics-push"
        thread.start()
    }

    private func run() {
        var delayMs = settings.intervalMs
        while !stopping.load(ordering: .acquiring) {
            if send(method: "PUT", body: body()) {
                pushes.increment()
                delayMs = settings.intervalMs
            } else {
                failures.increment()
                delayMs = min(delayMs * 2, max(settings.intervalMs, 10 * settings.intervalMs))
            }
            wake.lock()
            if !stopping.load(ordering: .acquiring) {
                _ = wake.wait(until: Date().addingTimeInterval(Double(delayMs) / 1000))
            }
            wake.unlock()
        }
        done.signal()
    }

    /// Stops pushing and deletes the worker's group from the gateway.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        wake.lock()
        wake.broadcast()
        wake.unlock()
        _ = done.wait(timeout: .now() + .seconds(15))
        if !send(method: "DELETE", body: nil) {
            logger.warning("Could not delete this worker's metrics group from the Pushgateway at \(settings.url)")
        }
        registry.remove(group)
    }

    /// One request, synchronously, within the interval (at most 10 s); true on a 2xx answer.
    private func send(method: String, body: String?) -> Bool {
        guard let url = groupURL else {
            logger.error("metrics.push.url \(settings.url) is not a URL")
            return false
        }
        let request = HTTPClientRequest(
            method: method, url: url.absoluteString,
            headers: body == nil ? [] : [("Content-Type", "text/plain; version=0.0.4")],
            body: body.map { Array($0.utf8) })
        let problem: String
        do {
            let response = try client.execute(
                request, timeout: .milliseconds(min(10_000, max(1_000, settings.intervalMs))))
            if (200..<300).contains(response.status) { return true }
            problem = "HTTP \(response.status)"
        } catch {
            problem = error.message
        }
        logger.warning(
            "Pushing metrics to \(settings.url) failed: \(problem) (\(failures.value + 1) failures so far)")
        return false
    }
}
