import ConnectTestKit
import Foundation
import Logging
import Synchronization
import Testing

@testable import KafkaProtocol

/// A `connect`-type protocol for tests: its metadata is its name; the leader gives each member the list of all.
final class EchoProtocol: GroupProtocol, @unchecked Sendable {
    // Written by the owner thread that polls, read by the test after `poll` returned.
    let name: String
    var assigned: [String] = []
    var joins = 0
    var prepared = 0
    init(_ name: String) { self.name = name }

    var protocolType: String { "connect" }
    func joinProtocols() -> [JoinGroupRequest.GroupProtocolEntry] {
        [.init(name: "sessioned", metadata: Array(name.utf8)), .init(name: "compatible", metadata: Array(name.utf8))]
    }
    func onJoinPrepare(generation: Int32, memberId: String) { prepared += 1 }
    func performAssignment(
        leaderId: String, protocolName: String, generation: Int32, members: [JoinGroupRequest.Member]
    ) throws
        -> [String: [UInt8]]
    {
        let all = members.map { String(decoding: $0.metadata, as: UTF8.self) }.sorted().joined(separator: ",")
        return Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, Array(all.utf8)) })
    }
    func onJoinComplete(generation: Int32, memberId: String, protocolName: String, assignment: [UInt8]) {
        joins += 1
        assigned = String(decoding: assignment, as: UTF8.self).split(separator: ",").map(String.init)
    }
}

@Suite("A connect group on a real Tansu broker", .serialized, .timeLimit(.minutes(2)))
struct GroupMemberTests {
    let broker = TansuBroker.shared

    func config(_ group: String, client: String) throws -> GroupMembershipConfig {
        GroupMembershipConfig(
            groupId: group, bootstrapServers: try GroupMembershipConfig.parseServers(broker.bootstrapServers),
            clientId: client, sessionTimeout: .seconds(6), rebalanceTimeout: .seconds(10),
            heartbeatInterval: .milliseconds(500))
    }

    @Test("the coordinator answers ApiVersions with the group APIs this client uses")
    func apiVersions() throws {
        let (host, port) = try GroupMembershipConfig.parseServers(broker.bootstrapServers)[0]
        let c = try BrokerConnection(host: host, port: port, clientId: "test", timeout: .seconds(5))
        defer { c.close() }
        let v = try c.send(ApiVersionsRequest(), timeout: .seconds(5))
        #expect(v.errorCode == .none)
        for (key, version) in [
            (JoinGroupRequest.apiKey, JoinGroupRequest.apiVersion),
            (SyncGroupRequest.apiKey, SyncGroupRequest.apiVersion),
            (HeartbeatRequest.apiKey, HeartbeatRequest.apiVersion),
            (LeaveGroupRequest.apiKey, LeaveGroupRequest.apiVersion),
            (FindCoordinatorRequest.apiKey, FindCoordinatorRequest.apiVersion),
        ] {
            #expect(v.versions[key]?.contains(version) == true, "API \(key) v\(version)")
        }
    }

    @Test("two members join one connect group, the leader assigns both, and a leaving member makes the other rejoin")
    func twoMembers() throws {
        let group = "g-\(UInt32.random(in: 0...UInt32.max))"
        let a = GroupMember(config: try config(group, client: "a"), logger: Logger(label: "a"))
        let b = GroupMember(config: try config(group, client: "b"), logger: Logger(label: "b"))
        defer {
            a.close()
            b.close()
        }
        let pa = EchoProtocol("worker-a")
        let pb = EchoProtocol("worker-b")
        // Both must be joining at once for one generation to hold both: b polls on a thread of its own.
        let bDone = DispatchSemaphore(value: 0)
        let bError = Mutex<KafkaProtocolError?>(nil)
        Thread {
            do throws(KafkaProtocolError) {
                _ = try b.poll(pb, timeout: .seconds(30))
            } catch {
                bError.withLock { $0 = error }
            }
            bDone.signal()
        }.start()
        _ = try a.poll(pa, timeout: .seconds(30))
        #expect(bDone.wait(timeout: .now() + 30) == .success)
        #expect(bError.withLock { $0 } == nil)
        // Tansu may settle two members in one round or two; poll again until both see both.
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while (pa.assigned.count < 2 || pb.assigned.count < 2) && ContinuousClock.now < deadline {
            let bPolled = DispatchSemaphore(value: 0)
            Thread {
                _ = try? b.poll(pb, timeout: .seconds(15))
                bPolled.signal()
            }.start()
            _ = try a.poll(pa, timeout: .seconds(15))
            _ = bPolled.wait(timeout: .now() + 20)
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(pa.assigned == ["worker-a", "worker-b"])
        #expect(pb.assigned == ["worker-a", "worker-b"])
        #expect(a.phase == .stable && b.phase == .stable)
        #expect(a.generation == b.generation)
        #expect([a.isLeader, b.isLeader].filter { $0 }.count == 1)

        // Heartbeats keep both in the group past the session timeout.
        Thread.sleep(forTimeInterval: 7)
        #expect(a.phase == .stable && b.phase == .stable)

        // b leaves: a is told to rebalance by its heartbeats, rejoins alone and is assigned only itself.
        b.leave("test")
        #expect(ProjectPaths.waitUntil(15) { a.rejoinNeeded })
        _ = try a.poll(pa, timeout: .seconds(30))
        #expect(pa.assigned == ["worker-a"])
        #expect(a.isLeader)
    }

    @Test(
        "a member that leaves while its group rebalances leaves no never-syncing leader behind: the next member joins"
    )
    func leaveDuringRebalance() throws {
        let group = "g-\(UInt32.random(in: 0...UInt32.max))"
        let a = GroupMember(config: try config(group, client: "a"), logger: Logger(label: "a"))
        let b = GroupMember(config: try config(group, client: "b"), logger: Logger(label: "b"))
        defer {
            a.close()
            b.close()
        }
        let pa = EchoProtocol("worker-a")
        let pb = EchoProtocol("worker-b")
        _ = try a.poll(pa, timeout: .seconds(30))
        #expect(a.phase == .stable)
        // b's JoinGroup puts the group into a rebalance; a leaves as soon as its heartbeat sees it.
        let bDone = DispatchSemaphore(value: 0)
        Thread {
            let deadline = ContinuousClock.now.advanced(by: .seconds(40))
            while b.phase != .stable && ContinuousClock.now < deadline { _ = try? b.poll(pb, timeout: .seconds(10)) }
            bDone.signal()
        }.start()
        #expect(ProjectPaths.waitUntil(15) { a.rejoinNeeded })
        a.leave("test")
        #expect(bDone.wait(timeout: .now() + 45) == .success)
        #expect(b.phase == .stable)
        #expect(pb.assigned == ["worker-b"])
    }

    @Test(
        "interrupt: the round under way is answered and poll returns without another; later polls throw at once, and close leaves"
    )
    func interruptedJoin() throws {
        let group = "g-\(UInt32.random(in: 0...UInt32.max))"
        let member = GroupMember(config: try config(group, client: "stopping"), logger: Logger(label: "stopping"))
        let done = DispatchSemaphore(value: 0)
        Thread {
            _ = try? member.poll(EchoProtocol("stopping"), timeout: .seconds(60))
            done.signal()
        }.start()
        #expect(ProjectPaths.waitUntil(10) { member.phase == .rebalancing })
        member.interrupt()
        // One JoinGroup and SyncGroup (Tansu answers a JoinGroup after half the session timeout: 3 s).
        #expect(done.wait(timeout: .now() + 15) == .success)
        member.requestRejoin("test")
        let polled = ContinuousClock.now
        #expect(throws: KafkaProtocolError.self) { try member.poll(EchoProtocol("stopping"), timeout: .seconds(60)) }
        #expect(ContinuousClock.now - polled < .seconds(1))
        let closing = ContinuousClock.now
        member.close()
        #expect(ContinuousClock.now - closing < .seconds(10))
    }

    @Test(
        "a coordinator no broker can name is unreachable (what a worker revokes its work for); a found one is not"
    )
    func coordinatorReachability() throws {
        let closed = try FreePort.allocate()
        let lost = GroupMember(
            config: GroupMembershipConfig(
                groupId: "g", bootstrapServers: [("127.0.0.1", closed)], clientId: "lost",
                sessionTimeout: .seconds(6), rebalanceTimeout: .seconds(10), heartbeatInterval: .milliseconds(500)),
            logger: Logger(label: "lost"))
        defer { lost.close() }
        #expect(lost.coordinatorUnreachableFor == nil)
        #expect(throws: KafkaProtocolError.self) { try lost.poll(EchoProtocol("lost"), timeout: .seconds(1)) }
        #expect(lost.coordinatorUnreachableFor != nil)

        let group = "g-\(UInt32.random(in: 0...UInt32.max))"
        let member = GroupMember(config: try config(group, client: "found"), logger: Logger(label: "found"))
        defer { member.close() }
        #expect(try member.poll(EchoProtocol("found"), timeout: .seconds(30)))
        #expect(member.coordinatorUnreachableFor == nil)
    }

    @Test("a member whose protocols share nothing with the group's is refused with INCONSISTENT_GROUP_PROTOCOL")
    func inconsistentProtocol() throws {
        final class Other: GroupProtocol {
            var protocolType: String { "connect" }
            func joinProtocols() -> [JoinGroupRequest.GroupProtocolEntry] { [.init(name: "range", metadata: [])] }
            func onJoinPrepare(generation: Int32, memberId: String) {}
            func performAssignment(
                leaderId: String, protocolName: String, generation: Int32, members: [JoinGroupRequest.Member]
            )
                throws -> [String: [UInt8]]
            { [:] }
            func onJoinComplete(generation: Int32, memberId: String, protocolName: String, assignment: [UInt8]) {}
        }
        let group = "g-\(UInt32.random(in: 0...UInt32.max))"
        let a = GroupMember(config: try config(group, client: "a"), logger: Logger(label: "a"))
        let b = GroupMember(config: try config(group, client: "b"), logger: Logger(label: "b"))
        defer {
            a.close()
            b.close()
        }
        _ = try a.poll(EchoProtocol("a"), timeout: .seconds(30))
        #expect {
            _ = try b.poll(Other(), timeout: .seconds(30))
        } throws: {
            ($0 as? KafkaProtocolError) == .broker(.inconsistentGroupProtocol, message: "JoinGroup failed")
        }
    }
}
