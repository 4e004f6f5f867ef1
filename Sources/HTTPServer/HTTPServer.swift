import CMicroHTTPD
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP/1.1 server on libmicrohttpd: one daemon per listener, a thread per connection (so handlers may block),
/// request bodies collected up to a limit (413 beyond it), and a graceful stop that lets requests in flight finish.
///
/// `@unchecked Sendable`: the daemons are set at start and cleared at stop under `state`; libmicrohttpd calls the
/// handler on its own threads, and the handler is `@Sendable`.
public final class HTTPServer: @unchecked Sendable {
    public let maxRequestBodyBytes: Int
    /// A connection idle this long is closed, so a slow client cannot hold a thread.
    public let connectionTimeoutSeconds: Int
    let handler: HTTPHandler
    let errorResponder: HTTPErrorResponder
    private let state = Mutex<State>(State())
    private let inFlight = Atomic<Int>(0)

    /// A daemon handle.
    ///
    /// `@unchecked Sendable`: an opaque pointer; libmicrohttpd daemons may be quiesced and stopped from any thread,
    /// and only `stop` does so, once, after taking the handle out of `state`.
    struct Daemon: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    struct State {
        var daemons: [Daemon] = []
        /// PEM strings handed to libmicrohttpd, kept for the daemons' lifetime.
        var tlsStrings: [UInt] = []
        var boundListeners: [HTTPListener] = []
        var stopping = false
    }

    public init(
        maxRequestBodyBytes: Int = 16 * 1024 * 1024, connectionTimeoutSeconds: Int = 30,
        errorResponder: @escaping HTTPErrorResponder = { status, message in
            HTTPResponse.text(status, message)
        }, handler: @escaping HTTPHandler
    ) {
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.connectionTimeoutSeconds = max(1, connectionTimeoutSeconds)
        self.handler = handler
        self.errorResponder = errorResponder
    }

    deinit {
        let (daemons, strings) = state.withLock { ($0.daemons, $0.tlsStrings) }
        for d in daemons { MHD_stop_daemon(d.pointer) }
        for p in strings { free(UnsafeMutableRawPointer(bitPattern: p)) }
    }

    /// Starts listening; returns the listeners with the ports actually bound. `https` listeners serve `tls`.
    @discardableResult
    public func start(listeners: [HTTPListener], tls: TLSCredentials? = nil) throws(HTTPServerError) -> [HTTPListener] {
        var daemons: [Daemon] = []
        var bound: [HTTPListener] = []
        do throws(HTTPServerError) {
            for listener in listeners {
                var credentials: TLSCredentials?
                if listener.scheme == "https" {
                    guard let tls else {
                        throw HTTPServerError(
                            "Listener \(listener) is https, but no certificate and key were configured")
                    }
                    credentials = tls
                }
                let (fd, port) = try ListeningSocket.open(listener)
                guard let daemon = startDaemon(fd: fd, tls: credentials) else {
                    close(fd)
                    throw HTTPServerError(
                        "Could not start the HTTP daemon for \(listener)"
                            + (credentials == nil ? "" : " (is the certificate chain and private key PEM valid?)"))
                }
                daemons.append(Daemon(pointer: daemon))
                bound.append(HTTPListener(scheme: listener.scheme, host: listener.host, port: port))
            }
        } catch {
            for d in daemons { MHD_stop_daemon(d.pointer) }
            throw error
        }
        state.withLock {
            $0.daemons += daemons
            $0.boundListeners += bound
        }
        return bound
    }

    public var boundListeners: [HTTPListener] { state.withLock { $0.boundListeners } }

    /// Stops accepting connections, waits up to `graceMs` for requests in flight, then stops.
    public func stop(graceMs: Int = 5000) {
        let daemons = state.withLock { s -> [Daemon] in
            s.stopping = true
            let d = s.daemons
            s.daemons = []
            return d
        }
        for d in daemons {
            let fd = MHD_quiesce_daemon(d.pointer)
            if fd >= 0 { close(fd) }
        }
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(graceMs))
        while inFlight.load(ordering: .acquiring) > 0 && ContinuousClock.now < deadline {
            usleep(10_000)
        }
        for d in daemons { MHD_stop_daemon(d.pointer) }
    }

    private func startDaemon(fd: Int32, tls: TLSCredentials?) -> OpaquePointer? {
        let context = Unmanaged.passUnretained(self).toOpaque()
        // poll(), not select(): a worker with many Kafka clients holds more than FD_SETSIZE (1024) descriptors, and
        // select() cannot take a connection numbered above it (libmicrohttpd closes it with an empty reply).
        var flags =
            MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_THREAD_PER_CONNECTION.rawValue | MHD_USE_ITC.rawValue
            | MHD_USE_POLL.rawValue
        let completed = unsafeBitCast(HTTPServer.requestCompleted, to: OpaquePointer.self)
        var args: [CVarArg] = [
            MHD_OPTION.LISTEN_SOCKET.rawValue, fd,
            MHD_OPTION.NOTIFY_COMPLETED.rawValue, completed, OpaquePointer(context),
            MHD_OPTION.CONNECTION_TIMEOUT.rawValue, UInt32(connectionTimeoutSeconds),
        ]
        if let tls {
            flags |= MHD_USE_TLS.rawValue
            let key = strdup(tls.privateKeyPEM)!
            let cert = strdup(tls.certificateChainPEM)!
            var strings = [key, cert]
            args += [MHD_OPTION.HTTPS_MEM_KEY.rawValue, key, MHD_OPTION.HTTPS_MEM_CERT.rawValue, cert]
            if let password = tls.keyPassword {
                let p = strdup(password)!
                strings.append(p)
                args += [MHD_OPTION.HTTPS_KEY_PASSWORD.rawValue, p]
            }
            let addresses = strings.map { UInt(bitPattern: $0) }
            state.withLock { $0.tlsStrings += addresses }
        }
        args.append(MHD_OPTION.END.rawValue)
        return withVaList(args) { va in
            MHD_start_daemon_va(flags, 0, nil, nil, HTTPServer.accessHandler, context, va)
        }
    }

    /// Per-request state, owned by libmicrohttpd's `con_cls` slot from the first call until `requestCompleted`.
    final class RequestContext {
        var body: [UInt8] = []
        var tooLarge = false
    }

    static let accessHandler: MHD_AccessHandlerCallback = {
        cls, connection, url, method, _, uploadData, uploadSize, conCls in
        guard let cls, let connection, let conCls else { return .NO }
        let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
        guard let slot = conCls.pointee else {
            conCls.pointee = Unmanaged.passRetained(RequestContext()).toOpaque()
            server.inFlight.add(1, ordering: .relaxed)
            return .YES
        }
        let ctx = Unmanaged<RequestContext>.fromOpaque(slot).takeUnretainedValue()
        if let uploadSize, uploadSize.pointee > 0 {
            let size = uploadSize.pointee
            if ctx.body.count + size > server.maxRequestBodyBytes {
                ctx.tooLarge = true
                ctx.body = []
            } else if !ctx.tooLarge, let uploadData {
                ctx.body.append(contentsOf: UnsafeRawBufferPointer(start: uploadData, count: size))
            }
            uploadSize.pointee = 0
            return .YES
        }
        let response: HTTPResponse
        if ctx.tooLarge {
            response = server.errorResponder(
                413, "Request body is larger than the limit of \(server.maxRequestBodyBytes) bytes")
        } else {
            let request = HTTPRequest(
                method: method.map { String(cString: $0) } ?? "GET",
                path: url.map { String(cString: $0) } ?? "/",
                query: collect(connection, .GET_ARGUMENT_KIND),
                headers: Dictionary(
                    collect(connection, .HEADER_KIND).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                body: ctx.body)
            response = server.handler(request)
        }
        return send(response, on: connection)
    }

    static let requestCompleted: MHD_RequestCompletedCallback = { cls, _, conCls, _ in
        guard let cls, let conCls, let slot = conCls.pointee else { return }
        Unmanaged<RequestContext>.fromOpaque(slot).release()
        conCls.pointee = nil
        Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().inFlight.subtract(1, ordering: .releasing)
    }

    private static func send(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        var body = response.body
        let mhdResponse = body.withUnsafeMutableBytes { buf in
            MHD_create_response_from_buffer(buf.count, buf.baseAddress, .RESPMEM_MUST_COPY)
        }
        guard let mhdResponse else { return .NO }
        defer { MHD_destroy_response(mhdResponse) }
        for h in response.headers { _ = MHD_add_response_header(mhdResponse, h.name, h.value) }
        return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    }

    private final class Pairs {
        var items: [(name: String, value: String)] = []
    }

    private static let collectIterator: MHD_KeyValueIterator = { cls, _, key, value in
        guard let cls else { return .NO }
        let pairs = Unmanaged<Pairs>.fromOpaque(cls).takeUnretainedValue()
        pairs.items.append((key.map { String(cString: $0) } ?? "", value.map { String(cString: $0) } ?? ""))
        return .YES
    }

    private static func collect(_ connection: OpaquePointer, _ kind: MHD_ValueKind) -> [(name: String, value: String)] {
        let pairs = Pairs()
        withExtendedLifetime(pairs) {
            _ = MHD_get_connection_values(connection, kind, collectIterator, Unmanaged.passUnretained(pairs).toOpaque())
        }
        return pairs.items
    }
}

/// A server certificate chain and its private key, as PEM text (an encrypted key needs its password).
public struct TLSCredentials: Sendable {
    public var certificateChainPEM: String
    public var privateKeyPEM: String
    public var keyPassword: String?

    public init(certificateChainPEM: String, privateKeyPEM: String, keyPassword: String? = nil) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.keyPassword = keyPassword
    }

    /// Splits one PEM text holding a private key and a certificate chain (Kafka's PEM keystore layout).
    public init(combinedPEM text: String, keyPassword: String? = nil) throws(HTTPServerError) {
        var keys: [String] = []
        var certificates: [String] = []
        var current: [Substring] = []
        var kind = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let l = line.trimmingSuffix("\r")
            if l.hasPrefix("-----BEGIN ") {
                kind = String(l)
                current = [l]
            } else if l.hasPrefix("-----END ") {
                current.append(l)
                let block = current.joined(separator: "\n") + "\n"
                if kind.contains("PRIVATE KEY") {
                    keys.append(block)
                } else if kind.contains("CERTIFICATE") {
                    certificates.append(block)
                }
                current = []
                kind = ""
            } else if !kind.isEmpty {
                current.append(l)
            }
        }
        guard keys.count == 1 else {
            throw HTTPServerError("The PEM keystore must hold exactly one private key, but holds \(keys.count)")
        }
        guard !certificates.isEmpty else { throw HTTPServerError("The PEM keystore holds no certificate") }
        self.init(
            certificateChainPEM: certificates.joined(), privateKeyPEM: keys[0], keyPassword: keyPassword)
    }
}

extension Substring {
    fileprivate func trimmingSuffix(_ c: Character) -> Substring { last == c ? dropLast() : self }
}
