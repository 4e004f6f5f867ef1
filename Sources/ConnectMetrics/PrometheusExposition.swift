#if canImport(Glibc)
    import Glibc
#endif

/// Renders the registry as Prometheus text (`text/plain; version=0.0.4`) under the names dashboards for Connect
/// already query: `kafka_connect_<group>_<attribute>` with `connector` / `task` labels, `connector="aggregate"` on
/// worker-level series, `-total` attributes both as `<stem>_total` counters and as stripped gauges, string attributes
/// both as `kafka_connect_<group>{…,<attr>="<value>"} 1` and as `…_<attr>_info` series, then process metrics.
public enum PrometheusExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ registry: MetricsRegistry, process: ProcessMetrics? = ProcessMetrics()) -> String {
        var out = ""
        out.reserveCapacity(64 * 1024)
        let groups = registry.allGroups
        var byName: [String: [MetricGroup]] = [:]
        for g in groups where g.pluginDomain == nil { byName[g.name, default: []].append(g) }

        // Numeric attributes, in catalogue order.
        for def in ConnectMetricsCatalog.all where def.type != .text {
            let instances = (byName[def.group] ?? []).filter { $0.tags.map(\.key) == def.tags }
            var samples: [(labels: String, value: Double)] = []
            for g in instances {
                guard let source = g.all.first(where: { $0.attribute == def.attribute })?.source else { continue }
                samples.append((labels(for: g), value(source)))
            }
            guard !samples.isEmpty else { continue }
            let stem = name(of: def)
            if def.type == .counter {
                family(&out, name: stem, type: "counter", help: def.help, samples: samples)
                family(
                    &out, name: String(stem.dropLast("_total".count)), type: "gauge", help: def.help, samples: samples)
            } else {
                family(&out, name: stem, type: "gauge", help: def.help, samples: samples)
            }
        }

        // String attributes: one family per group with the attribute as a label, and one `_info` family per attribute.
        let textGroups = Array(Set(ConnectMetricsCatalog.all.filter { $0.type == .text }.map(\.group))).sorted()
        for groupName in textGroups {
            let defs = ConnectMetricsCatalog.all.filter { $0.group == groupName && $0.type == .text }
            let instances = byName[groupName] ?? []
            var combined: [(labels: String, value: Double)] = []
            var perAttribute: [String: [(labels: String, value: Double)]] = [:]
            for g in instances {
                for def in defs {
                    guard case .text(let read)? = g.all.first(where: { $0.attribute == def.attribute })?.source else {
                        continue
                    }
                    let label = sanitize(def.attribute) + "=\"" + escapeLabel(read()) + "\""
                    combined.append((labels(for: g, extra: label), 1))
                    perAttribute[def.attribute, default: []].append((labels(for: g, extra: label), 1))
                }
            }
            guard !combined.isEmpty else { continue }
            let stem = groupFamilyName(groupName)
            family(
                &out, name: stem, type: "gauge",
                help: "String attributes of \(groupName), one series per attribute with the value as a label.",
                samples: combined)
            for def in defs {
                guard let samples = perAttribute[def.attribute] else { continue }
                family(
                    &out, name: stem + "_" + sanitize(def.attribute) + "_info", type: "gauge", help: def.help,
                    samples: samples)
            }
        }

        renderStrimziAliases(groups: byName, into: &out)
        renderPluginMBeans(groups.filter { $0.pluginDomain != nil }, into: &out)
        if let process { process.render(into: &out) }
        return out
    }

    /// Plug-ins' own MBeans under the names the JMX exporter rules their dashboards ship with give them. Debezium's
    /// (`debezium.<plugin>:type=connector-metrics,context=<c>,server=<s>[,task=…][,database=…]`, rules of
    /// `debezium-examples/monitoring`) become `debezium_metrics_<Attribute>{plugin, name (the server), context, …}`,
    /// a table attribute (`RowsScanned`) one series per key with the key as `table`; any other domain
    /// `<domain>_<type>_<Attribute>` with the key properties as labels and a table's key as `key`. Booleans are 1 or 0;
    /// strings are left out, as the JMX exporter leaves them (Jolokia serves them). An attribute whose name ends in
    /// `-total` is a counter, any other a gauge.
    static func renderPluginMBeans(_ groups: [MetricGroup], into out: inout String) {
        var families: [String: [(labels: String, value: Double)]] = [:]
        var order: [String] = []
        var helps: [String: String] = [:]
        for g in groups {
            guard let domain = g.pluginDomain else { continue }
            let isDebezium = domain.hasPrefix("debezium.") && g.name == "connector-metrics"
            var labels: [String] = []
            if isDebezium {
                labels.append("plugin=\"" + escapeLabel(String(domain.dropFirst("debezium.".count))) + "\"")
                for t in g.tags {
                    labels.append((t.key == "server" ? "name" : sanitize(t.key)) + "=\"" + escapeLabel(t.value) + "\"")
                }
            } else {
                for t in g.tags { labels.append(sanitize(t.key) + "=\"" + escapeLabel(t.value) + "\"") }
            }
            let prefix = isDebezium ? "debezium_metrics_" : sanitize(domain) + "_" + sanitize(g.name) + "_"
            for (attribute, source) in g.all {
                let name = prefix + sanitize(attribute)
                var samples: [(labels: String, value: Double)] = []
                switch source {
                case .text: continue
                case .table(let read):
                    let keyLabel = isDebezium ? "table" : "key"
                    for (key, v) in read() {
                        let all = labels + [keyLabel + "=\"" + escapeLabel(key) + "\""]
                        samples.append(("{" + all.joined(separator: ",") + "}", v))
                    }
                default:
                    samples.append((labels.isEmpty ? "" : "{" + labels.joined(separator: ",") + "}", value(source)))
                }
                if families[name] == nil {
                    order.append(name)
                    helps[name] =
                        isDebezium
                        ? "MBean attribute of a plug-in, as its JMX exporter rule names it."
                        : "Attribute \(attribute) of the plug-in MBean \(domain):type=\(g.name)."
                }
                families[name, default: []].append(contentsOf: samples)
            }
        }
        for name in order.sorted() {
            guard let samples = families[name], !samples.isEmpty else { continue }
            family(
                &out, name: name, type: name.hasSuffix("_total") ? "counter" : "gauge", help: helps[name] ?? "",
                samples: samples)
        }
    }

    /// `kafka_connect_<group>_<attribute>` (`kafka_producer_…`, `kafka_consumer_…` for the clients' groups).
    public static func name(of def: MetricDefinition) -> String {
        def.extensionName ?? sanitize(def.domain) + "_" + sanitize(def.group) + "_" + sanitize(def.attribute)
    }

    /// `<domain>_<group>` (`kafka_connect_connector_metrics`, `kafka_producer_producer_metrics`), the family of a
    /// group's string attributes.
    public static func groupFamilyName(_ group: String) -> String {
        sanitize(ConnectMetricsCatalog.domain(ofGroup: group)) + "_" + sanitize(group)
    }

    /// The names Strimzi's JMX exporter rules produce, which its dashboard and alerts query: aliases of the same
    /// values under `kafka_connect_worker_*`, `kafka_connect_connector_*` and `kafka_connect_task_error_*`.
    public static let strimziAliases: [(alias: String, group: String, attribute: String, labels: [String])] = [
        ("kafka_connect_worker_connector_count", ConnectMetricsCatalog.workerGroup, "connector-count", []),
        ("kafka_connect_worker_task_count", ConnectMetricsCatalog.workerGroup, "task-count", []),
        (
            "kafka_connect_worker_connector_running_task_count", ConnectMetricsCatalog.workerGroup,
            "connector-running-task-count", ["connector"]
        ),
        (
            "kafka_connect_worker_connector_paused_task_count", ConnectMetricsCatalog.workerGroup,
            "connector-paused-task-count", ["connector"]
        ),
        (
            "kafka_connect_worker_connector_failed_task_count", ConnectMetricsCatalog.workerGroup,
            "connector-failed-task-count", ["connector"]
        ),
        (
            "kafka_connect_worker_connector_unassigned_task_count", ConnectMetricsCatalog.workerGroup,
            "connector-unassigned-task-count", ["connector"]
        ),
        (
            "kafka_connect_worker_connector_destroyed_task_count", ConnectMetricsCatalog.workerGroup,
            "connector-destroyed-task-count", ["connector"]
        ),
        ("kafka_connect_connector_status", ConnectMetricsCatalog.connectorGroup, "status", ["connector"]),
        (
            "kafka_connect_connector_connector_class", ConnectMetricsCatalog.connectorGroup, "connector-class",
            ["connector"]
        ),
        (
            "kafka_connect_connector_connector_version", ConnectMetricsCatalog.connectorGroup, "connector-version",
            ["connector"]
        ),
        (
            "kafka_connect_connector_connector_type", ConnectMetricsCatalog.connectorGroup, "connector-type",
            ["connector"]
        ),
        ("kafka_connect_connector_task_status", ConnectMetricsCatalog.taskGroup, "status", ["connector", "task"]),
        (
            "kafka_connect_task_error_total_record_failures", ConnectMetricsCatalog.taskErrorGroup,
            "total-record-failures", ["connector", "task"]
        ),
    ]

    static func renderStrimziAliases(groups: [String: [MetricGroup]], into out: inout String) {
        for alias in strimziAliases {
            guard let def = ConnectMetricsCatalog.definition(group: alias.group, attribute: alias.attribute) else {
                continue
            }
            var samples: [(labels: String, value: Double)] = []
            for g in groups[alias.group] ?? [] where g.tags.map(\.key) == alias.labels {
                guard let source = g.all.first(where: { $0.attribute == alias.attribute })?.source else { continue }
                let tagLabels = g.tags.map { sanitize($0.key) + "=\"" + escapeLabel($0.value) + "\"" }
                if case .text(let read) = source {
                    let label = sanitize(alias.attribute) + "=\"" + escapeLabel(read()) + "\""
                    samples.append(("{" + (tagLabels + [label]).joined(separator: ",") + "}", 1))
                } else {
                    samples.append(
                        (tagLabels.isEmpty ? "" : "{" + tagLabels.joined(separator: ",") + "}", value(source)))
                }
            }
            if !samples.isEmpty {
                family(&out, name: alias.alias, type: "gauge", help: def.help + " (Strimzi name)", samples: samples)
            }
        }
    }

    /// The current numeric value of a source (NaN for string gauges).
    public static func valueOf(_ source: MetricSource) -> Double { value(source) }

    static func value(_ source: MetricSource) -> Double {
        switch source {
        case .sensor(let s, let kind): return s.measure(kind)
        case .gauge(let read): return read()
        case .flag(let read): return read() ? 1 : 0
        case .text, .table: return .nan
        }
    }

    static func labels(for g: MetricGroup, extra: String? = nil) -> String {
        var parts: [String] = []
        if g.name == ConnectMetricsCatalog.workerGroup && g.tags.isEmpty { parts.append("connector=\"aggregate\"") }
        for t in g.tags { parts.append(sanitize(t.key) + "=\"" + escapeLabel(t.value) + "\"") }
        if let extra { parts.append(extra) }
        return parts.isEmpty ? "" : "{" + parts.joined(separator: ",") + "}"
    }

    static func family(
        _ out: inout String, name: String, type: String, help: String, samples: [(labels: String, value: Double)]
    ) {
        out += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type)\n"
        for s in samples { out += name + s.labels + " " + format(s.value) + "\n" }
    }

    /// `-` and other characters outside `[a-zA-Z0-9_:]` become `_`.
    public static func sanitize(_ s: String) -> String {
        String(s.map { c in (c.isASCII && (c.isLetter || c.isNumber)) || c == "_" || c == ":" ? c : "_" })
    }

    public static func escapeLabel(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }

    public static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}

/// Standard process metrics from /proc: CPU seconds, resident memory, start time, open and maximum descriptors.
public struct ProcessMetrics: Sendable {
    public init() {}

    func render(into out: inout String) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = read("/proc/self/stat"), let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command name: state is field 3, utime 14, stime 15, starttime 22, rss 24 (1-based, whole line).
            if fields.count > 21, let utime = Double(fields[11]), let stime = Double(fields[12]),
                let start = Double(fields[19]),
                let rss = Double(fields[21])
            {
                PrometheusExposition.family(
                    &out, name: "process_cpu_seconds_total", type: "counter",
                    help: "Total user and system CPU time spent in seconds.", samples: [("", (utime + stime) / ticks)])
                let page = Double(sysconf(Int32(_SC_PAGESIZE)))
                PrometheusExposition.family(
                    &out, name: "process_resident_memory_bytes", type: "gauge", help: "Resident memory size in bytes.",
                    samples: [("", rss * page)])
                if let boot = bootTime() {
                    PrometheusExposition.family(
                        &out, name: "process_start_time_seconds", type: "gauge",
                        help: "Start time of the process since unix epoch in seconds.",
                        samples: [("", boot + start / ticks)])
                }
            }
        }
        if let dir = opendir("/proc/self/fd") {
            var n = 0
            while readdir(dir) != nil { n += 1 }
            closedir(dir)
            PrometheusExposition.family(
                &out, name: "process_open_fds", type: "gauge", help: "Number of open file descriptors.",
                samples: [("", Double(max(0, n - 2)))])
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            PrometheusExposition.family(
                &out, name: "process_max_fds", type: "gauge", help: "Maximum number of open file descriptors.",
                samples: [("", Double(limit.rlim_cur))])
        }
    }

    private func bootTime() -> Double? {
        guard let stat = read("/proc/stat") else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6))
        }
        return nil
    }

    private func read(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
