import ConnectMetrics
import ConnectREST
import Foundation
import HTTPServer
import JSON
import Testing

@Suite("The OpenAPI document matches the server and the checked-in copy")
struct OpenAPITests {
    /// `docs/openapi.json` in the repository.
    static let checkedIn = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.json")

    @Test("every route is documented, and every documented operation is a route")
    func routesMatch() throws {
        let server = ConnectRestServer(herder: FakeHerder(), metrics: MetricsRegistry())
        let routes = Set(server.routes.map { "\($0.method) \($0.path)" })
        let paths = try #require(OpenAPIDocument.json["paths"]?.objectValue)
        var documented: Set<String> = []
        for (path, item) in paths {
            for (method, _) in item.objectValue ?? JSONObject() { documented.insert("\(method.uppercased()) \(path)") }
        }
        #expect(routes.subtracting(documented).isEmpty, "undocumented: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "not served: \(documented.subtracting(routes).sorted())")
    }

    @Test("docs/openapi.json is the served document (UPDATE_OPENAPI=1 rewrites it)")
    func checkedInCopy() throws {
        if ProcessInfo.processInfo.environment["UPDATE_OPENAPI"] == "1" {
            try OpenAPIDocument.text.write(to: Self.checkedIn, atomically: true, encoding: .utf8)
        }
        let file = try String(contentsOf: Self.checkedIn, encoding: .utf8)
        #expect(
            file == OpenAPIDocument.text,
            "docs/openapi.json is out of date: run UPDATE_OPENAPI=1 swift test --filter OpenAPITests")
        let served = ConnectRestServer(herder: FakeHerder()).handle(
            HTTPRequest(method: "GET", path: "/openapi.json", headers: [:], body: []))
        #expect(served.status == 200)
        #expect(String(decoding: served.body, as: UTF8.self) == file)
        #expect(try JSONParser.parse(file)["openapi"] == "3.0.3")
    }
}
