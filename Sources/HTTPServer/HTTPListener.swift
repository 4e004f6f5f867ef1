/// One entry of Connect's `listeners` list: `http://host:port`, where an empty host means every interface.
public struct HTTPListener: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int

    public init(scheme: String = "http", host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Parses `http://:8083`, `http://localhost:8083`, `http://[::1]:8083`.
    public static func parse(_ text: String) throws(HTTPServerError) -> HTTPListener {
        let trimmed = text.trimmingCharacters(in: " ")
        guard let schemeEnd = trimmed.range(of: "://") else {
            throw HTTPServerError("Could not parse listener URL \(text): expected scheme://host:port")
        }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw HTTPServerError("Listener scheme must be http or https, but was \(scheme) in \(text)")
        }
        var rest = trimmed[schemeEnd.upperBound...]
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var host: Substring
        var portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw HTTPServerError("Unclosed IPv6 address in listener \(text)")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { throw HTTPServerError("Listener \(text) has no port") }
            portText = after.dropFirst()
        } else {
            guard let colon = rest.lastIndex(of: ":") else { throw HTTPServerError("Listener \(text) has no port") }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw HTTPServerError("Invalid port '\(portText)' in listener \(text)")
        }
        return HTTPListener(scheme: scheme, host: String(host), port: port)
    }

    public var description: String {
        "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}

/// An error starting or configuring the HTTP server.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }

    func range(of needle: String) -> Range<String.Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
