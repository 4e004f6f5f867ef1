/// Keeps secrets out of what the worker shows: PASSWORD keys and keys that look like secrets read `[hidden]`.
public enum SecretRedaction {
    public static let hidden = "[hidden]"

    /// Whether a key holds a secret: its ConfigDef type is PASSWORD, or its name says so (`*.password`, `*.secret`,
    /// `sasl.jaas.config`, key material such as `ssl.key` or `*.private.key`).
    public static func isSecret(_ key: String, type: ConfigType? = nil) -> Bool {
        if type == .password { return true }
        // On lowercased ASCII bytes: every config shown (each key of each connector of a listing) passes here, and
        // String's generic `contains`/`lowercased` made it the most costly step of `GET /connectors?expand=info`.
        // Non-ASCII keys take the String path (its lowercasing folds letters bytes cannot, such as the Kelvin sign).
        guard key.utf8.allSatisfy({ $0 < 0x80 }) else { return isSecretByCharacters(key) }
        // Trailing dots dropped, as splitting on "." drops the empty pieces they leave.
        var k = key.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        let whole = k
        while k.last == UInt8(ascii: ".") { k.removeLast() }
        func matches(_ part: StaticString, at start: Int) -> Bool {
            guard start >= 0, start + part.utf8CodeUnitCount <= k.count else { return false }
            for i in 0..<part.utf8CodeUnitCount where k[start + i] != part.utf8Start[i] { return false }
            return true
        }
        func has(_ part: StaticString) -> Bool {
            (0...max(0, k.count - part.utf8CodeUnitCount)).contains { matches(part, at: $0) }
        }
        func ends(_ part: StaticString) -> Bool { matches(part, at: k.count - part.utf8CodeUnitCount) }
        let lastStart = (k.lastIndex(of: UInt8(ascii: ".")) ?? -1) + 1
        let isLastPassphrase = matches("passphrase", at: lastStart) && k.count - lastStart == 10
        k = whole  // the suffix checks look at the key as written
        return isLastPassphrase || has("password") || has("secret") || ends("sasl.jaas.config") || ends("private.key")
            || ends("ssl.key") || ends("api.key") || ends("access.key") || ends(".token")
            || (k.count == 5 && ends("token"))
    }

    /// `isSecret` on Characters, for keys with non-ASCII letters.
    private static func isSecretByCharacters(_ key: String) -> Bool {
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
