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

/// Uniform draws defined here rather than by the standard library, so a seed gives the same data on every toolchain.
extension RandomNumberGenerator {
    /// An integer in `lo..<hi` (`hi > lo`).
    mutating func draw(_ lo: Int64, _ hi: Int64) -> Int64 {
        let span = UInt64(bitPattern: hi &- lo)
        return lo &+ Int64(bitPattern: next() % span)
    }

    /// A double in `lo..<hi`.
    mutating func draw(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * (Double(next() >> 11) * 0x1.0p-53)
    }

    /// An index in `0..<count` (`count > 0`).
    mutating func index(_ count: Int) -> Int { Int(next() % UInt64(count)) }
}
