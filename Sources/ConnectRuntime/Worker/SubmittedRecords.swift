import ConnectAPI

/// Source records sent to the broker and not yet committed, per source partition in send order
/// (Connect's `SubmittedRecords`). An offset becomes committable only when the broker acknowledged its record and
/// every record sent before it from the same source partition.
///
/// Acknowledgements and commits are O(1) amortised: each partition keeps an array with a moving head, and each record
/// id maps to its absolute position.
struct SubmittedRecords {
    struct Entry {
        let offset: OffsetMap?
        var acked: Bool
    }

    struct Queue {
        /// Absolute position of `entries[0]`.
        var base = 0
        /// Index in `entries` of the first record not yet committed.
        var head = 0
        var entries: [Entry] = []
    }

    private var queues: [OffsetMap: Queue] = [:]
    private var positions: [UInt64: (partition: OffsetMap, position: Int)] = [:]
    private(set) var pendingCount = 0

    /// Records that a record with this source partition and offset was sent under `id`.
    mutating func submit(id: UInt64, partition: OffsetMap?, offset: OffsetMap?) {
        let key = partition ?? [:]
        var position = 0
        modify(key) { q in
            position = q.base + q.entries.count
            q.entries.append(Entry(offset: partition == nil ? nil : offset, acked: false))
        }
        positions[id] = (key, position)
        pendingCount += 1
    }

    /// Marks a record acknowledged.
    mutating func ack(_ id: UInt64) {
        guard let (key, position) = positions.removeValue(forKey: id) else { return }
        var acked = false
        modify(key) { q in
            let i = position - q.base
            if i >= 0 && i < q.entries.count && !q.entries[i].acked {
                q.entries[i].acked = true
                acked = true
            }
        }
        if acked { pendingCount -= 1 }
    }

    /// Records taken by `committableOffsets` so far.
    private(set) var committedRecords = 0

    /// Takes the acknowledged prefix of each partition's queue and returns the latest offset of each prefix.
    mutating func committableOffsets() -> [OffsetMap: OffsetMap] {
        var out: [OffsetMap: OffsetMap] = [:]
        var taken = 0
        for key in Array(queues.keys) {
            modify(key) { q in
                var last: OffsetMap?
                while q.head < q.entries.count && q.entries[q.head].acked {
                    if let o = q.entries[q.head].offset { last = o }
                    q.head += 1
                    taken += 1
                }
                if let last, !key.isEmpty { out[key] = last }
                // Drop the committed prefix once it is a good part of the array.
                if q.head > 0 && q.head * 2 >= q.entries.count {
                    q.entries.removeFirst(q.head)
                    q.base += q.head
                    q.head = 0
                }
            }
            if queues[key]?.entries.isEmpty == true { queues[key] = nil }
        }
        committedRecords += taken
        return out
    }

    /// Mutates a queue in place (no copy of its entries).
    private mutating func modify(_ key: OffsetMap, _ body: (inout Queue) -> Void) {
        body(&queues[key, default: Queue()])
    }
}
