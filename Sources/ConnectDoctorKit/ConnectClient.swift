import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A small synchronous client of a Connect worker's REST API (Apache Kafka Connect's or Swift Connect's).
public struct ConnectClient: Sendable {
    /// One answer: the HTTP status and the body.
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    public var baseURL: String
    public var username: String?
    public var password: String?
    public var timeoutSeconds: Double

    public init(baseURL: String, username: String? = nil, password: String? = nil, timeoutSeconds: Double = 10) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.username = username
        self.password = password
        self.timeoutSeconds = timeoutSeconds
    }

    /// `GET <base><path>`; throws when the worker cannot be reached at all (refused, unknown host, timeout, TLS).
    public func get(_ path: String) throws -> Response {
        guard let url = URL(string: baseURL + path) else { throw DoctorError("\(baseURL + path) is not a URL") }
        var request = URLRequest(url: url, timeoutInterval: timeoutSeconds)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let username {
            let token = Data("\(username):\(password ?? "")".utf8).base64EncodedString()
            request.setValue("Basic \(token)", forHTTPHeaderField: "Authorization")
        }
        final class Box: @unchecked Sendable {
            // Written once by the completion handler before the semaphore is signalled, read after the wait.
            var result: Result<Response, DoctorError> = .failure(DoctorError("no answer"))
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(DoctorError(error.localizedDescription))
            } else {
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                box.result = .success(Response(status: status, body: String(decoding: data ?? Data(), as: UTF8.self)))
            }
            done.signal()
        }.resume()
        if done.wait(timeout: .now() + timeoutSeconds + 5) == .timedOut {
            throw DoctorError("no answer from \(url) within \(Int(timeoutSeconds)) s")
        }
        return try box.result.get()
    }
}
