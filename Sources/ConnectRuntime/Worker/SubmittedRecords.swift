import ConnectAPI

/// Source records sent to the broker and not yet committed, per source partition in send order
/// (Connect's `SubmittedRecords`). An offset becomes committable only when the broker acknowledged its record and
/// every record sent before it from the same source partition. Each record may carry a `Payload` (the worker keeps
/// the record and its send time there) until it is acknowledged; a class keeps the window small, as it holds a slot
/// for every id from the oldest pending record on.
///
/// Records are identified by increasing ids. Submits, acknowledgements and commits are O(1) amortised and hash
/// nothing per record in the usual case: a record's slot is found from its id (a window over the ids pending), each
/// partition keeps an array with a moving head, and the partition of the previous submit is compared before the
/// partition table is consulted (a connector that reuses its partition map compares by identity).
struct SubmittedRecords<Payload> {
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

    /// Where a pending record is: its partition's queue and its absolute position there.
    private struct Slot {
        var queue: Int
        var position: Int
        var payload: Payload?
    }

    /// The partitions' queues; `keys[i]` is the partition of `queues[i]`, nil for a slot free for reuse.
    private var queues: [Queue] = []
    private var keys: [OffsetMap?] = []
    private var queueIndex: [OffsetMap: Int] = [:]
    private var freeQueues: [Int] = []
    private var lastQueue: (key: OffsetMap, index: Int)?

    /// Pending records by id: `slots[i]` is id `slotBase + i`; slots before `slotHead` are all done.
    private var slots: [Slot?] = []
    private var slotBase: UInt64 = 0
    private var slotHead = 0

    private(set) var pendingCount = 0
    /// The window's capacity kept when it empties (larger windows are freed).
    static var keptWindowCapacity: Int { 65_536 }

    /// Records that a record with this source partition and offset was sent under `id`, an id greater than every
    /// id submitted before.
    mutating func submit(id: UInt64, partition: OffsetMap?, offset: OffsetMap?, payload: Payload? = nil) {
        let q = queue(for: partition ?? [:])
        let position = queues[q].base + queues[q].entries.count
        queues[q].entries.append(Entry(offset: partition == nil ? nil : offset, acked: false))
        if slotHead == slots.count {
            // Nothing pending: start over, giving back what a long wait for one acknowledgement grew.
            slots.removeAll(keepingCapacity: slots.capacity <= Self.keptWindowCapacity)
            slotHead = 0
            slotBase = id
        }
        precondition(id >= slotBase + UInt64(slots.count), "submitted ids must increase")
        while slotBase + UInt64(slots.count) < id { slots.append(nil) }
        slots.append(Slot(queue: q, position: position, payload: payload))
        pendingCount += 1
    }

    /// The payload of a pending record.
    func payload(of id: UInt64) -> Payload? { slotIndex(id).flatMap { slots[$0]?.payload } }

    /// Marks a record acknowledged and returns its payload; nil when `id` is not pending.
    @discardableResult
    mutating func ack(_ id: UInt64) -> Payload? {
        guard let i = slotIndex(id), let slot = slots[i] else { return nil }
        slots[i] = nil
        let at = slot.position - queues[slot.queue].base
        if at >= 0 && at < queues[slot.queue].entries.count && !queues[slot.queue].entries[at].acked {
            queues[slot.queue].entries[at].acked = true
            pendingCount -= 1
        }
        while slotHead < slots.count && slots[slotHead] == nil { slotHead += 1 }
        // Drop the done prefix once it is a good part of the window.
        if slotHead >= 1024 && slotHead * 2 >= slots.count {
            slots.removeFirst(slotHead)
            slotBase += UInt64(slotHead)
            slotHead = 0
        }
        return slot.payload
    }

    /// Records taken by `committableOffsets` so far.
    private(set) var committedRecords = 0

    /// Takes the acknowledged prefix of each partition's queue and returns the latest offset of each prefix.
    mutating func committableOffsets() -> [OffsetMap: OffsetMap] {
        var out: [OffsetMap: OffsetMap] = [:]
        var taken = 0
        for i in queues.indices {
            guard let key = keys[i] else { continue }
            var last: OffsetMap?
            while queues[i].head < queues[i].entries.count && queues[i].entries[queues[i].head].acked {
                if let o = queues[i].entries[queues[i].head].offset { last = o }
                queues[i].head += 1
                taken += 1
            }
            if let last, !key.isEmpty { out[key] = last }
            // Drop the committed prefix once it is a good part of the array.
            let head = queues[i].head
            if head > 0 && head * 2 >= queues[i].entries.count {
                queues[i].entries.removeFirst(head)
                queues[i].base += head
                queues[i].head = 0
            }
            // A partition with nothing pending frees its slot (no pending record refers to it).
            if queues[i].entries.isEmpty {
                queueIndex[key] = nil
                keys[i] = nil
                queues[i] = Queue()
                freeQueues.append(i)
                if lastQueue?.index == i { lastQueue = nil }
            }
        }
        committedRecords += taken
        return out
    }

    private func slotIndex(_ id: UInt64) -> Int? {
        guard id >= slotBase, id - slotBase < UInt64(slots.count) else { return nil }
        return Int(id - slotBase)
    }

    /// The index of a partition's queue, made when it has none.
    private mutating func queue(for key: OffsetMap) -> Int {
        if let lastQueue, lastQueue.key == key { return lastQueue.index }
        let index: Int
        if let known = queueIndex[key] {
            index = known
        } else if let free = freeQueues.popLast() {
            index = free
            keys[free] = key
            queueIndex[key] = free
        } else {
            index = queues.count
            queues.append(Queue())
            keys.append(key)
            queueIndex[key] = index
        }
        lastQueue = (key, index)
        return index
    }
}
