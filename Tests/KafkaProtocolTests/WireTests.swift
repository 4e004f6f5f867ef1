import Foundation
import Testing

@testable import KafkaProtocol

/// Requests as bytes, checked against layouts written out by hand from Kafka's message definitions (`MSG/*.json`).
@Suite("Kafka wire encoding of the group requests")
struct WireTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func string(_ s: String) -> String { String(format: "%04x", s.utf8.count) + hex(Array(s.utf8)) }

    @Test("request header v1: api key, version, correlation id, client id")
    func header() {
        let bytes = HeartbeatRequest(groupId: "g", generationId: 7, memberId: "m").frame(
            correlationId: 42, clientId: "connect-w1:8083")
        #expect(
            hex(bytes)
                == "000c" + "0003" + "0000002a" + string("connect-w1:8083") + string("g") + "00000007" + string("m")
                + "ffff")
        #expect(
            hex(ApiVersionsRequest().frame(correlationId: 1, clientId: nil)) == "0012" + "0000" + "00000001" + "ffff")
    }

    @Test("JoinGroup v5, SyncGroup v3, LeaveGroup v3 and FindCoordinator v1 bodies")
    func bodies() {
        var w = ByteWriter()
        JoinGroupRequest(
            groupId: "connect-cluster", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 60_000, memberId: "",
            protocolType: "connect", protocols: [.init(name: "sessioned", metadata: [0, 2])]
        ).encode(into: &w)
        #expect(
            hex(w.bytes)
                == string("connect-cluster") + "00002710" + "0000ea60" + "0000" + "ffff" + string("connect")
                + "00000001" + string("sessioned") + "00000002" + "0002")
        w = ByteWriter()
        SyncGroupRequest(groupId: "g", generationId: 3, memberId: "m", assignments: [("m", [9])]).encode(into: &w)
        #expect(
            hex(w.bytes) == string("g") + "00000003" + string("m") + "ffff" + "00000001" + string("m") + "00000001"
                + "09")
        w = ByteWriter()
        LeaveGroupRequest(groupId: "g", memberId: "m").encode(into: &w)
        #expect(hex(w.bytes) == string("g") + "00000001" + string("m") + "ffff")
        w = ByteWriter()
        FindCoordinatorRequest(groupId: "g").encode(into: &w)
        #expect(hex(w.bytes) == string("g") + "00")
    }

    @Test("responses decode, and a short response is malformed, not a crash")
    func responses() throws {
        var w = ByteWriter()
        w.int32(0)
        w.int16(0)
        w.int32(5)
        w.string("sessioned")
        w.string("L")
        w.string("M")
        w.array([("L", [UInt8]([1, 2])), ("M", [3])]) { w, m in
            w.string(m.0)
            w.nullableString(nil)
            w.nullableBytes(m.1)
        }
        var r = ByteReader(w.bytes)
        let joined = try JoinGroupRequest.decodeResponse(&r)
        #expect(joined.generationId == 5 && joined.protocolName == "sessioned" && joined.leader == "L")
        #expect(joined.members.map(\.memberId) == ["L", "M"] && joined.members[0].metadata == [1, 2])
        var short = ByteReader(Array(w.bytes.prefix(9)))
        #expect(throws: KafkaProtocolError.self) { try JoinGroupRequest.decodeResponse(&short) }
        var absurd = ByteReader([0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0])
        #expect(throws: KafkaProtocolError.self) { try ApiVersionsRequest.decodeResponse(&absurd) }
    }

    @Test("bootstrap.servers parses as Kafka clients read it")
    func servers() throws {
        let s = try GroupMembershipConfig.parseServers("PLAINTEXT://a:9092, b:9093,[::1]:9094")
        #expect(s.map(\.host) == ["a", "b", "::1"] && s.map(\.port) == [9092, 9093, 9094])
        #expect(throws: KafkaProtocolError.self) { try GroupMembershipConfig.parseServers("nohost") }
    }
}
