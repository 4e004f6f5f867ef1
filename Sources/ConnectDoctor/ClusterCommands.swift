import ArgumentParser
import ConnectDoctorKit
import Foundation
import JSON

/// Where the cluster is and how to log in, as the worker's REST security expects.
struct ClusterOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "A worker's REST URL; repeat for every worker of an Apache Kafka Connect cluster (a Swift Connect worker names the others in GET /cluster)."
    )
    var url: [String] = []

    @Option(name: .long, help: "User for HTTP Basic authentication (rest.basic.auth.users on the worker).")
    var user: String?

    @Option(name: .long, help: "Password for Basic authentication (or set CONNECT_DOCTOR_PASSWORD).")
    var password: String?

    @Option(name: .long, help: "Seconds to wait for each REST answer.")
    var timeout: Double = 10

    @Option(name: .long, help: "PEM file of the certificate authorities to trust for an https worker.")
    var cacert: String?

    @Flag(name: .long, help: "Do not verify an https worker's certificate.")
    var insecure = false

    var clients: [ConnectClient] {
        let password = password ?? ProcessInfo.processInfo.environment["CONNECT_DOCTOR_PASSWORD"]
        return (url.isEmpty ? ["http://localhost:8083"] : url).map {
            ConnectClient(
                baseURL: $0, username: user, password: password, timeoutSeconds: timeout, caCertificate: cacert,
                insecure: insecure)
        }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Examine the whole cluster: workers, every connector and task, lag, errors, dead letter queues.")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "Diagnose a support bundle (connect-doctor bundle) instead of a live cluster.")
    var bundle: String?

    @Option(name: .long, help: "Check again every this many seconds until interrupted.")
    var watch: Double?

    func report() throws -> Report {
        if let bundle {
            let snapshot = try ClusterSnapshot(bundle: try readText(bundle))
            var r = Diagnoser().diagnose(snapshot)
            r.target = [bundle]
            return r
        }
        return Diagnoser().diagnose(ClusterSnapshot.collect(cluster.clients))
    }

    func run() throws {
        guard let watch else { try output.finish(report()) }
        while true {
            let r = try report()
            if !output.json { print("\u{1B}[2J\u{1B}[H", terminator: "") }
            output.print(r)
            fflush(nil)
            Thread.sleep(forTimeInterval: max(1, watch))
        }
    }
}

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "One connector in depth: status, trace analysis, configuration, failure history, metrics.")

    @Argument(help: "The connector's name.")
    var connector: String

    @Option(name: .long, help: "Only this task.")
    var task: Int?

    @Option(
        name: .long,
        help:
            "The Kafka cluster (or set BOOTSTRAP_SERVERS): with it, the last records of the connector's dead letter queue are shown too."
    )
    var bootstrapServers: String?

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let snapshot = ClusterSnapshot.collect(cluster.clients)
        var report = Diagnoser().diagnose(snapshot, connector: connector)
        if let task { report.findings.removeAll { $0.subject.task != nil && $0.subject.task != task } }
        let known = snapshot.workers.contains { w in w.connectors.contains { $0.name == connector } }
        if report.reachable && !known {
            throw ValidationError(
                "No connector named \(connector) on \(snapshot.workers.map(\.url).joined(separator: ", ")).")
        }
        if !output.json, let c = snapshot.workers.lazy.flatMap(\.connectors).first(where: { $0.name == connector }) {
            let metrics = snapshot.workers.compactMap { $0.metrics.map(PrometheusSamples.init(text:)) }
            print(ConnectorDetails.text(c, task: task, metrics: metrics))
            let env = ProcessInfo.processInfo.environment
            if let dlq = c.info?["config"]?["errors.deadletterqueue.topic.name"]?.stringValue, !dlq.isEmpty,
                let bootstrap = bootstrapServers ?? env["BOOTSTRAP_SERVERS"] ?? env["CONNECT_BOOTSTRAP_SERVERS"]
            {
                if let queue = try? DeadLetterQueue.read(topic: dlq, bootstrapServers: bootstrap, limit: 20) {
                    print(queue.text(connector: connector))
                } else {
                    print("Dead letter queue \(dlq): cannot be read from \(bootstrap)\n")
                }
            }
        }
        try output.finish(report)
    }
}

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Write a support bundle (status, configs with secrets redacted, metrics, histories) to a file.",
        discussion: "connect-doctor check --bundle FILE diagnoses it offline, with the findings the live check gives.")

    @Option(name: .long, help: "The bundle file to write.")
    var out: String

    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        let snapshot = ClusterSnapshot.collect(cluster.clients)
        try snapshot.json.write(toFile: out, atomically: true, encoding: .utf8)
        let connectors = Set(snapshot.workers.flatMap { $0.connectors.map(\.name) }).count
        let unreachable = snapshot.workers.filter { $0.error != nil }.count
        print("wrote \(out): \(snapshot.workers.count) workers (\(unreachable) unreachable), \(connectors) connectors")
        if unreachable == snapshot.workers.count { throw ExitCode(3) }
    }
}

struct DeadLetterQueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Show a connector's dead-lettered records with their __connect.errors.* headers, grouped by error.",
        discussion:
            "Exit codes: 0 the queue is empty, 1 it holds records, 3 the worker or the broker cannot be reached.")

    @Argument(help: "The connector whose dead letter queue (errors.deadletterqueue.topic.name) to read.")
    var connector: String

    @Option(name: .long, help: "Records to read from the end of each partition.")
    var limit: Int = 100

    @Option(
        name: .long,
        help: "The Kafka cluster holding the queue (or set BOOTSTRAP_SERVERS); the REST API does not tell it.")
    var bootstrapServers: String?

    @Option(name: .long, help: "Read this topic instead of the connector's errors.deadletterqueue.topic.name.")
    var topic: String?

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        guard let bootstrap = bootstrapServers ?? env["BOOTSTRAP_SERVERS"] ?? env["CONNECT_BOOTSTRAP_SERVERS"] else {
            throw ValidationError(
                "Give --bootstrap-servers (or BOOTSTRAP_SERVERS): the REST API does not say where Kafka is.")
        }
        var dlqTopic = topic
        if dlqTopic == nil {
            let client = cluster.clients[0]
            let escaped = connector.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? connector
            let answer: ConnectClient.Response
            do {
                answer = try client.get("/connectors/\(escaped)")
            } catch {
                FileHandle.standardError.write(Data("Cannot reach \(client.baseURL): \(error)\n".utf8))
                throw ExitCode(3)
            }
            guard answer.status == 200 else {
                throw ValidationError("No connector named \(connector) on \(client.baseURL).")
            }
            let config = (try? JSONParser.parse(answer.body))?["config"]
            dlqTopic = config?["errors.deadletterqueue.topic.name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            guard dlqTopic != nil else {
                throw ValidationError(
                    "Connector \(connector) has no dead letter queue: set errors.deadletterqueue.topic.name (and errors.tolerance=all)."
                )
            }
        }
        let queue: DeadLetterQueue
        do {
            queue = try DeadLetterQueue.read(topic: dlqTopic!, bootstrapServers: bootstrap, limit: max(1, limit))
        } catch {
            FileHandle.standardError.write(Data("Cannot read \(dlqTopic!) from \(bootstrap): \(error)\n".utf8))
            throw ExitCode(3)
        }
        print(output.json ? queue.json(connector: topic == nil ? connector : nil) : queue.text(connector: connector))
        throw ExitCode(queue.records.isEmpty ? 0 : 1)
    }
}
