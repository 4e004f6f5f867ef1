import ConnectAPI
import Testing

@testable import ConnectRuntime

@Suite struct SubmittedRecordsTests {
    let p1: OffsetMap = ["task.id": .int32(0)]
    let p2: OffsetMap = ["task.id": .int32(1)]

    func offset(_ n: Int64) -> OffsetMap { ["current.iteration": .int64(n)] }

    @Test("an offset is committable only when every earlier record of its partition was acknowledged")
    func inOrderPrefix() {
        var s = SubmittedRecords<Void>()
        for i in 1...3 { s.submit(id: UInt64(i), partition: p1, offset: offset(Int64(i))) }
        s.ack(2)
        s.ack(3)
        #expect(s.committableOffsets().isEmpty)
        s.ack(1)
        #expect(s.committableOffsets() == [p1: offset(3)])
        #expect(s.committableOffsets().isEmpty)
        #expect(s.pendingCount == 0)
    }

    @Test("partitions progress independently")
    func independentPartitions() {
        var s = SubmittedRecords<Void>()
        s.submit(id: 1, partition: p1, offset: offset(1))
        s.submit(id: 2, partition: p2, offset: offset(7))
        s.submit(id: 3, partition: p1, offset: offset(2))
        s.ack(2)
        s.ack(3)
        #expect(s.committableOffsets() == [p2: offset(7)])
        s.ack(1)
        #expect(s.committableOffsets() == [p1: offset(2)])
    }

    @Test("records without a source partition never produce an offset")
    func noPartition() {
        var s = SubmittedRecords<Void>()
        s.submit(id: 1, partition: nil, offset: nil)
        s.ack(1)
        #expect(s.committableOffsets().isEmpty)
        #expect(s.pendingCount == 0)
    }

    @Test("an acknowledgement returns the record's payload once; an unknown or repeated id changes nothing")
    func payloads() {
        var s = SubmittedRecords<String>()
        s.submit(id: 5, partition: p1, offset: offset(1), payload: "a")
        s.submit(id: 9, partition: p1, offset: offset(2), payload: "b")
        #expect(s.payload(of: 9) == "b")
        #expect(s.ack(9) == "b")
        #expect(s.ack(9) == nil)
        #expect(s.ack(4) == nil)
        #expect(s.ack(100) == nil)
        #expect(s.pendingCount == 1)
        #expect(s.committableOffsets().isEmpty)
        #expect(s.ack(5) == "a")
        #expect(s.committableOffsets() == [p1: offset(2)])
        #expect(s.pendingCount == 0)
    }

    @Test("thousands of records acknowledged out of order across partitions that come and go commit in order")
    func manyRecordsAndPartitions() {
        var s = SubmittedRecords<Int>()
        var rng = SystemRandomNumberGenerator()
        var nextID: UInt64 = 0
        var expected: [OffsetMap: OffsetMap] = [:]
        for round in 0..<4 {
            // Fresh partition maps each round (equal content to earlier ones some rounds, new ones in others).
            let partitions: [OffsetMap] = (0..<3).map { ["p": .int32(Int32(round % 2 == 0 ? $0 : $0 + 10))] }
            var ids: [(UInt64, OffsetMap, Int64)] = []
            for n in 0..<3000 {
                nextID += UInt64(Int.random(in: 1...2, using: &rng))
                let p = partitions[n % 3]
                s.submit(id: nextID, partition: p, offset: offset(Int64(n)), payload: n)
                ids.append((nextID, p, Int64(n)))
                expected[p] = offset(Int64(n))
            }
            ids.shuffle(using: &rng)
            let held = ids.removeLast()
            for (id, _, n) in ids { #expect(s.ack(id) == Int(n)) }
            // Everything before the held record in its partition commits; the other partitions commit fully.
            var first = s.committableOffsets()
            #expect(first[held.1] == (held.2 >= 3 ? offset(held.2 - 3) : nil))
            #expect(s.pendingCount == 1)
            #expect(s.ack(held.0) == Int(held.2))
            first.merge(s.committableOffsets()) { _, newer in newer }
            for p in partitions { #expect(first[p] == expected[p], "round \(round)") }
            #expect(s.pendingCount == 0)
        }
        #expect(s.committedRecords == 12000)
    }

    @Test("a record waiting for its acknowledgement holds the window; once it comes, everything behind it commits")
    func windowBehindOneRecord() {
        var s = SubmittedRecords<Int>()
        for i in 1...5000 { s.submit(id: UInt64(i), partition: p1, offset: offset(Int64(i)), payload: i) }
        for i in 2...5000 { #expect(s.ack(UInt64(i)) == i) }
        #expect(s.committableOffsets().isEmpty)
        #expect(s.pendingCount == 1)
        // New records after the wait keep their ids' slots.
        s.submit(id: 5001, partition: p2, offset: offset(1), payload: 5001)
        #expect(s.payload(of: 1) == 1 && s.payload(of: 5001) == 5001 && s.payload(of: 4000) == nil)
        #expect(s.ack(1) == 1)
        #expect(s.committableOffsets() == [p1: offset(5000)])
        // p1's queue is freed; a new partition takes its place without disturbing p2.
        s.submit(id: 5002, partition: ["other": .int32(9)], offset: offset(2), payload: 5002)
        #expect(s.ack(5002) == 5002)
        #expect(s.ack(5001) == 5001)
        #expect(s.committableOffsets() == [p2: offset(1), ["other": .int32(9)]: offset(2)])
        #expect(s.pendingCount == 0 && s.committedRecords == 5002)
    }
}
