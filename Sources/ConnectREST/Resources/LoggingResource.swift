import ConnectAPI
import ConnectRuntime
import Foundation
import HTTPServer
import JSON
import Logging

/// `/admin/loggers` (`LoggingResource`): the worker's log levels, read and changed at runtime.
enum LoggingResource {
    static func addRoutes(_ router: inout Router, levels: LogLevels = .shared) {
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
                let affected = levels.setNamespace(
                    p["logger"]!, to: level, at: Int64(Date().timeIntervalSince1970 * 1000))
                // Standalone: the cluster scope is this worker too, answered as Connect answers it.
                if req.queryValue("scope")?.lowercased() == "cluster" { return HTTPResponse(status: 204) }
                return ConnectRestServer.json(200, .array(affected.map { .string($0) }))
            }
        }
    }

    static func loggerLevel(_ level: Logger.Level, _ lastModified: Int64?) -> JSONValue {
        ["level": .string(ConnectLogHandler.name(level)), "last_modified": lastModified.map { .int($0) } ?? .null]
    }
}
