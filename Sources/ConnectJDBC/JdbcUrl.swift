import ConnectAPI
import Foundation

/// A JDBC connection URL as Confluent's JDBC connectors take it (`connection.url`): `jdbc:postgresql://host:5432/db`,
/// `jdbc:mysql://host:3306/db`, `jdbc:mariadb://host/db`, with `?user=...&password=...` parameters optional. The
/// subprotocol picks the dialect (`DatabaseDialects.findBestFor`); there is no JDBC driver here, the URL only names
/// the server for libpq or libmariadb.
public struct JdbcUrl: Sendable, Equatable {
    public enum Subprotocol: String, Sendable {
        case postgresql, mysql, mariadb
    }

    public var subprotocol: Subprotocol
    public var host: String
    public var port: Int
    public var database: String
    /// The URL's query parameters (`user`, `password`, `sslmode`, ...).
    public var parameters: [String: String]

    /// Parses `url`; throws a ConfigException naming `connection.url` for anything else.
    public init(_ url: String) throws(ConnectError) {
        func invalid(_ reason: String) -> ConnectError {
            ConnectError.invalidConfig("connection.url", Self.redacted(url), reason)
        }
        guard url.hasPrefix("jdbc:"), let sep = url.range(of: "://") else {
            throw invalid("Not a JDBC URL (jdbc:postgresql://host:port/database, jdbc:mysql://, jdbc:mariadb://)")
        }
        let name = String(url[url.index(url.startIndex, offsetBy: 5)..<sep.lowerBound])
        guard let sub = Subprotocol(rawValue: name) else {
            throw invalid(
                "No suitable dialect for the subprotocol '\(name)': postgresql, mysql and mariadb are supported")
        }
        subprotocol = sub
        var rest = Substring(url[sep.upperBound...])
        var query = Substring("")
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        let hostPort: Substring
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            database = String(rest[rest.index(after: slash)...])
        } else {
            hostPort = rest
            database = ""
        }
        // The first host of a list (jdbc:postgresql://a,b/db); IPv6 in brackets.
        let first = hostPort.split(separator: ",").first ?? ""
        var h = Substring(first)
        var p: Substring?
        if h.hasPrefix("["), let close = h.firstIndex(of: "]") {
            let after = h[h.index(after: close)...]
            if after.hasPrefix(":") { p = after.dropFirst() }
            h = h[h.index(after: h.startIndex)..<close]
        } else if let colon = h.lastIndex(of: ":") {
            p = h[h.index(after: colon)...]
            h = h[..<colon]
        }
        host = h.isEmpty ? "localhost" : String(h)
        let defaultPort = sub == .postgresql ? 5432 : 3306
        guard let port = p.map({ Int($0) }) ?? defaultPort, (1...65535).contains(port) else {
            throw invalid("The port is not a number between 1 and 65535")
        }
        self.port = port
        var params: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard let k = kv.first, !k.isEmpty else { continue }
            params[String(k)] = kv.count > 1 ? Self.percentDecoded(kv[1]) : ""
        }
        parameters = params
    }

    /// `url` with the value of a `password` parameter replaced by `[hidden]`, for messages.
    public static func redacted(_ url: String) -> String {
        guard let q = url.firstIndex(of: "?") else { return url }
        let pairs = url[url.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
            pair.lowercased().hasPrefix("password=") ? "password=[hidden]" : String(pair)
        }
        return url[...q] + pairs.joined(separator: "&")
    }

    private static func percentDecoded(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var i = s.utf8.startIndex
        let u = s.utf8
        while i < u.endIndex {
            let c = u[i]
            if c == UInt8(ascii: "%"), let a = u.index(i, offsetBy: 1, limitedBy: u.endIndex), a < u.endIndex,
                let b = u.index(i, offsetBy: 2, limitedBy: u.endIndex), b < u.endIndex,
                let v = UInt8(String(decoding: [u[a], u[b]], as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                i = u.index(i, offsetBy: 3)
            } else {
                bytes.append(c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
                i = u.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
