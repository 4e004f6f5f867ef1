/// A small deterministic generator (SplitMix64): record n of a seeded datagen task is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A generator for one record, derived from the task's seed, the task id and the iteration.
    init(seed: Int64, task: Int, iteration: Int64) {
        var mixer = SplitMix64(seed: UInt64(bitPattern: seed))
        let a = mixer.next()
        var b = SplitMix64(seed: a ^ (UInt64(task) &* 0x9E37_79B9_7F4A_7C15))
        let c = b.next()
        self.init(seed: c ^ UInt64(bitPattern: iteration) &* 0xBF58_476D_1CE4_E5B9)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
