import ConnectAPI
import ConnectRuntime
import HTTPServer
import JSON

extension ConnectRestServer {
    static func addRoutes(_ r: inout Router, herder: any Herder) {
        // RootResource
        r.add("GET", "/") { _, _ in
            let info = herder.serverInfo()
            return json(
                200,
                [
                    "version": .string(info.version), "commit": .string(info.commit),
                    "kafka_cluster_id": info.kafkaClusterId.map { .string($0) } ?? .null,
                ])
        }
        r.add("GET", "/cluster") { req, _ in
            // `scope=worker`: this worker's own view (its generation, membership and work), never the leader's.
            if req.queryValue("scope") == "worker" {
                if let own = herder.localClusterView(partialReason: nil) {
                    return json(200, RestEntities.clusterView(own))
                }
                if herder.forwardingClient != nil {
                    return errorResponse(409, "This worker has no assignment yet: it is joining its group")
                }
            }
            let answer = forwardable(req, herder) { () throws(ConnectError) in
                json(200, RestEntities.clusterView(try herder.clusterView()))
            }
            // The leader did not answer (it died and the group has not elected another yet, or it is
            // rebalancing): this worker's own part, marked partial, rather than the forwarding error.
            guard answer.status == 409 || answer.status >= 500,
                let local = herder.localClusterView(
                    partialReason:
                        "The leader did not answer (\(errorMessage(answer) ?? "HTTP \(answer.status)")); this worker's own assignment only"
                )
            else { return answer }
            return json(200, RestEntities.clusterView(local))
        }
        r.add("GET", "/health") { _, _ in
            if let reason = herder.unhealthyReason() {
                return json(500, ["status": "unhealthy", "message": .string(reason)])
            }
            if herder.isReady() {
                return json(
                    200,
                    ["status": "healthy", "message": "Worker has completed startup and is ready to handle requests."])
            }
            return startingResponse(HTTPRequest(method: "GET", path: "/health"))
        }

        // ConnectorsResource
        r.add("GET", "/connectors") { req, _ in
            let expand = Set(req.queryValues("expand"))
            let names = herder.connectors()
            guard expand.contains("status") || expand.contains("info") else {
                return json(200, .array(names.map { .string($0) }))
            }
            var out = JSONObject()
            for name in names {
                var entry = JSONObject()
                // A connector whose lookup fails (e.g. deleted meanwhile, no status yet) is left out, as in Connect.
                if expand.contains("status") {
                    guard let s = try? herder.connectorStatus(name) else { continue }
                    entry["status"] = RestEntities.connectorState(s)
                }
                if expand.contains("info") {
                    guard let i = try? herder.connectorInfo(name) else { continue }
                    entry["info"] = RestEntities.connectorInfo(i)
                }
                out[name] = .object(entry)
            }
            return json(200, .object(out))
        }
        r.add("POST", "/connectors") { req, _ in
            forwardable(req, herder) { () throws(ConnectError) in
                let body = try parseBody(req)
                guard let object = body.objectValue else {
                    throw ConnectError(
                        .badRequest,
                        "The request body must be a JSON object with \"name\" and \"config\", but was a JSON \(body.typeName)"
                    )
                }
                let name = (object["name"]?.stringValue ?? "").trimmingSpaces
                // As Connect's ConnectorsResource: a '/' would make the connector unreachable by path.
                if name.contains("/") { throw ConnectError(.badRequest, "connector name should not contain '/'") }
                guard let configJSON = object["config"], !configJSON.isNull else {
                    throw ConnectError(
                        .badRequest, "Connector config is required: the request body must contain a \"config\" object")
                }
                var config = try configMap(configJSON)
                if let inConfig = config["name"], inConfig != name {
                    throw ConnectError(
                        .badRequest,
                        "Connector name configuration (\(inConfig)) doesn't match connector name in the URL (\(name))")
                }
                config["name"] = name
                var initial: TargetState?
                if let s = object["initial_state"]?.stringValue {
                    switch s.uppercased() {
                    case "RUNNING": initial = .started
                    case "PAUSED": initial = .paused
                    case "STOPPED": initial = .stopped
                    default:
                        throw ConnectError(
                            .badRequest, "Invalid initial state \(s): must be one of RUNNING, PAUSED, STOPPED")
                    }
                }
                let (_, info) = try herder.putConnectorConfig(
                    name, config: config, allowReplace: false, initialState: initial)
                var response = json(201, RestEntities.connectorInfo(info))
                response.headers.append(("Location", "/connectors/\(name)"))
                return response
            }
        }
        r.add("GET", "/connectors/{name}") { _, p in
            call { () throws(ConnectError) in
                json(200, RestEntities.connectorInfo(try herder.connectorInfo(p["name"]!)))
            }
        }
        r.add("DELETE", "/connectors/{name}") { req, p in
            forwardable(req, herder) { () throws(ConnectError) in
                try herder.deleteConnector(p["name"]!)
                return .noContent()
            }
        }
        r.add("GET", "/connectors/{name}/config") { _, p in
            call { () throws(ConnectError) in json(200, RestEntities.config(try herder.connectorConfig(p["name"]!))) }
        }
        r.add("PUT", "/connectors/{name}/config") { req, p in
            forwardable(req, herder) { () throws(ConnectError) in
                let name = p["name"]!
                var config = try configMap(try parseBody(req))
                if let inConfig = config["name"], inConfig != name {
                    throw ConnectError(
                        .badRequest,
                        "Connector name configuration (\(inConfig)) doesn't match connector name in the URL (\(name))")
                }
                config["name"] = name
                // A config read from this API shows secrets as `[hidden]`; written back, they keep their values.
                if let stored = try? herder.connectorConfig(name) {
                    config = SecretRedaction.restoring(config, from: stored)
                }
                let (created, info) = try herder.putConnectorConfig(
                    name, config: config, allowReplace: true, initialState: nil)
                var response = json(created ? 201 : 200, RestEntities.connectorInfo(info))
                if created { response.headers.append(("Location", "/connectors/\(name)")) }
                return response
            }
        }
        r.add("GET", "/connectors/{name}/status") { _, p in
            call { () throws(ConnectError) in
                json(200, RestEntities.connectorState(try herder.connectorStatus(p["name"]!)))
            }
        }
        r.add("PATCH", "/connectors/{name}/config") { req, p in
            forwardable(req, herder) { () throws(ConnectError) in
                // A `[hidden]` secret in a patch leaves the stored value as it is.
                let patch = try patchMap(try parseBody(req)).filter {
                    !($0.value == SecretRedaction.hidden && SecretRedaction.isSecret($0.key))
                }
                return json(200, RestEntities.connectorInfo(try herder.patchConnectorConfig(p["name"]!, patch: patch)))
            }
        }
        r.add("GET", "/connectors/{name}/tasks-config") { _, p in
            call { () throws(ConnectError) in
                var o = JSONObject()
                for t in try herder.taskConfigs(p["name"]!) { o[t.id.description] = RestEntities.config(t.config) }
                return json(200, .object(o))
            }
        }
        r.add("GET", "/connectors/{name}/topics") { _, p in
            call { () throws(ConnectError) in
                let name = p["name"]!
                let topics = try herder.connectorActiveTopics(name)
                return json(200, [name: ["topics": .array(topics.map { .string($0) })]])
            }
        }
        r.add("PUT", "/connectors/{name}/topics/reset") { _, p in
            call { () throws(ConnectError) in
                try herder.resetConnectorActiveTopics(p["name"]!)
                return HTTPResponse(status: 202)
            }
        }
        r.add("GET", "/connectors/{name}/offsets") { _, p in
            call { () throws(ConnectError) in
                json(200, RestEntities.offsets(try herder.connectorOffsets(p["name"]!)))
            }
        }
        r.add("PATCH", "/connectors/{name}/offsets") { req, p in
            forwardable(req, herder) { () throws(ConnectError) in
                let offsets = try RestEntities.parseOffsets(try parseBody(req))
                return json(200, ["message": .string(try herder.alterConnectorOffsets(p["name"]!, offsets))])
            }
        }
        r.add("DELETE", "/connectors/{name}/offsets") { req, p in
            forwardable(req, herder) { () throws(ConnectError) in
                json(200, ["message": .string(try herder.resetConnectorOffsets(p["name"]!))])
            }
        }
        r.add("GET", "/connectors/{name}/tasks") { _, p in
            call { () throws(ConnectError) in
                json(200, .array(try herder.taskConfigs(p["name"]!).map(RestEntities.taskInfo)))
            }
        }
        r.add("GET", "/connectors/{name}/tasks/{task}/status") { _, p in
            call { () throws(ConnectError) in
                let id = try taskId(p)
                return json(200, RestEntities.taskState(try herder.taskStatus(id)))
            }
        }
        r.add("GET", "/connectors/{name}/tasks/{task}/history") { _, p in
            call { () throws(ConnectError) in
                let id = try taskId(p)
                return json(
                    200,
                    [
                        "id": RestEntities.taskId(id),
                        "history": .array(try herder.taskHistory(id).map(RestEntities.historyEntry)),
                    ])
            }
        }
        r.add("GET", "/connectors/{name}/history") { _, p in
            call { () throws(ConnectError) in
                let name = p["name"]!
                let h = try herder.connectorHistory(name)
                var tasks = JSONObject()
                for id in h.tasks.keys.sorted() {
                    tasks[String(id)] = .array(h.tasks[id]!.map(RestEntities.historyEntry))
                }
                return json(
                    200,
                    [
                        "name": .string(name), "connector": .array(h.connector.map(RestEntities.historyEntry)),
                        "tasks": .object(tasks),
                    ])
            }
        }
        r.add("POST", "/connectors/{name}/tasks/{task}/restart") { req, p in
            forwardable(req, herder) { () throws(ConnectError) in
                try herder.restartTask(try taskId(p))
                return .noContent()
            }
        }
        r.add("POST", "/connectors/{name}/restart") { req, p in
            forwardable(req, herder) { () throws(ConnectError) in
                let request = RestartRequest(
                    includeTasks: req.queryValue("includeTasks")?.lowercased() == "true",
                    onlyFailed: req.queryValue("onlyFailed")?.lowercased() == "true")
                guard let plan = try herder.restartConnector(p["name"]!, request) else { return .noContent() }
                return json(202, RestEntities.connectorState(plan))
            }
        }
        // Internal (InternalClusterResource): task configurations for the leader to store.
        r.add("POST", "/connectors/{name}/tasks") { req, p in
            forwardable(req, herder) { () throws(ConnectError) in
                let body = try parseBody(req)
                guard let array = body.arrayValue else {
                    throw ConnectError(
                        .badRequest, "The task configurations must be a JSON array, but was a JSON \(body.typeName)")
                }
                let configs = try array.map { v throws(ConnectError) in try configMap(v, what: "task configuration") }
                try herder.putTaskConfigs(p["name"]!, configs, body: req.body, headers: req.headers)
                return .noContent()
            }
        }
        r.add("PUT", "/connectors/{name}/pause") { _, p in
            call { () throws(ConnectError) in
                try herder.pauseConnector(p["name"]!)
                return HTTPResponse(status: 202)
            }
        }
        r.add("PUT", "/connectors/{name}/resume") { _, p in
            call { () throws(ConnectError) in
                try herder.resumeConnector(p["name"]!)
                return HTTPResponse(status: 202)
            }
        }
        r.add("PUT", "/connectors/{name}/stop") { req, p in
            forwardable(req, herder) { () throws(ConnectError) in
                try herder.stopConnector(p["name"]!)
                return .noContent()
            }
        }

        // ConnectorPluginsResource
        r.add("GET", "/connector-plugins") { req, _ in
            let connectorsOnly = req.queryValue("connectorsOnly")?.lowercased() != "false"
            let order: [PluginType] =
                connectorsOnly
                ? [.sink, .source] : [.sink, .source, .transformation, .predicate, .converter, .headerConverter]
            var list: [JSONValue] = []
            for type in order {
                for p in herder.plugins.plugins(of: [type]).sorted(by: { $0.className < $1.className }) {
                    list.append(RestEntities.plugin(p))
                }
            }
            return json(200, .array(list))
        }
        r.add("GET", "/connector-plugins/{plugin}/config") { _, p in
            let name = p["plugin"]!
            guard let desc = herder.plugins.find(name, types: Set(PluginType.allCases)) else {
                return errorResponse(404, "Unknown plugin \(name).")
            }
            var def = desc.configDef
            // Connectors list their own keys first, then the framework's they do not override.
            if desc.type == .source || desc.type == .sink {
                def = def.merging(ConnectorConfig.configDef(for: desc.type))
            }
            return json(200, .array(def.keys.map(RestEntities.configKey)))
        }
        r.add("PUT", "/connector-plugins/{plugin}/config/validate") { req, p in
            call { () throws(ConnectError) in
                let plugin = p["plugin"]!
                let config = try configMap(try parseBody(req))
                if let included = config["connector.class"], !normalized(included).hasSuffix(normalized(plugin)) {
                    throw ConnectError(
                        .badRequest, "Included connector type \(included) does not match request type \(plugin)")
                }
                return json(200, RestEntities.configInfos(try herder.validateConnectorConfig(config)))
            }
        }
    }

    /// A config patch: like a config map, but a null value removes the key.
    static func patchMap(_ json: JSONValue) throws(ConnectError) -> [String: String?] {
        guard let object = json.objectValue else {
            throw ConnectError(
                .badRequest, "The connector configuration patch must be a JSON object, but was a JSON \(json.typeName)")
        }
        var out: [String: String?] = [:]
        for (k, v) in object {
            if v.isNull {
                out[k] = .some(nil)
                continue
            }
            guard let text = v.scalarText else {
                throw ConnectError(
                    .badRequest,
                    "The value of configuration \(k) must be a string, number, boolean or null, but was a JSON \(v.typeName)"
                )
            }
            out[k] = text
        }
        return out
    }

    /// Connect's comparison of plug-in names: the simple name without a trailing `Connector`.
    static func normalized(_ name: String) -> String {
        let simple = name.split(separator: ".").last.map(String.init) ?? name
        return simple.hasSuffix("Connector") ? String(simple.dropLast("Connector".count)) : simple
    }

    static func taskId(_ p: [String: String]) throws(ConnectError) -> ConnectorTaskId {
        guard let t = Int(p["task"] ?? "") else {
            throw ConnectError(.notFound, "HTTP 404 Not Found: task id '\(p["task"] ?? "")' is not a number")
        }
        return ConnectorTaskId(p["name"]!, t)
    }
}
