import ConnectMetrics
import Foundation
import HTTPServer
import JSON

/// MBean-shaped JSON over the metrics registry, following the Jolokia protocol's GET forms, so JMX-minded tools can read
/// Connect's metrics by ObjectName (`kafka.connect:type=connector-task-metrics,connector=my-sink,task=0`):
/// `GET /jolokia/read/<pattern>[/<attribute>]`, `GET /jolokia/search/<pattern>`, `GET /jolokia/list`.
/// Responses carry Jolokia's envelope: `request`, `value`, `timestamp` (epoch seconds), `status`.
enum JolokiaResource {
    static func addRoutes(_ router: inout Router, _ metrics: MetricsRegistry) {
        router.add("GET", "/jolokia/read/{mbean}") { _, p in read(metrics, pattern: p["mbean"]!, attribute: nil) }
        router.add("GET", "/jolokia/read/{mbean}/{attribute}") { _, p in
            read(metrics, pattern: p["mbean"]!, attribute: p["attribute"])
        }
        router.add("GET", "/jolokia/search/{mbean}") { _, p in search(metrics, pattern: p["mbean"]!) }
        router.add("GET", "/jolokia/list") { _, _ in list(metrics) }
    }

    /// A parsed ObjectName or ObjectName pattern.
    struct ObjectNamePattern {
        let domain: String
        let properties: [(key: String, value: String)]
        /// A trailing `*` property: other keys may be present.
        let open: Bool

        init?(_ text: String) {
            // Jolokia escapes `/` inside names as `!/`.
            let t = text.replacing("!/", with: "/")
            guard let colon = t.firstIndex(of: ":") else { return nil }
            domain = String(t[..<colon])
            var props: [(String, String)] = []
            var open = false
            for part in t[t.index(after: colon)...].split(separator: ",") {
                if part == "*" {
                    open = true
                    continue
                }
                let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { return nil }
                props.append((kv[0], kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))))
            }
            properties = props
            self.open = open
        }

        /// Whether a group's MBean name matches: its domain, and its key properties `type` (the group's name) and
        /// then its tags.
        func matches(_ g: MetricGroup) -> Bool {
            guard glob(domain, g.domain) else { return false }
            for (k, v) in properties {
                let actual = k == "type" ? g.name : g.tags.first(where: { $0.key == k })?.value
                guard let actual, glob(v, actual) else { return false }
            }
            return open || g.tags.count + 1 == properties.count
        }

        /// `*` matches any run of characters, `?` one character.
        func glob(_ pattern: String, _ text: String) -> Bool {
            // Most reads name one MBean: no wildcard, plain equality.
            if !pattern.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }) {
                return pattern == text
            }
            let p = Array(pattern)
            let t = Array(text)
            var memo: [Int: Bool] = [:]
            func go(_ i: Int, _ j: Int) -> Bool {
                if let m = memo[i * (t.count + 1) + j] { return m }
                let r: Bool
                if i == p.count {
                    r = j == t.count
                } else if p[i] == "*" {
                    r = go(i + 1, j) || (j < t.count && go(i, j + 1))
                } else {
                    r = j < t.count && (p[i] == "?" || p[i] == t[j]) && go(i + 1, j + 1)
                }
                memo[i * (t.count + 1) + j] = r
                return r
            }
            return go(0, 0)
        }
    }

    /// The MBeans: Connect's groups, the Kafka clients' and the plug-ins' own (Debezium's connector metrics); this
    /// project's extension groups are served by /metrics only.
    static func mbeans(_ metrics: MetricsRegistry) -> [(name: String, group: MetricGroup)] {
        mbeanGroups(metrics).map { ($0.objectName, $0) }
    }

    /// The groups of `mbeans`, without building their names.
    static func mbeanGroups(_ metrics: MetricsRegistry) -> [MetricGroup] {
        metrics.allGroups.filter { $0.pluginDomain != nil || connectGroups.contains($0.name) }
    }

    /// The MBean an ObjectName without wildcards names, found by its registry key when its key properties are in
    /// the group's tag order (as tools write them: `type`, then `connector`, then `task`); nil sends the caller to
    /// the scan of every MBean, which also finds names written in another order.
    static func exactGroup(_ metrics: MetricsRegistry, _ name: ObjectNamePattern) -> MetricGroup? {
        guard !name.open, name.properties.first?.key == "type",
            !(name.domain + name.properties.map { $0.value }.joined()).contains(where: { $0 == "*" || $0 == "?" })
        else { return nil }
        let type = name.properties[0].value
        let tags = Array(name.properties.dropFirst())
        for domain in [nil, name.domain] {
            if let g = metrics.existingGroup(type, tags: tags, pluginDomain: domain),
                g.pluginDomain != nil || connectGroups.contains(g.name), name.matches(g)
            {
                return g
            }
        }
        return nil
    }

    private static let connectGroups = Set(ConnectMetricsCatalog.all.filter { !$0.isExtension }.map(\.group))

    static func attributeValue(_ source: MetricSource) -> JSONValue {
        switch source {
        case .text(let read): return .string(read())
        case .flag(let read): return .bool(read())
        case .table(let read):
            return .object(JSONObject(read().map { ($0.key, attributeValue(.gauge { [v = $0.value] in v })) }))
        default:
            let v = PrometheusExposition.valueOf(source)
            // JSON has no NaN or infinity; Jolokia clients read null as "no value".
            return v.isFinite ? (v == v.rounded() && abs(v) < 1e15 ? .int(Int64(v)) : .double(v)) : .null
        }
    }

    static func attributes(_ g: MetricGroup) -> JSONValue {
        .object(JSONObject(g.all.map { ($0.attribute, attributeValue($0.source)) }))
    }

    static func envelope(_ request: JSONValue, _ value: JSONValue, status: Int = 200) -> HTTPResponse {
        ConnectRestServer.json(
            200,
            [
                "request": request, "value": value, "timestamp": .int(Int64(Date().timeIntervalSince1970)),
                "status": .int(Int64(status)),
            ])
    }

    static func error(_ request: JSONValue, _ type: String, _ message: String, status: Int) -> HTTPResponse {
        ConnectRestServer.json(
            200,
            [
                "request": request, "error_type": .string(type), "error": .string("\(type) : \(message)"),
                "status": .int(Int64(status)),
            ])
    }

    static func read(_ metrics: MetricsRegistry, pattern: String, attribute: String?) -> HTTPResponse {
        var request: JSONValue = ["mbean": .string(pattern), "type": "read"]
        if let attribute, case .object(var o) = request {
            o["attribute"] = .string(attribute)
            request = .object(o)
        }
        guard let parsed = ObjectNamePattern(pattern) else {
            return error(
                request, "javax.management.MalformedObjectNameException", "Invalid ObjectName \(pattern)", status: 400)
        }
        let matched = (exactGroup(metrics, parsed).map { [$0] } ?? mbeanGroups(metrics).filter(parsed.matches)).map {
            (name: $0.objectName, group: $0)
        }
        guard !matched.isEmpty else {
            return error(request, "javax.management.InstanceNotFoundException", pattern, status: 404)
        }
        let isPattern = pattern.contains("*") || pattern.contains("?")
        func value(_ g: MetricGroup) -> JSONValue? {
            guard let attribute else { return attributes(g) }
            return g.all.first { $0.attribute == attribute }.map { attributeValue($0.source) }
        }
        if !isPattern, let only = matched.first {
            guard let v = value(only.group) else {
                return error(
                    request, "javax.management.AttributeNotFoundException", "No such attribute: \(attribute ?? "")",
                    status: 404)
            }
            return envelope(request, v)
        }
        var out = JSONObject()
        for m in matched.sorted(by: { $0.name < $1.name }) {
            guard let v = value(m.group) else { continue }
            out[m.name] = attribute == nil ? v : .object(JSONObject([(attribute!, v)]))
        }
        return envelope(request, .object(out))
    }

    static func search(_ metrics: MetricsRegistry, pattern: String) -> HTTPResponse {
        let request: JSONValue = ["mbean": .string(pattern), "type": "search"]
        guard let parsed = ObjectNamePattern(pattern) else {
            return error(
                request, "javax.management.MalformedObjectNameException", "Invalid ObjectName \(pattern)", status: 400)
        }
        let names = mbeanGroups(metrics).filter(parsed.matches).map(\.objectName).sorted()
        return envelope(request, .array(names.map { .string($0) }))
    }

    static func list(_ metrics: MetricsRegistry) -> HTTPResponse {
        var domains: [String: JSONObject] = [:]
        for m in mbeans(metrics).sorted(by: { $0.name < $1.name }) {
            let key = String(m.name.dropFirst(m.group.domain.count + 1))
            var attrs = JSONObject()
            for a in m.group.all {
                let def = ConnectMetricsCatalog.definition(group: m.group.name, attribute: a.attribute)
                let type: String =
                    switch a.source {
                    case .text: "java.lang.String"
                    case .flag: "boolean"
                    case .table: "java.util.Map"
                    default: "double"
                    }
                attrs[a.attribute] = ["type": .string(type), "desc": .string(def?.help ?? ""), "rw": false]
            }
            domains[m.group.domain, default: JSONObject()][key] = [
                "desc": .string(m.group.name), "attr": .object(attrs),
            ]
        }
        return envelope(
            ["type": "list"], .object(JSONObject(domains.keys.sorted().map { ($0, .object(domains[$0]!)) })))
    }
}
