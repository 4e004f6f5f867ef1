import ConnectAPI
import ConnectRuntime
import HTTPClient
import HTTPServer

/// Sends a request the herder could not run here to the worker that can (Connect's `HerderRequestHandler`): the
/// leader for configuration writes (`NotLeaderException`), the worker that runs a connector or task for a restart
/// (`NotAssignedException`). Adds the hidden `forward` parameter (`true` on the first hop, `false` on the second,
/// never a third), passes on `Authorization` and the internal signature headers, and answers with the target's
/// answer. Answers Connect's 409s when there is nobody to send it to.
struct HerderRequestHandler: Sendable {
    /// The herder's client for other workers (with the REST listener's TLS settings, `InterWorkerClient`).
    let client: HTTPClient

    static let noLeaderMessage =
        "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."
    static let conflictMessage =
        "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"

    /// The answer for a herder error on a request that may be forwarded.
    func respond(to request: HTTPRequest, _ error: ConnectError) -> HTTPResponse {
        guard error.kind == .notLeader || error.kind == .notAssigned else {
            return ConnectRestServer.errorResponse(for: error)
        }
        guard let target = error.requestTarget, !target.isEmpty else {
            return ConnectRestServer.errorResponse(409, Self.noLeaderMessage)
        }
        let forward = request.queryValue("forward")
        if forward?.lowercased() == "false" { return ConnectRestServer.errorResponse(409, Self.conflictMessage) }
        return send(request, to: target, forward: forward == nil ? "true" : "false")
    }

    private func send(_ request: HTTPRequest, to base: String, forward: String) -> HTTPResponse {
        let path = request.path.split(separator: "/", omittingEmptySubsequences: true)
            .map { RestPath.encode(String($0)) }.joined(separator: "/")
        var query = request.query.filter { $0.name != "forward" }.map {
            RestPath.encode($0.name) + "=" + RestPath.encode($0.value)
        }
        query.append("forward=\(forward)")
        let url = (base.hasSuffix("/") ? base : base + "/") + path + "?" + query.joined(separator: "&")
        var headers: [(String, String)] = [("Accept", "application/json")]
        for name in [
            "authorization", "content-type", InternalRequestSignature.signatureHeader.lowercased(),
            InternalRequestSignature.algorithmHeader.lowercased(),
        ] {
            if let v = request.header(name) { headers.append((name, v)) }
        }
        let response: HTTPClientResponse
        do {
            response = try client.execute(
                HTTPClientRequest(
                    method: request.method, url: url, headers: headers,
                    body: request.body.isEmpty ? nil : request.body))
        } catch {
            return ConnectRestServer.errorResponse(500, "IO Error trying to forward REST request: \(error.message)")
        }
        // As Connect's `RestClient`: 2xx and 4xx/5xx pass through; anything else is a 500.
        guard (200..<300).contains(response.status) || response.status >= 400 else {
            return ConnectRestServer.errorResponse(
                500, "Unexpected status code when handling forwarded request: \(response.status)")
        }
        var out = HTTPResponse(status: response.status, body: response.body)
        if let ct = response.header("content-type") { out.headers.append(("Content-Type", ct)) }
        if let location = response.header("location") { out.headers.append(("Location", location)) }
        return out
    }
}
