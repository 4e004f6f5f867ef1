/// Generates strings that match a small regular-expression language: literals, character classes (`[1-9]`,
/// `[a-zA-Z]`), and the quantifiers `?`, `*`, `+`, `{n}`, `{m,n}` — the subset datagen's quickstart schemas use.
struct RandomPattern: Sendable {
    enum Atom: Sendable {
        case literal(Character)
        case charClass([Character])
    }

    struct Piece: Sendable {
        var atom: Atom
        var min: Int
        var max: Int
    }

    let pieces: [Piece]
    /// Each piece's atom as UTF-8: a literal is one choice, a class one per character.
    private let choices: [[[UInt8]]]
    /// Each piece's atom as bytes when every choice is one byte (ASCII), else nil.
    private let asciiChoices: [[UInt8]?]
    /// The most bytes a generated string can have.
    private let maxLength: Int

    init(_ pattern: String) {
        var pieces: [Piece] = []
        var chars = Array(pattern)
        var i = 0
        while i < chars.count {
            var atom: Atom
            if chars[i] == "[" {
                var set: [Character] = []
                i += 1
                while i < chars.count && chars[i] != "]" {
                    if i + 2 < chars.count && chars[i + 1] == "-" && chars[i + 2] != "]",
                        let lo = chars[i].unicodeScalars.first?.value,
                        let hi = chars[i + 2].unicodeScalars.first?.value, lo <= hi
                    {
                        for v in lo...hi { if let s = Unicode.Scalar(v) { set.append(Character(s)) } }
                        i += 3
                    } else {
                        set.append(chars[i])
                        i += 1
                    }
                }
                i += 1
                atom = .charClass(set)
            } else if chars[i] == "\\" && i + 1 < chars.count {
                atom = .literal(chars[i + 1])
                i += 2
            } else {
                atom = .literal(chars[i])
                i += 1
            }
            var piece = Piece(atom: atom, min: 1, max: 1)
            if i < chars.count {
                switch chars[i] {
                case "?": piece.min = 0; piece.max = 1; i += 1
                case "*": piece.min = 0; piece.max = 8; i += 1
                case "+": piece.min = 1; piece.max = 8; i += 1
                case "{":
                    if let close = chars[i...].firstIndex(of: "}") {
                        let body = String(chars[(i + 1)..<close])
                        let parts = body.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
                        piece.min = parts.first.flatMap { $0 } ?? 0
                        piece.max = parts.count > 1 ? (parts[1] ?? piece.min + 8) : piece.min
                        i = close + 1
                    }
                default: break
                }
            }
            pieces.append(piece)
        }
        chars.removeAll()
        self.pieces = pieces
        choices = pieces.map { p in
            switch p.atom {
            case .literal(let c): [Array(String(c).utf8)]
            case .charClass(let set): set.map { Array(String($0).utf8) }
            }
        }
        asciiChoices = choices.map { options in
            !options.isEmpty && options.allSatisfy { $0.count == 1 } ? options.map { $0[0] } : nil
        }
        maxLength = zip(pieces, choices).reduce(0) { sum, pc in
            sum + pc.0.max * (pc.1.map(\.count).max() ?? 0)
        }
    }

    /// A string the pattern matches. Draws from `rng` in the pattern's order: a count for each quantified piece,
    /// then one character of a class per repetition.
    func generate<G: RandomNumberGenerator>(using rng: inout G) -> String {
        // Written as UTF-8 into the string's own storage: no `Character` appends.
        String(unsafeUninitializedCapacity: max(maxLength, 1)) { buffer in
            var at = 0
            for k in pieces.indices {
                let p = pieces[k]
                let options = choices[k]
                let n = p.min == p.max ? p.min : p.min + rng.index(p.max - p.min + 1)
                if let ascii = asciiChoices[k] {
                    // One byte per character: taken straight from the atom's bytes (the same draws).
                    for _ in 0..<n {
                        if case .literal = p.atom {
                            buffer[at] = ascii[0]
                        } else {
                            buffer[at] = ascii[rng.index(ascii.count)]
                        }
                        at += 1
                    }
                    continue
                }
                for _ in 0..<n {
                    let bytes: [UInt8]
                    switch p.atom {
                    case .literal: bytes = options[0]
                    case .charClass:
                        if options.isEmpty { continue }
                        bytes = options[rng.index(options.count)]
                    }
                    for b in bytes {
                        buffer[at] = b
                        at += 1
                    }
                }
            }
            return at
        }
    }
}
