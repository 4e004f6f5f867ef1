import ConnectDoctorKit
import ConnectTestKit
import Foundation
import Testing

@Suite("The rule catalogue and its pages")
struct RuleCatalogueTests {
    let catalogue = RuleCatalogue.builtIn

    @Test("ids are unique and stable-looking, every rule matches something and says how to fix it")
    func wellFormed() {
        let ids = catalogue.rules.map(\.id)
        #expect(Set(ids).count == ids.count)
        for r in catalogue.rules {
            #expect(r.id.wholeMatch(of: /CD-[A-Z][A-Z0-9]*-[0-9]{3}/) != nil, "\(r.id)")
            #expect(!r.traceAny.isEmpty || r.signal != nil, "\(r.id) matches nothing")
            #expect(!r.explanation.isEmpty && !r.fix.isEmpty, "\(r.id) lacks its explanation or fix")
            #expect((0...1).contains(r.confidence))
        }
    }

    @Test("the catalogue covers the failures the issue lists")
    func coverage() {
        for id in [
            "CD-SERDE-001", "CD-SERDE-002", "CD-SERDE-003", "CD-ERR-002", "CD-SMT-001", "CD-SMT-002", "CD-SMT-003",
            "CD-PLUGIN-001", "CD-CONFIG-001", "CD-AUTH-001", "CD-AUTH-002", "CD-AUTH-003", "CD-NET-001", "CD-NET-002",
            "CD-NET-003", "CD-NET-004", "CD-TOPIC-001", "CD-SIZE-001", "CD-OFFSET-001", "CD-REBAL-002", "CD-SRC-001",
            "CD-LAG-001", "CD-LAG-002", "CD-TOPIC-002", "CD-DLQ-001", "CD-COMMIT-001", "CD-WORKER-001", "CD-TASK-002",
        ] {
            #expect(catalogue.rule(id) != nil, "\(id) is missing")
        }
    }

    @Test("every rule has its page (scripts/doctor-pages), carrying its title, explanation and fix")
    func pages() throws {
        for r in catalogue.rules {
            let url = ProjectPaths.root.appendingPathComponent(r.doc)
            let page = try #require(try? String(contentsOf: url, encoding: .utf8), "\(r.doc) is missing")
            #expect(page.hasPrefix("# \(r.id): \(r.title)\n"), "\(r.doc): run scripts/doctor-pages")
            #expect(page.contains(r.explanation) && page.contains(r.fix), "\(r.doc) is stale: run scripts/doctor-pages")
        }
    }

    @Test("every alert's runbook_url is the page of a rule")
    func alertsPointAtRules() throws {
        let rules = try String(
            contentsOf: ProjectPaths.root.appendingPathComponent("alerts/swift-connect.rules.yml"), encoding: .utf8)
        let urls = rules.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: "runbook_url: ") else { return nil }
            return String(line[r.upperBound...])
        }
        #expect(urls.count >= 12)
        for url in urls {
            #expect(catalogue.rules.contains { $0.doc == url }, "\(url) is no rule's page")
        }
    }
}
