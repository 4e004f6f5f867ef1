/// What a group member is a member *as* (the role of the abstract methods of Kafka's `AbstractCoordinator`): its
/// protocol type, the protocols it offers with its metadata, the leader's assignment, and what to do around a join.
/// `GroupMember` calls these on the thread that drives it (`poll`), never on its heartbeat thread.
public protocol GroupProtocol: AnyObject {
    /// `connect` for Kafka Connect workers.
    var protocolType: String { get }
    /// The protocols this member supports, most preferred first, each with this member's metadata.
    func joinProtocols() -> [JoinGroupRequest.GroupProtocolEntry]
    /// Before (re)joining: the generation and member id of the membership being left (-1 / "" when none).
    func onJoinPrepare(generation: Int32, memberId: String)
    /// On the leader only: one assignment per member id for `generation`, from every member's metadata for the
    /// chosen protocol.
    func performAssignment(
        leaderId: String, protocolName: String, generation: Int32, members: [JoinGroupRequest.Member]
    ) throws
        -> [String: [UInt8]]
    /// After a successful sync: this member's assignment in the new generation.
    func onJoinComplete(generation: Int32, memberId: String, protocolName: String, assignment: [UInt8])
}
