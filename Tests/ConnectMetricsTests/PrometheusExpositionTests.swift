import ConnectMetrics
import Foundation
import Testing

@Suite struct PrometheusExpositionTests {
    func registry() -> (MetricsRegistry, ManualClock) {
        let clock = ManualClock()
        let r = MetricsRegistry(config: MetricConfig(), clock: clock)
        let worker = r.group(ConnectMetricsCatalog.workerGroup)
        worker.add("connector-count", .gauge { 2 })
        let startups = r.sensor(worker, [("connector-startup-attempts-total", .count)])
        startups.record()
        startups.record()
        let conn = r.group(ConnectMetricsCatalog.connectorGroup, tags: [("connector", "my \"sink\"")])
        conn.add("status", .text { "running" })
        conn.add("connector-type", .text { "sink" })
        let task = r.group(ConnectMetricsCatalog.taskGroup, tags: [("connector", "my \"sink\""), ("task", "0")])
        task.add("status", .text { "running" })
        _ = r.sensor(task, [("batch-size-avg", .avg)])
        return (r, clock)
    }

    @Test("Connect names, aggregate label, counters with and without _total, NaN for empty windows")
    func numericFamilies() {
        let text = PrometheusExposition.render(registry().0, process: nil)
        #expect(
            text.contains(
                "# TYPE kafka_connect_connect_worker_metrics_connector_count gauge\nkafka_connect_connect_worker_metrics_connector_count{connector=\"aggregate\"} 2\n"
            ))
        #expect(
            text.contains(
                "# TYPE kafka_connect_connect_worker_metrics_connector_startup_attempts_total counter\nkafka_connect_connect_worker_metrics_connector_startup_attempts_total{connector=\"aggregate\"} 2\n"
            ))
        #expect(
            text.contains(
                "# TYPE kafka_connect_connect_worker_metrics_connector_startup_attempts gauge\nkafka_connect_connect_worker_metrics_connector_startup_attempts{connector=\"aggregate\"} 2\n"
            ))
        #expect(
            text.contains(
                "kafka_connect_connector_task_metrics_batch_size_avg{connector=\"my \\\"sink\\\"\",task=\"0\"} NaN\n"))
    }

    @Test("string attributes in both the per-group and the _info forms, with escaped labels")
    func textFamilies() {
        let text = PrometheusExposition.render(registry().0, process: nil)
        #expect(text.contains("kafka_connect_connector_metrics{connector=\"my \\\"sink\\\"\",status=\"running\"} 1\n"))
        #expect(
            text.contains("kafka_connect_connector_metrics{connector=\"my \\\"sink\\\"\",connector_type=\"sink\"} 1\n"))
        #expect(
            text.contains(
                "# TYPE kafka_connect_connector_metrics_status_info gauge\nkafka_connect_connector_metrics_status_info{connector=\"my \\\"sink\\\"\",status=\"running\"} 1\n"
            ))
        #expect(
            text.contains(
                "kafka_connect_connector_task_metrics_status_info{connector=\"my \\\"sink\\\"\",task=\"0\",status=\"running\"} 1\n"
            ))
    }

    @Test("every family has one HELP and one TYPE before its samples, and the output ends with a newline")
    func wellFormed() {
        let text = PrometheusExposition.render(registry().0)
        #expect(text.hasSuffix("\n"))
        var typed = Set<String>()
        var lastFamily = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let name = String(line.split(separator: " ")[2])
                #expect(!typed.contains(name), "\(name) typed twice")
                typed.insert(name)
                lastFamily = name
            } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(name == lastFamily, "\(name) sample outside its family")
            }
        }
        #expect(typed.contains("process_cpu_seconds_total"))
        #expect(typed.contains("process_resident_memory_bytes"))
        #expect(typed.contains("process_open_fds"))
    }

    @Test("promtool check metrics finds nothing but the _count suffix of Connect's own attribute names")
    func promtool() throws {
        let promtool = "/usr/bin/promtool"
        try #require(FileManager.default.isExecutableFile(atPath: promtool), "promtool is installed by scripts/install")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: promtool)
        p.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        input.fileHandleForWriting.write(Data(PrometheusExposition.render(registry().0).utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        // Connect names gauges `connector-count`, `task-count`, `*-active-count`, ...; dashboards query exactly those
        // names, so they are kept although promtool's lint prefers `_count` for histograms and summaries only.
        let connectCountNames = Set(
            ConnectMetricsCatalog.all.filter { $0.attribute.hasSuffix("-count") }.map(PrometheusExposition.name(of:))
                + PrometheusExposition.strimziAliases.map(\.alias).filter { $0.hasSuffix("_count") })
        let problems = report.split(separator: "\n").filter { line in
            guard line.hasSuffix("non-histogram and non-summary metrics should not have \"_count\" suffix") else {
                return true
            }
            return !connectCountNames.contains(String(line.prefix { $0 != " " }))
        }
        #expect(problems.isEmpty, "promtool said: \(problems)")
    }

    @Test("Strimzi's names are emitted as aliases of the same values")
    func strimzi() {
        let text = PrometheusExposition.render(registry().0, process: nil)
        #expect(text.contains("kafka_connect_worker_connector_count 2\n"))
        #expect(text.contains("kafka_connect_connector_status{connector=\"my \\\"sink\\\"\",status=\"running\"} 1\n"))
        #expect(
            text.contains(
                "kafka_connect_connector_task_status{connector=\"my \\\"sink\\\"\",task=\"0\",status=\"running\"} 1\n"))
    }

    @Test("the catalogue names every family the exposition emits, with no duplicates")
    func catalogCoversOutput() {
        // A registry with every catalogued attribute of every group registered.
        let r = MetricsRegistry()
        for def in ConnectMetricsCatalog.all {
            let tags: [(key: String, value: String)] = def.tags.map { ($0, $0 == "task" ? "0" : "c") }
            r.group(def.group, tags: tags).add(def.attribute, def.type == .text ? .text { "running" } : .gauge { 1 })
        }
        let emitted = Set(
            PrometheusExposition.render(r).split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map {
                String($0.split(separator: " ")[2])
            })
        let catalog = PrometheusExposition.catalog().map(\.name)
        #expect(Set(catalog).count == catalog.count)
        #expect(emitted.subtracting(catalog).isEmpty, "not in the catalogue: \(emitted.subtracting(catalog).sorted())")
        #expect(
            Set(catalog).subtracting(emitted).isEmpty,
            "catalogued but never emitted: \(Set(catalog).subtracting(emitted).sorted())")
    }

    @Test("groups disappear when removed")
    func removal() {
        let (r, _) = registry()
        let g = r.group(ConnectMetricsCatalog.connectorGroup, tags: [("connector", "my \"sink\"")])
        r.remove(g)
        #expect(!PrometheusExposition.render(r, process: nil).contains("kafka_connect_connector_metrics_status_info"))
    }

    @Test("plug-in MBeans: Debezium's under its exporter rules' names, others by domain and type; strings left out")
    func pluginMBeans() {
        let r = MetricsRegistry()
        let streaming = r.group(
            "connector-metrics", tags: [("context", "streaming"), ("server", "asgard")], pluginDomain: "debezium.mysql")
        streaming.add("MilliSecondsBehindSource", .gauge { 1500 })
        streaming.add("Connected", .flag { true })
        streaming.add("LastEvent", .text { "op=c" })
        let snapshot = r.group(
            "connector-metrics", tags: [("context", "snapshot"), ("server", "asgard")], pluginDomain: "debezium.mysql")
        snapshot.add("RowsScanned", .table { [("demo.ORDERS", 3), ("demo.CUSTOMERS", 2)] })
        snapshot.add("Connected", .flag { false })
        let other = r.group("pool", tags: [("name", "main")], pluginDomain: "com.example")
        other.add("Active", .gauge { 4 })
        // A Connect group of the same type name is not mixed with the plug-in's.
        r.group(ConnectMetricsCatalog.connectorGroup, tags: [("connector", "c")]).add("status", .text { "running" })
        let text = PrometheusExposition.render(r, process: nil)
        #expect(
            text.contains(
                "debezium_metrics_MilliSecondsBehindSource{plugin=\"mysql\",context=\"streaming\",name=\"asgard\"} 1500\n"
            ))
        #expect(
            text.contains(
                "# TYPE debezium_metrics_Connected gauge\ndebezium_metrics_Connected{plugin=\"mysql\",context=\"streaming\",name=\"asgard\"} 1\ndebezium_metrics_Connected{plugin=\"mysql\",context=\"snapshot\",name=\"asgard\"} 0\n"
            ) || text.contains("debezium_metrics_Connected{plugin=\"mysql\",context=\"snapshot\",name=\"asgard\"} 0\n"))
        #expect(
            text.contains(
                "debezium_metrics_RowsScanned{plugin=\"mysql\",context=\"snapshot\",name=\"asgard\",table=\"demo.ORDERS\"} 3\n"
            ))
        #expect(!text.contains("LastEvent"))
        #expect(text.contains("com_example_pool_Active{name=\"main\"} 4\n"))
        #expect(text.components(separatedBy: "# TYPE debezium_metrics_Connected ").count == 2)
        #expect(text.contains("kafka_connect_connector_metrics{connector=\"c\",status=\"running\"} 1\n"))
        #expect(!text.contains("kafka_connect_connector_metrics{context="))
    }

    @Test("the byte fast paths write what the straightforward String code writes, on many generated names and values")
    func fastPathsMatch() {
        // The straightforward forms, as the exposition first wrote them.
        func sanitizeByCharacter(_ s: String) -> String {
            String(s.map { c in (c.isASCII && (c.isLetter || c.isNumber)) || c == "_" || c == ":" ? c : "_" })
        }
        func escapeByCharacter(_ s: String) -> String {
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
        let alphabet = Array("aZ09_:-. \"\\\n\r/é€😀")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let s = String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            #expect(PrometheusExposition.sanitize(s) == sanitizeByCharacter(s), "\(s)")
            #expect(PrometheusExposition.escapeLabel(s) == escapeByCharacter(s), "\(s)")
        }
        var values: [Double] = [
            0, -0.0, 1, -1, 1e15 - 1, -(1e15 - 1), 1e15, 0.5, .nan, .infinity, -.infinity, 123_456_789,
        ]
        for _ in 0..<2000 {
            values.append(Double(Int64.random(in: -1_000_000_000_000_000...1_000_000_000_000_000, using: &rng)))
            values.append(Double.random(in: -1e6...1e6, using: &rng))
        }
        let r = MetricsRegistry()
        let g = r.group("connector-metrics", tags: [("connector", "c")])
        for (i, v) in values.enumerated() { g.add("v\(i)", .gauge { v }) }
        for v in values {
            var bytes: [UInt8] = []
            PrometheusExposition.write(v, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == PrometheusExposition.format(v), "\(v)")
        }
        #expect(
            PrometheusExposition.render(r, process: nil).utf8.elementsEqual(
                PrometheusExposition.renderBytes(r, process: nil)))
    }

    /// One step of a generated worker's life: a group appears, gains or replaces an attribute, or goes.
    enum Step {
        case add(group: Int, attribute: Int, value: Double, text: String)
        case remove(group: Int)
    }

    /// Group `i` of a generated worker: one of the catalogue's groups with tags to match, names with the
    /// characters labels escape.
    static func groupKey(_ i: Int) -> (name: String, tags: [(key: String, value: String)]) {
        let names = ["orders", "my \"sink\"", "back\\slash", "new\nline", "café", "a-b.c"]
        let connector = names[i % names.count] + String(i / names.count)
        switch i % 5 {
        case 0: return (ConnectMetricsCatalog.workerGroup, i % 10 == 0 ? [] : [("connector", connector)])
        case 1: return (ConnectMetricsCatalog.connectorGroup, [("connector", connector)])
        case 2: return (ConnectMetricsCatalog.taskGroup, [("connector", connector), ("task", String(i % 3))])
        case 3: return (ConnectMetricsCatalog.sourceTaskGroup, [("connector", connector), ("task", String(i % 3))])
        default: return (ConnectMetricsCatalog.taskErrorGroup, [("connector", connector), ("task", String(i % 3))])
        }
    }

    /// Applies steps to a registry.
    static func apply(_ steps: [Step], to r: MetricsRegistry) {
        for step in steps {
            switch step {
            case .add(let i, let a, let value, let text):
                let key = groupKey(i)
                let defs = ConnectMetricsCatalog.all.filter { $0.group == key.name }
                let def = defs[a % defs.count]
                let g = r.group(key.name, tags: key.tags)
                switch def.type {
                case .text: g.add(def.attribute, .text { text })
                default: g.add(def.attribute, .gauge { value })
                }
            case .remove(let i):
                let key = groupKey(i)
                r.remove(r.group(key.name, tags: key.tags))
            }
        }
    }

    @Test("a render after groups and attributes change step by step is the render of the final worker built at once")
    func renderPlanFollowsChanges() {
        var state: UInt64 = 2_026_1203
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        let values: [Double] = [0, 1, -2, 0.5, 1e-7, 3.25e20, .nan, .infinity, -.infinity, 123_456_789]
        let texts = ["running", "PAUSED", "with \"quotes\"", "back\\slash\nnew line", "ünïcode"]
        let live = MetricsRegistry(config: MetricConfig(), clock: ManualClock())
        var steps: [Step] = []
        for _ in 0..<60 {
            var round: [Step] = []
            for _ in 0..<(1 + next(8)) {
                if next(6) == 0 {
                    round.append(.remove(group: next(40)))
                } else {
                    round.append(
                        .add(
                            group: next(40), attribute: next(50), value: values[next(values.count)],
                            text: texts[next(texts.count)]))
                }
            }
            Self.apply(round, to: live)
            steps += round
            let rendered = PrometheusExposition.render(live, process: nil)
            let fresh = MetricsRegistry(config: MetricConfig(), clock: ManualClock())
            Self.apply(steps, to: fresh)
            #expect(rendered == PrometheusExposition.render(fresh, process: nil), "after \(steps.count) steps")
            // A render with nothing changed (the plan kept) is the same too.
            #expect(PrometheusExposition.render(live, process: nil) == rendered)
        }
    }
}
