import ConnectAPI

/// `org.apache.kafka.connect.transforms.ReplaceField$Key` / `$Value`: drops, keeps and renames fields.
public class ReplaceField: Transformation {
    public class var part: RecordPart { .value }
    public static var version: String? { ConnectVersion.kafka }
    static let purpose = "field replacement"

    public static let configDef = ConfigDef()
        .define(
            "exclude", .list, default: "", importance: .medium,
            documentation: "Fields to exclude. This takes precedence over the fields to include."
        )
        .define(
            "include", .list, default: "", importance: .medium,
            documentation: "Fields to include. If specified, only these fields will be used."
        )
        .define(
            "renames", .list, default: "",
            validator: ConfigValidator(describe: "list of colon-delimited pairs, e.g. foo:bar,abc:xyz") { _, v in
                guard case .list(let items)? = v else { return nil }
                for i in items where i.split(separator: ":", omittingEmptySubsequences: false).count != 2 {
                    return "Invalid rename mapping: \(i)"
                }
                return nil
            }, importance: .medium, documentation: "Field rename mappings."
        )
        .define("blacklist", .list, default: .none, importance: .low, documentation: "Deprecated. Use exclude instead.")
        .define("whitelist", .list, default: .none, importance: .low, documentation: "Deprecated. Use include instead.")
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .medium,
            documentation:
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."
        )

    private var exclude: Set<String> = []
    private var include: Set<String> = []
    private var renames: [String: String] = [:]
    private var replaceNullWithDefault = true
    private var schemaCache: [ObjectIdentifier: (schema: Schema, plan: Plan)] = [:]

    public required init() {}

    public func configure(_ configs: [String: String]) throws {
        schemaCache = [:]
        let c = try Self.configDef.parse(configs)
        exclude = Set(c.list("exclude") + (configs["blacklist"] != nil ? c.list("blacklist") : []))
        include = Set(c.list("include") + (configs["whitelist"] != nil ? c.list("whitelist") : []))
        renames = [:]
        for pair in c.list("renames") {
            let parts = pair.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            renames[parts[0]] = parts[1]
        }
        replaceNullWithDefault = c.bool("replace.null.with.default") ?? true
    }

    func keeps(_ name: String) -> Bool { !exclude.contains(name) && (include.isEmpty || include.contains(name)) }
    func renamed(_ name: String) -> String { renames[name] ?? name }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        let part = Self.part
        guard let value = record.data(of: part) else { return record }
        guard let schema = record.schema(of: part) else {
            let entries = try Requirements.requireMap(value, Self.purpose)
            let kept = entries.compactMap { e -> Value.MapEntry? in
                guard case .string(let name)? = e.key, keeps(name) else { return nil }
                return Value.MapEntry(.string(renamed(name)), e.value)
            }
            return record.replacing(part, schema: nil, value: .map(kept))
        }
        let input = try Requirements.requireStruct(value, Self.purpose)
        let plan = self.plan(schema)
        var out = Struct(schema: plan.updated)
        for (from, to) in plan.kept {
            try out.put(to, replaceNullWithDefault ? input.get(from) : input.getWithoutDefault(from))
        }
        return record.replacing(part, schema: plan.updated, value: .struct(out))
    }

    /// For a struct schema: the updated schema and each kept field with the field it becomes there.
    private struct Plan {
        let updated: Schema
        let kept: [(from: Field, to: Field)]
    }

    private func plan(_ schema: Schema) -> Plan {
        if let hit = schemaCache[ObjectIdentifier(schema)] { return hit.plan }
        var b = copySchemaBasics(schema, SchemaBuilder.struct())
        for field in schema.fields where keeps(field.name) { b = b.field(renamed(field.name), field.schema) }
        let updated = b.build()
        // Fields in input order. A field renamed onto a name the schema already has replaces the earlier field here
        // (Connect's SchemaBuilder refuses the schema: "Cannot create field because of field name duplication").
        let kept = schema.fields.compactMap { f in
            keeps(f.name) ? updated.field(renamed(f.name)).map { (f, $0) } : nil
        }
        let plan = Plan(updated: updated, kept: kept)
        schemaCache[ObjectIdentifier(schema)] = (schema, plan)
        return plan
    }

    public func close() {}
}

public final class ReplaceFieldKey: ReplaceField {
    override public class var part: RecordPart { .key }
}

public final class ReplaceFieldValue: ReplaceField {}
