import ConnectAPI
import ConnectMetrics
import ConnectRuntime
import Foundation
import HTTPServer
import JSON
import Logging

/// Connect's REST API over a `Herder`: the same paths, status codes, shapes and error messages as Apache Kafka
/// Connect, so curl scripts, clients and UIs written for it work unchanged.
public final class ConnectRestServer: Sendable {
    public let herder: any Herder
    let router: Router
    let logger: Logger

    /// `includeAdmin`: whether `/admin/loggers` is served here (not when `admin.listeners` is set).
    public init(
        herder: any Herder, metrics: MetricsRegistry? = nil, includeAdmin: Bool = true,
        logger: Logger = Logger(label: "org.apache.kafka.connect.runtime.rest.RestServer")
    ) {
        self.herder = herder
        self.logger = logger
        var router = Router(errorResponder: Self.errorResponse)
        ConnectRestServer.addRoutes(&router, herder: herder)
        if includeAdmin { LoggingResource.addRoutes(&router, herder: { herder }) }
        router.add("GET", "/openapi.json") { _, _ in
            HTTPResponse(
                status: 200, headers: [("Content-Type", "application/json")], body: Array(OpenAPIDocument.text.utf8))
        }
        if let metrics {
            Self.addMetricsRoute(&router, metrics)
            JolokiaResource.addRoutes(&router, metrics)
        }
        self.router = router
    }

    /// Every route this server has (`GET /connectors/{name}/status`, ...).
    public var routes: [(method: String, path: String)] { router.patterns }

    /// `GET /metrics`: Prometheus text for the registry; `GET /metrics/catalog`: every family it can emit, as JSON.
    public static func addMetricsRoute(_ router: inout Router, _ metrics: MetricsRegistry) {
        router.add("GET", "/metrics") { _, _ in
            HTTPResponse(
                status: 200, headers: [("Content-Type", PrometheusExposition.contentType)],
                body: PrometheusExposition.renderBytes(metrics))
        }
        router.add("GET", "/metrics/catalog") { _, _ in
            json(
                200,
                .array(
                    PrometheusExposition.catalog().map { f in
                        [
                            "name": .string(f.name), "type": .string(f.type), "help": .string(f.help),
                            "labels": .array(f.labels.map { .string($0) }),
                            "mbean": f.mbean.map { .string($0) } ?? .null,
                            "attribute": f.attribute.map { .string($0) } ?? .null, "origin": .string(f.origin),
                        ]
                    }))
        }
    }

    /// Handles one request (also called directly by tests, without a socket).
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let response = router.handle(request)
        logger.debug("\(request.method) \(request.path) \(response.status)")
        return response
    }

    /// The answer while the herder is not up yet: `/health` says `starting` (KIP-1017), everything else is a 503.
    public static func startingResponse(_ request: HTTPRequest) -> HTTPResponse {
        if request.path == "/health" {
            return json(503, ["status": "starting", "message": "Worker is still starting up."])
        }
        return errorResponse(503, "Worker is still starting up.")
    }

    /// Connect's error body: `{"error_code": N, "message": "..."}`.
    @Sendable public static func errorResponse(_ status: Int, _ message: String) -> HTTPResponse {
        json(status, RestEntities.error(status, message))
    }

    /// The `message` of an error answer (Connect's `{"error_code", "message"}`), if its body is one.
    static func errorMessage(_ response: HTTPResponse) -> String? {
        (try? JSONParser.parse(response.body))?["message"]?.stringValue
    }

    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: JSONWriter.bytes(value))
    }

    /// Maps a herder error to Connect's status codes (`ConnectExceptionMapper`).
    static func errorResponse(for error: ConnectError) -> HTTPResponse {
        if let status = error.kind.httpStatus { return errorResponse(status, error.message) }
        let status: Int =
            switch error.kind {
            case .notFound: 404
            case .alreadyExists: 409
            case .badRequest: 400
            case .forbidden: 403
            case .unsupportedMediaType: 415
            default: 500
            }
        return errorResponse(status, error.message)
    }

    /// Runs a herder call and maps its errors.
    static func call(_ body: () throws(ConnectError) -> HTTPResponse) -> HTTPResponse {
        do {
            return try body()
        } catch {
            return errorResponse(for: error)
        }
    }

    /// Runs a herder call that another worker of the cluster may have to run (the leader, or the one running the
    /// connector or task), forwarding it there as Connect's `HerderRequestHandler` does.
    static func forwardable(
        _ request: HTTPRequest, _ herder: any Herder, _ body: () throws(ConnectError) -> HTTPResponse
    ) -> HTTPResponse {
        do {
            return try body()
        } catch {
            guard let client = herder.forwardingClient else { return errorResponse(for: error) }
            return HerderRequestHandler(client: client).respond(to: request, error)
        }
    }

    /// Parses a JSON body, insisting on a JSON content type when one is given (Jersey answers 415 otherwise).
    static func parseBody(_ request: HTTPRequest) throws(ConnectError) -> JSONValue {
        if let ct = request.header("content-type"), !ct.lowercased().contains("json") {
            throw ConnectError(
                .unsupportedMediaType,
                "HTTP 415 Unsupported Media Type: the request body must be JSON (Content-Type: application/json), but was \(ct)"
            )
        }
        guard !request.body.isEmpty else {
            throw ConnectError(.badRequest, "Request body is empty: a JSON object is expected")
        }
        do {
            return try JSONParser.parse(request.body)
        } catch {
            throw ConnectError(.badRequest, "Request body is not valid JSON: \(error.description)")
        }
    }

    /// A config map from JSON: values may be strings, numbers or booleans (taken as strings, as Jackson coerces them).
    static func configMap(
        _ json: JSONValue, what: String = "connector configuration"
    ) throws(ConnectError) -> [String: String] {
        guard let object = json.objectValue else {
            throw ConnectError(.badRequest, "The \(what) must be a JSON object, but was a JSON \(json.typeName)")
        }
        var out: [String: String] = [:]
        for (k, v) in object {
            if v.isNull {
                throw ConnectError(.badRequest, "Null value can not be supplied as the configuration value. (key \(k))")
            }
            guard let text = v.scalarText else {
                throw ConnectError(
                    .badRequest,
                    "The value of configuration \(k) must be a string, number or boolean, but was a JSON \(v.typeName)")
            }
            out[k] = text
        }
        return out
    }
}

extension ConnectError.Kind {
    /// Jersey's 415.
    static let unsupportedMediaType = ConnectError.Kind(className: "javax.ws.rs.NotSupportedException")
}
