import ConnectAPI
import Synchronization

/// A source task's context whose offsets are the ones the test says Connect's runtime committed.
public final class CommittedOffsets: OffsetStorageReader, SourceTaskContext {
    private let stored = Mutex<[OffsetMap: OffsetMap]>([:])

    public init() {}

    public var offsetStorageReader: any OffsetStorageReader { self }
    public var configs: [String: String] { [:] }
    public func offset(for partition: OffsetMap) -> OffsetMap? { stored.withLock { $0[partition] } }

    /// Connect committed `record`'s offset.
    public func commit(_ record: SourceRecord) {
        stored.withLock { $0[record.sourcePartition!] = record.sourceOffset }
    }
}
