import Synchronization

/// A metric's value source: a sensor read through a stat, a number computed on demand, or a string gauge; plug-in
/// MBeans also have boolean attributes and tables (a JMX `Map<String, Long>`, as Debezium's `RowsScanned`).
public enum MetricSource: Sendable {
    case sensor(Sensor, StatKind)
    case gauge(@Sendable () -> Double)
    case text(@Sendable () -> String)
    case flag(@Sendable () -> Bool)
    case table(@Sendable () -> [(key: String, value: Double)])
}

/// One group instance: a Kafka metric group name with its tags in order (`connector`, then `task`), holding the
/// attributes registered for it. A plug-in's own MBean is a group with an explicit JMX domain (`debezium.mysql`),
/// its `type` as the name and its other key properties as tags.
public final class MetricGroup: Sendable {
    public let name: String
    public let tags: [(key: String, value: String)]
    /// The JMX domain of a plug-in's MBean; nil for the worker's own groups, whose domain the catalogue gives.
    public let pluginDomain: String?
    private let metrics = Mutex<Attributes>(Attributes())
    /// Counts the attributes added, so a render plan knows when a group's attributes changed.
    private let attributeChanges = Atomic<Int>(0)
    var attributesVersion: Int { attributeChanges.load(ordering: .acquiring) }

    /// The attributes in the order they were added, and by name.
    struct Attributes {
        var ordered: [(attribute: String, source: MetricSource)] = []
        var byName: [String: MetricSource] = [:]
    }

    /// The registry's key of the group (domain, name and tags), which orders groups.
    let sortKey: String
    /// The tags as Prometheus labels, `connector="c",task="0"` (no braces; `connector="aggregate"` for the worker
    /// group, as Connect's dashboards expect), rendered once: tags never change.
    let promLabels: String

    init(name: String, tags: [(key: String, value: String)], pluginDomain: String? = nil) {
        self.name = name
        self.tags = tags
        self.pluginDomain = pluginDomain
        sortKey = MetricsRegistry.key(name, tags, domain: pluginDomain)
        var parts: [String] = []
        if name == ConnectMetricsCatalog.workerGroup && tags.isEmpty { parts.append("connector=\"aggregate\"") }
        for t in tags {
            parts.append(
                PrometheusExposition.sanitize(t.key) + "=\"" + PrometheusExposition.escapeLabel(t.value) + "\"")
        }
        promLabels = parts.joined(separator: ",")
        promLabelsBraced = parts.isEmpty ? "" : "{" + promLabels + "}"
    }

    /// `{…}` with `promLabels`, or nothing when there are none.
    let promLabelsBraced: String

    public func add(_ attribute: String, _ source: MetricSource) {
        metrics.withLock { m in
            if m.byName.updateValue(source, forKey: attribute) != nil {
                m.ordered.removeAll { $0.attribute == attribute }
            }
            m.ordered.append((attribute, source))
        }
        attributeChanges.add(1, ordering: .releasing)
    }

    /// Adds a sensor read through several stats (`rate` and `total` of the same events, ...).
    public func sensor(_ attributes: [(String, StatKind)], config: MetricConfig, clock: any MetricsClock) -> Sensor {
        let s = Sensor(config: config, clock: clock)
        for (attribute, kind) in attributes { add(attribute, .sensor(s, kind)) }
        return s
    }

    public var all: [(attribute: String, source: MetricSource)] { metrics.withLock { $0.ordered } }

    /// The attributes by name (a copy-on-write snapshot: no copy is made).
    public var sourcesByAttribute: [String: MetricSource] { metrics.withLock { $0.byName } }

    /// The JMX domain (`kafka.connect`, `kafka.producer`, `kafka.consumer`).
    public var domain: String { pluginDomain ?? ConnectMetricsCatalog.domain(ofGroup: name) }

    /// The MBean name Connect would register (`kafka.connect:type=<group>,connector=<c>,task=<t>`).
    public var objectName: String {
        "\(domain):type=\(name)" + tags.map { ",\($0.key)=\($0.value)" }.joined()
    }
}

/// Every live metric group of the worker. Groups appear when their connector or task starts and go when it stops.
public final class MetricsRegistry: Sendable {
    public let config: MetricConfig
    public let clock: any MetricsClock
    private let groups = Mutex<Groups>(Groups())

    struct Groups {
        var byKey: [String: MetricGroup] = [:]
        /// `allGroups`, kept until a group is added or removed (a render reads it on every scrape).
        var sorted: [MetricGroup]?
        /// Counts the groups added and removed.
        var version = 0

        subscript(key: String) -> MetricGroup? {
            get { byKey[key] }
            set {
                byKey[key] = newValue
                sorted = nil
                version += 1
            }
        }
    }

    /// The last Prometheus render plan, valid while `structureVersion` is what it was built at.
    let renderPlan = Mutex<PrometheusExposition.RenderPlan?>(nil)

    /// The groups, and a version that changes whenever a group or an attribute is added or removed: the count of
    /// group changes, and the sum of the groups' attribute counts (with the same groups, it only grows).
    var groupsAndVersion: (groups: [MetricGroup], version: StructureVersion) {
        let (groups, version) = self.groups.withLock { g in (g.sorted, g.version) }
        let all = groups ?? allGroups
        var attributes = 0
        for group in all { attributes &+= group.attributesVersion }
        return (all, StructureVersion(groups: version, attributes: attributes))
    }

    struct StructureVersion: Equatable, Sendable {
        let groups: Int
        let attributes: Int
    }

    private let renderSize = Atomic<Int>(64 * 1024)
    /// The size of the last Prometheus render, to reserve the next one's buffer at once.
    var lastRenderSize: Int {
        get { renderSize.load(ordering: .relaxed) }
        set { renderSize.store(newValue, ordering: .relaxed) }
    }

    public init(config: MetricConfig = MetricConfig(), clock: any MetricsClock = SystemMetricsClock()) {
        self.config = config
        self.clock = clock
    }

    static func key(_ name: String, _ tags: [(key: String, value: String)], domain: String? = nil) -> String {
        (domain.map { $0 + ":" } ?? "") + name + tags.map { "\u{1}\($0.key)=\($0.value)" }.joined()
    }

    /// The group with these tags, created on first use; `pluginDomain` names a plug-in's MBean domain.
    public func group(
        _ name: String, tags: [(key: String, value: String)] = [], pluginDomain: String? = nil
    )
        -> MetricGroup
    {
        groups.withLock { g in
            let k = Self.key(name, tags, domain: pluginDomain)
            if let existing = g[k] { return existing }
            let created = MetricGroup(name: name, tags: tags, pluginDomain: pluginDomain)
            g[k] = created
            return created
        }
    }

    /// A new group with these tags, or nil when one exists already (a plug-in MBean name another task holds).
    public func newGroup(_ name: String, tags: [(key: String, value: String)], pluginDomain: String?) -> MetricGroup? {
        groups.withLock { g in
            let k = Self.key(name, tags, domain: pluginDomain)
            guard g[k] == nil else { return nil }
            let created = MetricGroup(name: name, tags: tags, pluginDomain: pluginDomain)
            g[k] = created
            return created
        }
    }

    /// Removes this group; a group registered since under the same name and tags stays.
    public func remove(_ group: MetricGroup) {
        groups.withLock { g in
            let k = Self.key(group.name, group.tags, domain: group.pluginDomain)
            if g[k] === group { g[k] = nil }
        }
        // The plan holds the group's sources (closures over tasks and clients): let them go now, not at the next
        // scrape, which may never come.
        renderPlan.withLock { $0 = nil }
    }

    /// A sensor registered under several attributes of a group (or under none, with no group).
    public func sensor(_ group: MetricGroup?, _ attributes: [(String, StatKind)]) -> Sensor {
        group?.sensor(attributes, config: config, clock: clock) ?? Sensor(config: config, clock: clock)
    }

    public var allGroups: [MetricGroup] {
        groups.withLock { g in
            if g.sorted == nil { g.sorted = g.byKey.values.sorted { $0.sortKey < $1.sortKey } }
            return g.sorted!
        }
    }

    /// The group with exactly this name, tags (in this order) and domain, if there is one; nothing is created.
    public func existingGroup(
        _ name: String, tags: [(key: String, value: String)], pluginDomain: String? = nil
    ) -> MetricGroup? {
        groups.withLock { $0[Self.key(name, tags, domain: pluginDomain)] }
    }
}
