import ConnectAPI
import ConnectRuntime
import Foundation
import HTTPServer
import JSON
import Logging

/// `/admin/loggers` (`LoggingResource`): the worker's log levels, read and changed at runtime.
enum LoggingResource {
    /// `herder`: the herder once there is one, for the cluster scope.
    static func addRoutes(
        _ router: inout Router, herder: @escaping @Sendable () -> (any Herder)?, levels: LogLevels = .shared
    ) {
        router.add("GET", "/admin/loggers") { _, _ in
            var o = JSONObject()
            for l in levels.explicitLevels() { o[l.name] = loggerLevel(l.level, l.lastModified) }
            return ConnectRestServer.json(200, .object(o))
        }
        router.add("GET", "/admin/loggers/{logger}") { _, p in
            let name = p["logger"]!
            guard let l = levels.describe(name) else {
                return ConnectRestServer.errorResponse(404, "Logger \(name) not found.")
            }
            return ConnectRestServer.json(200, loggerLevel(l.level, l.lastModified))
        }
        router.add("PUT", "/admin/loggers/{logger}") { req, p in
            ConnectRestServer.call { () throws(ConnectError) in
                let body = try ConnectRestServer.parseBody(req)
                guard let text = body["level"]?.stringValue, !text.isEmpty else {
                    throw ConnectError(.badRequest, "Desired 'level' parameter was not specified in request.")
                }
                guard let level = ConnectLogHandler.level(named: text) else {
                    throw ConnectError(.notFound, "invalid log level '\(text)'.")
                }
                // KIP-976: the cluster scope goes to every worker through the herder (the config topic of a
                // cluster; this worker alone when standalone), answered with 204 and no body.
                if req.queryValue("scope")?.lowercased() == "cluster" {
                    guard let herder = herder() else {
                        throw ConnectError(.serviceUnavailable, "Worker is still starting up.")
                    }
                    try herder.setClusterLoggerLevel(p["logger"]!, ConnectLogHandler.name(level))
                    return HTTPResponse(status: 204)
                }
                let affected = levels.setNamespace(
                    p["logger"]!, to: level, at: Int64(Date().timeIntervalSince1970 * 1000))
                return ConnectRestServer.json(200, .array(affected.map { .string($0) }))
            }
        }
    }

    static func loggerLevel(_ level: Logger.Level, _ lastModified: Int64?) -> JSONValue {
        ["level": .string(ConnectLogHandler.name(level)), "last_modified": lastModified.map { .int($0) } ?? .null]
    }
}
