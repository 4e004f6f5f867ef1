import Synchronization

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
        String(decoding: renderBytes(registry, process: process), as: UTF8.self)
    }

    /// `render` as the UTF-8 bytes of the response body. Built as bytes: appending to a `[UInt8]` is a copy, where
    /// appending to a `String` also keeps its counts and flags, which was most of a large worker's render.
    public static func renderBytes(_ registry: MetricsRegistry, process: ProcessMetrics? = ProcessMetrics()) -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(registry.lastRenderSize + 4096)
        let (groups, version) = registry.groupsAndVersion
        let now = registry.clock.nowMs()
        // The plan holds every catalogue and Strimzi family with the bytes of its lines but their values; it is
        // rebuilt when a group or an attribute is added or removed, reading each group's attributes once.
        let plan = registry.renderPlan.withLock { plan in
            if let plan, plan.version == version { return plan }
            var byName: [String: [GroupSnapshot]] = [:]
            for g in groups where g.pluginDomain == nil { byName[g.name, default: []].append(GroupSnapshot(g)) }
            let built = RenderPlan(version: version, families: families(byName))
            plan = built
            return built
        }
        var values: [Double] = []
        for family in plan.families { family.write(now: now, into: &out, values: &values) }
        renderPluginMBeans(groups.filter { $0.pluginDomain != nil }, into: &out)
        if let process { process.render(into: &out) }
        registry.lastRenderSize = out.count
        return out
    }

    /// Every family a render writes from the catalogue and Strimzi's names, with the bytes of everything but the
    /// values: each family's `# HELP` and `# TYPE` lines and each series' `name{labels} ` (as swift-prometheus keeps
    /// label strings rendered), or for a string attribute `name{labels,attribute="` before its escaped value.
    struct RenderPlan: Sendable {
        /// A family's series: their sources, and the bytes of their prefixes laid end to end (one buffer per
        /// family, not one per series: a render then retains a handful of buffers, not thousands). A counter's
        /// series are also written under its stripped gauge name (`gaugeHeader`, `gaugePrefixes`).
        struct Family: Sendable {
            let header: [UInt8]
            let gaugeHeader: [UInt8]
            let sources: [MetricSource]
            let prefixes: [UInt8]
            let prefixEnds: [Int]
            let gaugePrefixes: [UInt8]
            let gaugePrefixEnds: [Int]

            /// The family's lines with its sources' current values; each source is read once.
            func write(now: Int64, into out: inout [UInt8], values: inout [Double]) {
                values.removeAll(keepingCapacity: true)
                for source in sources { values.append(value(source, now: now)) }
                lines(header, prefixes, prefixEnds, values, into: &out)
                if !gaugeHeader.isEmpty { lines(gaugeHeader, gaugePrefixes, gaugePrefixEnds, values, into: &out) }
            }

            private func lines(
                _ header: [UInt8], _ prefixes: [UInt8], _ ends: [Int], _ values: [Double], into out: inout [UInt8]
            ) {
                out.append(contentsOf: header)
                prefixes.withUnsafeBufferPointer { bytes in
                    var start = 0
                    for i in ends.indices {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<ends[i]]))
                        start = ends[i]
                        if case .text(let read) = sources[i] {
                            out.append(contentsOf: escapeLabel(read()).utf8)
                            out.append(contentsOf: "\"} 1\n".utf8)
                        } else {
                            PrometheusExposition.write(values[i], to: &out)
                            out.append(UInt8(ascii: "\n"))
                        }
                    }
                }
            }
        }

        let version: MetricsRegistry.StructureVersion
        let families: [Family]
    }

    /// Collects one family's series.
    struct FamilyBuilder {
        let name: String
        let type: String
        let help: String
        /// The stripped gauge name a counter is also written under, or "".
        var gauge = ""
        var sources: [MetricSource] = []
        var prefixes: [UInt8] = []
        var prefixEnds: [Int] = []
        var gaugePrefixes: [UInt8] = []
        var gaugePrefixEnds: [Int] = []

        /// A series whose line starts with `name` + `prefix` (labels and the space, or the labels up to a string
        /// value's opening quote).
        mutating func add(_ source: MetricSource, _ prefix: String) {
            sources.append(source)
            prefixes.append(contentsOf: (name + prefix).utf8)
            prefixEnds.append(prefixes.count)
            if !gauge.isEmpty {
                gaugePrefixes.append(contentsOf: (gauge + prefix).utf8)
                gaugePrefixEnds.append(gaugePrefixes.count)
            }
        }

        /// The family, or nil when it has no series (an empty family is not written).
        func build() -> RenderPlan.Family? {
            guard !sources.isEmpty else { return nil }
            var header: [UInt8] = []
            familyHeader(&header, name: name, type: type, help: help)
            var gaugeHeader: [UInt8] = []
            if !gauge.isEmpty { familyHeader(&gaugeHeader, name: gauge, type: "gauge", help: help) }
            return RenderPlan.Family(
                header: header, gaugeHeader: gaugeHeader, sources: sources, prefixes: prefixes,
                prefixEnds: prefixEnds, gaugePrefixes: gaugePrefixes, gaugePrefixEnds: gaugePrefixEnds)
        }
    }

    /// The families in the order a render writes them: numeric attributes in catalogue order; string attributes,
    /// one family per group with the attribute as a label then one `_info` family per attribute; Strimzi's names.
    static func families(_ byName: [String: [GroupSnapshot]]) -> [RenderPlan.Family] {
        var families: [RenderPlan.Family] = []
        for def in ConnectMetricsCatalog.all where def.type != .text {
            let stem = name(of: def)
            var family = FamilyBuilder(name: stem, type: def.type == .counter ? "counter" : "gauge", help: def.help)
            if def.type == .counter { family.gauge = String(stem.dropLast("_total".count)) }
            for g in byName[def.group] ?? [] where g.hasTagKeys(def.tags) {
                guard let source = g.sources[def.attribute] else { continue }
                family.add(source, g.labels + " ")
            }
            if let built = family.build() { families.append(built) }
        }

        for (groupName, defs) in textDefinitions {
            let stem = groupFamilyName(groupName)
            var combined = FamilyBuilder(
                name: stem, type: "gauge",
                help: "String attributes of \(groupName), one series per attribute with the value as a label.")
            var perAttribute = defs.map {
                FamilyBuilder(name: stem + "_" + sanitize($0.attribute) + "_info", type: "gauge", help: $0.help)
            }
            for g in byName[groupName] ?? [] {
                for (i, def) in defs.enumerated() {
                    guard let source = g.sources[def.attribute], case .text = source else { continue }
                    let prefix = g.labelsOpen + sanitize(def.attribute) + "=\""
                    combined.add(source, prefix)
                    perAttribute[i].add(source, prefix)
                }
            }
            guard let built = combined.build() else { continue }
            families.append(built)
            families.append(contentsOf: perAttribute.compactMap { $0.build() })
        }

        for alias in strimziAliases {
            guard let def = ConnectMetricsCatalog.definition(group: alias.group, attribute: alias.attribute) else {
                continue
            }
            var family = FamilyBuilder(name: alias.alias, type: "gauge", help: def.help + " (Strimzi name)")
            for g in byName[alias.group] ?? [] where g.hasTagKeys(alias.labels) {
                guard let source = g.sources[alias.attribute] else { continue }
                // Strimzi's names carry the tags only (no `connector="aggregate"` on the worker's own series).
                let tagLabels = g.group.tags.isEmpty ? "" : g.group.promLabels
                if case .text = source {
                    family.add(
                        source, "{" + (tagLabels.isEmpty ? "" : tagLabels + ",") + sanitize(alias.attribute) + "=\"")
                } else {
                    family.add(source, (tagLabels.isEmpty ? "" : "{" + tagLabels + "}") + " ")
                }
            }
            if let built = family.build() { families.append(built) }
        }
        return families
    }

    /// The catalogue's string attributes by group, groups in name order.
    static let textDefinitions: [(group: String, defs: [MetricDefinition])] = {
        let text = ConnectMetricsCatalog.all.filter { $0.type == .text }
        return Set(text.map(\.group)).sorted().map { group in (group, text.filter { $0.group == group }) }
    }()

    /// A group as one render reads it: its attributes by name, read once, and its labels.
    struct GroupSnapshot {
        let group: MetricGroup
        let sources: [String: MetricSource]

        init(_ group: MetricGroup) {
            self.group = group
            sources = group.sourcesByAttribute
        }

        /// `{…}` with the group's tags, or nothing when it has none.
        var labels: String { group.promLabelsBraced }

        /// `{…,` with the group's tags, or `{` when it has none: the labels before one more.
        var labelsOpen: String { group.promLabels.isEmpty ? "{" : "{" + group.promLabels + "," }

        func hasTagKeys(_ keys: [String]) -> Bool { group.tags.map(\.key) == keys }
    }

    /// Plug-ins' own MBeans under the names the JMX exporter rules their dashboards ship with give them. Debezium's
    /// (`debezium.<plugin>:type=connector-metrics,context=<c>,server=<s>[,task=…][,database=…]`, rules of
    /// `debezium-examples/monitoring`) become `debezium_metrics_<Attribute>{plugin, name (the server), context, …}`,
    /// a table attribute (`RowsScanned`) one series per key with the key as `table`; any other domain
    /// `<domain>_<type>_<Attribute>` with the key properties as labels and a table's key as `key`. Booleans are 1 or 0;
    /// strings are left out, as the JMX exporter leaves them (Jolokia serves them). An attribute whose name ends in
    /// `-total` is a counter, any other a gauge.
    static func renderPluginMBeans(_ groups: [MetricGroup], into out: inout [UInt8]) {
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

    /// The current numeric value of a source (NaN for string gauges).
    public static func valueOf(_ source: MetricSource) -> Double { value(source) }

    static func value(_ source: MetricSource, now: Int64? = nil) -> Double {
        switch source {
        case .sensor(let s, let kind): return now.map { s.measure(kind, at: $0) } ?? s.measure(kind)
        case .gauge(let read): return read()
        case .flag(let read): return read() ? 1 : 0
        case .text, .table: return .nan
        }
    }

    static func family(
        _ out: inout [UInt8], name: String, type: String, help: String, samples: [(labels: String, value: Double)]
    ) {
        familyHeader(&out, name: name, type: type, help: help)
        for s in samples {
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: s.labels.utf8)
            out.append(UInt8(ascii: " "))
            write(s.value, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// A family's `# HELP` and `# TYPE` lines.
    static func familyHeader(_ out: inout [UInt8], name: String, type: String, help: String) {
        out.append(contentsOf: "# HELP ".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: escapeHelp(help).utf8)
        out.append(contentsOf: "\n# TYPE ".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: type.utf8)
        out.append(UInt8(ascii: "\n"))
    }

    /// `format(v)` appended as bytes; whole numbers digit by digit, without a String.
    public static func write(_ v: Double, to out: inout [UInt8]) {
        guard v == v.rounded() && abs(v) < 1e15 else {
            out.append(contentsOf: format(v).utf8)
            return
        }
        var n = Int64(v)
        if n < 0 {
            out.append(UInt8(ascii: "-"))
            n = -n
        }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            } while n > 0
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(d[i]) }
        }
    }

    /// `-` and other characters outside `[a-zA-Z0-9_:]` become `_`.
    public static func sanitize(_ s: String) -> String {
        // Most names are plain ASCII already: checked on bytes, returned as they are.
        if s.utf8.allSatisfy(isNameByte) { return s }
        // ASCII without "\r" (Swift reads "\r\n" as one Character, which the Character path makes one "_").
        if s.utf8.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) {
            return String(decoding: s.utf8.map { isNameByte($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
        }
        return String(s.map { c in (c.isASCII && (c.isLetter || c.isNumber)) || c == "_" || c == ":" ? c : "_" })
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x3A
    }

    public static func escapeLabel(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) { return s }
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
        if !s.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A }) { return s }
        return s.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
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

    func render(into out: inout [UInt8]) {
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
