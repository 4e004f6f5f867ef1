/// Routes requests by method and path pattern (`/connectors/{name}/status`). A path that matches no pattern gets a
/// 404, a path that matches only under other methods a 405; both bodies come from the error responder.
public struct Router: Sendable {
    public typealias Handler = @Sendable (_ request: HTTPRequest, _ params: [String: String]) -> HTTPResponse

    struct Route: Sendable {
        let method: String
        let segments: [Segment]
        let handler: Handler
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    private var routes: [Route] = []
    private let errorResponder: HTTPErrorResponder

    public init(errorResponder: @escaping HTTPErrorResponder) {
        self.errorResponder = errorResponder
    }

    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        let segments = Self.split(pattern).map { s -> Segment in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(s)
        }
        routes.append(Route(method: method.uppercased(), segments: segments, handler: handler))
    }

    /// Every route, as method and path pattern (`GET /connectors/{name}/status`).
    public var patterns: [(method: String, path: String)] {
        routes.map { r in
            (
                r.method,
                "/"
                    + r.segments.map { s -> String in
                        switch s {
                        case .literal(let l): l
                        case .parameter(let p): "{\(p)}"
                        }
                    }.joined(separator: "/")
            )
        }
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let parts = Self.split(request.path)
        var allowed: [String] = []
        for route in routes {
            guard let params = Self.match(route.segments, parts) else { continue }
            if route.method == request.method.uppercased() { return route.handler(request, params) }
            allowed.append(route.method)
        }
        if !allowed.isEmpty {
            var response = errorResponder(405, "HTTP 405 Method Not Allowed")
            response.headers.append(("Allow", allowed.joined(separator: ", ")))
            return response
        }
        return errorResponder(404, "HTTP 404 Not Found")
    }

    static func split(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    static func match(_ segments: [Segment], _ parts: [String]) -> [String: String]? {
        guard segments.count == parts.count else { return nil }
        var params: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let l): if l != part { return nil }
            case .parameter(let name): params[name] = part
            }
        }
        return params
    }
}
