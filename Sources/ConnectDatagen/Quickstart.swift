import ConnectAPI

/// How one field of a quickstart record is generated (after the avro-random-generator `arg.properties` that the
/// datagen schema files use).
indirect enum FieldGenerator: Sendable {
    /// A uniform integer in `min..<max`.
    case range(Int64, Int64)
    /// A uniform double in `min..<max`.
    case doubleRange(Double, Double)
    /// `start + step * iteration`.
    case iteration(start: Int64, step: Int64)
    case pattern(RandomPattern)
    case options([String])
    case record(name: String, fields: [QuickstartField])
}

struct QuickstartField: Sendable {
    var name: String
    var type: SchemaType
    var generator: FieldGenerator
}

/// A datagen quickstart: a schema, its generators and the field used as the record key.
struct Quickstart: Sendable {
    let name: String
    let keyField: String
    let schema: Schema
    let fields: [QuickstartField]

    init(name: String, keyField: String, fields: [QuickstartField]) {
        self.name = name
        self.keyField = keyField
        self.fields = fields
        self.schema = Self.schema(name: "ksql.\(name)", fields: fields)
    }

    static func schema(name: String, fields: [QuickstartField]) -> Schema {
        var b = SchemaBuilder.struct().name(name)
        for f in fields {
            switch f.generator {
            case .record(let recordName, let nested):
                b = b.field(f.name, schema(name: "ksql.\(recordName)", fields: nested))
            default: b = b.field(f.name, Schema.primitive(f.type, optional: false))
            }
        }
        return b.build()
    }

    /// The value of record number `iteration` (0-based).
    func generate<G: RandomNumberGenerator>(iteration: Int64, using rng: inout G) -> Struct {
        Self.generate(schema: schema, fields: fields, iteration: iteration, using: &rng)
    }

    private static func generate<G: RandomNumberGenerator>(
        schema: Schema, fields: [QuickstartField], iteration: Int64, using rng: inout G
    ) -> Struct {
        var s = Struct(schema: schema)
        for (i, f) in fields.enumerated() {
            let v: Value
            switch f.generator {
            case .range(let lo, let hi):
                let n = rng.draw(lo, hi)
                v = f.type == .int32 ? .int32(Int32(truncatingIfNeeded: n)) : .int64(n)
            case .doubleRange(let lo, let hi): v = .float64(rng.draw(lo, hi))
            case .iteration(let start, let step):
                let n = start + step * iteration
                v = f.type == .int32 ? .int32(Int32(truncatingIfNeeded: n)) : .int64(n)
            case .pattern(let p): v = .string(p.generate(using: &rng))
            case .options(let o): v = .string(o[rng.index(o.count)])
            case .record(_, let nested):
                v = .struct(
                    generate(schema: schema.fields[i].schema, fields: nested, iteration: iteration, using: &rng))
            }
            // Generated values always match their own schema.
            try? s.put(schema.fields[i], v)
        }
        return s
    }

    static let all: [String: Quickstart] = Dictionary(
        uniqueKeysWithValues: [orders, ratings, users, pageviews].map { ($0.name, $0) })

    static let orders = Quickstart(
        name: "orders", keyField: "orderid",
        fields: [
            QuickstartField(name: "ordertime", type: .int64, generator: .range(1_487_715_775_521, 1_519_273_364_600)),
            QuickstartField(name: "orderid", type: .int32, generator: .iteration(start: 0, step: 1)),
            QuickstartField(name: "itemid", type: .string, generator: .pattern(RandomPattern("Item_[1-9][0-9]{0,2}"))),
            QuickstartField(name: "orderunits", type: .float64, generator: .doubleRange(0.1, 10.0)),
            QuickstartField(
                name: "address", type: .struct,
                generator: .record(
                    name: "address",
                    fields: [
                        QuickstartField(
                            name: "city", type: .string, generator: .pattern(RandomPattern("City_[1-9]{0,2}"))),
                        QuickstartField(
                            name: "state", type: .string, generator: .pattern(RandomPattern("State_[1-9]{0,2}"))),
                        QuickstartField(name: "zipcode", type: .int64, generator: .range(10000, 99999)),
                    ])),
        ])

    static let ratings = Quickstart(
        name: "ratings", keyField: "rating_id",
        fields: [
            QuickstartField(name: "rating_id", type: .int64, generator: .iteration(start: 1, step: 1)),
            QuickstartField(name: "user_id", type: .int32, generator: .range(-1, 20)),
            QuickstartField(name: "stars", type: .int32, generator: .range(1, 5)),
            QuickstartField(name: "route_id", type: .int32, generator: .range(1, 9999)),
            QuickstartField(name: "rating_time", type: .int64, generator: .iteration(start: 1, step: 12)),
            QuickstartField(
                name: "channel", type: .string, generator: .options(["web", "iOS", "ios", "iOS-test", "android"])),
            QuickstartField(
                name: "message", type: .string,
                generator: .options([
                    "thank you for the most friendly, helpful experience today at your new lounge",
                    "airport refurb looks great, will fly outta here more!",
                    "more peanuts please", "worst. flight. ever. #neveragain",
                    "meh", "Surprisingly good, maybe you are getting your mojo back at long last!",
                    "is this as good as it gets? really ?", "why is it so difficult to keep the bathrooms clean ?",
                    "your team here rocks!", "(expletive deleted)", "Exceptional service - pleasure flying with you!",
                ])),
        ])

    static let users = Quickstart(
        name: "users", keyField: "userid",
        fields: [
            QuickstartField(
                name: "registertime", type: .int64, generator: .range(1_487_715_775_521, 1_519_273_364_600)),
            QuickstartField(name: "userid", type: .string, generator: .pattern(RandomPattern("User_[1-9]"))),
            QuickstartField(name: "regionid", type: .string, generator: .pattern(RandomPattern("Region_[1-9]"))),
            QuickstartField(name: "gender", type: .string, generator: .options(["MALE", "FEMALE", "OTHER"])),
        ])

    static let pageviews = Quickstart(
        name: "pageviews", keyField: "viewtime",
        fields: [
            QuickstartField(name: "viewtime", type: .int64, generator: .iteration(start: 1, step: 10)),
            QuickstartField(name: "userid", type: .string, generator: .pattern(RandomPattern("User_[1-9]"))),
            QuickstartField(name: "pageid", type: .string, generator: .pattern(RandomPattern("Page_[1-9][0-9]"))),
        ])
}
