/// Connect's configuration types (`ConfigDef.Type`).
public enum ConfigType: String, Sendable {
    case boolean = "BOOLEAN", string = "STRING", int = "INT", short = "SHORT", long = "LONG", double = "DOUBLE"
    case list = "LIST", `class` = "CLASS", password = "PASSWORD"
}

public enum ConfigImportance: String, Sendable { case high = "HIGH", medium = "MEDIUM", low = "LOW" }
public enum ConfigWidth: String, Sendable { case none = "NONE", short = "SHORT", medium = "MEDIUM", long = "LONG" }

/// A parsed configuration value.
public enum ConfigValue: Sendable, Equatable {
    case boolean(Bool)
    case string(String)
    case int(Int64)
    case double(Double)
    case list([String])
    case password(String)

    /// The value as Connect shows it in REST output (`[hidden]` for passwords).
    public var displayText: String {
        switch self {
        case .boolean(let b): return b ? "true" : "false"
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return JavaNumberFormat.double(d)
        case .list(let l): return l.joined(separator: ",")
        case .password: return "[hidden]"
        }
    }
}

/// Checks a parsed value; returns the reason it is invalid, or nil.
public struct ConfigValidator: Sendable {
    public let check: @Sendable (_ name: String, _ value: ConfigValue?) -> String?
    public let describe: String

    public init(describe: String, _ check: @escaping @Sendable (_ name: String, _ value: ConfigValue?) -> String?) {
        self.describe = describe
        self.check = check
    }

    public static func atLeast(_ min: Int64) -> ConfigValidator {
        ConfigValidator(describe: "[\(min),...]") { _, v in
            if case .int(let i)? = v, i < min { return "Value must be at least \(min)" }
            return nil
        }
    }

    public static func between(_ min: Int64, _ max: Int64) -> ConfigValidator {
        ConfigValidator(describe: "[\(min),...,\(max)]") { _, v in
            if case .int(let i)? = v {
                if i < min { return "Value must be at least \(min)" }
                if i > max { return "Value must be no more than \(max)" }
            }
            return nil
        }
    }

    /// `ValidString.in(...)`: case-sensitive.
    public static func oneOf(_ allowed: [String], caseInsensitive: Bool = false) -> ConfigValidator {
        ConfigValidator(describe: "[" + allowed.joined(separator: ", ") + "]") { _, v in
            guard case .string(let s)? = v else { return nil }
            let ok = caseInsensitive ? allowed.contains { $0.lowercased() == s.lowercased() } : allowed.contains(s)
            return ok
                ? nil
                : "String must be one of\(caseInsensitive ? " (case insensitive)" : ""): "
                    + allowed.joined(separator: ", ")
        }
    }

    /// A regular expression that compiles (Connect's `RegexValidator`); an empty string is left to other checks.
    public static let regex = ConfigValidator(describe: "valid regex") { _, v in
        guard case .string(let s)? = v, !s.isEmpty else { return nil }
        do {
            _ = try Regex(s)
            return nil
        } catch {
            return "Not a valid regular expression: \(error)"
        }
    }

    /// A list with at least one element (`ConfigDef.ValidList` / `NonEmptyList`).
    public static let nonEmptyList = ConfigValidator(describe: "non-empty list") { _, v in
        if case .list(let l)? = v, l.isEmpty { return "Empty list" }
        return nil
    }

    public static let nonEmptyString = ConfigValidator(describe: "non-empty string") { _, v in
        if case .string(let s)? = v, s.isEmpty { return "String must be non-empty" }
        return nil
    }

    public static let nonEmptyStringWithoutControlChars = ConfigValidator(
        describe: "non-empty string without ISO control characters"
    ) { _, v in
        guard case .string(let s)? = v else { return nil }
        if s.isEmpty { return "String may not be empty" }
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "String may not contain control sequences but had the following ASCII chars: "
                + s.unicodeScalars.filter { $0.properties.generalCategory == .control }.map { String($0.value) }.joined(
                    separator: ", ")
        }
        return nil
    }
}

/// One configuration key, as Connect's `ConfigDef.ConfigKey`.
public struct ConfigKey: Sendable {
    public var name: String
    public var type: ConfigType
    /// The default as text (`nil` with `hasDefault == false` marks a required key).
    public var defaultValue: String?
    public var hasDefault: Bool
    public var validator: ConfigValidator?
    public var importance: ConfigImportance
    public var documentation: String
    public var group: String?
    public var orderInGroup: Int
    public var width: ConfigWidth
    public var displayName: String
    public var dependents: [String]

    public var isRequired: Bool { !hasDefault }
}

/// The declared keys of a plug-in or of the framework, in declaration order.
public struct ConfigDef: Sendable {
    public private(set) var keys: [ConfigKey] = []

    public init() {}

    /// Declares a key. Pass `default: .required` for a key with no default.
    public func define(
        _ name: String, _ type: ConfigType, default defaultValue: ConfigDefault = .none,
        validator: ConfigValidator? = nil, importance: ConfigImportance, documentation: String,
        group: String? = nil, orderInGroup: Int = -1, width: ConfigWidth = .none, displayName: String? = nil,
        dependents: [String] = []
    ) -> ConfigDef {
        var def = self
        let (text, has): (String?, Bool) =
            switch defaultValue {
            case .required: (nil, false)
            case .none: (nil, true)
            case .value(let v): (v, true)
            }
        def.keys.removeAll { $0.name == name }
        def.keys.append(
            ConfigKey(
                name: name, type: type, defaultValue: text, hasDefault: has, validator: validator,
                importance: importance,
                documentation: documentation, group: group, orderInGroup: orderInGroup, width: width,
                displayName: displayName ?? name, dependents: dependents))
        return def
    }

    public func key(_ name: String) -> ConfigKey? { keys.first { $0.name == name } }

    /// The same keys under `prefix` (`transforms.cast.spec`), in `group`, as Connect's `ConfigDef.embed`.
    public func embedded(prefix: String, group: String) -> ConfigDef {
        var def = ConfigDef()
        def.keys = keys.enumerated().map { i, k in
            var k = k
            k.name = prefix + k.name
            k.group = group
            k.orderInGroup = i + 1
            k.displayName = prefix + k.displayName
            return k
        }
        return def
    }

    /// Only the keys whose names start with `prefix` (`errors.`), to parse a part of a configuration.
    public func keys(withPrefix prefix: String) -> ConfigDef {
        var def = ConfigDef()
        def.keys = keys.filter { $0.name.hasPrefix(prefix) }
        return def
    }

    /// Keys of `other` that this definition lacks are appended (plug-in keys first, then framework keys).
    public func merging(_ other: ConfigDef) -> ConfigDef {
        var def = self
        for k in other.keys where def.key(k.name) == nil { def.keys.append(k) }
        return def
    }

    /// Parses and validates `props`; throws the first error, worded as Connect's `ConfigException`.
    public func parse(_ props: [String: String]) throws(ConnectError) -> ParsedConfig {
        var values: [String: ConfigValue] = [:]
        for key in keys {
            let raw = props[key.name]
            if raw == nil && !key.hasDefault {
                throw ConnectError.config("Missing required configuration \"\(key.name)\" which has no default value.")
            }
            let text = raw ?? key.defaultValue
            let value = try text.map { t throws(ConnectError) in try ConfigDef.parseType(key.name, t, key.type) }
            if let validator = key.validator, let reason = validator.check(key.name, value) {
                throw ConnectError.invalidConfig(key.name, key.type == .password ? "[hidden]" : text, reason)
            }
            if let value { values[key.name] = value }
        }
        return ParsedConfig(values: values, originals: props)
    }

    /// Validates every key and reports each one's errors, as `/config/validate` does.
    public func validate(_ props: [String: String]) -> [ConfigValidationResult] {
        keys.map { key in
            let raw = props[key.name]
            var errors: [String] = []
            var parsed: ConfigValue?
            if raw == nil && !key.hasDefault {
                errors.append("Missing required configuration \"\(key.name)\" which has no default value.")
            } else if let text = raw ?? key.defaultValue {
                do throws(ConnectError) {
                    parsed = try ConfigDef.parseType(key.name, text, key.type)
                    if let reason = key.validator?.check(key.name, parsed) {
                        errors.append(
                            ConnectError.invalidConfig(key.name, key.type == .password ? "[hidden]" : text, reason)
                                .message)
                    }
                } catch {
                    errors.append(error.message)
                }
            }
            return ConfigValidationResult(name: key.name, value: raw ?? key.defaultValue, errors: errors)
        }
    }

    /// Converts text to a typed value with Connect's rules and error wording.
    public static func parseType(_ name: String, _ text: String, _ type: ConfigType) throws(ConnectError) -> ConfigValue
    {
        let trimmed = text.trimmingSpaces
        switch type {
        case .boolean:
            switch trimmed.lowercased() {
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            default: throw ConnectError.invalidConfig(name, text, "Expected value to be either true or false")
            }
        case .string, .class: return .string(type == .class ? trimmed : text)
        case .password: return .password(text)
        case .int, .short, .long:
            guard let i = Int64(trimmed) else {
                throw ConnectError.invalidConfig(name, text, "Not a number of type \(type.rawValue)")
            }
            let range: ClosedRange<Int64> =
                switch type {
                case .int: Int64(Int32.min)...Int64(Int32.max)
                case .short: Int64(Int16.min)...Int64(Int16.max)
                default: Int64.min...Int64.max
                }
            guard range.contains(i) else {
                throw ConnectError.invalidConfig(name, text, "Not a number of type \(type.rawValue)")
            }
            return .int(i)
        case .double:
            guard let d = Double(trimmed) else {
                throw ConnectError.invalidConfig(name, text, "Not a number of type DOUBLE")
            }
            return .double(d)
        case .list:
            if trimmed.isEmpty { return .list([]) }
            return .list(
                trimmed.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces })
        }
    }
}

/// A default for `ConfigDef.define`: none (null), required, or a value.
public enum ConfigDefault: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral
{
    case required
    case none
    case value(String)

    public init(stringLiteral value: String) { self = .value(value) }
    public init(integerLiteral value: Int) { self = .value(String(value)) }
    public init(booleanLiteral value: Bool) { self = .value(value ? "true" : "false") }
}

/// One key's validation result.
public struct ConfigValidationResult: Sendable, Equatable {
    public var name: String
    public var value: String?
    public var errors: [String]
}

/// Typed access to a parsed configuration (`AbstractConfig`).
public struct ParsedConfig: Sendable {
    public let values: [String: ConfigValue]
    public let originals: [String: String]

    public func string(_ name: String) -> String? {
        switch values[name] {
        case .string(let s)?, .password(let s)?: return s
        default: return nil
        }
    }
    public func int(_ name: String) -> Int64? {
        if case .int(let i)? = values[name] { return i }
        return nil
    }
    public func bool(_ name: String) -> Bool? {
        if case .boolean(let b)? = values[name] { return b }
        return nil
    }
    public func double(_ name: String) -> Double? {
        if case .double(let d)? = values[name] { return d }
        return nil
    }
    public func list(_ name: String) -> [String] {
        if case .list(let l)? = values[name] { return l }
        return []
    }
    /// Original entries whose key starts with `prefix`, with the prefix removed (`originalsWithPrefix`).
    public func originals(withPrefix prefix: String) -> [String: String] {
        originals.strippingPrefix(prefix)
    }
}

extension Dictionary where Key == String, Value == String {
    /// Entries whose key starts with `prefix`, with the prefix removed.
    public func strippingPrefix(_ prefix: String) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in self where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
        return out
    }
}

extension String {
    /// Java's `String.trim()`: strips ASCII control characters and spaces at both ends.
    public var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.asciiValue.map({ $0 <= 0x20 }) ?? false { s = s.dropFirst() }
        while let l = s.last, l.asciiValue.map({ $0 <= 0x20 }) ?? false { s = s.dropLast() }
        return String(s)
    }
}

extension Duration {
    /// The duration in whole milliseconds (truncated), for the APIs that take milliseconds.
    package var inMilliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
