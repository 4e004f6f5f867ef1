import ConnectAPI
import JSON

/// The OpenAPI 3.0 document of the whole REST API, served at `GET /openapi.json` and checked in as
/// `docs/openapi.json`; a test keeps both equal and matching every route the server has.
public enum OpenAPIDocument {
    struct Operation {
        let method: String
        let path: String
        let summary: String
        let success: Int
        /// A schema name under `components/schemas`, or a raw schema.
        var response: JSONValue? = nil
        var body: JSONValue? = nil
        var query: [(name: String, schema: JSONValue)] = []
        var tag = "connectors"
    }

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }
    static let string: JSONValue = ["type": "string"]
    static let boolean: JSONValue = ["type": "boolean"]
    static let stringMap: JSONValue = ["type": "object", "additionalProperties": ["type": "string"]]
    static let anyObject: JSONValue = ["type": "object"]

    static let operations: [Operation] = [
        Operation(
            method: "GET", path: "/", summary: "Worker version, commit and Kafka cluster id", success: 200,
            response: ref("ServerInfo"), tag: "worker"),
        Operation(
            method: "GET", path: "/health", summary: "Whether the worker is ready (KIP-1017)", success: 200,
            response: ref("WorkerStatus"), tag: "worker"),
        Operation(
            method: "GET", path: "/cluster",
            summary: "The workers of the cluster and what each runs, and work waiting for a rebalance (extension)",
            success: 200, response: ref("ClusterView"), query: [("scope", ["type": "string", "enum": ["worker"]])],
            tag: "worker"),
        Operation(
            method: "GET", path: "/connectors", summary: "Connector names, or with expand a map of status and info",
            success: 200, response: ["oneOf": [array(string), anyObject]],
            query: [("expand", ["type": "string", "enum": ["status", "info"]])]),
        Operation(
            method: "POST", path: "/connectors", summary: "Create a connector", success: 201,
            response: ref("ConnectorInfo"), body: ref("CreateConnectorRequest")),
        Operation(
            method: "GET", path: "/connectors/{name}", summary: "A connector's config and tasks", success: 200,
            response: ref("ConnectorInfo")),
        Operation(method: "DELETE", path: "/connectors/{name}", summary: "Delete a connector", success: 204),
        Operation(
            method: "GET", path: "/connectors/{name}/config", summary: "A connector's config, unresolved",
            success: 200, response: stringMap),
        Operation(
            method: "PUT", path: "/connectors/{name}/config", summary: "Create or replace a connector's config",
            success: 200, response: ref("ConnectorInfo"), body: stringMap),
        Operation(
            method: "PATCH", path: "/connectors/{name}/config",
            summary: "Merge into a connector's config; a null value removes the key", success: 200,
            response: ref("ConnectorInfo"),
            body: ["type": "object", "additionalProperties": ["type": "string", "nullable": true]]),
        Operation(
            method: "GET", path: "/connectors/{name}/status", summary: "Connector and task states", success: 200,
            response: ref("ConnectorStateInfo")),
        Operation(
            method: "GET", path: "/connectors/{name}/tasks", summary: "Task configs", success: 200,
            response: array(ref("TaskInfo"))),
        Operation(
            method: "GET", path: "/connectors/{name}/tasks-config",
            summary: "Task configs by <connector>-<task> (deprecated in Connect)", success: 200,
            response: ["type": "object", "additionalProperties": stringMap]),
        Operation(
            method: "GET", path: "/connectors/{name}/tasks/{task}/status", summary: "One task's state",
            success: 200, response: ref("TaskState")),
        Operation(
            method: "POST", path: "/connectors/{name}/tasks/{task}/restart", summary: "Restart one task",
            success: 204),
        Operation(
            method: "GET", path: "/connectors/{name}/tasks/{task}/history",
            summary: "A task's failures and restarts (extension)", success: 200, response: anyObject),
        Operation(
            method: "GET", path: "/connectors/{name}/history",
            summary: "A connector's and its tasks' failures and restarts (extension)", success: 200,
            response: anyObject),
        Operation(
            method: "POST", path: "/connectors/{name}/restart",
            summary: "Restart a connector; with includeTasks or onlyFailed, 202 with the plan", success: 204,
            response: ref("ConnectorStateInfo"), query: [("includeTasks", boolean), ("onlyFailed", boolean)]),
        Operation(
            method: "POST", path: "/connectors/{name}/tasks",
            summary:
                "Internal: task configurations for the leader to store (signed with X-Connect-Authorization under the sessioned protocol)",
            success: 204, body: array(stringMap), query: [("forward", boolean)], tag: "internal"),
        Operation(method: "PUT", path: "/connectors/{name}/pause", summary: "Pause", success: 202),
        Operation(method: "PUT", path: "/connectors/{name}/resume", summary: "Resume", success: 202),
        Operation(
            method: "PUT", path: "/connectors/{name}/stop", summary: "Stop: tasks shut down (KIP-875)",
            success: 204),
        Operation(
            method: "GET", path: "/connectors/{name}/topics", summary: "Active topics (KIP-558)", success: 200,
            response: ["type": "object", "additionalProperties": ref("ActiveTopicsInfo")]),
        Operation(
            method: "PUT", path: "/connectors/{name}/topics/reset", summary: "Forget the active topics",
            success: 202),
        Operation(
            method: "GET", path: "/connectors/{name}/offsets", summary: "Offsets (KIP-875)", success: 200,
            response: ref("ConnectorOffsets")),
        Operation(
            method: "PATCH", path: "/connectors/{name}/offsets", summary: "Alter offsets of a STOPPED connector",
            success: 200, response: ref("Message"), body: ref("ConnectorOffsets")),
        Operation(
            method: "DELETE", path: "/connectors/{name}/offsets", summary: "Reset offsets of a STOPPED connector",
            success: 200, response: ref("Message")),
        Operation(
            method: "GET", path: "/connector-plugins", summary: "Installed plug-ins", success: 200,
            response: array(ref("PluginInfo")), query: [("connectorsOnly", boolean)], tag: "plugins"),
        Operation(
            method: "GET", path: "/connector-plugins/{plugin}/config", summary: "A plug-in's config keys",
            success: 200, response: array(anyObject), tag: "plugins"),
        Operation(
            method: "PUT", path: "/connector-plugins/{plugin}/config/validate",
            summary: "Validate a connector config", success: 200, response: ref("ConfigInfos"), body: stringMap,
            tag: "plugins"),
        Operation(
            method: "GET", path: "/admin/loggers", summary: "Loggers with a level of their own", success: 200,
            response: ["type": "object", "additionalProperties": ref("LoggerLevel")], tag: "admin"),
        Operation(
            method: "GET", path: "/admin/loggers/{logger}", summary: "A logger's level", success: 200,
            response: ref("LoggerLevel"), tag: "admin"),
        Operation(
            method: "PUT", path: "/admin/loggers/{logger}", summary: "Set a logger's (or namespace's) level",
            success: 200, response: array(string),
            body: ["type": "object", "properties": ["level": string], "required": ["level"]],
            query: [("scope", ["type": "string", "enum": ["worker", "cluster"]])], tag: "admin"),
        Operation(
            method: "GET", path: "/metrics", summary: "Prometheus text exposition", success: 200,
            response: ["type": "string"], tag: "metrics"),
        Operation(
            method: "GET", path: "/metrics/catalog", summary: "Every metric family /metrics can emit",
            success: 200, response: array(anyObject), tag: "metrics"),
        Operation(
            method: "GET", path: "/jolokia/read/{mbean}", summary: "MBean attributes, Jolokia-style",
            success: 200, response: anyObject, tag: "metrics"),
        Operation(
            method: "GET", path: "/jolokia/read/{mbean}/{attribute}", summary: "One MBean attribute",
            success: 200, response: anyObject, tag: "metrics"),
        Operation(
            method: "GET", path: "/jolokia/search/{mbean}", summary: "MBean names matching a pattern",
            success: 200, response: anyObject, tag: "metrics"),
        Operation(
            method: "GET", path: "/jolokia/list", summary: "Every MBean and its attributes", success: 200,
            response: anyObject, tag: "metrics"),
        Operation(
            method: "GET", path: "/openapi.json", summary: "This document", success: 200,
            response: anyObject, tag: "worker"),
    ]

    static var schemas: JSONObject {
        let status: JSONValue = [
            "type": "object", "required": ["state", "worker_id"],
            "properties": ["state": string, "worker_id": string, "trace": string, "error": anyObject],
        ]
        return JSONObject([
            (
                "ErrorMessage",
                [
                    "type": "object", "required": ["error_code", "message"],
                    "properties": ["error_code": ["type": "integer"], "message": string],
                ]
            ),
            (
                "ServerInfo",
                [
                    "type": "object",
                    "properties": [
                        "version": string, "commit": string, "kafka_cluster_id": ["type": "string", "nullable": true],
                    ],
                ]
            ),
            ("WorkerStatus", ["type": "object", "properties": ["status": string, "message": string]]),
            (
                "ClusterView",
                [
                    "type": "object",
                    "properties": [
                        "mode": ["type": "string", "enum": ["distributed", "standalone"]],
                        "group_id": ["type": "string", "nullable": true],
                        "generation": ["type": "integer", "nullable": true],
                        "protocol": ["type": "string", "nullable": true],
                        "configured_protocol": ["type": "string", "nullable": true],
                        "config_offset": ["type": "integer", "nullable": true],
                        "leader_url": ["type": "string", "nullable": true], "rebalancing": ["type": "boolean"],
                        "workers": array([
                            "type": "object",
                            "properties": [
                                "worker_id": string, "url": ["type": "string", "nullable": true],
                                "member_id": ["type": "string", "nullable": true], "leader": ["type": "boolean"],
                                "since": ["type": "integer", "nullable": true], "connectors": array(string),
                                "tasks": array(ref("ConnectorTaskId")),
                            ],
                        ]),
                        "unassigned": [
                            "type": "object",
                            "properties": [
                                "connectors": array(string), "tasks": array(ref("ConnectorTaskId")),
                                "reassign_at": ["type": "integer", "nullable": true],
                            ],
                        ],
                        "partial": [
                            "type": "string", "nullable": true,
                            "description":
                                "Why only the answering worker is shown (the leader did not answer); null for the full view.",
                        ],
                    ],
                ]
            ),
            (
                "CreateConnectorRequest",
                [
                    "type": "object", "required": ["name", "config"],
                    "properties": [
                        "name": string, "config": stringMap,
                        "initial_state": ["type": "string", "enum": ["RUNNING", "PAUSED", "STOPPED"]],
                    ],
                ]
            ),
            ("ConnectorTaskId", ["type": "object", "properties": ["connector": string, "task": ["type": "integer"]]]),
            (
                "ConnectorInfo",
                [
                    "type": "object",
                    "properties": [
                        "name": string, "config": stringMap, "tasks": array(ref("ConnectorTaskId")),
                        "type": ["type": "string", "enum": ["source", "sink", "unknown"]],
                    ],
                ]
            ),
            ("ConnectorStatus", status),
            (
                "TaskState",
                [
                    "allOf": [status, ["type": "object", "properties": ["id": ["type": "integer"]]]]
                ]
            ),
            (
                "ConnectorStateInfo",
                [
                    "type": "object",
                    "properties": [
                        "name": string, "connector": ref("ConnectorStatus"), "tasks": array(ref("TaskState")),
                        "type": string,
                    ],
                ]
            ),
            ("TaskInfo", ["type": "object", "properties": ["id": ref("ConnectorTaskId"), "config": stringMap]]),
            ("ActiveTopicsInfo", ["type": "object", "properties": ["topics": array(string)]]),
            (
                "ConnectorOffsets",
                [
                    "type": "object", "required": ["offsets"],
                    "properties": [
                        "offsets": array([
                            "type": "object", "required": ["partition"],
                            "properties": ["partition": anyObject, "offset": ["type": "object", "nullable": true]],
                        ])
                    ],
                ]
            ),
            ("Message", ["type": "object", "properties": ["message": string]]),
            ("PluginInfo", ["type": "object", "properties": ["class": string, "type": string, "version": string]]),
            (
                "ConfigInfos",
                [
                    "type": "object",
                    "properties": [
                        "name": string, "error_count": ["type": "integer"], "groups": array(string),
                        "configs": array(anyObject),
                    ],
                ]
            ),
            (
                "LoggerLevel",
                [
                    "type": "object",
                    "properties": ["level": string, "last_modified": ["type": "integer", "nullable": true]],
                ]
            ),
        ])
    }

    /// The document.
    public static var json: JSONValue {
        var paths = JSONObject()
        let byPath = Dictionary(grouping: operations, by: \.path)
        for path in byPath.keys.sorted() {
            var item = JSONObject()
            for op in byPath[path]! {
                var o = JSONObject()
                o["summary"] = .string(op.summary)
                o["tags"] = [.string(op.tag)]
                var parameters: [JSONValue] = []
                for segment in path.split(separator: "/") where segment.hasPrefix("{") {
                    let name = String(segment.dropFirst().dropLast())
                    parameters.append([
                        "name": .string(name), "in": "path", "required": true,
                        "schema": name == "task" ? ["type": "integer", "minimum": 0] : string,
                    ])
                }
                for q in op.query {
                    parameters.append(["name": .string(q.name), "in": "query", "required": false, "schema": q.schema])
                }
                if !parameters.isEmpty { o["parameters"] = .array(parameters) }
                if let body = op.body {
                    o["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]]
                }
                var responses = JSONObject()
                var success = JSONObject()
                success["description"] = "Success"
                if let r = op.response, op.success != 204 || op.path.hasSuffix("/restart") {
                    let type = op.path == "/metrics" ? "text/plain" : "application/json"
                    if op.success != 204 { success["content"] = [.init(stringLiteral: type): ["schema": r]] }
                }
                responses[String(op.success)] = .object(success)
                if op.path.hasSuffix("/restart") && op.response != nil {
                    responses["202"] = [
                        "description": "Restart plan, RESTARTING for what will restart",
                        "content": ["application/json": ["schema": op.response!]],
                    ]
                }
                responses["default"] = [
                    "description": "Connect's error body",
                    "content": ["application/json": ["schema": ref("ErrorMessage")]],
                ]
                o["responses"] = .object(responses)
                item[op.method.lowercased()] = .object(o)
            }
            paths[path] = .object(item)
        }
        return [
            "openapi": "3.0.3",
            "info": [
                "title": "Swift Connect REST API",
                "description":
                    "Apache Kafka Connect's REST API (same paths, shapes, status codes and messages), plus this worker's extensions (history, metrics, Jolokia).",
                "version": .string(ConnectVersion.kafka),
            ],
            "servers": [["url": "http://localhost:8083"]],
            "paths": .object(paths),
            "components": ["schemas": .object(schemas)],
        ]
    }

    /// The document as served and checked in: pretty-printed JSON with a final newline.
    public static var text: String {
        var out = ""
        pretty(json, indent: "", into: &out)
        return out + "\n"
    }

    static func pretty(_ value: JSONValue, indent: String, into out: inout String) {
        let inner = indent + "  "
        switch value {
        case .object(let o) where !o.entries.isEmpty:
            out += "{\n"
            for (i, e) in o.entries.enumerated() {
                out += inner
                JSONWriter.writeString(e.key, into: &out)
                out += ": "
                pretty(e.value, indent: inner, into: &out)
                out += i == o.entries.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        case .array(let a) where !a.isEmpty:
            out += "[\n"
            for (i, v) in a.enumerated() {
                out += inner
                pretty(v, indent: inner, into: &out)
                out += i == a.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        default:
            out += JSONWriter.string(value)
        }
    }
}
