import ConnectAPI
import ConnectDatagen
import ConnectFile
import ConnectWorkerKit
import Foundation
import Testing

/// Offsets and context for running source tasks without a worker.
struct FakeOffsets: OffsetStorageReader {
    var offsets: [OffsetMap: OffsetMap] = [:]
    func offset(for partition: OffsetMap) -> OffsetMap? { offsets[partition] }
}

struct FakeSourceContext: SourceTaskContext {
    var offsetStorageReader: any OffsetStorageReader
    var configs: [String: String] = [:]
}

@Suite struct DatagenTests {
    func task(_ props: [String: String], offsets: FakeOffsets = FakeOffsets()) throws -> DatagenTask {
        let t = DatagenTask()
        t.initialize(FakeSourceContext(offsetStorageReader: offsets))
        try t.start(props)
        return t
    }

    let base = [
        "kafka.topic": "orders", "quickstart": "orders", "max.interval": "0", "random.seed": "42", "task.id": "0",
    ]

    @Test("with a long max.interval a poll returns nothing after a second of the wait, so a stop need not wait it out")
    func longIntervalPollsReturn() throws {
        var props = base
        props["max.interval"] = "86400000"
        let t = try task(props)
        // A record due within the first second of a day is a 1 in 86,400 chance: both polls return nothing.
        #expect(try t.poll().map(\.count) == nil)
        #expect(try t.poll().map(\.count) == nil)
        props["max.interval"] = "1"
        #expect(try task(props).poll()?.count == 1)
    }

    @Test("orders records carry the quickstart's fields, the orderid as key and Connect headers")
    func ordersShape() throws {
        let records = try #require(try task(base).poll())
        #expect(records.count == 256)
        let r = records[3]
        let value = try #require(r.value?.structValue)
        #expect(value.schema.name == "ksql.orders")
        #expect(value.schema.fields.map(\.name) == ["ordertime", "orderid", "itemid", "orderunits", "address"])
        #expect(value.get("orderid") == .int32(3))
        #expect(r.key == .int32(3))
        #expect(r.keySchema == Schema.int32)
        #expect(value.get("address")?.structValue?.schema.fields.map(\.name) == ["city", "state", "zipcode"])
        if case .string(let item)? = value.get("itemid") {
            #expect(item.hasPrefix("Item_"))
        } else {
            Issue.record("itemid")
        }
        if case .float64(let units)? = value.get("orderunits") {
            #expect(units >= 0.1 && units < 10)
        } else {
            Issue.record("orderunits")
        }
        #expect(r.headers.map(\.key) == ["task.generation", "task.id", "current.iteration"])
        #expect(r.sourcePartition == ["task.id": .int32(0)])
        #expect(r.sourceOffset?["current.iteration"] == .int64(4))
    }

    @Test("with iterations set, the records still to generate are reported as behind the source")
    func behindSource() throws {
        var props = base
        #expect(try task(props).recordsBehindSource() == nil)
        props["iterations"] = "2500"
        let t = try task(props)
        #expect(t.recordsBehindSource() == 2500)
        _ = try t.poll()
        #expect(t.recordsBehindSource() == 2244)  // 2,500 less one batch of 256
    }

    @Test("the same seed yields the same records; a restart from an offset continues the sequence exactly")
    func deterministic() throws {
        let first = try #require(try task(base).poll())
        let again = try #require(try task(base).poll())
        #expect(first.map(\.value) == again.map(\.value))
        let offsets = FakeOffsets(offsets: [["task.id": .int32(0)]: first[199].sourceOffset!])
        let resumed = try #require(try task(base, offsets: offsets).poll())
        #expect(resumed[0].value == first[200].value)
    }

    @Test("iterations stops the task with datagen's message")
    func iterations() throws {
        var props = base
        props["iterations"] = "5"
        let t = try task(props)
        #expect(try t.poll()?.count == 5)
        #expect {
            _ = try t.poll()
        } throws: { error in
            (error as? ConnectError)?.message == "Stopping connector: generated the configured 5 number of messages"
        }
    }

    @Test(
        "each quickstart generates values that satisfy its schema",
        arguments: ["orders", "ratings", "users", "pageviews"])
    func quickstarts(name: String) throws {
        var props = base
        props["quickstart"] = name
        props["kafka.topic"] = name
        for r in try #require(try task(props).poll()).prefix(50) {
            try r.value?.structValue?.validate()
        }
    }

    @Test("exactly one of schema.string, schema.filename, quickstart")
    func exactlyOne() {
        #expect(
            DatagenConnector().validate(["kafka.topic": "t"])["quickstart"] == [
                "Must set exactly one of schema.string, schema.filename, quickstart"
            ])
    }

    @Test("taskConfigs numbers the tasks")
    func taskConfigs() throws {
        let c = DatagenConnector()
        try c.start(base)
        #expect(try c.taskConfigs(maxTasks: 3).map { $0["task.id"] } == ["0", "1", "2"])
    }
}

@Suite struct FileStreamTests {
    func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    @Test("the source reads lines (\\n, \\r\\n, \\r) with byte offsets and resumes from a committed position")
    func sourceLinesAndOffsets() throws {
        let path = temp("src")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "one\ntwo\r\nthree\rfour\npartial".write(toFile: path, atomically: true, encoding: .utf8)
        let t = FileStreamSourceTask()
        t.initialize(FakeSourceContext(offsetStorageReader: FakeOffsets()))
        try t.start(["file": path, "topic": "lines"])
        let records = try #require(try t.poll())
        #expect(records.map(\.value) == [.string("one"), .string("two"), .string("three"), .string("four")])
        #expect(records.map { $0.sourceOffset?["position"] } == [.int64(4), .int64(9), .int64(15), .int64(20)])
        #expect(records[0].sourcePartition == ["filename": .string(path)])
        try t.stop()

        let resumed = FileStreamSourceTask()
        resumed.initialize(
            FakeSourceContext(
                offsetStorageReader: FakeOffsets(offsets: [["filename": .string(path)]: ["position": .int64(9)]])))
        try resumed.start(["file": path, "topic": "lines"])
        #expect(try resumed.poll()?.map(\.value) == [.string("three"), .string("four")])
        try resumed.stop()
    }

    @Test("the sink appends each value's string form and a newline")
    func sinkWrites() throws {
        let path = temp("sink")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = FileStreamSinkTask()
        try t.start(["file": path])
        let schema = SchemaBuilder.struct().field("a", Schema.int32).field("b", Schema.optionalString).build()
        var s = Struct(schema: schema)
        try s.put("a", .int32(1))
        try t.put([
            SinkRecord(
                topic: "t", kafkaPartition: 0, keySchema: nil, key: nil, valueSchema: Schema.string,
                value: .string("x"), kafkaOffset: 0),
            SinkRecord(
                topic: "t", kafkaPartition: 0, keySchema: nil, key: nil, valueSchema: schema, value: .struct(s),
                kafkaOffset: 1),
            SinkRecord(
                topic: "t", kafkaPartition: 0, keySchema: nil, key: nil, valueSchema: nil, value: .float64(1.0E7),
                kafkaOffset: 2),
        ])
        try t.flush([:])
        try t.stop()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "x\nStruct{a=1}\n1.0E7\n")
    }
}
