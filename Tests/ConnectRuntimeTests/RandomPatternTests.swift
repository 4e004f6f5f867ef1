import Testing

@testable import ConnectDatagen

@Suite struct RandomPatternTests {
    /// The straightforward generator: `Character` appends, drawing as `RandomPattern.generate` documents.
    static func reference<G: RandomNumberGenerator>(_ pattern: RandomPattern, using rng: inout G) -> String {
        var out = ""
        for p in pattern.pieces {
            let n = p.min == p.max ? p.min : p.min + Int(rng.next() % UInt64(p.max - p.min + 1))
            for _ in 0..<n {
                switch p.atom {
                case .literal(let c): out.append(c)
                case .charClass(let set):
                    if !set.isEmpty { out.append(set[Int(rng.next() % UInt64(set.count))]) }
                }
            }
        }
        return out
    }

    @Test("generated strings and the draws behind them are those of the Character-based generator")
    func sameAsReference() {
        let patterns = [
            "Item_[1-9][0-9]{0,2}", "City_[1-9]{0,2}", "User_[1-9]", "a+b*c?", "[x]{3}", "[]z", "é[α-γ]{1,4}ü+",
            "\\[lit\\]{2,5}", "[a-zA-Z0-9]{5,12}", "{2}", "",
        ]
        for pattern in patterns {
            let p = RandomPattern(pattern)
            for seed in 0..<300 {
                var a = SplitMix64(seed: UInt64(seed))
                var b = SplitMix64(seed: UInt64(seed))
                let fast = p.generate(using: &a)
                #expect(fast == Self.reference(p, using: &b), "\(pattern) seed \(seed)")
                #expect(a.next() == b.next(), "\(pattern) seed \(seed): the same number of draws")
            }
        }
    }
}
