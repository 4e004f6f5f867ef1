import HTTPClient

/// REST calls to a worker on loopback, as a script makes them: the status and the body text.
public enum WorkerREST {
    private static let client: HTTPClient = {
        var configuration = HTTPClientConfiguration()
        configuration.timeout = .seconds(120)
        return HTTPClient(configuration: configuration)
    }()

    public static func call(
        _ port: Int, _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json"
    ) throws -> (status: Int, body: String) {
        let answer = try client.execute(
            HTTPClientRequest(
                method: method, url: "http://127.0.0.1:\(port)\(path)",
                headers: body == nil ? [] : [("Content-Type", contentType)], body: body.map { Array($0.utf8) }))
        return (answer.status, answer.text)
    }
}
