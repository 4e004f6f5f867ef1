import CCurl
import Synchronization

/// A blocking HTTP/1.1 and HTTPS client over libcurl: TLS with a CA file of its own and client certificates, HTTP
/// Basic authentication, a connect and a total deadline per request, and kept-alive connections. Safe to call from
/// any number of threads at once: each request takes an idle libcurl handle (its connections and TLS sessions
/// still open) or makes one, and gives it back afterwards.
///
/// Blocking on purpose: its callers (the metrics pusher, a sink task, a `connect-doctor` command) are threads of
/// their own, as Connect's are. libcurl rather than Foundation's `URLSession`, which on Linux takes no trust store
/// and no client certificate.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let idle = Mutex<[EasyHandle]>([])
    /// Idle handles kept for reuse; more are closed.
    static let maxIdleHandles = 8

    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        _ = Self.globalInit
        self.configuration = configuration
    }

    /// libcurl's process-wide set-up, done once before the first handle.
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends `request` and returns the answer, whatever its status. Throws when no answer came: the URL is not one,
    /// the host is unknown, the connection is refused, TLS fails, or `timeout` (else the configuration's) passes.
    public func execute(
        _ request: HTTPClientRequest, timeout: Duration? = nil
    ) throws(HTTPClientError)
        -> HTTPClientResponse
    {
        let easy = idle.withLock { $0.popLast() } ?? EasyHandle()
        guard let easy else { throw HTTPClientError(.io, "libcurl could not make a handle") }
        let response = try easy.perform(request, configuration, timeout: timeout ?? configuration.timeout)
        idle.withLock { handles in
            if handles.count < Self.maxIdleHandles { handles.append(easy) }
        }
        return response
    }

    /// `GET url`.
    public func get(
        _ url: String, headers: [(String, String)] = [], timeout: Duration? = nil
    ) throws(HTTPClientError)
        -> HTTPClientResponse
    {
        try execute(HTTPClientRequest(method: "GET", url: url, headers: headers), timeout: timeout)
    }
}

/// What an `HTTPClient` does for every request.
public struct HTTPClientConfiguration: Sendable {
    /// The whole request, connection included; `.zero` sets no limit (then `idleTimeout` and `connectTimeout` are
    /// the only ones).
    public var timeout: Duration = .seconds(30)
    public var connectTimeout: Duration = .seconds(10)
    /// The longest the server may send nothing, as a socket read timeout (Apache HttpClient's `socketTimeout`):
    /// libcurl's low-speed limit of one byte per second over that many whole seconds (rounded up); nil for none.
    public var idleTimeout: Duration?
    public var tls = TLS()
    /// HTTP Basic credentials sent with every request, when set.
    public var basicAuth: BasicAuth?
    public var userAgent = "swift-connect"

    public init() {}

    /// Whom to trust and who to be.
    public struct TLS: Sendable {
        /// A PEM file of the certificate authorities to trust instead of the system's (`curl --cacert`).
        public var caFile: String?
        /// A PEM client certificate (chain) and its private key, for servers that ask for one.
        public var certificateFile: String?
        public var keyFile: String?
        public var keyPassword: String?
        /// False skips the server's certificate and host name checks (`curl --insecure`).
        public var verifyPeer = true
        /// False skips only the host name check (Java's empty `ssl.endpoint.identification.algorithm`).
        public var verifyHost = true

        public init(
            caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, keyPassword: String? = nil,
            verifyPeer: Bool = true
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.keyPassword = keyPassword
            self.verifyPeer = verifyPeer
        }
    }

    public struct BasicAuth: Sendable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }
}

/// One request: a method, an absolute `http(s)://` URL, headers and an optional body.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// An answer: status, headers in order, body.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The first header of that name, compared without case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Why a request got no answer.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case invalidURL, unknownHost, connectionRefused, timeout, tls, io
    }

    public let kind: Kind
    /// libcurl's own words, with the URL.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Waiting and trying again may help (refused, timed out, broken connection); not for a bad URL or TLS setup.
    public var isRetriable: Bool { kind == .connectionRefused || kind == .timeout || kind == .io }
}

/// Owns one libcurl easy handle and its error buffer; `curl_easy_cleanup` in `deinit`.
///
/// `@unchecked Sendable`: a handle is used by one thread at a time — `HTTPClient` takes it out of its idle list
/// under the list's lock, performs one request, and only then puts it back.
final class EasyHandle: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Received bytes and headers of one request, reached from libcurl's callbacks through their context pointer.
    final class Sink {
        var body: [UInt8] = []
        var headers: [(name: String, value: String)] = []
    }

    /// Appends received body bytes to the `Sink`.
    static let writeBody: ccurl_data_callback = { data, size, count, context in
        let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
        let n = size * count
        if let data, n > 0 { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n)) }
        return n
    }

    /// Collects header lines; a status line (a new response after a redirect or `100 Continue`) starts over.
    static let writeHeader: ccurl_data_callback = { data, size, count, context in
        let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
        let n = size * count
        guard let data, n > 0 else { return n }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            sink.headers = []
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            sink.headers.append((name, value))
        }
        return n
    }

    func perform(
        _ request: HTTPClientRequest, _ configuration: HTTPClientConfiguration, timeout: Duration
    ) throws(HTTPClientError) -> HTTPClientResponse {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        let sink = Sink()
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        // libcurl copies every string option it is given (since 7.17), so the C strings may die after the call.
        func set(_ option: CURLoption, _ text: String) {
            _ = text.withCString { ccurl_setopt_pointer(handle, option, $0) }
        }
        func set(_ option: CURLoption, _ value: Int) { _ = ccurl_setopt_long(handle, option, value) }

        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        // CURLOPT_TIMEOUT_MS 0 is libcurl's "no limit".
        set(CURLOPT_TIMEOUT_MS, timeout == .zero ? 0 : max(1, Int(timeout.inWholeMilliseconds)))
        let connectTimeout =
            timeout == .zero ? configuration.connectTimeout : min(timeout, configuration.connectTimeout)
        set(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(connectTimeout.inWholeMilliseconds)))
        if let idle = configuration.idleTimeout {
            set(CURLOPT_LOW_SPEED_LIMIT, 1)
            set(CURLOPT_LOW_SPEED_TIME, max(1, Int((idle.inWholeMilliseconds + 999) / 1000)))
        }
        set(CURLOPT_USERAGENT, configuration.userAgent)
        _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = ccurl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, Self.writeBody)
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
        _ = ccurl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, Self.writeHeader)
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque())

        let tls = configuration.tls
        if let ca = tls.caFile { set(CURLOPT_CAINFO, ca) }
        if let cert = tls.certificateFile { set(CURLOPT_SSLCERT, cert) }
        if let key = tls.keyFile { set(CURLOPT_SSLKEY, key) }
        if let password = tls.keyPassword { set(CURLOPT_KEYPASSWD, password) }
        if !tls.verifyPeer {
            set(CURLOPT_SSL_VERIFYPEER, 0)
            set(CURLOPT_SSL_VERIFYHOST, 0)
        } else if !tls.verifyHost {
            set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let auth = configuration.basicAuth {
            // Basic is libcurl's default scheme for these two.
            set(CURLOPT_USERNAME, auth.username)
            set(CURLOPT_PASSWORD, auth.password)
        }

        let method = request.method.uppercased()
        switch method {
        case "GET": set(CURLOPT_HTTPGET, 1)
        case "HEAD": set(CURLOPT_NOBODY, 1)
        default: set(CURLOPT_CUSTOMREQUEST, method)
        }
        if let body = request.body {
            _ = ccurl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            // COPYPOSTFIELDS: libcurl keeps its own copy of the body, of the size set above.
            if body.isEmpty {
                set(CURLOPT_COPYPOSTFIELDS, "")
            } else {
                _ = body.withUnsafeBufferPointer {
                    ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress)
                }
            }
            if method == "POST" { set(CURLOPT_POST, 1) }
        }
        // "Expect:" stops libcurl waiting for a 100 Continue before large bodies.
        for (name, value) in request.headers + [("Expect", "")] {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        _ = ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList)

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else { throw error(code, request) }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPClientResponse(status: status, headers: sink.headers, body: sink.body)
    }

    private func error(_ code: CURLcode, _ request: HTTPClientRequest) -> HTTPClientError {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        let kind: HTTPClientError.Kind =
            switch code {
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidURL
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .unknownHost
            case CURLE_COULDNT_CONNECT: .connectionRefused
            case CURLE_OPERATION_TIMEDOUT: .timeout
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
                CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ISSUER_ERROR,
                CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE:
                .tls
            default: .io
            }
        return HTTPClientError(kind, "\(request.method) \(request.url) failed: \(detail)")
    }
}

extension Duration {
    /// Whole milliseconds, truncated.
    var inWholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

extension Substring {
    /// Without white space (line ends included) at either end.
    func trimmingWhitespace() -> String {
        var s = self
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
