import ConnectAPI
import Testing

@testable import ConnectRuntime

@Suite struct SubmittedRecordsTests {
    let p1: OffsetMap = ["task.id": .int32(0)]
    let p2: OffsetMap = ["task.id": .int32(1)]

    func offset(_ n: Int64) -> OffsetMap { ["current.iteration": .int64(n)] }

    @Test("an offset is committable only when every earlier record of its partition was acknowledged")
    func inOrderPrefix() {
        var s = SubmittedRecords()
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
        var s = SubmittedRecords()
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
        var s = SubmittedRecords()
        s.submit(id: 1, partition: nil, offset: nil)
        s.ack(1)
        #expect(s.committableOffsets().isEmpty)
        #expect(s.pendingCount == 0)
    }
}
