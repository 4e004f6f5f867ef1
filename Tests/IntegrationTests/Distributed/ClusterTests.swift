import ConnectAPI
import ConnectDoctorKit
import ConnectREST
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPClient
import HTTPServer
import JSON
import Kafka
import Logging
import Synchronization
import Testing

@testable import ConnectRuntime

/// Workers of one group on the shared Tansu broker, in this process, each with its own REST port.
struct TestCluster {
    let group: String
    let dir: URL
    var workers: [Connect?] = []

    init(_ name: String) throws {
        group = "\(name)-\(UInt32.random(in: 0...UInt32.max))"
        dir = try ProjectPaths.temporaryDirectory(name)
    }

    func properties(_ extra: [String: String] = [:]) -> [String: String] {
        var p = WorkerFixture.properties(dir)
        p["offset.storage.file.filename"] = nil
        for (k, v) in [
            "group.id": group, "config.storage.topic": "\(group)-configs", "offset.storage.topic": "\(group)-offsets",
            "status.storage.topic": "\(group)-status", "config.storage.replication.factor": "1",
            "offset.storage.replication.factor": "1", "status.storage.replication.factor": "1",
            "offset.storage.partitions": "3", "status.storage.partitions": "2", "heartbeat.interval.ms": "1000",
            "session.timeout.ms": "6000", "rebalance.timeout.ms": "20000", "scheduled.rebalance.max.delay.ms": "4000",
        ] {
            p[k] = v
        }
        for (k, v) in extra { p[k] = v }
        return p
    }

    mutating func startWorker(_ extra: [String: String] = [:]) throws {
        workers.append(
            try ConnectDistributed.start(
                workerProperties: nil, extraProperties: properties(extra), logLevel: "WARN", environment: [:],
                logger: Logger(label: "test")))
    }

    func port(_ i: Int) -> Int { workers[i]!.restServer.boundListeners[0].port }
    var running: [Int] { workers.indices.filter { workers[$0] != nil } }

    func call(_ i: Int, _ method: String, _ path: String, body: String? = nil) -> (status: Int, body: String) {
        (try? WorkerREST.call(port(i), method, path, body: body)) ?? (0, "")
    }

    /// A request to worker `i` through `client` (its credentials, its TLS settings) over `scheme`.
    func call(
        _ i: Int, _ method: String, _ path: String, body: String? = nil, client: HTTPClient, scheme: String
    ) -> (status: Int, body: String) {
        let r = try? client.execute(
            HTTPClientRequest(
                method: method, url: "\(scheme)://127.0.0.1:\(port(i))\(path)",
                headers: body == nil ? [] : [("Content-Type", "application/json")], body: body.map { Array($0.utf8) }))
        return (r?.status ?? 0, r?.text ?? "")
    }

    /// Waits until every running worker answers `/health` with 200 through `client` and one of them leads; returns
    /// the herders and the index of a follower.
    func awaitLeader(client: HTTPClient, scheme: String) -> (herders: [DistributedHerder], follower: Int) {
        #expect(
            ProjectPaths.waitUntil(60) {
                running.allSatisfy { call($0, "GET", "/health", client: client, scheme: scheme).status == 200 }
            })
        let herders = workers.compactMap { $0?.herder as? DistributedHerder }
        #expect(ProjectPaths.waitUntil(30) { herders.filter(\.isLeader).count == 1 })
        return (herders, herders.firstIndex { !$0.isLeader } ?? 1)
    }

    func json(_ i: Int, _ path: String) -> JSONValue? {
        let r = call(i, "GET", path)
        guard r.status == 200 else { return nil }
        return try? JSONParser.parse(Array(r.body.utf8))
    }

    /// Every running worker's view of the connector's status, once each shows `check` true.
    func waitForStatus(_ name: String, seconds: Double = 60, _ check: (JSONValue) -> Bool) -> Bool {
        ProjectPaths.waitUntil(seconds) {
            running.allSatisfy { i in json(i, "/connectors/\(name)/status").map(check) ?? false }
        }
    }

    /// Connector and task start attempts, summed over the running workers (`connect-worker-metrics`).
    func startups() -> (connectors: Int, tasks: Int) {
        func total(_ text: String, _ family: String) -> Int {
            text.split(separator: "\n").first { $0.hasPrefix(family + " ") || $0.hasPrefix(family + "{") }
                .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }.map { Int($0) } ?? 0
        }
        var sum = (connectors: 0, tasks: 0)
        for i in running {
            let text = call(i, "GET", "/metrics").body
            sum.connectors += total(text, "kafka_connect_connect_worker_metrics_connector_startup_attempts_total")
            sum.tasks += total(text, "kafka_connect_connect_worker_metrics_task_startup_attempts_total")
        }
        return sum
    }

    func stopAll() {
        for w in workers { w?.stop() }
    }
}

func connectorState(_ s: JSONValue) -> String? { s["connector"]?["state"]?.stringValue }
func taskStates(_ s: JSONValue) -> [String] { s["tasks"]?.arrayValue?.compactMap { $0["state"]?.stringValue } ?? [] }
func taskWorkers(_ s: JSONValue) -> [String] {
    s["tasks"]?.arrayValue?.compactMap { $0["worker_id"]?.stringValue } ?? []
}

func datagen(_ name: String, topic: String, tasks: Int, extra: String = "") -> String {
    #"{"name": "\#(name)", "config": {"connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector", "kafka.topic": "\#(topic)", "quickstart": "orders", "max.interval": 100, "iterations": 1000000, "tasks.max": \#(tasks)\#(extra)}}"#
}

@Suite("A cluster of three workers sharing connectors through Kafka", .serialized, .timeLimit(.minutes(6)))
struct ClusterTests {
    @Test(
        "a connector created through worker 2 runs and shows RUNNING from all three; tasks spread over every worker; pause, resume, restart, stop and delete work through any worker"
    )
    func threeWorkers() throws {
        var cluster = try TestCluster("cluster")
        defer { cluster.stopAll() }
        for _ in 0..<3 { try cluster.startWorker() }
        #expect(
            ProjectPaths.waitUntil(60) {
                cluster.running.allSatisfy { cluster.call($0, "GET", "/health").status == 200 }
            })

        let topic = "\(cluster.group)-orders"
        let created = cluster.call(1, "POST", "/connectors", body: datagen("orders-a", topic: topic, tasks: 2))
        #expect(created.status == 201, "\(created.body)")
        #expect(
            cluster.waitForStatus("orders-a") {
                connectorState($0) == "RUNNING" && taskStates($0) == ["RUNNING", "RUNNING"]
            })
        for i in 0..<3 {
            #expect(cluster.json(i, "/connectors")?.arrayValue?.compactMap(\.stringValue) == ["orders-a"])
        }
        // A second create of the same name is Connect's 409, from any worker.
        #expect(cluster.call(2, "POST", "/connectors", body: datagen("orders-a", topic: topic, tasks: 2)).status == 409)

        for name in ["orders-b", "orders-c"] {
            #expect(cluster.call(2, "POST", "/connectors", body: datagen(name, topic: topic, tasks: 2)).status == 201)
        }
        var perWorker: [String: Int] = [:]
        let balanced = ProjectPaths.waitUntil(60) {
            perWorker = [:]
            for name in ["orders-a", "orders-b", "orders-c"] {
                guard let s = cluster.json(0, "/connectors/\(name)/status"), taskStates(s) == ["RUNNING", "RUNNING"]
                else { return false }
                for w in taskWorkers(s) { perWorker[w, default: 0] += 1 }
            }
            return perWorker.count == 3 && perWorker.values.max()! - perWorker.values.min()! <= 1
        }
        #expect(balanced, "tasks per worker: \(perWorker)")
        let workerIds = Set((0..<3).map { "127.0.0.1:\(cluster.port($0))" })
        #expect(Set(perWorker.keys) == workerIds)

        // GET /cluster (an extension) from every worker: the leader's one view, the same from each (followers
        // forward it), with every worker, who leads, and the six tasks where the statuses say they run.
        let views = (0..<3).map { cluster.json($0, "/cluster") }
        #expect(views.allSatisfy { $0 != nil && $0 == views[0] }, "\(views)")
        let view = try #require(views[0])
        #expect(view["mode"]?.stringValue == "distributed" && view["group_id"]?.stringValue == cluster.group)
        #expect(view["protocol"]?.stringValue == "sessioned")
        let members = view["workers"]?.arrayValue ?? []
        #expect(Set(members.compactMap { $0["worker_id"]?.stringValue }) == workerIds)
        #expect(members.filter { $0["leader"]?.boolValue == true }.count == 1)
        #expect(members.allSatisfy { $0["url"]?.stringValue?.hasPrefix("http://127.0.0.1:") == true })
        #expect(members.allSatisfy { ($0["since"]?.intValue ?? 0) > 0 })
        var viewTasks: [String: Int] = [:]
        for m in members {
            viewTasks[m["worker_id"]?.stringValue ?? "", default: 0] += m["tasks"]?.arrayValue?.count ?? 0
        }
        #expect(viewTasks == perWorker, "\(viewTasks) vs statuses \(perWorker)")
        #expect(members.flatMap { $0["connectors"]?.arrayValue ?? [] }.count == 3)
        #expect(view["unassigned"]?["tasks"]?.arrayValue?.isEmpty == true)
        #expect(view["unassigned"]?["reassign_at"]?.isNull == true)
        // connect-doctor finds all three workers from one URL and keeps each one's view in its bundle.
        let snapshot = ClusterSnapshot.collect([ConnectClient(baseURL: "http://127.0.0.1:\(cluster.port(2))")])
        #expect(Set(snapshot.workers.map { ClusterView.workerId(fromURL: $0.url) }) == workerIds)
        #expect(snapshot.workers.allSatisfy { $0.error == nil && $0.cluster?["workers"]?.arrayValue?.count == 3 })
        #expect(try ClusterSnapshot(bundle: snapshot.json).workers.allSatisfy { $0.cluster != nil })

        // Connect's rebalance and coordinator groups: the workers' assigned tasks add up to the cluster's.
        func sample(_ text: String, _ family: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(family + "{") || $0.hasPrefix(family + " ") }
                .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        }
        let texts = (0..<3).map { cluster.call($0, "GET", "/metrics").body }
        let assigned = texts.compactMap { sample($0, "kafka_connect_connect_coordinator_metrics_assigned_tasks") }
        #expect(assigned.count == 3 && assigned.reduce(0, +) == 6, "assigned-tasks per worker: \(assigned)")
        for text in texts {
            #expect(
                (sample(text, "kafka_connect_connect_worker_rebalance_metrics_completed_rebalances_total") ?? 0) >= 1)
            #expect(sample(text, "kafka_connect_connect_worker_rebalance_metrics_epoch").map { $0 >= 1 } == true)
            #expect(text.contains("leader_name=\"http://127.0.0.1:"))
        }

        // Pause through worker 3, resume through worker 1.
        #expect(cluster.call(2, "PUT", "/connectors/orders-a/pause").status == 202)
        #expect(
            cluster.waitForStatus("orders-a") {
                connectorState($0) == "PAUSED" && taskStates($0) == ["PAUSED", "PAUSED"]
            })
        #expect(cluster.call(0, "PUT", "/connectors/orders-a/resume").status == 202)
        #expect(cluster.waitForStatus("orders-a") { taskStates($0) == ["RUNNING", "RUNNING"] })

        // KIP-745 restart through worker 2: 202 with the plan, then RUNNING again.
        let restart = cluster.call(1, "POST", "/connectors/orders-b/restart?includeTasks=true&onlyFailed=false")
        #expect(restart.status == 202, "\(restart.body)")
        #expect(restart.body.contains(#""state":"RESTARTING""#))
        #expect(cluster.waitForStatus("orders-b") { taskStates($0) == ["RUNNING", "RUNNING"] })
        // The legacy restarts reach the worker running the connector or task, from any worker.
        for i in 0..<3 {
            #expect(cluster.call(i, "POST", "/connectors/orders-b/restart").status == 204)
            #expect(cluster.call(i, "POST", "/connectors/orders-b/tasks/1/restart").status == 204)
        }

        // Stop through worker 3: STOPPED with no tasks everywhere; offsets can be read then.
        #expect(cluster.call(2, "PUT", "/connectors/orders-c/stop").status == 204)
        #expect(cluster.waitForStatus("orders-c") { connectorState($0) == "STOPPED" && taskStates($0).isEmpty })
        #expect(cluster.call(1, "GET", "/connectors/orders-c/offsets").status == 200)
        #expect(cluster.call(0, "PUT", "/connectors/orders-c/resume").status == 202)
        #expect(cluster.waitForStatus("orders-c") { taskStates($0) == ["RUNNING", "RUNNING"] })

        // PATCH through worker 1 changes the config everywhere.
        #expect(cluster.call(0, "PATCH", "/connectors/orders-c/config", body: #"{"max.interval": "50"}"#).status == 200)
        #expect(
            ProjectPaths.waitUntil(30) {
                (0..<3).allSatisfy {
                    cluster.json($0, "/connectors/orders-c/config")?["max.interval"]?.stringValue == "50"
                }
            })

        // Delete through worker 3: gone from every worker.
        #expect(cluster.call(2, "DELETE", "/connectors/orders-c").status == 204)
        #expect(
            ProjectPaths.waitUntil(30) {
                (0..<3).allSatisfy { cluster.call($0, "GET", "/connectors/orders-c").status == 404 }
            })

        // A worker stopped gracefully leaves the group: its tasks run elsewhere within seconds.
        let leaving = "127.0.0.1:\(cluster.port(2))"
        cluster.workers[2]?.stop()
        cluster.workers[2] = nil
        let moved = ProjectPaths.waitUntil(30) {
            ["orders-a", "orders-b"].allSatisfy { name in
                guard let s = cluster.json(0, "/connectors/\(name)/status") else { return false }
                return taskStates(s) == ["RUNNING", "RUNNING"] && !taskWorkers(s).contains(leaving)
                    && s["connector"]?["worker_id"]?.stringValue != leaving
            }
        }
        #expect(moved)
    }
}

@Suite("A cluster's protocols, security and internal topics", .serialized, .timeLimit(.minutes(4)))
struct ClusterProtocolTests {
    @Test(
        "eager protocol with Basic auth: a create through the follower is forwarded with the credentials, the tasks run on both workers, and an internal request relayed twice is refused"
    )
    func eagerWithBasicAuth() throws {
        var cluster = try TestCluster("eager")
        defer { cluster.stopAll() }
        let credentials = cluster.dir.appendingPathComponent("credentials.properties")
        try "admin=s3cret\n".write(to: credentials, atomically: true, encoding: .utf8)
        let extra = [
            "connect.protocol": "eager",
            "rest.extension.classes":
                "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension",
            "rest.basic.auth.credentials.file": credentials.path,
        ]
        for _ in 0..<2 { try cluster.startWorker(extra) }
        var configuration = HTTPClientConfiguration()
        configuration.timeout = .seconds(120)
        configuration.basicAuth = .init(username: "admin", password: "s3cret")
        let client = HTTPClient(configuration: configuration)
        func call(_ i: Int, _ method: String, _ path: String, _ body: String? = nil) -> (Int, String) {
            cluster.call(i, method, path, body: body, client: client, scheme: "http")
        }
        let (herders, follower) = cluster.awaitLeader(client: client, scheme: "http")
        #expect(herders.allSatisfy { $0.coordinator.currentProtocol == .eager })

        // Without credentials: Connect's 401; with them, through the follower: forwarded, 201.
        #expect(cluster.call(follower, "GET", "/connectors").status == 401)
        let topic = "\(cluster.group)-orders"
        let created = call(follower, "POST", "/connectors", datagen("eager-orders", topic: topic, tasks: 2))
        #expect(created.0 == 201, "\(created.1)")
        var workersOfTasks: Set<String> = []
        let running = ProjectPaths.waitUntil(60) {
            let (status, body) = call(follower, "GET", "/connectors/eager-orders/status")
            guard status == 200, let s = try? JSONParser.parse(Array(body.utf8)) else { return false }
            workersOfTasks = Set(taskWorkers(s))
            return taskStates(s) == ["RUNNING", "RUNNING"] && workersOfTasks.count == 2
        }
        #expect(running, "tasks ran on \(workersOfTasks)")

        // The internal endpoint needs no credentials (and a signature only under `sessioned`); a request already
        // forwarded once (forward=false) that reaches a non-leader is Connect's 409, never a third hop.
        let relayed = try WorkerREST.call(
            cluster.port(follower), "POST", "/connectors/eager-orders/tasks?forward=false", body: "[]")
        #expect(relayed.status == 409, "\(relayed.body)")
        #expect(relayed.body.contains("Cannot complete request because of a conflicting operation"))
    }

    @Test(
        "a worker offering only eager next to a sessioned one: the group runs a protocol both offer, or the newcomer stays out and /health says why (500), never a split cluster"
    )
    func disagreeingProtocols() throws {
        var cluster = try TestCluster("mixed")
        defer { cluster.stopAll() }
        try cluster.startWorker()
        #expect(ProjectPaths.waitUntil(60) { cluster.call(0, "GET", "/health").status == 200 })
        try cluster.startWorker(["connect.protocol": "eager"])
        var health = (status: 0, body: "")
        _ = ProjectPaths.waitUntil(60) {
            health = cluster.call(1, "GET", "/health")
            return health.status == 200 || health.status == 500
        }
        let herders = cluster.workers.compactMap { $0?.herder as? DistributedHerder }
        if health.status == 500 {
            // Brokers that fix a group's protocol to its first member's choice (Tansu) refuse the newcomer.
            #expect(health.body.contains("INCONSISTENT_GROUP_PROTOCOL"))
            #expect(health.body.contains("set connect.protocol alike on every worker"))
            #expect(cluster.call(0, "GET", "/health").status == 200)
        } else {
            // Kafka picks the protocol every member offers: `default` (eager) for both.
            #expect(ProjectPaths.waitUntil(30) { herders.allSatisfy { $0.coordinator.currentProtocol == .eager } })
        }
    }

    @Test(
        "over TLS with Java's keys (security.protocol=SSL, PEM truststore and keystore) to a broker that requires client certificates: the workers join their group, keep their internal topics and run a source connector"
    )
    func sslBroker() throws {
        let broker = try SecuredBroker(requireClientCertificate: true)
        defer { broker.stop() }
        try runsConnector(over: broker, "ssl")
    }

    @Test(
        "over SASL_SSL with SCRAM-SHA-512 in sasl.jaas.config: the group client and every Kafka client authenticate, the workers join their group and run a source connector"
    )
    func saslSslBroker() throws {
        let broker = try SecuredBroker(tls: true, users: ["connect": "connect-secret"])
        defer { broker.stop() }
        try runsConnector(over: broker, "sasl")
    }

    /// Two workers with the broker's client keys (for the worker and its producers, consumers and admin clients)
    /// join their group, and a source connector's tasks run and commit offsets.
    func runsConnector(over broker: SecuredBroker, _ name: String) throws {
        var cluster = try TestCluster(name)
        defer { cluster.stopAll() }
        var extra = ["bootstrap.servers": broker.bootstrapServers]
        for (k, v) in broker.clientProperties {
            for prefix in ["", "producer.", "consumer.", "admin."] { extra[prefix + k] = v }
        }
        try cluster.startWorker(extra)
        try cluster.startWorker(extra)
        #expect(
            ProjectPaths.waitUntil(60) {
                cluster.running.allSatisfy { cluster.call($0, "GET", "/health").status == 200 }
            })
        let topic = "\(cluster.group)-orders"
        #expect(
            cluster.call(1, "POST", "/connectors", body: datagen("\(name)-orders", topic: topic, tasks: 2)).status
                == 201)
        #expect(
            cluster.waitForStatus("\(name)-orders") {
                connectorState($0) == "RUNNING" && taskStates($0) == ["RUNNING", "RUNNING"]
            })
        // The source's offsets went to the offsets topic through the secured listener.
        #expect(
            ProjectPaths.waitUntil(30) {
                cluster.json(0, "/connectors/\(name)-orders/offsets")?["offsets"]?.arrayValue?.isEmpty == false
            })
    }

    @Test(
        "REST over HTTPS with a private CA (listeners.https.ssl.*): a create through the follower is forwarded to the leader over TLS, and the follower's task configurations reach it"
    )
    func httpsBetweenWorkers() throws {
        let ca = try PrivateCA()
        let (certificate, key) = try ca.issue("connect-worker")
        let keystore = ca.directory.appendingPathComponent("worker-keystore.pem").path
        try (String(contentsOfFile: key, encoding: .utf8) + String(contentsOfFile: certificate, encoding: .utf8))
            .write(toFile: keystore, atomically: true, encoding: .utf8)
        var cluster = try TestCluster("https")
        defer { cluster.stopAll() }
        let extra = [
            "listeners": "https://127.0.0.1:0", "listeners.https.ssl.keystore.type": "PEM",
            "listeners.https.ssl.keystore.location": keystore, "listeners.https.ssl.truststore.type": "PEM",
            "listeners.https.ssl.truststore.location": ca.caFile,
        ]
        for _ in 0..<2 { try cluster.startWorker(extra) }
        var configuration = HTTPClientConfiguration()
        configuration.timeout = .seconds(120)
        configuration.tls.caFile = ca.caFile
        let client = HTTPClient(configuration: configuration)
        func call(_ i: Int, _ method: String, _ path: String, _ body: String? = nil) -> (Int, String) {
            cluster.call(i, method, path, body: body, client: client, scheme: "https")
        }
        let (herders, follower) = cluster.awaitLeader(client: client, scheme: "https")
        #expect(herders.allSatisfy { $0.leaderUrl?.hasPrefix("https://127.0.0.1:") == true })
        let topic = "\(cluster.group)-orders"
        for name in ["https-a", "https-b"] {
            let created = call(follower, "POST", "/connectors", datagen(name, topic: topic, tasks: 1))
            #expect(created.0 == 201, "\(created.1)")
        }
        // One connector runs on each worker: the follower's sent its task configurations to the leader.
        var owners: Set<String> = []
        let running = ProjectPaths.waitUntil(60) {
            owners = []
            for name in ["https-a", "https-b"] {
                let (status, body) = call(follower, "GET", "/connectors/\(name)/status")
                guard status == 200, let s = try? JSONParser.parse(Array(body.utf8)), taskStates(s) == ["RUNNING"]
                else { return false }
                if let w = s["connector"]?["worker_id"]?.stringValue { owners.insert(w) }
            }
            return true
        }
        #expect(running && owners.count == 2, "connectors ran on \(owners)")
    }

    @Test("a config topic with more than one partition stops start-up, naming the topic and the key")
    func wrongConfigTopic() throws {
        let cluster = try TestCluster("badtopic")
        let admin = try KafkaAdmin(
            config: KafkaClientConfig(["bootstrap.servers": TansuBroker.shared.bootstrapServers]))
        try admin.createTopics([.init(name: "\(cluster.group)-configs", partitions: 3, replicationFactor: 1)])
        #expect {
            _ = try ConnectDistributed.start(
                workerProperties: nil, extraProperties: cluster.properties(), logLevel: "ERROR", environment: [:],
                logger: Logger(label: "test"))
        } throws: { error in
            let m = (error as? ConnectError)?.message ?? "\(error)"
            return m.contains("Topic '\(cluster.group)-configs' supplied via the 'config.storage.topic' property")
                && m.contains("found 3 partitions")
        }
    }
}

@Suite("Stopping and resetting a connector in a cluster", .serialized, .timeLimit(.minutes(4)))
struct ClusterStopTests {
    @Test(
        "PATCH then stop through a follower: STOPPED with no tasks everywhere, an offsets reset right after sticks, and resume runs the tasks again; a new connector starts once; /health is 500 while the herder's thread is stuck"
    )
    func patchStopResetResume() throws {
        var cluster = try TestCluster("stop")
        defer { cluster.stopAll() }
        for _ in 0..<2 { try cluster.startWorker() }
        let (herders, follower) = cluster.awaitLeader(client: HTTPClient(), scheme: "http")
        let topic = "\(cluster.group)-orders"
        for round in 0..<2 {
            let name = "stopping-\(round)"
            let before = cluster.startups()
            #expect(
                cluster.call(follower, "POST", "/connectors", body: datagen(name, topic: topic, tasks: 2)).status == 201
            )
            #expect(cluster.waitForStatus(name) { taskStates($0) == ["RUNNING", "RUNNING"] })
            // The connector and its tasks started once (a create is not a reconfiguration).
            Thread.sleep(forTimeInterval: 1)
            let after = cluster.startups()
            #expect(
                after.connectors - before.connectors == 1 && after.tasks - before.tasks == 2, "\(before) → \(after)")
            if round == 0 {
                // The same configuration PUT again restarts the connector (users do so to retry a start), as in
                // Connect; its unchanged tasks keep running.
                let config = cluster.call(follower, "GET", "/connectors/\(name)/config").body
                #expect(cluster.call(follower, "PUT", "/connectors/\(name)/config", body: config).status == 200)
                #expect(ProjectPaths.waitUntil(30) { cluster.startups().connectors == after.connectors + 1 })
                #expect(cluster.startups().tasks == after.tasks)
            }
            #expect(
                cluster.call(follower, "PATCH", "/connectors/\(name)/config", body: #"{"max.interval": "20"}"#).status
                    == 200)
            let stop = cluster.call(follower, "PUT", "/connectors/\(name)/stop")
            #expect(stop.status == 204, "\(stop.body)")
            // The first round waits for STOPPED; the second resets at once, while the tasks may still be stopping.
            if round == 0 {
                #expect(
                    cluster.waitForStatus(name, seconds: 30) {
                        connectorState($0) == "STOPPED" && taskStates($0).isEmpty
                    },
                    "\(cluster.call(0, "GET", "/connectors/\(name)/status").body)")
            }
            let reset = cluster.call(follower, "DELETE", "/connectors/\(name)/offsets")
            #expect(reset.status == 200, "\(reset.body)")
            #expect(
                cluster.waitForStatus(name, seconds: 30) { connectorState($0) == "STOPPED" && taskStates($0).isEmpty },
                "\(cluster.call(0, "GET", "/connectors/\(name)/status").body)")
            // Nothing the stopped tasks committed lands after the reset.
            Thread.sleep(forTimeInterval: 2)
            let offsets = cluster.json(follower, "/connectors/\(name)/offsets")
            #expect(offsets?["offsets"]?.arrayValue?.isEmpty == true, "\(String(describing: offsets))")
            #expect(cluster.call(round, "PUT", "/connectors/\(name)/resume").status == 202)
            #expect(
                cluster.waitForStatus(name, seconds: 30) {
                    connectorState($0) == "RUNNING" && taskStates($0) == ["RUNNING", "RUNNING"]
                }, "\(cluster.call(0, "GET", "/connectors/\(name)/status").body)")
        }

        // A plain stop: no worker keeps running the connector's tasks (each stops them when it reads the empty task
        // configurations, or at the rebalance that follows when that begins first).
        let name = "stopping-1"
        #expect(cluster.call(0, "PUT", "/connectors/\(name)/stop").status == 204)
        #expect(ProjectPaths.waitUntil(30) { herders.allSatisfy { $0.worker.taskIds(name).isEmpty } })

        // A stop and a resume back to back (a worker may read both before it acts): the tasks run again, each on
        // one worker, with a RUNNING status naming that worker.
        let other = "stopping-0"
        #expect(cluster.call(0, "PUT", "/connectors/\(other)/stop").status == 204)
        #expect(cluster.call(1, "PUT", "/connectors/\(other)/resume").status == 202)
        #expect(
            ProjectPaths.waitUntil(60) {
                let status = cluster.json(0, "/connectors/\(other)/status")
                let owners = (status?["tasks"]?.arrayValue ?? []).map {
                    ($0["state"]?.stringValue, $0["worker_id"]?.stringValue)
                }
                let running = herders.flatMap { h in h.worker.taskIds(other).map { _ in h.worker.statusStore.workerId }
                }
                return owners.count == 2 && owners.allSatisfy { $0.0 == "RUNNING" }
                    && owners.compactMap(\.1).sorted() == running.sorted()
            }, "\(cluster.call(0, "GET", "/connectors/\(other)/status").body)")

        // KIP-1017: /health waits 10 s for the herder's thread; a thread held longer makes it 500 `unhealthy`,
        // saying what the thread is doing, and 200 again once it is free.
        let herder = try #require(cluster.workers[0]?.herder as? DistributedHerder)
        herder.enqueue { Thread.sleep(forTimeInterval: 13) }
        let stuck = cluster.call(0, "GET", "/health")
        #expect(stuck.status == 500, "\(stuck.body)")
        #expect(
            stuck.body.contains("Worker was unable to handle this request and may be unable to handle other requests"))
        #expect(stuck.body.contains("The worker is currently running"))
        #expect(ProjectPaths.waitUntil(20) { cluster.call(0, "GET", "/health").status == 200 })
    }
}
