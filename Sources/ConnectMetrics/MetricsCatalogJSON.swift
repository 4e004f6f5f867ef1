/// One Prometheus family as `GET /metrics/catalog` describes it.
public struct MetricFamilyDescription: Sendable {
    public let name: String
    public let type: String
    public let help: String
    public let labels: [String]
    /// The MBean it comes from (`kafka.connect:type=<group>`) and its attribute.
    public let mbean: String?
    public let attribute: String?
    /// `connect` (Connect's own names), `client` (the Java Kafka clients' names), `extension` (this project's own
    /// metrics), `alias` (the same value under another exporter's name), `process`.
    public let origin: String
}

extension PrometheusExposition {
    /// Every family `/metrics` can emit, derived from the catalogue with the same naming rules as `render`.
    public static func catalog() -> [MetricFamilyDescription] {
        var out: [MetricFamilyDescription] = []
        func labels(_ def: MetricDefinition) -> [String] {
            def.group == ConnectMetricsCatalog.workerGroup && def.tags.isEmpty ? ["connector"] : def.tags
        }
        for def in ConnectMetricsCatalog.all where def.type != .text {
            let mbean = def.isExtension ? nil : def.mbeanPattern
            let n = name(of: def)
            out.append(
                MetricFamilyDescription(
                    name: n, type: def.type == .counter ? "counter" : "gauge", help: def.help, labels: labels(def),
                    mbean: mbean, attribute: def.attribute, origin: def.origin))
            if def.type == .counter {
                out.append(
                    MetricFamilyDescription(
                        name: String(n.dropLast("_total".count)), type: "gauge", help: def.help, labels: labels(def),
                        mbean: mbean, attribute: def.attribute, origin: def.origin))
            }
        }
        for def in ConnectMetricsCatalog.all where def.type == .text {
            let mbean = def.mbeanPattern
            let group = groupFamilyName(def.group)
            if !out.contains(where: { $0.name == group }) {
                out.append(
                    MetricFamilyDescription(
                        name: group, type: "gauge",
                        help: "String attributes of \(def.group), one series per attribute with the value as a label.",
                        labels: def.tags + ["<attribute>"], mbean: mbean, attribute: nil, origin: "connect"))
            }
            out.append(
                MetricFamilyDescription(
                    name: group + "_" + sanitize(def.attribute) + "_info", type: "gauge", help: def.help,
                    labels: def.tags + [sanitize(def.attribute)], mbean: mbean, attribute: def.attribute,
                    origin: "connect"))
        }
        for a in strimziAliases {
            let isText = ConnectMetricsCatalog.definition(group: a.group, attribute: a.attribute)?.type == .text
            out.append(
                MetricFamilyDescription(
                    name: a.alias, type: "gauge",
                    help: ConnectMetricsCatalog.definition(group: a.group, attribute: a.attribute)?.help ?? "",
                    labels: a.labels + (isText ? [sanitize(a.attribute)] : []), mbean: "kafka.connect:type=\(a.group)",
                    attribute: a.attribute, origin: "alias"))
        }
        for (n, t, h) in [
            ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds."),
            ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes."),
            ("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds."),
            ("process_open_fds", "gauge", "Number of open file descriptors."),
            ("process_max_fds", "gauge", "Maximum number of open file descriptors."),
        ] {
            out.append(
                MetricFamilyDescription(
                    name: n, type: t, help: h, labels: [], mbean: nil, attribute: nil, origin: "process"))
        }
        return out
    }
}
