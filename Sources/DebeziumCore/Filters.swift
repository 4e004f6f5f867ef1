import ConnectAPI
import Foundation

/// A table's identifier: `schema.table` for PostgreSQL, `database.table` for MySQL.
public struct TableId: Sendable, Hashable, CustomStringConvertible, Comparable {
    public var schema: String
    public var table: String

    public init(schema: String, table: String) {
        self.schema = schema
        self.table = table
    }

    public var description: String { "\(schema).\(table)" }
    public static func < (a: TableId, b: TableId) -> Bool { (a.schema, a.table) < (b.schema, b.table) }
}

/// An include or exclude list: comma-separated regular expressions that must match the whole identifier, as
/// Debezium's `Selectors` read `table.include.list`, `column.exclude.list`, ...
public struct RegexList: Sendable {
    private let patterns: [NSRegularExpression]
    public let isEmpty: Bool

    /// Throws a ConfigException naming `key` for a pattern that does not compile.
    public init(_ list: String?, key: String) throws(ConnectError) {
        var patterns: [NSRegularExpression] = []
        for raw in (list ?? "").split(separator: ",") {
            let p = raw.trimmingCharacters(in: .whitespaces)
            guard !p.isEmpty else { continue }
            do {
                patterns.append(try NSRegularExpression(pattern: "^(?:" + p + ")$", options: [.caseInsensitive]))
            } catch {
                throw ConnectError.invalidConfig(key, list, "'\(p)' is not a valid regular expression")
            }
        }
        self.patterns = patterns
        isEmpty = patterns.isEmpty
    }

    public func matches(_ text: String) -> Bool {
        let range = NSRange(text.startIndex..., in: text)
        return patterns.contains { $0.firstMatch(in: text, range: range) != nil }
    }
}

/// Which tables and columns a connector captures, from its include and exclude lists (an include list and an exclude
/// list of the same kind may not both be set).
public struct CaptureFilter: Sendable {
    let schemaInclude: RegexList
    let schemaExclude: RegexList
    let tableInclude: RegexList
    let tableExclude: RegexList
    let columnInclude: RegexList
    let columnExclude: RegexList

    /// `schemaKey` is `schema.include.list` (PostgreSQL) or `database.include.list` (MySQL).
    public init(_ props: [String: String], schemaKey: String) throws(ConnectError) {
        let schemaExcludeKey = schemaKey.replacingOccurrences(of: "include", with: "exclude")
        for (include, exclude) in [
            (schemaKey, schemaExcludeKey), ("table.include.list", "table.exclude.list"),
            ("column.include.list", "column.exclude.list"),
        ] where !(props[include] ?? "").isEmpty && !(props[exclude] ?? "").isEmpty {
            throw ConnectError.invalidConfig(
                exclude, props[exclude], "\"\(include)\" is already specified: use one of the two lists")
        }
        schemaInclude = try RegexList(props[schemaKey], key: schemaKey)
        schemaExclude = try RegexList(props[schemaExcludeKey], key: schemaExcludeKey)
        tableInclude = try RegexList(props["table.include.list"], key: "table.include.list")
        tableExclude = try RegexList(props["table.exclude.list"], key: "table.exclude.list")
        columnInclude = try RegexList(props["column.include.list"], key: "column.include.list")
        columnExclude = try RegexList(props["column.exclude.list"], key: "column.exclude.list")
    }

    public func captures(_ table: TableId) -> Bool {
        if !schemaInclude.isEmpty && !schemaInclude.matches(table.schema) { return false }
        if schemaExclude.matches(table.schema) { return false }
        if !tableInclude.isEmpty && !tableInclude.matches(table.description) { return false }
        return !tableExclude.matches(table.description)
    }

    public func captures(column: String, of table: TableId) -> Bool {
        let id = "\(table).\(column)"
        if !columnInclude.isEmpty && !columnInclude.matches(id) { return false }
        return !columnExclude.matches(id)
    }
}

/// Debezium 1.x configuration keys and values, read as their 2.x successors (the course's configurations use them).
public enum LegacyKeys {
    /// Old key → new key.
    public static let renamed: [(old: String, new: String)] = [
        ("database.server.name", "topic.prefix"), ("table.whitelist", "table.include.list"),
        ("table.blacklist", "table.exclude.list"), ("schema.whitelist", "schema.include.list"),
        ("schema.blacklist", "schema.exclude.list"), ("database.whitelist", "database.include.list"),
        ("database.blacklist", "database.exclude.list"), ("column.whitelist", "column.include.list"),
        ("column.blacklist", "column.exclude.list"),
    ]

    /// Returns the properties with each old key moved to its successor (an explicit successor wins), and one line
    /// per key moved, for the log.
    public static func apply(_ props: [String: String]) -> (props: [String: String], notes: [String]) {
        var out = props
        var notes: [String] = []
        for (old, new) in renamed {
            guard let v = props[old] else { continue }
            out[old] = nil
            if out[new] == nil { out[new] = v }
            notes.append("Configuration key '\(old)' is deprecated; read as '\(new)'")
        }
        for (key, value) in props where key.hasPrefix("database.history.") {
            let new = "schema.history.internal." + key.dropFirst("database.history.".count)
            out[key] = nil
            if out[new] == nil { out[new] = value }
            notes.append("Configuration key '\(key)' is deprecated; read as '\(new)'")
        }
        if let mode = out["snapshot.mode"],
            let new = [
                "never": "no_data", "schema_only": "no_data",
                "schema_only_recovery": "recovery", "exported": "initial",
            ][mode]
        {
            out["snapshot.mode"] = new
            notes.append("snapshot.mode '\(mode)' is deprecated; read as '\(new)'")
        }
        return (out, notes.sorted())
    }
}
