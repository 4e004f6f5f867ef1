import ConnectAPI
import Foundation
import Synchronization

/// Supplies configuration values from outside the config (`ConfigProvider`): `${<provider>:[<path>:]<key>}`.
public protocol ConfigProvider: Sendable {
    /// The values of `keys` at `path`; keys it does not have are left out.
    func get(path: String, keys: Set<String>) throws(ConnectError) -> [String: String]
}

/// `FileConfigProvider`: `${file:/path/to/file.properties:key}` reads a key of a properties file.
public struct FileConfigProvider: ConfigProvider {
    public init() {}

    public func get(path: String, keys: Set<String>) throws(ConnectError) -> [String: String] {
        let props = try PropertiesParser.parse(try readText(path), source: path)
        return props.filter { keys.contains($0.key) }
    }
}

/// `DirectoryConfigProvider`: `${dir:/path/to/dir:file}` reads a whole file of a directory (Kubernetes secrets).
public struct DirectoryConfigProvider: ConfigProvider {
    public init() {}

    public func get(path: String, keys: Set<String>) throws(ConnectError) -> [String: String] {
        var out: [String: String] = [:]
        for key in keys where !key.contains("/") && !key.hasPrefix(".") {
            let file = (path as NSString).appendingPathComponent(key)
            if let text = try? readText(file) { out[key] = text }
        }
        return out
    }
}

/// `EnvVarConfigProvider`: `${env:NAME}` reads an environment variable (the path is ignored).
public struct EnvVarConfigProvider: ConfigProvider {
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func get(path: String, keys: Set<String>) throws(ConnectError) -> [String: String] {
        environment.filter { keys.contains($0.key) }
    }
}

/// Replaces `${provider:[path:]key}` references with the providers' values (`ConfigTransformer`), and maps values
/// back to references (`reverseTransform`) so that what the worker stores and shows never holds a resolved value.
/// A reference to an unknown provider, or to a key the provider does not have, stays as written, as in Connect.
public struct ConfigTransformer: Sendable {
    public let providers: [String: any ConfigProvider]

    public init(providers: [String: any ConfigProvider] = [:]) { self.providers = providers }

    static let classes: [String: @Sendable ([String: String]) -> any ConfigProvider] = [
        "org.apache.kafka.common.config.provider.FileConfigProvider": { _ in FileConfigProvider() },
        "org.apache.kafka.common.config.provider.DirectoryConfigProvider": { _ in DirectoryConfigProvider() },
        "org.apache.kafka.common.config.provider.EnvVarConfigProvider": { _ in EnvVarConfigProvider() },
    ]

    /// The providers named by the worker's `config.providers`, each from `config.providers.<name>.class`.
    public init(workerProperties props: [String: String]) throws(ConnectError) {
        var providers: [String: any ConfigProvider] = [:]
        for name in ConnectorConfigValidator.list(props["config.providers"]) {
            let cls = (props["config.providers.\(name).class"] ?? "").trimmingSpaces
            let simple = cls.split(separator: ".").last.map(String.init) ?? cls
            guard let make = Self.classes.first(where: { $0.key == cls || $0.key.hasSuffix("." + simple) })?.value
            else {
                throw ConnectError.invalidConfig(
                    "config.providers.\(name).class", cls,
                    "Unknown config provider class; available: \(Self.classes.keys.sorted().joined(separator: ", "))")
            }
            providers[name] = make(props.strippingPrefix("config.providers.\(name).param."))
        }
        self.providers = providers
    }

    struct Reference: Hashable {
        let provider: String
        let path: String
        let key: String
        let text: String
    }

    /// Every `${provider:[path:]key}` in a value.
    static func references(in value: String) -> [Reference] {
        var out: [Reference] = []
        var rest = value[...]
        while let start = rest.range(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            let inner = rest[start.upperBound..<end]
            let parts = inner.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 {
                out.append(Reference(provider: parts[0], path: "", key: parts[1], text: "${\(inner)}"))
            } else if parts.count == 3 {
                out.append(Reference(provider: parts[0], path: parts[1], key: parts[2], text: "${\(inner)}"))
            }
            rest = rest[rest.index(after: end)...]
        }
        return out
    }

    /// Whether a value holds a reference to a configured provider.
    public func hasReferences(_ value: String) -> Bool {
        Self.references(in: value).contains { providers[$0.provider] != nil }
    }

    /// The config with its references resolved.
    public func transform(_ config: [String: String]) throws(ConnectError) -> [String: String] {
        guard !providers.isEmpty else { return config }
        var wanted: [String: [String: Set<String>]] = [:]
        for value in config.values {
            for r in Self.references(in: value) where providers[r.provider] != nil {
                wanted[r.provider, default: [:]][r.path, default: []].insert(r.key)
            }
        }
        guard !wanted.isEmpty else { return config }
        var resolved: [Reference: String] = [:]
        for (provider, paths) in wanted {
            for (path, keys) in paths {
                let values: [String: String]
                do {
                    values = try providers[provider]!.get(path: path, keys: keys)
                } catch {
                    throw ConnectError.connect(
                        "Could not read configuration values from config provider '\(provider)' at '\(path)'",
                        cause: error)
                }
                for (k, v) in values {
                    resolved[Reference(provider: provider, path: path, key: k, text: "")] = v
                }
            }
        }
        var out = config
        for (key, value) in config {
            var v = value
            for r in Self.references(in: value) {
                if let text = resolved[Reference(provider: r.provider, path: r.path, key: r.key, text: "")] {
                    v = v.replacing(r.text, with: text)
                }
            }
            out[key] = v
        }
        return out
    }

    /// Task configs with every value that came from a reference in the connector's raw config put back as that
    /// reference (`AbstractHerder.reverseTransform`), so task configs are stored and shown unresolved.
    public func reverseTransform(
        _ taskConfig: [String: String], raw: [String: String], resolved: [String: String]
    ) -> [String: String] {
        var out = taskConfig
        for (key, rawValue) in raw where hasReferences(rawValue) {
            if let v = out[key], v == resolved[key] { out[key] = rawValue }
        }
        return out
    }
}

/// Values the process must never show: secret config values and values resolved from config providers, registered
/// as connectors start. Log lines and status traces pass through `scrub`.
public final class SecretScrubber: Sendable {
    public static let shared = SecretScrubber()

    private let secrets = Mutex<[String]>([])

    /// Registers values to hide (shorter than four characters they would garble ordinary text, so they are not).
    public func add<S: Sequence>(_ values: S) where S.Element == String {
        let fresh = values.filter { $0.count >= 4 }
        guard !fresh.isEmpty else { return }
        secrets.withLock { s in
            for v in fresh where !s.contains(v) { s.append(v) }
            s.sort { $0.count > $1.count }
        }
    }

    public func scrub(_ text: String) -> String {
        let all = secrets.withLock { $0 }
        guard !all.isEmpty else { return text }
        var out = text
        for secret in all where out.contains(secret) { out = out.replacing(secret, with: SecretRedaction.hidden) }
        return out
    }
}

extension ConfigInfos {
    /// The result as it may be shown: values that came from references shown as the references, secret values and
    /// any resolved secret quoted in an error message replaced by `[hidden]`.
    public func redacted(
        raw: [String: String], resolved: [String: String], transformer: ConfigTransformer
    ) -> ConfigInfos {
        var out = self
        var secrets: [String] = []
        for (k, v) in resolved
        where v.count >= 3 && (SecretRedaction.isSecret(k) || transformer.hasReferences(raw[k] ?? "")) {
            secrets.append(v)
        }
        secrets.sort { $0.count > $1.count }
        for i in out.configs.indices {
            let name = out.configs[i].name
            let rawValue = raw[name]
            if let rawValue, transformer.hasReferences(rawValue) {
                out.configs[i].value = rawValue
            } else if SecretRedaction.isSecret(name, type: out.configs[i].definition?.type), out.configs[i].value != nil
            {
                out.configs[i].value = SecretRedaction.hidden
            }
            out.configs[i].errors = out.configs[i].errors.map { e in
                secrets.reduce(e) { $0.replacing($1, with: SecretRedaction.hidden) }
            }
        }
        return out
    }
}
