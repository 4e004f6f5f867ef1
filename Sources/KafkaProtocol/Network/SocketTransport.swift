import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP connection with deadlines, optionally under TLS (`TLSSession`): non-blocking socket, `poll` for every wait, `MSG_NOSIGNAL` so a closed peer is
/// an error rather than a signal. POSIX sockets rather than a framework: the client sends one small request at a
/// time from a thread that may block, which is all a group member needs (and all the Bolt client of the Neo4j sink
/// needs, which uses it too).
public final class SocketTransport {
    private var fd: Int32
    public let peer: String
    /// What the peer is called in errors (`broker`, `Neo4j server`).
    private let noun: String
    /// Set once TLS is started: reads and writes go through it.
    private var tls: TLSSession?

    /// Connects to `host:port` (any address it resolves to), within `timeout`.
    public init(host: String, port: Int, timeout: Duration, noun: String = "broker") throws(KafkaProtocolError) {
        peer = "\(host):\(port)"
        self.noun = noun
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw .network("Cannot resolve \(noun) \(peer): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var lastError = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let ai = next {
            next = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            guard s >= 0 else { continue }
            _ = fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 || errno == EINPROGRESS,
                Self.wait(s, events: Int16(POLLOUT), until: deadline)
            {
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len)
                if err == 0 {
                    fd = s
                    return
                }
                lastError = String(cString: strerror(err))
            } else {
                lastError = ContinuousClock.now >= deadline ? "timed out" : String(cString: strerror(errno))
            }
            Glibc.close(s)
        }
        throw .network("Cannot connect to \(noun) \(peer): \(lastError)")
    }

    deinit { close() }

    public func close() {
        tls = nil
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Starts TLS on the connection (`security.protocol` `SSL` or `SASL_SSL`) within `deadline`.
    public func startTLS(
        host: String, port: Int, settings: TLSSettings, until deadline: ContinuousClock.Instant
    )
        throws(KafkaProtocolError)
    {
        tls = try TLSSession(fd: fd, host: host, port: port, settings: settings, until: deadline)
    }

    /// Waits for `events` on `fd` until `deadline`; false on a timeout or an error.
    static func wait(_ fd: Int32, events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&p, 1, Int32(clamping: left.inWholeMilliseconds + 1))
            if rc > 0 { return true }
            if rc == 0 { return false }
            if errno != EINTR { return false }
        }
    }

    public func write(_ bytes: [UInt8], until deadline: ContinuousClock.Instant) throws(KafkaProtocolError) {
        if let tls { return try tls.write(bytes, until: deadline) }
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { buf in
                send(fd, buf.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                sent += n
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard Self.wait(fd, events: Int16(POLLOUT), until: deadline) else {
                    throw .timeout("Timed out writing to \(noun) \(peer)")
                }
            } else {
                throw .network("Connection to \(noun) \(peer) failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    public func read(count: Int, until deadline: ContinuousClock.Instant) throws(KafkaProtocolError) -> [UInt8] {
        if let tls { return try tls.read(count: count, until: deadline) }
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { buf in recv(fd, buf.baseAddress! + got, count - got, 0) }
            if n > 0 {
                got += n
            } else if n == 0 {
                throw .network("The \(noun) \(peer) closed the connection")
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                guard Self.wait(fd, events: Int16(POLLIN), until: deadline) else {
                    throw .timeout("Timed out waiting for \(noun) \(peer)")
                }
            } else {
                throw .network("Connection to \(noun) \(peer) failed: \(String(cString: strerror(errno)))")
            }
        }
        return out
    }
}

extension Duration {
    var inWholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
