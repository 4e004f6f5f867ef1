// swift-tools-version: 6.2
import PackageDescription

// Warnings are errors, and a file sees only the members of modules it imports itself (SE-0444). With
// `swift build --explicit-target-dependency-import-check error` (scripts/test), a target may import only the targets
// it declares, so a split of targets cannot build by accident through a transitive dependency.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error), .enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "swift-connect",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "connect-worker", targets: ["ConnectWorker"]),
        .executable(name: "connect-doctor", targets: ["ConnectDoctor"]),
        .executable(name: "connect-metrics-bench", targets: ["MetricsBenchmark"]),
        .library(name: "ConnectRuntime", targets: ["ConnectRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // HMAC for signing requests between the workers of a cluster (KIP-507).
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"4.0.0"),
    ],
    targets: [
        // C libraries: each imported by exactly one wrapper target.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),

        .target(name: "JSON", dependencies: ["ConnectAPI"], swiftSettings: strict),
        .target(
            name: "Kafka",
            dependencies: ["CRdKafka", "KafkaProtocol", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD"], swiftSettings: strict),
        .target(name: "HTTPClient", dependencies: ["CCurl"], swiftSettings: strict),
        // Kafka's wire protocol for what librdkafka cannot do: membership of a `connect` group (TLS by OpenSSL,
        // as librdkafka's own).
        .target(
            name: "KafkaProtocol",
            dependencies: [
                "COpenSSL", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .target(name: "ConnectAPI", swiftSettings: strict),
        // PostgreSQL through libpq: queries and the logical replication stream.
        .target(name: "Postgres", dependencies: ["CLibPQ"], swiftSettings: strict),
        // MariaDB and MySQL through libmariadb: queries and the binlog stream, whose events are decoded in Swift.
        .target(name: "MariaDB", dependencies: ["CMariaDB"], swiftSettings: strict),
        // Debezium's change events, semantic types, filters and configuration names, shared by the CDC connectors.
        .target(name: "DebeziumCore", dependencies: ["ConnectAPI"], swiftSettings: strict),
        .target(
            name: "DebeziumPostgres",
            dependencies: ["ConnectAPI", "DebeziumCore", "Postgres", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .target(
            name: "DebeziumMySql",
            dependencies: [
                "ConnectAPI", "DebeziumCore", "MariaDB", "Kafka", "JSON",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(name: "ConnectMetrics", swiftSettings: strict),
        .target(name: "ConnectConverters", dependencies: ["ConnectAPI", "JSON"], swiftSettings: strict),
        .target(name: "ConnectTransforms", dependencies: ["ConnectAPI"], swiftSettings: strict),
        .target(name: "ConnectFile", dependencies: ["ConnectAPI"], swiftSettings: strict),
        .target(name: "ConnectDatagen", dependencies: ["ConnectAPI"], swiftSettings: strict),
        .target(
            name: "ConnectRuntime",
            dependencies: [
                "ConnectAPI", "ConnectConverters", "ConnectTransforms", "Kafka", "JSON", "ConnectMetrics", "HTTPClient",
                "KafkaProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ConnectREST",
            dependencies: [
                "ConnectRuntime", "ConnectAPI", "ConnectMetrics", "HTTPServer", "HTTPClient", "JSON",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Confluent's JDBC connectors over libpq and libmariadb: URLs, dialects, the sink and the source.
        .target(
            name: "ConnectJDBC",
            // DebeziumCore for its date and time arithmetic on the databases' text forms.
            dependencies: [
                "ConnectAPI", "Postgres", "MariaDB", "DebeziumCore", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Confluent's Elasticsearch sink over the _bulk API (libcurl through HTTPClient).
        .target(
            name: "ConnectElasticsearch",
            dependencies: [
                "ConnectAPI", "ConnectConverters", "HTTPClient", "JSON",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Neo4j's sink (Cypher strategy) over a Bolt client of its own (PackStream, Bolt 4.4 and 5.x).
        .target(
            name: "ConnectNeo4j",
            dependencies: ["ConnectAPI", "KafkaProtocol", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // The composition root: one start-up and shut-down for both modes, and the plug-ins the worker ships.
        .target(
            name: "ConnectWorkerKit",
            dependencies: [
                "ConnectREST", "ConnectRuntime", "ConnectAPI", "ConnectMetrics", "Kafka", "ConnectFile",
                "ConnectDatagen", "DebeziumPostgres", "DebeziumMySql", "ConnectJDBC", "ConnectElasticsearch",
                "ConnectNeo4j",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ConnectWorker",
            dependencies: [
                "ConnectWorkerKit", "ConnectRuntime", "ConnectAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // connect-doctor: the diagnosis logic in a library the tests call, the executable a thin shell.
        .target(
            name: "ConnectDoctorKit", dependencies: ["ConnectAPI", "JSON", "Kafka", "HTTPClient"],
            resources: [.copy("Resources/rules.json")],
            swiftSettings: strict),
        .executableTarget(
            name: "ConnectDoctor",
            dependencies: [
                "ConnectDoctorKit", "JSON", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // Benchmark program (not a test): the cost of recording metrics and of rendering /metrics.
        .executableTarget(name: "MetricsBenchmark", dependencies: ["ConnectMetrics"], swiftSettings: strict),

        // Shared test support: starts the real Tansu broker on a free loopback port.
        .target(
            name: "ConnectTestKit",
            dependencies: [
                "Kafka", "HTTPClient", "ConnectAPI", "JSON", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ConnectTestKit",
            swiftSettings: strict),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: strict),
        .testTarget(name: "ConnectAPITests", dependencies: ["ConnectAPI"], swiftSettings: strict),
        .testTarget(name: "DebeziumCoreTests", dependencies: ["DebeziumCore", "ConnectAPI"], swiftSettings: strict),
        .testTarget(name: "MariaDBTests", dependencies: ["MariaDB", "ConnectTestKit"], swiftSettings: strict),
        .testTarget(
            name: "DebeziumMySqlTests",
            dependencies: ["DebeziumMySql", "DebeziumCore", "MariaDB", "ConnectAPI", "ConnectTestKit"],
            swiftSettings: strict),
        .testTarget(
            name: "ConnectElasticsearchTests",
            dependencies: ["ConnectElasticsearch", "ConnectAPI", "ConnectTestKit", "JSON", "HTTPClient"],
            swiftSettings: strict),
        .testTarget(
            name: "ConnectNeo4jTests",
            dependencies: ["ConnectNeo4j", "ConnectAPI", "ConnectTestKit", "KafkaProtocol"],
            swiftSettings: strict),
        .testTarget(
            name: "ConnectJDBCTests",
            dependencies: ["ConnectJDBC", "ConnectAPI", "Postgres", "MariaDB", "ConnectTestKit"],
            swiftSettings: strict),
        .testTarget(
            name: "DebeziumPostgresTests",
            dependencies: [
                "DebeziumPostgres", "DebeziumCore", "Postgres", "ConnectAPI", "ConnectTestKit", "ConnectConverters",
                "JSON",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ConnectConvertersTests", dependencies: ["ConnectConverters", "ConnectAPI", "JSON"],
            swiftSettings: strict),
        .testTarget(
            name: "ConnectTransformsTests",
            dependencies: ["ConnectTransforms", "ConnectAPI", "ConnectConverters", "JSON"],
            swiftSettings: strict),
        .testTarget(name: "ConnectMetricsTests", dependencies: ["ConnectMetrics"], swiftSettings: strict),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"], swiftSettings: strict),
        .testTarget(
            name: "HTTPClientTests", dependencies: ["HTTPClient", "HTTPServer", "ConnectTestKit"],
            swiftSettings: strict),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "ConnectTestKit"], swiftSettings: strict),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: [
                "KafkaProtocol", "ConnectTestKit", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ConnectRuntimeTests",
            dependencies: [
                "ConnectRuntime", "ConnectAPI", "ConnectFile", "ConnectDatagen", "JSON", "ConnectTestKit",
                "ConnectMetrics", "ConnectWorkerKit", "Kafka", "KafkaProtocol",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ConnectRESTTests",
            dependencies: [
                "ConnectREST", "ConnectRuntime", "ConnectAPI", "ConnectMetrics", "HTTPServer", "JSON",
                "ConnectWorkerKit",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ConnectDoctorKitTests", dependencies: ["ConnectDoctorKit", "JSON", "ConnectTestKit"],
            exclude: ["corpus"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ConnectRuntime", "ConnectREST", "ConnectWorkerKit", "Kafka", "JSON", "ConnectTestKit", "ConnectAPI",
                "ConnectMetrics", "HTTPServer", "HTTPClient", "ConnectDoctorKit",
            ],
            exclude: ["Golden"],
            swiftSettings: strict
        ),
    ]
)
