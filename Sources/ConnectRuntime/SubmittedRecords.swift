import ConnectAPI

/// Source records sent to the broker and not yet committed, per source partition in send order
/// (Connect's `SubmittedRecords`). An offset becomes committable only when the broker acknowledged its record and
/// every record sent before it from the same source partition.
struct SubmittedRecords {
    struct Entry {
        let id: UInt64
        let offset: OffsetMap?
        var acked: Bool
    }

    private var queues: [OffsetMap: [Entry]] = [:]
    private var partitionOf: [UInt64: OffsetMap] = [:]
    private(set) var pendingCount = 0

    /// Records that a record with this source partition and offset was sent under `id`.
    mutating func submit(id: UInt64, partition: OffsetMap?, offset: OffsetMap?) {
        let key = partition ?? [:]
        queues[key, default: []].append(Entry(id: id, offset: partition == nil ? nil : offset, acked: false))
        partitionOf[id] = key
        pendingCount += 1
    }

    /// Marks a record acknowledged.
    mutating func ack(_ id: UInt64) {
        guard let key = partitionOf.removeValue(forKey: id), var queue = queues[key] else { return }
        if let i = queue.firstIndex(where: { $0.id == id }), !queue[i].acked {
            queue[i].acked = true
            pendingCount -= 1
        }
        queues[key] = queue
    }

    /// Removes the acknowledged prefix of each partition's queue and returns the latest offset of each prefix.
    mutating func committableOffsets() -> [OffsetMap: OffsetMap] {
        var out: [OffsetMap: OffsetMap] = [:]
        for (partition, queue) in queues {
            let prefix = queue.prefix { $0.acked }
            guard !prefix.isEmpty else { continue }
            if let last = prefix.last(where: { $0.offset != nil })?.offset, !partition.isEmpty {
                out[partition] = last
            }
            let rest = Array(queue.dropFirst(prefix.count))
            queues[partition] = rest.isEmpty ? nil : rest
        }
        return out
    }
}
