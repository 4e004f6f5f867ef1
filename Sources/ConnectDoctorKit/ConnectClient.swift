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
    /// A PEM file of the certificate authorities to trust for an https worker (the worker's own certificate, when
    /// self-signed), as `curl --cacert`.
    public var caCertificate: String?
    /// Do not verify the worker's certificate.
    public var insecure: Bool

    public init(
        baseURL: String, username: String? = nil, password: String? = nil, timeoutSeconds: Double = 10,
        caCertificate: String? = nil, insecure: Bool = false
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.username = username
        self.password = password
        self.timeoutSeconds = timeoutSeconds
        self.caCertificate = caCertificate
        self.insecure = insecure
    }

    /// `GET <base><path>`; throws when the worker cannot be reached at all (refused, unknown host, timeout, TLS).
    public func get(_ path: String) throws -> Response {
        guard let url = URL(string: baseURL + path) else { throw DoctorError("\(baseURL + path) is not a URL") }
        // Foundation on Linux cannot be given a trust store, so TLS options go through curl (installed with the
        // project), the credentials on its standard input rather than its command line.
        if caCertificate != nil || insecure { return try getWithCurl(url) }
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

    func getWithCurl(_ url: URL) throws -> Response {
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var config = "url = \(quoted(url.absoluteString))\n"
        if let username { config += "user = \(quoted("\(username):\(password ?? "")"))\n" }
        var arguments = [
            "-sS", "--max-time", String(Int(max(1, timeoutSeconds))), "-H", "Accept: application/json", "-w",
            "\n%{http_code}", "--config", "-",
        ]
        if let caCertificate { arguments += ["--cacert", caCertificate] }
        if insecure { arguments.append("--insecure") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        do { try p.run() } catch { throw DoctorError("cannot run curl for an https worker: \(error)") }
        input.fileHandleForWriting.write(Data(config.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw DoctorError(problem.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var text = String(decoding: data, as: UTF8.self)
        let status = Int(text.split(separator: "\n").last ?? "") ?? 0
        if let cut = text.lastIndex(of: "\n") { text = String(text[..<cut]) }
        return Response(status: status, body: text)
    }
}
