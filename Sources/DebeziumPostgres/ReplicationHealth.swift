import ConnectAPI
import Synchronization

/// What the PostgreSQL connector sees on the server that Debezium only logs, or does not look at, and that loses
/// changes or fills the server's disk without failing the task. Registered as the MBean
/// `swift.connect.postgres:type=replication,server=<topic.prefix>` (this project's extension; `/metrics` serves it as
/// `swift_connect_postgres_replication_<Attribute>{server,…}`), where connect-doctor reads it:
/// - `SlotRecreated`: the slot was missing though offsets exist, so a new one started from now and the changes made
///   while there was none are not captured (Debezium logs this and carries on);
/// - `TablesNotInPublication`: captured tables (by `table.include.list` / `exclude.list`) the publication does not
///   publish, whose changes never arrive, 1 per table;
/// - `InactiveSlotRetainedWalBytes`: WAL held back by replication slots no client reads (another connector stopped
///   or deleted without dropping its slot), bytes per slot — WAL that grows until the disk is full.
public final class ReplicationHealth: Sendable {
    public let server: String
    private let state = Mutex(State())

    struct State {
        var slotRecreated = false
        var tablesNotInPublication: [String] = []
        var inactiveSlots: [(slot: String, bytes: Int64)] = []
    }

    public init(server: String) { self.server = server }

    public func register(on mbeans: (any PluginMBeanServer)?) throws(PluginMBeanError) {
        try mbeans?.register(
            domain: "swift.connect.postgres", type: "replication", properties: [("server", server)],
            attributes: [
                ("SlotRecreated", .boolean { [self] in self.state.withLock { $0.slotRecreated } }),
                (
                    "TablesNotInPublication",
                    .table { [self] in self.state.withLock { $0.tablesNotInPublication.map { ($0, 1) } } }
                ),
                (
                    "InactiveSlotRetainedWalBytes",
                    .table { [self] in self.state.withLock { $0.inactiveSlots.map { ($0.slot, Double($0.bytes)) } } }
                ),
            ])
    }

    public func slotRecreated() { state.withLock { $0.slotRecreated = true } }
    public func tablesNotInPublication(_ tables: [String]) { state.withLock { $0.tablesNotInPublication = tables } }
    public func inactiveSlots(_ slots: [(slot: String, bytes: Int64)]) {
        state.withLock { $0.inactiveSlots = slots }
    }
}
