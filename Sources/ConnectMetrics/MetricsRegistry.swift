import Synchronization

/// A metric's value source: a sensor read through a stat, a number computed on demand, or a string gauge.
public enum MetricSource: Sendable {
    case sensor(Sensor, StatKind)
    case gauge(@Sendable () -> Double)
    case text(@Sendable () -> String)
}

/// One group instance: a Kafka metric group name with its tags in order (`connector`, then `task`), holding the
/// attributes registered for it.
public final class MetricGroup: Sendable {
    public let name: String
    public let tags: [(key: String, value: String)]
    private let metrics = Mutex<[(attribute: String, source: MetricSource)]>([])

    init(name: String, tags: [(key: String, value: String)]) {
        self.name = name
        self.tags = tags
    }

    public func add(_ attribute: String, _ source: MetricSource) {
        metrics.withLock { m in
            m.removeAll { $0.attribute == attribute }
            m.append((attribute, source))
        }
    }

    /// Adds a sensor read through several stats (`rate` and `total` of the same events, ...).
    public func sensor(_ attributes: [(String, StatKind)], config: MetricConfig, clock: any MetricsClock) -> Sensor {
        let s = Sensor(config: config, clock: clock)
        for (attribute, kind) in attributes { add(attribute, .sensor(s, kind)) }
        return s
    }

    public var all: [(attribute: String, source: MetricSource)] { metrics.withLock { $0 } }

    /// The JMX domain (`kafka.connect`, `kafka.producer`, `kafka.consumer`).
    public var domain: String { ConnectMetricsCatalog.domain(ofGroup: name) }

    /// The MBean name Connect would register (`kafka.connect:type=<group>,connector=<c>,task=<t>`).
    public var objectName: String {
        "\(domain):type=\(name)" + tags.map { ",\($0.key)=\($0.value)" }.joined()
    }
}

/// Every live metric group of the worker. Groups appear when their connector or task starts and go when it stops.
public final class MetricsRegistry: Sendable {
    public let config: MetricConfig
    public let clock: any MetricsClock
    private let groups = Mutex<[String: MetricGroup]>([:])

    public init(config: MetricConfig = MetricConfig(), clock: any MetricsClock = SystemMetricsClock()) {
        self.config = config
        self.clock = clock
    }

    static func key(_ name: String, _ tags: [(key: String, value: String)]) -> String {
        name + tags.map { "\u{1}\($0.key)=\($0.value)" }.joined()
    }

    /// The group with these tags, created on first use.
    public func group(_ name: String, tags: [(key: String, value: String)] = []) -> MetricGroup {
        groups.withLock { g in
            let k = Self.key(name, tags)
            if let existing = g[k] { return existing }
            let created = MetricGroup(name: name, tags: tags)
            g[k] = created
            return created
        }
    }

    public func remove(_ group: MetricGroup) {
        groups.withLock { _ = $0.removeValue(forKey: Self.key(group.name, group.tags)) }
    }

    /// A sensor registered under several attributes of a group (or under none, with no group).
    public func sensor(_ group: MetricGroup?, _ attributes: [(String, StatKind)]) -> Sensor {
        group?.sensor(attributes, config: config, clock: clock) ?? Sensor(config: config, clock: clock)
    }

    public var allGroups: [MetricGroup] {
        groups.withLock { Array($0.values) }.sorted { Self.key($0.name, $0.tags) < Self.key($1.name, $1.tags) }
    }
}
