import ConnectAPI

/// `io.debezium.transforms.ExtractNewRecordState`: unwraps a Debezium change event (`before`, `after`, `source`,
/// `op`, `ts_ms`) into the row state after the change, with Debezium's options for deletes and tombstones,
/// extra fields and headers from the envelope, and routing by a field. Records that are not change events pass
/// through unchanged.
public final class ExtractNewRecordState: Transformation {
    public static let className = "io.debezium.transforms.ExtractNewRecordState"
    public static var version: String? { "2.7.0" }
    static let deletedField = "__deleted"

    public static let configDef = ConfigDef()
        .define(
            "delete.tombstone.handling.mode", .string, default: .none,
            validator: ConfigValidator(
                describe: "[drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone]"
            ) { _, v in
                guard case .string(let s)? = v else { return nil }
                return DeleteMode(rawValue: s.lowercased()) == nil
                    ? "Value must be one of drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone" : nil
            }, importance: .medium,
            documentation:
                "How to handle delete and tombstone events: drop (remove both), tombstone (delete becomes a tombstone, tombstones are dropped), rewrite (delete becomes the before state with __deleted=true), rewrite-with-tombstone (rewrite and keep tombstones), delete-to-tombstone (as tombstone)."
        )
        .define(
            "drop.tombstones", .boolean, default: .none, importance: .low,
            documentation: "Deprecated: use delete.tombstone.handling.mode. Drop tombstone records (default true)."
        )
        .define(
            "delete.handling.mode", .string, default: .none,
            validator: .oneOf(["drop", "rewrite", "none"], caseInsensitive: true), importance: .low,
            documentation:
                "Deprecated: use delete.tombstone.handling.mode. How to handle delete events: drop (default), rewrite or none."
        )
        .define(
            "add.fields", .list, default: "", importance: .low,
            documentation:
                "Envelope fields to add to the record, e.g. op,source.ts_ms; a field may be renamed with field:NAME."
        )
        .define(
            "add.fields.prefix", .string, default: "__", importance: .low, documentation: "Prefix of the added fields."
        )
        .define(
            "add.headers", .list, default: "", importance: .low,
            documentation: "Envelope fields to add as headers, e.g. op,source.ts_ms."
        )
        .define(
            "add.headers.prefix", .string, default: "__", importance: .low,
            documentation: "Prefix of the added headers."
        )
        .define(
            "route.by.field", .string, default: "", importance: .low,
            documentation:
                "Routes each record to the topic named by this field of the new (or, for deletes, the old) state."
        )
        .define(
            "replace.null.with.default", .boolean, default: true, importance: .low,
            documentation: "Whether null field values are replaced by their defaults.")

    enum DeleteMode: String {
        case drop, tombstone, rewrite
        case rewriteWithTombstone = "rewrite-with-tombstone"
        case deleteToTombstone = "delete-to-tombstone"
    }

    /// An envelope field to copy: its path (`op`, `source.ts_ms`) and the name it gets.
    struct Addition {
        let path: [String]
        let name: String
    }

    private var deletes = DeleteMode.tombstone
    private var keepTombstones = false
    private var fields: [Addition] = []
    private var headers: [Addition] = []
    private var routeByField = ""
    private var schemaCache: [ObjectIdentifier: (Schema, Schema)] = [:]

    public init() {}

    public func configure(_ configs: [String: String]) throws {
        let c = try Self.configDef.parse(configs)
        if let mode = c.string("delete.tombstone.handling.mode").flatMap({ DeleteMode(rawValue: $0.lowercased()) }) {
            switch mode {
            case .drop: (deletes, keepTombstones) = (.drop, false)
            case .tombstone, .deleteToTombstone: (deletes, keepTombstones) = (.tombstone, false)
            case .rewrite: (deletes, keepTombstones) = (.rewrite, false)
            case .rewriteWithTombstone: (deletes, keepTombstones) = (.rewrite, true)
            }
        } else if configs["delete.handling.mode"] != nil || configs["drop.tombstones"] != nil {
            // The legacy pair, with its defaults (drop deletes, drop tombstones).
            switch (c.string("delete.handling.mode") ?? "drop").lowercased() {
            case "rewrite": deletes = .rewrite
            case "none": deletes = .tombstone
            default: deletes = .drop
            }
            keepTombstones = !(c.bool("drop.tombstones") ?? true)
        } else {
            (deletes, keepTombstones) = (.tombstone, false)
        }
        fields = Self.additions(c.list("add.fields"), prefix: c.string("add.fields.prefix") ?? "__")
        headers = Self.additions(c.list("add.headers"), prefix: c.string("add.headers.prefix") ?? "__")
        routeByField = c.string("route.by.field") ?? ""
    }

    /// `source.ts_ms` becomes `__source_ts_ms`; `op:operation` becomes `operation`.
    static func additions(_ items: [String], prefix: String) -> [Addition] {
        items.map { item in
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            let path = parts[0].split(separator: ".").map(String.init)
            return Addition(path: path, name: parts.count == 2 ? parts[1] : prefix + path.joined(separator: "_"))
        }
    }

    public func apply<R: ConnectRecord>(_ record: R) throws -> R? {
        guard let value = record.value else {
            return keepTombstones ? record : nil
        }
        guard let envelope = Envelope(schema: record.valueSchema, value: value) else { return record }
        let op = envelope.string("op")
        if envelope.after == nil && envelope.before == nil { return nil }
        var state: Value?
        var stateSchema: Schema?
        var deleted = false
        if op == "d" || envelope.after == nil {
            switch deletes {
            case .drop: return nil
            case .tombstone, .deleteToTombstone:
                return record.replacing(.value, schema: nil, value: nil).withHeaders(
                    try headersAdded(record.headers, envelope))
            case .rewrite, .rewriteWithTombstone:
                state = envelope.before
                stateSchema = envelope.schema?.field("before")?.schema
                deleted = true
            }
        } else {
            state = envelope.after
            stateSchema = envelope.schema?.field("after")?.schema
        }
        var out = record
        let rewrite = deletes == .rewrite || deletes == .rewriteWithTombstone
        if let stateSchema, case .struct(let s)? = state {
            let updated = self.updatedSchema(stateSchema, envelope, rewrite: rewrite)
            var result = Struct(schema: updated)
            for f in stateSchema.fields { try result.put(f.name, s.getWithoutDefault(f.name)) }
            for a in fields { try result.put(a.name, envelope.lookup(a.path)?.value) }
            if rewrite { try result.put(Self.deletedField, .string(deleted ? "true" : "false")) }
            out = record.replacing(.value, schema: updated, value: .struct(result))
        } else if case .map(var entries)? = state {
            for a in fields { entries.append(Value.MapEntry(.string(a.name), envelope.lookup(a.path)?.value)) }
            if rewrite {
                entries.append(Value.MapEntry(.string(Self.deletedField), .string(deleted ? "true" : "false")))
            }
            out = record.replacing(.value, schema: nil, value: .map(entries))
        }
        out = out.withHeaders(try headersAdded(out.headers, envelope))
        if !routeByField.isEmpty, let topic = Envelope.field(routeByField, in: state)?.stringValue {
            out = out.withTopic(topic)
        }
        return out
    }

    private func headersAdded(_ existing: Headers, _ envelope: Envelope) throws(ConnectError) -> Headers {
        var h = existing
        for a in headers {
            let found = envelope.lookup(a.path)
            h.add(a.name, schema: found?.schema, value: found?.value)
        }
        return h
    }

    private func updatedSchema(_ state: Schema, _ envelope: Envelope, rewrite: Bool) -> Schema {
        if let hit = schemaCache[ObjectIdentifier(state)] { return hit.1 }
        var b = copySchemaBasics(state, SchemaBuilder.struct()).optional(state.isOptional)
        for f in state.fields { b = b.field(f.name, f.schema) }
        for a in fields {
            let s = envelope.lookup(a.path)?.schema
            b = b.field(a.name, s.map { Schema.primitive($0.type, optional: true) } ?? Schema.optionalString)
        }
        if rewrite { b = b.field(Self.deletedField, Schema.optionalString) }
        let updated = b.build()
        schemaCache[ObjectIdentifier(state)] = (state, updated)
        return updated
    }

    public func close() {}
}

/// A Debezium change event, with or without a schema.
struct Envelope {
    let schema: Schema?
    let value: Value

    init?(schema: Schema?, value: Value) {
        switch value {
        case .struct(let s):
            guard s.schema.field("op") != nil, s.schema.field("after") != nil || s.schema.field("before") != nil else {
                return nil
            }
        case .map(let entries):
            guard entries.value(forKey: "op") != nil else { return nil }
        default:
            return nil
        }
        self.schema = schema
        self.value = value
    }

    var before: Value? { Self.field("before", in: value) }
    var after: Value? { Self.field("after", in: value) }
    func string(_ name: String) -> String? { Self.field(name, in: value)?.stringValue }

    /// A (nested) field and its schema. A single name that is not an envelope field is looked up in `source`
    /// (`table`, `lsn`, `db`), as Debezium does.
    func lookup(_ path: [String]) -> (schema: Schema?, value: Value?)? {
        if path.count == 1 && !hasTopLevel(path[0]) { return lookup(["source"] + path) }
        var current: Value? = value
        var currentSchema = schema
        for step in path {
            currentSchema = currentSchema?.field(step)?.schema
            current = Self.field(step, in: current)
        }
        return (currentSchema, current)
    }

    private func hasTopLevel(_ name: String) -> Bool {
        switch value {
        case .struct(let s): return s.schema.field(name) != nil
        case .map(let entries): return entries.value(forKey: name) != nil
        default: return false
        }
    }

    static func field(_ name: String, in value: Value?) -> Value? {
        switch value {
        case .struct(let s)?: return s.schema.field(name) != nil ? s.getWithoutDefault(name) : nil
        case .map(let entries)?: return entries.value(forKey: name) ?? nil
        default: return nil
        }
    }
}
