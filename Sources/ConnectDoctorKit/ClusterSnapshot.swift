import ConnectAPI
import Foundation
import JSON

/// Everything the doctor reads from a cluster at one moment, per worker: whether it answered, `GET /`, `/health`,
/// every connector's status and configuration (secrets redacted), failure histories (a Swift Connect extension) and
/// the `/metrics` text. It is also the support bundle: `bundle` writes it, `check --bundle` diagnoses it offline.
public struct ClusterSnapshot: Sendable {
    public struct Connector: Sendable {
        public var name: String
        /// `GET /connectors/{name}/status`.
        public var status: JSONValue
        /// `GET /connectors/{name}` (`name`, `config`, `tasks`, `type`), the config redacted.
        public var info: JSONValue?
        /// `GET /connectors/{name}/history` when the worker has it.
        public var history: JSONValue?

        public init(name: String, status: JSONValue, info: JSONValue?, history: JSONValue?) {
            self.name = name
            self.status = status
            self.info = info
            self.history = history
        }
    }

    public struct Worker: Sendable {
        public var url: String
        /// Why the worker could not be read (nil when it answered `GET /`).
        public var error: String?
        /// What a worker that answered `GET /` did not answer afterwards (a request that timed out while its herder
        /// was busy, say): the snapshot holds what came before.
        public var incomplete: String?
        public var root: JSONValue?
        public var healthStatus: Int?
        public var health: JSONValue?
        public var connectors: [Connector]
        /// The Prometheus text of `/metrics`, when the worker serves it.
        public var metrics: String?
        /// `GET /cluster` (a Swift Connect extension): the group's workers and what each runs, as this worker sees it.
        public var cluster: JSONValue?
        /// `GET /cluster?scope=worker`: the worker's own generation, membership and work (for zombies).
        public var ownView: JSONValue?

        public init(
            url: String, error: String? = nil, root: JSONValue? = nil, healthStatus: Int? = nil,
            health: JSONValue? = nil,
            connectors: [Connector], metrics: String? = nil
        ) {
            self.url = url
            self.error = error
            self.root = root
            self.healthStatus = healthStatus
            self.health = health
            self.connectors = connectors
            self.metrics = metrics
        }
    }

    public static let bundleVersion: Int64 = 1

    /// When it was taken, in epoch milliseconds: "now" for every time-based rule, so a bundle diagnosed later gives
    /// the findings it gave then.
    public var takenAtMs: Int64
    public var workers: [Worker]

    public init(takenAtMs: Int64, workers: [Worker]) {
        self.takenAtMs = takenAtMs
        self.workers = workers
    }

    /// Reads every worker. A worker that does not answer is recorded with its error, not thrown.
    /// Reads every worker given and every other worker their `GET /cluster` names (so one worker's URL is enough
    /// for a Swift Connect cluster; Apache Kafka Connect's workers must each be given).
    public static func collect(_ clients: [ConnectClient], now: Date = Date()) -> ClusterSnapshot {
        ClusterSnapshot(takenAtMs: Int64(now.timeIntervalSince1970 * 1000), workers: discover(clients).map(worker))
    }

    /// `clients`, then a client (same credentials) for each worker a given one's `GET /cluster` lists that was not
    /// given; a worker without the endpoint, or that cannot be reached, adds nothing.
    public static func discover(_ clients: [ConnectClient]) -> [ConnectClient] {
        func key(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
        var known = Set(clients.map { key($0.baseURL) })
        var out = clients
        for client in clients {
            guard let r = try? client.get("/cluster"), r.status == 200,
                let view = try? JSONParser.parse(r.body)
            else { continue }
            for url in (view["workers"]?.arrayValue ?? []).compactMap({ $0["url"]?.stringValue }) {
                guard known.insert(key(url)).inserted else { continue }
                out.append(client.sibling(baseURL: url))
            }
        }
        return out
    }

    static func worker(_ client: ConnectClient) -> Worker {
        var w = Worker(url: client.baseURL, connectors: [])
        func json(_ path: String) throws -> (Int, JSONValue?) {
            let r = try client.get(path)
            return (r.status, try? JSONParser.parse(r.body))
        }
        do {
            let (rootStatus, root) = try json("/")
            guard rootStatus == 200 else {
                w.error = "GET / answered HTTP \(rootStatus)" + (root?["message"]?.stringValue.map { ": \($0)" } ?? "")
                return w
            }
            w.root = root
        } catch {
            w.error = "\(error)"
            return w
        }
        // The worker answers at its URL: a later request that fails leaves the snapshot incomplete, not the worker
        // unreachable. The cluster views first: a worker back from a freeze shows its stale generation only until
        // its herder rejoins, and `/health` waits for that herder.
        do {
            let (clusterStatus, cluster) = try json("/cluster")
            if clusterStatus == 200 { w.cluster = cluster }
            let (ownStatus, own) = try json("/cluster?scope=worker")
            if ownStatus == 200 { w.ownView = own }
            let (healthStatus, health) = try json("/health")
            if healthStatus != 404 {
                w.healthStatus = healthStatus
                w.health = health
            }
            let (_, names) = try json("/connectors")
            for name in (names?.arrayValue ?? []).compactMap(\.stringValue).sorted() {
                let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
                let (statusCode, status) = try json("/connectors/\(escaped)/status")
                guard statusCode == 200, let status else { continue }
                let (_, info) = try json("/connectors/\(escaped)")
                let (historyCode, history) = try json("/connectors/\(escaped)/history")
                w.connectors.append(
                    Connector(
                        name: name, status: status, info: info.map(Connector.redacted),
                        history: historyCode == 200 ? history : nil))
            }
            let metrics = try client.get("/metrics")
            if metrics.status == 200 { w.metrics = metrics.body }
        } catch {
            w.incomplete = "\(error)"
        }
        return w
    }

}

extension ClusterSnapshot.Connector {
    /// `GET /connectors/{name}` with secret values replaced by `[redacted]` (provider references and Swift Connect's
    /// `[hidden]` kept as they are).
    public static func redacted(_ info: JSONValue) -> JSONValue {
        guard var o = info.objectValue, let config = info["config"]?.objectValue else { return info }
        var redacted = JSONObject()
        for (k, v) in config {
            let text = v.stringValue ?? ""
            let secret =
                SecretRedaction.isSecret(k) && !SecretRedaction.isReference(text) && text != SecretRedaction.hidden
            redacted[k] = secret ? "[redacted]" : v
        }
        o["config"] = .object(redacted)
        return .object(o)
    }
}

extension ClusterSnapshot {
    // MARK: - Bundle

    public var json: String {
        var o = JSONObject()
        o["bundle_version"] = .int(Self.bundleVersion)
        o["tool"] = "connect-doctor"
        o["taken_at_ms"] = .int(takenAtMs)
        o["workers"] = .array(
            workers.map { w in
                var x = JSONObject()
                x["url"] = .string(w.url)
                x["error"] = w.error.map { .string($0) } ?? .null
                x["incomplete"] = w.incomplete.map { .string($0) } ?? .null
                x["root"] = w.root ?? .null
                x["health_status"] = w.healthStatus.map { .int(Int64($0)) } ?? .null
                x["health"] = w.health ?? .null
                x["connectors"] = .array(
                    w.connectors.map { c in
                        [
                            "name": .string(c.name), "status": c.status, "info": c.info ?? .null,
                            "history": c.history ?? .null,
                        ]
                    })
                x["metrics"] = w.metrics.map { .string($0) } ?? .null
                x["cluster"] = w.cluster ?? .null
                x["cluster_own"] = w.ownView ?? .null
                return .object(x)
            })
        return JSONWriter.string(.object(o))
    }

    public init(bundle text: String) throws {
        let root = try JSONParser.parse(text)
        guard root["tool"]?.stringValue == "connect-doctor", let version = root["bundle_version"]?.intValue else {
            throw DoctorError("not a connect-doctor bundle")
        }
        guard version <= Self.bundleVersion else {
            throw DoctorError(
                "bundle version \(version) is newer than this connect-doctor reads (\(Self.bundleVersion))")
        }
        func present(_ v: JSONValue?) -> JSONValue? { v.flatMap { $0.isNull ? nil : $0 } }
        takenAtMs = root["taken_at_ms"]?.intValue ?? 0
        workers = (root["workers"]?.arrayValue ?? []).map { w in
            var worker = Worker(
                url: w["url"]?.stringValue ?? "", error: w["error"]?.stringValue, root: present(w["root"]),
                healthStatus: w["health_status"]?.intValue.map(Int.init), health: present(w["health"]),
                connectors: (w["connectors"]?.arrayValue ?? []).map { c in
                    Connector(
                        name: c["name"]?.stringValue ?? "", status: c["status"] ?? .null, info: present(c["info"]),
                        history: present(c["history"]))
                }, metrics: w["metrics"]?.stringValue)
            worker.cluster = present(w["cluster"])
            worker.ownView = present(w["cluster_own"])
            worker.incomplete = w["incomplete"]?.stringValue
            return worker
        }
    }
}
