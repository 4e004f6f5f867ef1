import ConnectAPI

/// The keys of a distributed worker (Connect's `DistributedConfig`), on top of `WorkerConfig`: the group, the three
/// internal topics with their partitions and replication factors, the group timings, the sub-protocol, and the
/// inter-worker signing keys (KIP-507). Defaults and validation are Connect's; a missing required key or a bad value
/// is a `ConfigException` naming the key.
public struct DistributedConfig: Sendable {
    public let worker: WorkerConfig

    public static let configDef = ConfigDef()
        .define(
            "group.id", .string, default: .required, validator: .nonEmptyString, importance: .high,
            documentation: "A unique string that identifies the Connect cluster group this worker belongs to."
        )
        .define(
            "config.storage.topic", .string, default: .required, validator: .nonEmptyString, importance: .high,
            documentation: "The name of the Kafka topic where connector configurations are stored"
        )
        .define(
            "config.storage.replication.factor", .short, default: 3, validator: replicationFactor,
            importance: .low,
            documentation:
                "Replication factor used when creating the configuration storage topic; -1 uses the broker's default."
        )
        .define(
            "offset.storage.topic", .string, default: .required, validator: .nonEmptyString, importance: .high,
            documentation: "The name of the Kafka topic where source connector offsets are stored"
        )
        .define(
            "offset.storage.partitions", .int, default: 25, validator: partitions, importance: .low,
            documentation: "The number of partitions used when creating the offset storage topic; -1: the broker's."
        )
        .define(
            "offset.storage.replication.factor", .short, default: 3, validator: replicationFactor, importance: .low,
            documentation: "Replication factor used when creating the offset storage topic; -1: the broker's."
        )
        .define(
            "status.storage.topic", .string, default: .required, validator: .nonEmptyString, importance: .high,
            documentation: "The name of the Kafka topic where connector and task status are stored"
        )
        .define(
            "status.storage.partitions", .int, default: 5, validator: partitions, importance: .low,
            documentation: "The number of partitions used when creating the status storage topic; -1: the broker's."
        )
        .define(
            "status.storage.replication.factor", .short, default: 3, validator: replicationFactor, importance: .low,
            documentation: "Replication factor used when creating the status storage topic; -1: the broker's."
        )
        .define(
            "session.timeout.ms", .int, default: 10000, importance: .high,
            documentation:
                "The timeout used to detect worker failures. The worker sends periodic heartbeats to indicate its liveness to the broker."
        )
        .define(
            "heartbeat.interval.ms", .int, default: 3000, importance: .high,
            documentation: "The expected time between heartbeats to the group coordinator."
        )
        .define(
            "rebalance.timeout.ms", .int, default: 60000, importance: .high,
            documentation:
                "The maximum allowed time for each worker to join the group once a rebalance has begun."
        )
        .define(
            "worker.sync.timeout.ms", .int, default: 3000, importance: .medium,
            documentation:
                "When the worker is out of sync with other workers and needs to resynchronize configurations, wait up to this amount of time before giving up, leaving the group, and waiting a backoff period before rejoining."
        )
        .define(
            "worker.unsync.backoff.ms", .int, default: 300_000, importance: .medium,
            documentation:
                "When the worker is out of sync with other workers and fails to catch up within worker.sync.timeout.ms, leave the Connect cluster for this long before rejoining."
        )
        .define(
            "scheduled.rebalance.max.delay.ms", .int, default: 300_000, validator: .between(0, Int64(Int32.max)),
            importance: .low,
            documentation:
                "The maximum delay that is scheduled in order to wait for the return of one or more departed workers before rebalancing and reassigning their connectors and tasks to the group."
        )
        .define(
            "connect.protocol", .string, default: "sessioned",
            validator: .oneOf(ConnectProtocolVersion.allCases.map(\.configValue), caseInsensitive: true),
            importance: .low,
            documentation: "Compatibility mode for Kafka Connect Protocol"
        )
        .define(
            "inter.worker.key.generation.algorithm", .string, default: "HmacSHA256",
            validator: .oneOf(InternalRequestSignature.algorithms), importance: .low,
            documentation: "The algorithm to use for generating internal request keys."
        )
        .define(
            "inter.worker.key.size", .int, default: .none, importance: .low,
            documentation:
                "The size of the key to use for signing internal requests, in bits. If null, the default key size for the key generation algorithm will be used."
        )
        .define(
            "inter.worker.key.ttl.ms", .int, default: 3_600_000, validator: .between(0, Int64(Int32.max)),
            importance: .low,
            documentation:
                "The TTL of generated session keys used for internal request validation (in milliseconds)"
        )
        .define(
            "inter.worker.signature.algorithm", .string, default: "HmacSHA256",
            validator: .oneOf(InternalRequestSignature.algorithms), importance: .low,
            documentation: "The algorithm used to sign internal requests"
        )
        .define(
            "inter.worker.verification.algorithms", .list, default: "HmacSHA256", validator: .nonEmptyList,
            importance: .low,
            documentation:
                "A list of permitted algorithms for verifying internal requests, which must include the algorithm used for the inter.worker.signature.algorithm property."
        )
        .define(
            "exactly.once.source.support", .string, default: "disabled",
            validator: .oneOf(["disabled", "preparing", "enabled"], caseInsensitive: true), importance: .high,
            documentation:
                "Whether to enable exactly-once support for source connectors in the cluster (KIP-618). Only disabled is supported by this worker."
        )

    static let replicationFactor = ConfigValidator(
        describe:
            "Positive number not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default"
    ) { _, v in
        guard case .int(let i)? = v, i < 1 && i != -1 else { return nil }
        return
            "Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default"
    }

    static let partitions = ConfigValidator(describe: "Positive number, or -1 to use the broker's default") { _, v in
        guard case .int(let i)? = v, i < 1 && i != -1 else { return nil }
        return "Number of partitions must be positive, or -1 to use the broker's default"
    }

    public let groupId: String
    public let configTopic: String
    public let offsetTopic: String
    public let statusTopic: String
    public let configReplicationFactor: Int16
    public let offsetReplicationFactor: Int16
    public let statusReplicationFactor: Int16
    public let offsetPartitions: Int32
    public let statusPartitions: Int32
    public let sessionTimeout: Duration
    public let heartbeatInterval: Duration
    public let rebalanceTimeout: Duration
    public let workerSyncTimeout: Duration
    public let workerUnsyncBackoff: Duration
    /// `scheduled.rebalance.max.delay.ms`, in milliseconds (the unit of the assignment's `delay`).
    public let scheduledRebalanceMaxDelayMs: Int32
    /// The highest sub-protocol this worker offers (`connect.protocol`).
    public let connectProtocol: ConnectProtocolVersion
    public let keyGenerationAlgorithm: String
    /// `inter.worker.key.size` in bits; nil: the algorithm's default (256 for HmacSHA256, as the JDK's).
    public let keySizeBits: Int?
    public let keyTTL: Duration
    public let signatureAlgorithm: String
    public let verificationAlgorithms: [String]

    public init(_ props: [String: String]) throws(ConnectError) {
        worker = try WorkerConfig(props)
        let p = try Self.configDef.parse(props)
        func ms(_ key: String) -> Duration { .milliseconds(p.int(key) ?? 0) }
        groupId = p.string("group.id")!.trimmingSpaces
        configTopic = p.string("config.storage.topic")!.trimmingSpaces
        offsetTopic = p.string("offset.storage.topic")!.trimmingSpaces
        statusTopic = p.string("status.storage.topic")!.trimmingSpaces
        configReplicationFactor = Int16(p.int("config.storage.replication.factor") ?? 3)
        offsetReplicationFactor = Int16(p.int("offset.storage.replication.factor") ?? 3)
        statusReplicationFactor = Int16(p.int("status.storage.replication.factor") ?? 3)
        offsetPartitions = Int32(p.int("offset.storage.partitions") ?? 25)
        statusPartitions = Int32(p.int("status.storage.partitions") ?? 5)
        sessionTimeout = ms("session.timeout.ms")
        heartbeatInterval = ms("heartbeat.interval.ms")
        rebalanceTimeout = ms("rebalance.timeout.ms")
        workerSyncTimeout = ms("worker.sync.timeout.ms")
        workerUnsyncBackoff = ms("worker.unsync.backoff.ms")
        scheduledRebalanceMaxDelayMs = Int32(p.int("scheduled.rebalance.max.delay.ms") ?? 300_000)
        connectProtocol = ConnectProtocolVersion(configValue: p.string("connect.protocol")!.lowercased())!
        keyGenerationAlgorithm = p.string("inter.worker.key.generation.algorithm")!
        keySizeBits = p.int("inter.worker.key.size").map(Int.init)
        keyTTL = ms("inter.worker.key.ttl.ms")
        signatureAlgorithm = p.string("inter.worker.signature.algorithm")!
        verificationAlgorithms = p.list("inter.worker.verification.algorithms")

        let topics = [
            ("config.storage.topic", configTopic), ("offset.storage.topic", offsetTopic),
            ("status.storage.topic", statusTopic),
        ]
        for (i, a) in topics.enumerated() {
            for b in topics[(i + 1)...] where a.1 == b.1 {
                throw ConnectError.config(
                    "Topic '\(a.1)' specified via the '\(a.0)' property is also specified via the '\(b.0)' property; each internal topic must be distinct"
                )
            }
        }
        for algorithm in verificationAlgorithms where !InternalRequestSignature.algorithms.contains(algorithm) {
            throw ConnectError.invalidConfig(
                "inter.worker.verification.algorithms", verificationAlgorithms.joined(separator: ","),
                "Algorithm '\(algorithm)' is not supported; supported: "
                    + InternalRequestSignature.algorithms.joined(separator: ", "))
        }
        if !verificationAlgorithms.contains(signatureAlgorithm) {
            throw ConnectError.invalidConfig(
                "inter.worker.signature.algorithm", signatureAlgorithm,
                "Signature algorithm must be present in inter.worker.verification.algorithms list")
        }
        if let bits = keySizeBits, bits < 8 || bits % 8 != 0 {
            throw ConnectError.invalidConfig(
                "inter.worker.key.size", String(bits), "Key size must be a positive multiple of 8 bits")
        }
        if (p.string("exactly.once.source.support") ?? "disabled").lowercased() != "disabled" {
            throw ConnectError.invalidConfig(
                "exactly.once.source.support", p.string("exactly.once.source.support"),
                "This worker supports only 'disabled' (exactly-once source support, KIP-618, is not implemented)")
        }
    }

    /// The clients of the internal topics: the worker's connection and security keys (`bootstrap.servers`,
    /// `security.protocol`, `ssl.*`, `sasl.*`, `client.dns.lookup`), as Connect gives its own top-level keys to them.
    public var internalClientProperties: [String: String] {
        var props = worker.originals.filter { k, _ in
            k == "security.protocol" || k == "client.dns.lookup" || k.hasPrefix("ssl.") || k.hasPrefix("sasl.")
        }
        props["bootstrap.servers"] = worker.bootstrapServers
        return props
    }

    /// The session key's length in bytes: `inter.worker.key.size`, else the JDK KeyGenerator's default for the
    /// algorithm (so a Java leader's key is not rotated at once by a Swift one, and the other way round).
    public var keySizeBytes: Int {
        if let keySizeBits { return keySizeBits / 8 }
        switch keyGenerationAlgorithm {
        case "HmacSHA384": return 48
        case "HmacSHA512", "HmacSHA1": return 64
        default: return 32
        }
    }

    /// Extra topic settings for an internal topic: the worker's `<prefix>.*` keys other than the ones Connect keeps
    /// for itself (`DistributedConfig.topicSettings`).
    public func topicSettings(prefix: String) -> [String: String] {
        let reserved: Set<String> = ["topic", "replication.factor", "partitions", "cleanup.policy"]
        return worker.originals.strippingPrefix(prefix + ".").filter { !reserved.contains($0.key) }
    }
}
