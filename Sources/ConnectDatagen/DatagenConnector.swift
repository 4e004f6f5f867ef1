import ConnectAPI

/// `io.confluent.kafka.connect.datagen.DatagenConnector`: generates mock records from a quickstart schema.
public final class DatagenConnector: SourceConnector {
    public static let className = "io.confluent.kafka.connect.datagen.DatagenConnector"
    public static var version: String? { "0.6.6" }

    public static let configDef = ConfigDef()
        .define("kafka.topic", .string, default: .required, importance: .high, documentation: "Topic to write to")
        .define(
            "max.interval", .long, default: 500, importance: .high, documentation: "Max interval between messages (ms)"
        )
        .define(
            "iterations", .int, default: -1, importance: .high,
            documentation: "Number of messages to send from each task, or less than 1 for unlimited"
        )
        .define(
            "schema.string", .string, default: "", importance: .high,
            documentation:
                "The literal JSON-encoded Avro schema to use. Cannot be set with schema.filename or quickstart"
        )
        .define(
            "schema.filename", .string, default: "", importance: .high,
            documentation: "Filename of schema to use. Cannot be set with schema.string or quickstart"
        )
        .define(
            "schema.keyfield", .string, default: "", importance: .high,
            documentation: "Name of field to use as the message key"
        )
        .define(
            "quickstart", .string, default: "", importance: .high,
            documentation: "Name of quickstart to use: " + Quickstart.all.keys.sorted().joined(separator: ", ")
        )
        .define(
            "random.seed", .long, default: .none, importance: .low,
            documentation:
                "Numeric seed for generating random data. Two connectors started with the same seed will deterministically produce the same data. Each task will generate different data than the other tasks in the same connector."
        )

    private var props: [String: String] = [:]

    public init() {}

    public var taskType: any Task.Type { DatagenTask.self }

    /// Cross-key rules (exactly one schema source, a known quickstart, an existing key field), reported by key;
    /// single-key errors come from `configDef`.
    public func validate(_ props: [String: String]) -> [String: [String]] {
        do {
            _ = try DatagenConfig.resolveSchema(props)
            return [:]
        } catch {
            return [error.key ?? "quickstart": [error.message]]
        }
    }

    public func start(_ props: [String: String]) throws {
        _ = try DatagenConfig(props)
        self.props = props
    }

    /// Copies the configuration to every task and numbers them through `task.id`.
    public func taskConfigs(maxTasks: Int) throws -> [[String: String]] {
        (0..<maxTasks).map { i in
            var p = props
            p["task.id"] = String(i)
            return p
        }
    }

    public func stop() throws {}
}

/// The parsed datagen configuration.
struct DatagenConfig {
    let topic: String
    let maxInterval: Int64
    let iterations: Int64
    let quickstart: Quickstart
    let keyField: String?
    let seed: Int64?
    let taskID: Int

    init(_ props: [String: String]) throws {
        let c = try DatagenConnector.configDef.parse(props)
        topic = c.string("kafka.topic") ?? ""
        maxInterval = c.int("max.interval") ?? 500
        iterations = c.int("iterations") ?? -1
        seed = c.int("random.seed")
        taskID = Int(props["task.id"] ?? "0") ?? 0
        (quickstart, keyField) = try Self.resolveSchema(props)
    }

    /// The quickstart and key field the configuration selects.
    static func resolveSchema(_ props: [String: String]) throws(ConnectError) -> (Quickstart, String?) {
        let schemaString = props["schema.string"] ?? ""
        let schemaFile = props["schema.filename"] ?? ""
        let quick = (props["quickstart"] ?? "").trimmingSpaces.lowercased()
        guard [schemaString, schemaFile, quick].filter({ !$0.isEmpty }).count == 1 else {
            throw ConnectError.config("Must set exactly one of schema.string, schema.filename, quickstart").forKey(
                "quickstart")
        }
        guard !quick.isEmpty else {
            let key = schemaString.isEmpty ? "schema.filename" : "schema.string"
            throw ConnectError.invalidConfig(
                key, "(schema)", "Avro schemas are not supported by this datagen; use quickstart"
            ).forKey(key)
        }
        guard let q = Quickstart.all[quick] else {
            throw ConnectError.invalidConfig(
                "quickstart", quick,
                "Unknown quickstart; one of " + Quickstart.all.keys.sorted().joined(separator: ", ")
            )
            .forKey("quickstart")
        }
        let key = (props["schema.keyfield"] ?? "").trimmingSpaces
        let keyField = key.isEmpty ? q.keyField : key
        guard q.schema.field(keyField) != nil else {
            throw ConnectError.invalidConfig("schema.keyfield", keyField, "No such field in the \(q.name) schema")
                .forKey("schema.keyfield")
        }
        return (q, keyField)
    }
}

extension ConnectError {
    /// The config key an error is about, carried in the context so validation can attach it to the key.
    func forKey(_ key: String) -> ConnectError { adding(context: "config key " + key) }

    var key: String? {
        context.first { $0.hasPrefix("config key ") }.map { String($0.dropFirst("config key ".count)) }
    }
}
