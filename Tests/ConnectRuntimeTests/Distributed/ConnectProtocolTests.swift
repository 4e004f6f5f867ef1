import ConnectAPI
import Foundation
import KafkaProtocol
import Testing

@testable import ConnectRuntime

/// The `connect` sub-protocols' blobs against byte vectors derived from Connect's schemas (the reference's layouts).
@Suite("Connect group metadata and assignments, byte for byte")
struct ConnectProtocolTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    func hex(_ s: String) -> String { hex(Array(s.utf8)) }

    @Test("V1 metadata of a worker joining for the first time: no allocation")
    func metadataV1FirstJoin() throws {
        let m = WorkerMetadata(version: .compatible, url: "http://w1:8083/", configOffset: 5)
        let bytes = ConnectProtocol.encode(m)
        #expect(hex(bytes) == "0001" + "000f" + hex("http://w1:8083/") + "0000000000000005" + "ffffffff")
        #expect(try ConnectProtocol.decodeMetadata(bytes) == m)
    }

    @Test("V2 metadata carries the worker's running assignment as a 55-byte V2 assignment")
    func metadataV2WithAllocation() throws {
        let running = ExtendedAssignment(
            version: .sessioned, leader: "L", leaderUrl: "http://a:8083/", configOffset: 7,
            assigned: ConnectorsAndTasks(tasks: [ConnectorTaskId("c1", 0)]))
        let inner =
            "0002" + "0000" + "0001" + hex("L") + "000e" + hex("http://a:8083/") + "0000000000000007" + "00000001"
            + "0002" + hex("c1") + "00000001" + "00000000" + "00000000" + "00000000"
        #expect(inner.count / 2 == 55)
        #expect(hex(ConnectProtocol.encode(running)) == inner)
        let m = WorkerMetadata(version: .sessioned, url: "http://b:8083/", configOffset: 7, allocation: running)
        let bytes = ConnectProtocol.encode(m)
        #expect(hex(bytes) == "0002" + "000e" + hex("http://b:8083/") + "0000000000000007" + "00000037" + inner)
        #expect(try ConnectProtocol.decodeMetadata(bytes) == m)
    }

    /// The reference's hex for this example; its text calls it 63 bytes, but the hex and the schema make 60.
    @Test("V1 assignment of connector c1 and task c1-0: the connector as task -1 first, 60 bytes")
    func assignmentV1() throws {
        let a = ExtendedAssignment(
            version: .compatible, leader: "L", leaderUrl: "http://w1:8083/", configOffset: 5,
            assigned: ConnectorsAndTasks(connectors: ["c1"], tasks: [ConnectorTaskId("c1", 0)]))
        let expected =
            "0001" + "0000" + "0001" + "4c" + "000f" + "687474703a2f2f77313a383038332f" + "0000000000000005"
            + "00000001" + "0002" + "6331" + "00000002" + "ffffffff" + "00000000" + "00000000" + "00000000"
        #expect(hex(ConnectProtocol.encode(a)) == expected)
        #expect(expected.count / 2 == 60)
        #expect(try ConnectProtocol.decodeAssignment(ConnectProtocol.encode(a)) == a)
    }

    @Test("V0 metadata and assignment of the eager protocol; a V0 assignment reads with nothing revoked")
    func eager() throws {
        let m = WorkerMetadata(version: .eager, url: "http://w1:8083/", configOffset: -1)
        #expect(hex(ConnectProtocol.encode(m)) == "0000" + "000f" + hex("http://w1:8083/") + "ffffffffffffffff")
        #expect(try ConnectProtocol.decodeMetadata(ConnectProtocol.encode(m)) == m)
        let a = ExtendedAssignment(
            version: .eager, leader: "L", leaderUrl: "http://w1:8083/", configOffset: 3,
            assigned: ConnectorsAndTasks(
                connectors: ["b", "a"], tasks: [ConnectorTaskId("a", 1), ConnectorTaskId("b", 0)]))
        let bytes = ConnectProtocol.encode(a)
        #expect(
            hex(bytes).hasSuffix(
                "00000002" + "0001" + hex("b") + "00000002" + "ffffffff" + "00000000" + "0001" + hex("a") + "00000002"
                    + "ffffffff" + "00000001"))
        let read = try ConnectProtocol.decodeAssignment(bytes)
        #expect(read.revoked.isEmpty && read.delay == 0)
        #expect(Set(read.assigned.connectors) == ["a", "b"] && read.assigned.tasks.count == 2)
    }

    @Test("a blob cut short is a protocol error, not a crash; extra trailing bytes are ignored")
    func tolerance() throws {
        #expect(throws: KafkaProtocolError.self) { try ConnectProtocol.decodeMetadata([0, 1, 0]) }
        let m = WorkerMetadata(version: .compatible, url: "http://w1:8083/", configOffset: 5)
        #expect(try ConnectProtocol.decodeMetadata(ConnectProtocol.encode(m) + [1, 2, 3]).url == "http://w1:8083/")
    }

    @Test("connect.protocol values and the protocols each offers, most preferred first")
    func versions() {
        #expect(ConnectProtocolVersion(configValue: "SESSIONED") == .sessioned)
        #expect(ConnectProtocolVersion(configValue: "default") == nil)
        #expect(ConnectProtocolVersion.sessioned.offered.map(\.protocolName) == ["sessioned", "compatible", "default"])
        #expect(ConnectProtocolVersion.eager.offered.map(\.protocolName) == ["default"])
    }
}
