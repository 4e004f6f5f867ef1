import ConnectAPI
import Foundation
import KafkaProtocol

/// The Neo4j sink's configuration. Both generations of Neo4j's connector are read: the course's
/// `streams.kafka.connect.sink.Neo4jSinkConnector` (`neo4j.server.uri`, `neo4j.topic.cypher.<topic>`,
/// `neo4j.batch.size`) and `org.neo4j.connectors.kafka.sink.Neo4jConnector` 5.x (`neo4j.uri`,
/// `neo4j.cypher.topic.<topic>`); either spelling works under either class.
struct Neo4jSinkConfig: Sendable {
    enum Authentication: String, Sendable, CaseIterable { case none = "NONE", basic = "BASIC" }

    static let configDef = ConfigDef()
        .define(
            "neo4j.server.uri", .string, default: .none, importance: .high,
            documentation: "The Neo4j server URI (bolt://host:7687, neo4j://, bolt+s://, neo4j+s://)",
            group: "Connection", orderInGroup: 1
        )
        .define(
            "neo4j.uri", .string, default: .none, importance: .high,
            documentation: "The Neo4j server URI (5.x connector's name for neo4j.server.uri)", group: "Connection",
            orderInGroup: 2
        )
        .define(
            "neo4j.authentication.type", .string, default: "BASIC",
            validator: .oneOf(Authentication.allCases.map(\.rawValue), caseInsensitive: true), importance: .high,
            documentation: "NONE or BASIC", group: "Connection", orderInGroup: 3
        )
        .define(
            "neo4j.authentication.basic.username", .string, default: "", importance: .high,
            documentation: "The user name", group: "Connection", orderInGroup: 4
        )
        .define(
            "neo4j.authentication.basic.password", .password, default: "", importance: .high,
            documentation: "The password", group: "Connection", orderInGroup: 5
        )
        .define(
            "neo4j.database", .string, default: "", importance: .medium,
            documentation: "The database; the server's default when empty", group: "Connection", orderInGroup: 6
        )
        .define(
            "neo4j.batch.size", .int, default: 1000, validator: .atLeast(1), importance: .medium,
            documentation: "Records per transaction", group: "Sink", orderInGroup: 1
        )
        .define(
            "neo4j.retry.max.attemps", .int, default: 5, validator: .atLeast(0), importance: .low,
            documentation: "Tries of a transaction that failed for a transient reason (Neo4j's spelling)",
            group: "Sink", orderInGroup: 2
        )
        .define(
            "neo4j.retry.backoff.msecs", .long, default: 30000, validator: .atLeast(0), importance: .low,
            documentation: "The wait before such a try", group: "Sink", orderInGroup: 3
        )
        .define(
            "neo4j.connection.timeout.msecs", .long, default: 30000, validator: .atLeast(1), importance: .low,
            documentation: "How long to wait for the server", group: "Sink", orderInGroup: 4
        )
        .define(
            "neo4j.batch.timeout.msecs", .long, default: 0, validator: .atLeast(0), importance: .low,
            documentation:
                "How long a batch's statement and commit may take before the connection counts as lost (0: an hour)",
            group: "Sink", orderInGroup: 5
        )
        .define(
            "neo4j.encryption.enabled", .boolean, default: false, importance: .high,
            documentation: "TLS to a bolt:// or neo4j:// URI (the +s and +ssc schemes say it themselves)",
            group: "Encryption", orderInGroup: 1
        )
        .define(
            "neo4j.encryption.trust.strategy", .string, default: "TRUST_ALL_CERTIFICATES",
            validator: .oneOf(TrustStrategy.allCases.map(\.rawValue), caseInsensitive: true), importance: .medium,
            documentation:
                "TRUST_ALL_CERTIFICATES, TRUST_SYSTEM_CA_SIGNED_CERTIFICATES or TRUST_CUSTOM_CA_SIGNED_CERTIFICATES",
            group: "Encryption", orderInGroup: 2
        )
        .define(
            "neo4j.encryption.ca.certificate.path", .string, default: "", importance: .medium,
            documentation: "The CA certificates (PEM) of TRUST_CUSTOM_CA_SIGNED_CERTIFICATES", group: "Encryption",
            orderInGroup: 3)

    /// The 3.x connector's `neo4j.encryption.trust.strategy` (the Java driver's `TrustStrategy`).
    enum TrustStrategy: String, Sendable, CaseIterable {
        case all = "TRUST_ALL_CERTIFICATES"
        case system = "TRUST_SYSTEM_CA_SIGNED_CERTIFICATES"
        case custom = "TRUST_CUSTOM_CA_SIGNED_CERTIFICATES"
    }

    let host: String
    let port: Int
    let tls: TLSSettings?
    let auth: BoltAuth
    let database: String?
    let batchSize: Int
    let retries: Int
    let retryBackoffMs: Int64
    let timeoutMs: Int64
    /// `neo4j.batch.timeout.msecs`, 0 read as an hour.
    let batchTimeoutMs: Int64
    /// The Cypher statement of each topic.
    let cypher: [String: String]

    init(_ props: [String: String]) throws(ConnectError) {
        let c = try Self.configDef.parse(props)
        let uriKey = c.string("neo4j.uri").map { $0.isEmpty ? "neo4j.server.uri" : "neo4j.uri" } ?? "neo4j.server.uri"
        let uri = c.string(uriKey) ?? c.string("neo4j.server.uri") ?? "bolt://localhost:7687"
        guard let sep = uri.range(of: "://") else {
            throw ConnectError.invalidConfig(uriKey, uri, "Not a Neo4j URI: bolt://host:7687 or neo4j://host:7687")
        }
        let scheme = uri[..<sep.lowerBound].lowercased()
        guard ["bolt", "neo4j", "bolt+s", "neo4j+s", "bolt+ssc", "neo4j+ssc"].contains(scheme) else {
            throw ConnectError.invalidConfig(
                uriKey, uri, "Unsupported URI scheme '\(scheme)': bolt, neo4j, bolt+s, neo4j+s, bolt+ssc or neo4j+ssc")
        }
        let rest = uri[sep.upperBound...].prefix { $0 != "/" && $0 != "?" }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        host = parts.first.map(String.init).flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        guard let port = parts.count > 1 ? Int(parts[1]) : 7687, (1...65535).contains(port) else {
            throw ConnectError.invalidConfig(uriKey, uri, "The port is not a number between 1 and 65535")
        }
        self.port = port
        if scheme.hasSuffix("+s") || scheme.hasSuffix("+ssc") {
            var t = TLSSettings()
            // +ssc trusts any certificate (self-signed), as the drivers read it.
            if scheme.hasSuffix("+ssc") {
                t.verifyCertificate = false
                t.verifyHostname = false
            }
            tls = t
        } else if c.bool("neo4j.encryption.enabled") == true {
            // With a +s or +ssc URI (the branch above) the scheme decides and these keys are ignored, as Neo4j's
            // connector ignores them there.
            var t = TLSSettings()
            let strategy =
                TrustStrategy(rawValue: (c.string("neo4j.encryption.trust.strategy") ?? "").uppercased()) ?? .all
            switch strategy {
            case .all:
                t.verifyCertificate = false
                t.verifyHostname = false
            case .system: break
            case .custom:
                guard let path = c.string("neo4j.encryption.ca.certificate.path"), !path.isEmpty else {
                    throw ConnectError.invalidConfig(
                        "neo4j.encryption.ca.certificate.path", "",
                        "TRUST_CUSTOM_CA_SIGNED_CERTIFICATES needs the CA certificate file")
                }
                t.caFile = path
            }
            tls = t
        } else {
            tls = nil
        }

        let type = Authentication(rawValue: (c.string("neo4j.authentication.type") ?? "BASIC").uppercased()) ?? .basic
        let user = c.string("neo4j.authentication.basic.username") ?? ""
        switch type {
        case .none: auth = .none
        case .basic: auth = .basic(user: user, password: c.string("neo4j.authentication.basic.password") ?? "")
        }
        database = c.string("neo4j.database").flatMap { $0.isEmpty ? nil : $0 }
        batchSize = Int(props["neo4j.batch-size"].flatMap { Int($0) } ?? Int(c.int("neo4j.batch.size") ?? 1000))
        retries = Int(c.int("neo4j.retry.max.attemps") ?? 5)
        retryBackoffMs = c.int("neo4j.retry.backoff.msecs") ?? 30000
        timeoutMs = c.int("neo4j.connection.timeout.msecs") ?? 30000
        let batchTimeout = c.int("neo4j.batch.timeout.msecs") ?? 0
        batchTimeoutMs = batchTimeout > 0 ? batchTimeout : 3_600_000
        var cypher: [String: String] = [:]
        for (k, v) in props {
            for prefix in ["neo4j.topic.cypher.", "neo4j.cypher.topic."] where k.hasPrefix(prefix) {
                cypher[String(k.dropFirst(prefix.count))] = v
            }
        }
        self.cypher = cypher
        let topics = (props["topics"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        if let missing = topics.first(where: { cypher[$0] == nil }) {
            throw ConnectError.invalidConfig(
                "topics", props["topics"],
                "No Cypher statement for the topic '\(missing)': set neo4j.topic.cypher.\(missing) (or neo4j.cypher.topic.\(missing))"
            )
        }
        if cypher.isEmpty && props["topics.regex"] != nil {
            throw ConnectError.invalidConfig(
                "topics.regex", props["topics.regex"],
                "The Cypher strategy needs a neo4j.topic.cypher.<topic> per topic")
        }
    }
}
