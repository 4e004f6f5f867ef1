import ConnectMetrics

#if canImport(Glibc)
    import Glibc
#endif

// Measures the cost of recording into a sensor (the per-record hot path) and of rendering /metrics for a large
// worker. Run: swift run -c release connect-metrics-bench

func fixed(_ v: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (v * scale).rounded() / scale
    return String(r)
}

func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

let registry = MetricsRegistry()
let group = registry.group(ConnectMetricsCatalog.sourceTaskGroup, tags: [("connector", "bench"), ("task", "0")])
let sensor = registry.sensor(group, [("source-record-write-rate", .rate), ("source-record-write-total", .total)])

let n = 10_000_000
var start = nowNs()
for _ in 0..<n { sensor.record() }
let perRecord = Double(nowNs() - start) / Double(n)

// The source loop records once per batch, not per record: per-record cost at a batch of 1000.
let batches = 100_000
start = nowNs()
for _ in 0..<batches { sensor.record(1000) }
let perBatchRecord = Double(nowNs() - start) / Double(batches * 1000)

// A worker with 100 connectors of 4 tasks each, every catalogued task attribute registered.
let big = MetricsRegistry()
for c in 0..<100 {
    let name = "connector-\(c)"
    for def in ConnectMetricsCatalog.all where def.tags == ["connector"] {
        big.group(def.group, tags: [("connector", name)]).add(
            def.attribute, def.type == .text ? .text { "running" } : .gauge { 1 })
    }
    for t in 0..<4 {
        for def in ConnectMetricsCatalog.all where def.tags == ["connector", "task"] {
            let g = big.group(def.group, tags: [("connector", name), ("task", String(t))])
            if def.type == .text {
                g.add(def.attribute, .text { "running" })
            } else {
                big.sensor(g, [(def.attribute, .avg)]).record(5)
            }
        }
    }
}
_ = PrometheusExposition.renderBytes(big)
let renders = 20
start = nowNs()
var bytes = 0
for _ in 0..<renders { bytes = PrometheusExposition.renderBytes(big).count }
let renderMs = Double(nowNs() - start) / Double(renders) / 1e6

print("| Measure | Value |")
print("|---|---:|")
print("| Sensor.record, one event (rate + total) | \(fixed(perRecord, 1)) ns |")
print("| per record when recorded once per batch of 1000 | \(fixed(perBatchRecord, 3)) ns |")
print("| /metrics render, 100 connectors × 4 tasks | \(fixed(renderMs, 1)) ms (\(bytes / 1024) KiB) |")
