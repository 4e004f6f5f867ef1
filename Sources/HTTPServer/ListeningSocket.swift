#if canImport(Glibc)
    import Glibc
#endif

/// Opens a listening TCP socket for a listener: an empty host binds every interface (IPv6 dual-stack when available,
/// else IPv4). Returns the descriptor and the port actually bound (which differs from the request for port 0).
enum ListeningSocket {
    static func open(_ listener: HTTPListener) throws(HTTPServerError) -> (fd: Int32, port: Int) {
        if listener.host.isEmpty {
            if let r = try? bind(host: "::", port: listener.port, family: AF_INET6, dualStack: true) { return r }
            return try bind(host: "0.0.0.0", port: listener.port, family: AF_INET, dualStack: false)
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(listener.host, String(listener.port), &hints, &result)
        guard rc == 0, let first = result else {
            throw HTTPServerError(
                "Cannot resolve listener host '\(listener.host)': \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let ai = entry {
            do {
                return try bind(
                    address: ai.pointee.ai_addr, length: ai.pointee.ai_addrlen, family: ai.pointee.ai_family,
                    dualStack: false)
            } catch {
                lastError = error.description
            }
            entry = ai.pointee.ai_next
        }
        throw HTTPServerError("Cannot listen on \(listener): \(lastError)")
    }

    private static func bind(
        host: String, port: Int, family: Int32, dualStack: Bool
    ) throws(HTTPServerError) -> (fd: Int32, port: Int) {
        if family == AF_INET6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = UInt16(port).bigEndian
            addr.sin6_addr = in6addr_any
            return try withUnsafePointer(to: &addr) { p throws(HTTPServerError) in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(HTTPServerError) in
                    try bind(
                        address: sa, length: socklen_t(MemoryLayout<sockaddr_in6>.size), family: family,
                        dualStack: dualStack)
                }
            }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr(host)
        return try withUnsafePointer(to: &addr) { p throws(HTTPServerError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(HTTPServerError) in
                try bind(
                    address: sa, length: socklen_t(MemoryLayout<sockaddr_in>.size), family: family, dualStack: dualStack
                )
            }
        }
    }

    private static func bind(
        address: UnsafePointer<sockaddr>, length: socklen_t, family: Int32, dualStack: Bool
    ) throws(HTTPServerError) -> (fd: Int32, port: Int) {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPServerError("socket() failed: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if family == AF_INET6 {
            var v6only: Int32 = dualStack ? 0 : 1
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &v6only, socklen_t(MemoryLayout<Int32>.size))
        }
        guard Glibc.bind(fd, address, length) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw HTTPServerError("bind failed: \(reason)")
        }
        guard listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw HTTPServerError("listen failed: \(reason)")
        }
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        let boundFamily = Int32(storage.ss_family)
        let port: Int =
            withUnsafePointer(to: &storage) { p in
                if boundFamily == AF_INET6 {
                    return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        Int(UInt16(bigEndian: $0.pointee.sin6_port))
                    }
                }
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin_port))
                }
            }
        return (fd, port)
    }
}
