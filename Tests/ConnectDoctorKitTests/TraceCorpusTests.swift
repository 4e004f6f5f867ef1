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
}
