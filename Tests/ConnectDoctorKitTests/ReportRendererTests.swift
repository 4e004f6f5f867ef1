import ConnectDoctorKit
import ConnectTestKit
import Foundation
import JSON
import Testing

@Suite("Reports for people and for programs")
struct ReportRendererTests {
    let catalogue = RuleCatalogue.builtIn

    func report() throws -> Report {
        let serde = TraceClassifier().finding(
            trace:
                "org.apache.kafka.connect.errors.DataException: JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields",
            subject: .task("orders-sink", 0))
        let dlq = Finding(
            rule: try #require(catalogue.rule("CD-DLQ-001")), subject: .task("pay-sink", 1),
            evidence: [Evidence(.metric, "swift_connect_task_dlq_records_rate = 3.2", window: "2 x 30 s")],
            confidence: 0.9)
        let paused = Finding(
            rule: try #require(catalogue.rule("CD-STATE-001")), subject: .connector("idle"),
            evidence: [Evidence(.status, "PAUSED")], confidence: 0.95)
        return Report(target: ["http://localhost:8083"], findings: [paused, dlq, serde], connectors: 3, tasks: 3)
    }

    @Test("worst first; exit code 2 with a critical finding, 1 with warnings only, 0 with info only, 3 unreachable")
    func orderAndExitCodes() throws {
        let r = try report()
        #expect(r.findings.map(\.rule.id) == ["CD-SERDE-001", "CD-DLQ-001", "CD-STATE-001"])
        #expect(r.exitCode == 2)
        #expect(Report(target: [], findings: Array(r.findings.dropFirst())).exitCode == 1)
        #expect(Report(target: [], findings: Array(r.findings.dropFirst(2))).exitCode == 0)
        #expect(Report(target: [], findings: [], reachable: false).exitCode == 3)
        #expect(Report(target: [], findings: []).status == "healthy")
    }

    @Test("text: a verdict line, one line per finding, then evidence, why, fix and page; colours only when asked")
    func text() throws {
        let text = ReportRenderer.text(try report())
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(
            lines[0] == "connect-doctor: 1 critical, 1 warning, 1 info (3 connectors, 3 tasks on http://localhost:8083)"
        )
        #expect(lines[2].hasPrefix("CRITICAL CD-SERDE-001   orders-sink task 0: JSON converter expects"))
        #expect(lines[3].hasPrefix("WARNING  CD-DLQ-001     pay-sink task 1: "))
        #expect(lines[4].hasPrefix("INFO     CD-STATE-001   connector idle: "))
        #expect(text.contains("     metric: swift_connect_task_dlq_records_rate = 3.2 (2 x 30 s)"))
        #expect(text.contains("   Fix: Set value.converter.schemas.enable=false"))
        #expect(text.contains("   See: docs/doctor/CD-SERDE-001.md"))
        #expect(!text.contains("\u{1B}["))
        #expect(ReportRenderer.text(try report(), colors: true).contains("\u{1B}[1;31mCRITICAL"))
    }

    @Test("--json validates against docs/doctor/findings.schema.json, and dlq --json against dlq.schema.json")
    func jsonSchema() throws {
        let schema = try JSONParser.parse(
            try String(
                contentsOf: ProjectPaths.root.appendingPathComponent("docs/doctor/findings.schema.json"),
                encoding: .utf8))
        for report in [try report(), Report(target: [], findings: [], reachable: false)] {
            let document = try JSONParser.parse(ReportRenderer.json(report))
            let problems = JSONSchemaCheck.problems(document, schema)
            #expect(problems.isEmpty, "\(problems)")
        }
        // connect-doctor dlq --json, against its own schema.
        let dlqSchema = try JSONParser.parse(
            try String(
                contentsOf: ProjectPaths.root.appendingPathComponent("docs/doctor/dlq.schema.json"), encoding: .utf8))
        func record(_ offset: Int64, _ message: String, stage: String = "VALUE_CONVERTER") -> DeadLetterQueue.Record {
            DeadLetterQueue.Record(
                topic: "orders-dlq", partition: 0, offset: offset, key: "k\(offset)", value: nil,
                errors: [
                    "stage": stage, "exception.class.name": "org.apache.kafka.connect.errors.DataException",
                    "exception.message": message, "topic": "orders", "partition": "2", "offset": "\(offset + 100)",
                ])
        }
        let queue = DeadLetterQueue(
            topic: "orders-dlq",
            records: [
                record(0, "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields"),
                record(1, "Something else entirely", stage: "TRANSFORMATION"),
                record(2, "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields"),
            ])
        #expect(queue.groups.map(\.records.count) == [2, 1])
        #expect(queue.groups.map(\.rule.id) == ["CD-SERDE-001", "CD-TASK-001"])
        let dlqDocument = try JSONParser.parse(queue.json(connector: "orders-sink"))
        #expect(
            JSONSchemaCheck.problems(dlqDocument, dlqSchema).isEmpty,
            "\(JSONSchemaCheck.problems(dlqDocument, dlqSchema))")
        #expect(
            queue.text(connector: "orders-sink").contains(
                "2 x VALUE_CONVERTER org.apache.kafka.connect.errors.DataException"))
        // The checker itself catches a document that breaks the schema.
        let broken = try JSONParser.parse(#"{"schema_version": 2, "tool": "x", "findings": [{"rule": "bad"}]}"#)
        #expect(JSONSchemaCheck.problems(broken, schema).count >= 4)
    }
}

/// The part of JSON Schema the findings schema uses: type, required, properties, items, enum, pattern, minimum,
/// maximum.
enum JSONSchemaCheck {
    static func problems(
        _ value: JSONValue, _ schema: JSONValue, at path: String = "$", root: JSONValue? = nil
    )
        -> [String]
    {
        let root = root ?? schema
        if let ref = schema["$ref"]?.stringValue, ref.hasPrefix("#/$defs/") {
            let name = String(ref.dropFirst("#/$defs/".count))
            guard let target = root["$defs"]?[name] else { return ["\(path): unresolved \(ref)"] }
            return problems(value, target, at: path, root: root)
        }
        var out: [String] = []
        let types = schema["type"]?.stringValue.map { [$0] } ?? schema["type"]?.arrayValue?.compactMap(\.stringValue)
        if let types {
            func matches(_ type: String) -> Bool {
                switch type {
                case "object": value.objectValue != nil
                case "array": value.arrayValue != nil
                case "string": value.stringValue != nil
                case "integer": value.intValue != nil && !(value.doubleValue.map { $0 != $0.rounded() } ?? false)
                case "number": value.doubleValue != nil
                case "boolean": value.boolValue != nil
                case "null": value.isNull
                default: true
                }
            }
            if !types.contains(where: matches) { return ["\(path): not a \(types.joined(separator: " or "))"] }
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            out.append("\(path): not one of the enum")
        }
        if let pattern = schema["pattern"]?.stringValue, let s = value.stringValue,
            s.range(of: pattern, options: .regularExpression) == nil
        {
            out.append("\(path): does not match \(pattern)")
        }
        if let min = schema["minimum"]?.doubleValue, let v = value.doubleValue, v < min {
            out.append("\(path): < \(min)")
        }
        if let max = schema["maximum"]?.doubleValue, let v = value.doubleValue, v > max {
            out.append("\(path): > \(max)")
        }
        if let object = value.objectValue {
            for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[key] == nil {
                out.append("\(path): lacks \(key)")
            }
            for (key, sub) in schema["properties"]?.objectValue ?? JSONObject() {
                if let v = object[key] { out += problems(v, sub, at: "\(path).\(key)", root: root) }
            }
        }
        if let array = value.arrayValue, let items = schema["items"] {
            for (i, v) in array.enumerated() { out += problems(v, items, at: "\(path)[\(i)]", root: root) }
        }
        return out
    }
}
