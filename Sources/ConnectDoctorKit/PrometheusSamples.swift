/// The samples of a Prometheus text exposition (`GET /metrics`), to query by family name and labels.
public struct PrometheusSamples: Sendable {
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public let samples: [Sample]

    public init(text: String) {
        var out: [Sample] = []
        for raw in text.split(separator: "\n") {
            let line = raw.drop { $0 == " " }
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            var name = ""
            var labels: [String: String] = [:]
            var rest: Substring
            if let brace = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}"), brace < close {
                name = String(line[..<brace])
                labels = Self.labels(line[line.index(after: brace)..<close])
                rest = line[line.index(after: close)...]
            } else {
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { continue }
                name = String(parts[0])
                rest = parts[1]
            }
            let valueText = rest.split(separator: " ").first.map(String.init) ?? ""
            let value: Double? =
                switch valueText {
                case "NaN": .nan
                case "+Inf": .infinity
                case "-Inf": -.infinity
                default: Double(valueText)
                }
            if let value { out.append(Sample(name: name, labels: labels, value: value)) }
        }
        samples = out
    }

    /// `a="x",b="y\"z"` into a dictionary.
    static func labels(_ text: Substring) -> [String: String] {
        var out: [String: String] = [:]
        var i = text.startIndex
        while i < text.endIndex {
            guard let eq = text[i...].firstIndex(of: "=") else { break }
            let key = text[i..<eq].trimmingCharacters(in: .init(charactersIn: ", "))
            var j = text.index(after: eq)
            guard j < text.endIndex, text[j] == "\"" else { break }
            j = text.index(after: j)
            var value = ""
            while j < text.endIndex, text[j] != "\"" {
                if text[j] == "\\", text.index(after: j) < text.endIndex {
                    j = text.index(after: j)
                    value.append(text[j] == "n" ? "\n" : text[j])
                } else {
                    value.append(text[j])
                }
                j = text.index(after: j)
            }
            out[String(key)] = value
            i = j < text.endIndex ? text.index(after: j) : j
        }
        return out
    }

    /// Samples of a family whose labels include all of `matching`.
    public func values(_ name: String, _ matching: [String: String] = [:]) -> [Sample] {
        samples.filter { s in s.name == name && matching.allSatisfy { s.labels[$0.key] == $0.value } }
    }

    /// The one value of a family for these labels (the first when several match).
    public func value(_ name: String, _ matching: [String: String] = [:]) -> Double? {
        values(name, matching).first?.value
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}

extension Set where Element == Character {
    fileprivate init(charactersIn text: String) { self.init(text) }
}
