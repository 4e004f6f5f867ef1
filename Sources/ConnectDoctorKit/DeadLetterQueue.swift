import JSON
import Kafka

/// The records of a dead letter queue, decoded from their `__connect.errors.*` headers and grouped by error, each
/// group classified by the rule its stack trace matches.
public struct DeadLetterQueue: Sendable {
    public struct Record: Sendable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var key: String?
        public var value: String?
        /// `__connect.errors.*` headers, without the prefix (`stage`, `class.name`, `exception.class.name`, ...).
        public var errors: [String: String]

        public init(
            topic: String, partition: Int32, offset: Int64, key: String?, value: String?, errors: [String: String]
        ) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.key = key
            self.value = value
            self.errors = errors
        }
    }

    public struct Group: Sendable {
        public var stage: String
        public var exceptionClass: String
        public var message: String
        public var records: [Record]
        /// The rule the group's stack trace matches (or the generic one).
        public var rule: Rule
    }

    public var topic: String
    public var records: [Record]
    public var groups: [Group]

    public init(topic: String, records: [Record], classifier: TraceClassifier = TraceClassifier()) {
        self.topic = topic
        self.records = records
        var order: [String] = []
        var byKey: [String: [Record]] = [:]
        for r in records {
            let k = [
                r.errors["stage"] ?? "", r.errors["exception.class.name"] ?? "",
                Self.firstLine(r.errors["exception.message"]),
            ]
            .joined(separator: "\u{1}")
            if byKey[k] == nil { order.append(k) }
            byKey[k, default: []].append(r)
        }
        groups = order.map { k in
            let rs = byKey[k]!
            let first = rs[0].errors
            let trace =
                first["exception.stacktrace"]
                ?? "\(first["exception.class.name"] ?? ""): \(first["exception.message"] ?? "")"
            var rule = classifier.finding(trace: trace, subject: .trace).rule
            if rule.signal == "task_failed" { rule.title = "Unrecognised error" }
            return Group(
                stage: first["stage"] ?? "?", exceptionClass: first["exception.class.name"] ?? "?",
                message: Self.firstLine(first["exception.message"]), records: rs, rule: rule)
        }
        .sorted { $0.records.count > $1.records.count }
    }

    static func firstLine(_ s: String?) -> String { String((s ?? "").split(separator: "\n").first ?? "") }

    /// Reads the last `limit` records of each partition of `topic` with a consumer of its own (no group, nothing
    /// committed).
    public static func read(
        topic: String, bootstrapServers: String, limit: Int, clientProperties: [String: String] = [:]
    ) throws -> DeadLetterQueue {
        var props = clientProperties
        props["bootstrap.servers"] = bootstrapServers
        props["group.id"] = props["group.id"] ?? "connect-doctor"
        props["enable.auto.commit"] = "false"
        let consumer = try KafkaConsumer(config: KafkaClientConfig(props))
        defer { consumer.close() }
        guard let description = try consumer.describeTopics([topic]).first, description.partitions > 0 else {
            throw DoctorError("the dead letter queue topic \(topic) does not exist")
        }
        var starts: [KafkaTopicPartition: Int64] = [:]
        var ends: [KafkaTopicPartition: Int64] = [:]
        for p in 0..<Int32(description.partitions) {
            let tp = KafkaTopicPartition(topic, p)
            let marks = try consumer.queryWatermarks(tp, timeoutMs: 5000)
            guard marks.high > marks.low else { continue }
            starts[tp] = max(marks.low, marks.high - Int64(limit))
            ends[tp] = marks.high
        }
        var records: [Record] = []
        if !starts.isEmpty {
            try consumer.assign(starts)
            var positions = starts
            let deadline = ContinuousClock.now.advanced(by: .seconds(20))
            while positions.contains(where: { $0.value < ends[$0.key]! }) && ContinuousClock.now < deadline {
                guard case .message(let m)? = consumer.poll(timeoutMs: 200) else { continue }
                let tp = KafkaTopicPartition(m.topic, m.partition)
                positions[tp] = m.offset + 1
                guard m.offset < ends[tp] ?? 0 else { continue }
                var errors: [String: String] = [:]
                for h in m.headers where h.key.hasPrefix("__connect.errors.") {
                    errors[String(h.key.dropFirst("__connect.errors.".count))] = h.value.map {
                        String(decoding: $0, as: UTF8.self)
                    }
                }
                records.append(
                    Record(
                        topic: m.topic, partition: m.partition, offset: m.offset,
                        key: m.key.map { String(decoding: $0, as: UTF8.self) },
                        value: m.value.map { String(decoding: $0, as: UTF8.self) }, errors: errors))
            }
        }
        return DeadLetterQueue(
            topic: topic, records: records.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) })
    }

    // MARK: - Output

    public func text(connector: String?) -> String {
        var out = "Dead letter queue \(topic)" + (connector.map { " of connector \($0)" } ?? "")
        out += ": \(records.count) records read, \(groups.count) kinds of error\n"
        if records.contains(where: { $0.errors.isEmpty }) {
            out +=
                "  (records without __connect.errors.* headers: set errors.deadletterqueue.context.headers.enable=true)\n"
        }
        for g in groups {
            out +=
                "\n  \(g.records.count) x \(g.stage) \(g.exceptionClass): \(TraceClassifier.shorten(g.message, to: 140))\n"
            out += "     rule \(g.rule.id): \(g.rule.title)  (see \(g.rule.doc))\n"
            if let first = g.records.first, let last = g.records.last {
                let origin = first.errors["topic"].map { "from \($0)" } ?? ""
                out += "     \(origin) first \(first.topic)-\(first.partition)@\(first.offset)"
                out += ", last \(last.topic)-\(last.partition)@\(last.offset)\n"
                out += "     e.g. key \(first.key.map { TraceClassifier.shorten($0, to: 60) } ?? "null")"
                out += ", value \(first.value.map { TraceClassifier.shorten($0, to: 100) } ?? "null")\n"
            }
        }
        return out
    }

    public func json(connector: String?) -> String {
        func coordinates(_ r: Record) -> JSONValue {
            ["topic": .string(r.topic), "partition": .int(Int64(r.partition)), "offset": .int(r.offset)]
        }
        var o = JSONObject()
        o["schema_version"] = .int(ReportRenderer.schemaVersion)
        o["tool"] = "connect-doctor"
        o["connector"] = connector.map { .string($0) } ?? .null
        o["topic"] = .string(topic)
        o["records_read"] = .int(Int64(records.count))
        o["groups"] = .array(
            groups.map { g in
                var x: JSONObject = [
                    "count": .int(Int64(g.records.count)), "stage": .string(g.stage),
                    "exception_class": .string(g.exceptionClass), "message": .string(g.message),
                    "rule": .string(g.rule.id), "doc": .string(g.rule.doc),
                ]
                if let first = g.records.first, let last = g.records.last {
                    x["first"] = coordinates(first)
                    x["last"] = coordinates(last)
                    x["original"] = [
                        "topic": first.errors["topic"].map { .string($0) } ?? .null,
                        "partition": first.errors["partition"].map { .string($0) } ?? .null,
                        "offset": first.errors["offset"].map { .string($0) } ?? .null,
                    ]
                    x["example"] = [
                        "key": first.key.map { .string($0) } ?? .null,
                        "value": first.value.map { .string($0) } ?? .null,
                    ]
                }
                return .object(x)
            })
        return JSONWriter.string(.object(o))
    }
}
