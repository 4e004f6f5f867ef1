import ConnectDoctorKit
import ConnectTestKit
import Foundation
import Testing

/// Real Apache Kafka Connect failure traces from public issue trackers (`corpus/*.trace`: a `# source:` link, the
/// `# expect:` rule, then the trace as posted), each classified by the rule catalogue.
@Suite("A corpus of real Connect failure traces")
struct TraceCorpusTests {
    struct Entry {
        var file: String
        var source: String
        var expected: String
        var trace: String
    }

    static func corpus() throws -> [Entry] {
        let dir = ProjectPaths.root.appendingPathComponent("Tests/ConnectDoctorKitTests/corpus")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".trace") }
            .sorted()
        return try files.map { file in
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            var entry = Entry(file: file, source: "", expected: "", trace: "")
            var body: [Substring] = []
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("# source: ") {
                    entry.source = String(line.dropFirst("# source: ".count))
                } else if line.hasPrefix("# expect: ") {
                    entry.expected = String(line.dropFirst("# expect: ".count))
                } else if !line.hasPrefix("# ") {
                    body.append(line)
                }
            }
            entry.trace = body.joined(separator: "\n")
            return entry
        }
    }

    @Test("every trace names its public source and a rule of the catalogue")
    func wellFormed() throws {
        let corpus = try Self.corpus()
        #expect(corpus.count >= 30)
        for e in corpus {
            #expect(e.source.hasPrefix("https://"), "\(e.file) has no source link")
            #expect(RuleCatalogue.builtIn.rule(e.expected) != nil, "\(e.file) expects an unknown rule \(e.expected)")
            #expect(!e.trace.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(e.file) has no trace")
        }
    }

    @Test("connect-doctor trace chooses the expected rule for each, and docs/doctor/README.md reports the accuracy")
    func classification() throws {
        let corpus = try Self.corpus()
        let classifier = TraceClassifier()
        var correct = 0
        for e in corpus {
            let finding = classifier.finding(trace: e.trace, subject: .trace)
            #expect(finding.rule.id == e.expected, "\(e.file): chose \(finding.rule.id), expected \(e.expected)")
            #expect(!finding.evidence.isEmpty, "\(e.file): a finding without evidence")
            if finding.rule.id == e.expected { correct += 1 }
        }
        let readme = try String(
            contentsOf: ProjectPaths.root.appendingPathComponent("docs/doctor/README.md"), encoding: .utf8)
        #expect(
            readme.contains("\(correct) of \(corpus.count) traces"),
            "docs/doctor/README.md should report \(correct) of \(corpus.count) traces")
    }

    /// `corpus/incoming/<area>/*.trace`: also `# part:` (`train` or `held-out`, fixed before rules were written from
    /// them) and `# cause:` (what the thread confirmed).
    static func incoming() throws -> [(entry: Entry, part: String, cause: String)] {
        let dir = ProjectPaths.root.appendingPathComponent("Tests/ConnectDoctorKitTests/corpus/incoming")
        var out: [(Entry, String, String)] = []
        for area in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
            let sub = dir.appendingPathComponent(area)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: sub.path) else { continue }
            for file in files.filter({ $0.hasSuffix(".trace") }).sorted() {
                let text = try String(contentsOf: sub.appendingPathComponent(file), encoding: .utf8)
                var entry = Entry(file: "\(area)/\(file)", source: "", expected: "", trace: "")
                var part = ""
                var cause = ""
                var body: [Substring] = []
                for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                    func value(_ key: String) -> String? {
                        line.hasPrefix("# \(key): ") ? String(line.dropFirst(key.count + 4)) : nil
                    }
                    if let v = value("source") {
                        entry.source = v
                    } else if let v = value("expect") {
                        entry.expected = v
                    } else if let v = value("part") {
                        part = v
                    } else if let v = value("cause") {
                        cause = v
                    } else if !line.hasPrefix("# ") {
                        body.append(line)
                    }
                }
                entry.trace = body.joined(separator: "\n")
                out.append((entry, part, cause))
            }
        }
        return out
    }

    @Test(
        "the larger corpus: accuracy on its held-out part and the catch-all's share of the whole corpus, as docs/doctor/README.md reports them"
    )
    func heldOut() throws {
        let incoming = try Self.incoming()
        let classifier = TraceClassifier()
        // Held-out traces are read with the catalogue as it was frozen when their round began, so rules may be
        // written while a round is still being collected without the round measuring them.
        let frozen = try TraceClassifier(
            catalogue: RuleCatalogue(
                json: String(
                    contentsOf: ProjectPaths.root.appendingPathComponent(
                        "Tests/ConnectDoctorKitTests/corpus/incoming/held-out-rules.json"), encoding: .utf8)))
        var right: [String: Int] = [:]
        var total: [String: Int] = [:]
        var catchAll = 0
        var misses: [String] = []
        for (e, part, cause) in incoming {
            #expect(e.source.hasPrefix("https://"), "\(e.file) has no source link")
            #expect(["train", "held-out"].contains(part), "\(e.file) has no part")
            #expect(!cause.isEmpty && !e.expected.isEmpty, "\(e.file) lacks its cause or expected rule")
            let chosen = (part == "held-out" ? frozen : classifier).finding(trace: e.trace, subject: .trace).rule.id
            total[part, default: 0] += 1
            if chosen == e.expected {
                right[part, default: 0] += 1
            } else {
                misses.append("\(part) \(e.file): chose \(chosen), expected \(e.expected)")
            }
            let now = part == "held-out" ? classifier.finding(trace: e.trace, subject: .trace).rule.id : chosen
            if now == "CD-TASK-001" || now == "CD-CONN-001" { catchAll += 1 }
        }
        let whole = try Self.corpus()
        for e in whole {
            let chosen = classifier.finding(trace: e.trace, subject: .trace).rule.id
            if chosen == "CD-TASK-001" || chosen == "CD-CONN-001" { catchAll += 1 }
        }
        let held = (right["held-out"] ?? 0, total["held-out"] ?? 0)
        let train = (right["train"] ?? 0, total["train"] ?? 0)
        let corpusSize = incoming.count + whole.count
        print(
            "held-out: \(held.0) of \(held.1); train: \(train.0) of \(train.1); catch-all: \(catchAll) of \(corpusSize)"
        )
        for m in misses { print("  miss: \(m)") }
        // The issue asks for at least 50 held-out traces.
        #expect(held.1 >= 50)
        let readme = try String(
            contentsOf: ProjectPaths.root.appendingPathComponent("docs/doctor/README.md"), encoding: .utf8)
        for figure in [
            "**\(held.0) of \(held.1) held-out traces**", "\(train.0) of \(train.1) train traces",
            "\(catchAll) of \(corpusSize) traces",
        ] {
            #expect(readme.contains(figure), "docs/doctor/README.md should report \(figure)")
        }
    }
}
