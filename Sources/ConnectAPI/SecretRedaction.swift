/// Keeps secrets out of what the worker shows: PASSWORD keys and keys that look like secrets read `[hidden]`.
public enum SecretRedaction {
    public static let hidden = "[hidden]"

    /// Whether a key holds a secret: its ConfigDef type is PASSWORD, or its name says so (`*.password`, `*.secret`,
    /// `sasl.jaas.config`, key material such as `ssl.key` or `*.private.key`).
    public static func isSecret(_ key: String, type: ConfigType? = nil) -> Bool {
        if type == .password { return true }
        let k = key.lowercased()
        let last = k.split(separator: ".").last.map(String.init) ?? k
        return last == "password" || last == "secret" || last == "passphrase" || k.hasSuffix("sasl.jaas.config")
            || k.hasSuffix(".secret.key") || k.hasSuffix("private.key") || k.hasSuffix("ssl.key")
            || k.hasSuffix("api.key") || k.hasSuffix("access.key") || k.hasSuffix("secret.access.key")
            || k.contains("password") || k.contains("secret") || k.hasSuffix(".token") || k == "token"
    }

    /// A config as it may be shown: secret values hidden, unless they are a reference to a config provider
    /// (`${provider:path:key}`), which is no secret.
    public static func redact(_ config: [String: String]) -> [String: String] {
        var out = config
        for (k, v) in config where isSecret(k) && !isReference(v) { out[k] = hidden }
        return out
    }

    /// A config written back as it was shown: a secret key whose value is `[hidden]` keeps the value `stored` has, so
    /// a tool that reads a config (`GET /connectors/{c}/config`), edits one key and writes it back (`PUT`) does not
    /// replace a password with the text `[hidden]`. Keys `stored` lacks are left as given.
    public static func restoring(_ config: [String: String], from stored: [String: String]) -> [String: String] {
        var out = config
        for (k, v) in config where v == hidden && isSecret(k) {
            if let original = stored[k] { out[k] = original }
        }
        return out
    }

    /// Whether a value is a single `${provider:[path:]key}` reference.
    public static func isReference(_ value: String) -> Bool {
        let v = value.trimmingSpaces
        return v.hasPrefix("${") && v.hasSuffix("}") && v.contains(":")
    }
}
