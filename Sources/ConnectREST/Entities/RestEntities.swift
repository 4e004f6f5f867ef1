import ConnectAPI
import ConnectRuntime
import Foundation
import JSON

/// JSON shapes of Connect's REST entities (`ConnectorInfo`, `ConnectorStateInfo`, ...), with keys in Connect's order.
enum RestEntities {
    static func error(_ status: Int, _ message: String) -> JSONValue {
        ["error_code": .int(Int64(status)), "message": .string(message)]
    }

    /// A config as the API shows it: references unresolved, secret literals `[hidden]`.
    static func config(_ config: [String: String]) -> JSONValue {
        let shown = SecretRedaction.redact(config)
        return .object(JSONObject(shown.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
    }

    static func taskId(_ id: ConnectorTaskId) -> JSONValue {
        ["connector": .string(id.connector), "task": .int(Int64(id.task))]
    }

    /// `GET /cluster` (an extension): `{"mode", "group_id", "generation", "protocol", "configured_protocol", "config_offset",
    /// "leader_url", "rebalancing", "workers": [{"worker_id", "url", "member_id", "leader", "since", "connectors", "tasks"}],
    /// "unassigned": {"connectors", "tasks", "reassign_at"}, "partial"}`; times in epoch ms, absent values null;
    /// `partial`: null, or why only the answering worker is shown.
    static func clusterView(_ v: ClusterView) -> JSONValue {
        func optional<T>(_ value: T?, _ f: (T) -> JSONValue) -> JSONValue { value.map(f) ?? .null }
        let workers: [JSONValue] = v.workers.map { w in
            [
                "worker_id": .string(w.workerId), "url": optional(w.url) { .string($0) },
                "member_id": optional(w.memberId) { .string($0) }, "leader": .bool(w.isLeader),
                "since": optional(w.since) { .int($0) }, "connectors": .array(w.connectors.map { .string($0) }),
                "tasks": .array(w.tasks.map(taskId)),
            ]
        }
        return [
            "mode": .string(v.mode), "group_id": optional(v.groupId) { .string($0) },
            "generation": optional(v.generation) { .int(Int64($0)) },
            "protocol": optional(v.connectProtocol) { .string($0) },
            "configured_protocol": optional(v.configuredProtocol) { .string($0) },
            "config_offset": optional(v.configOffset) { .int($0) }, "leader_url": optional(v.leaderUrl) { .string($0) },
            "rebalancing": .bool(v.rebalancing), "workers": .array(workers),
            "unassigned": [
                "connectors": .array(v.unassigned.connectors.map { .string($0) }),
                "tasks": .array(v.unassigned.tasks.map(taskId)), "reassign_at": optional(v.reassignAt) { .int($0) },
            ],
            "partial": optional(v.partialReason) { .string($0) },
        ]
    }

    static func connectorInfo(_ info: ConnectorInfo) -> JSONValue {
        [
            "name": .string(info.name), "config": config(info.config), "tasks": .array(info.tasks.map(taskId)),
            "type": .string(info.type),
        ]
    }

    /// A history entry: kind, first and last seen (epoch ms and ISO-8601), count, and the trace with its error
    /// summary (failures) or who restarted (restarts), and the outcome.
    static func historyEntry(_ e: HistoryEntry) -> JSONValue {
        var o = JSONObject()
        o["kind"] = .string(e.kind.rawValue)
        o["first_seen"] = .string(Timestamps.iso8601(e.firstSeen))
        o["last_seen"] = .string(Timestamps.iso8601(e.lastSeen))
        o["first_seen_ms"] = .int(e.firstSeen)
        o["last_seen_ms"] = .int(e.lastSeen)
        o["count"] = .int(Int64(e.count))
        if let reason = e.reason { o["reason"] = .string(reason) }
        if let outcome = e.outcome { o["outcome"] = .string(outcome) }
        if let f = e.failure { o["error"] = .object(failure(f)) }
        if let trace = e.trace { o["trace"] = .string(trace) }
        return .object(o)
    }

    static func failure(_ f: FailureSummary) -> JSONObject {
        var e = JSONObject()
        e["class"] = .string(f.errorClass)
        if let stage = f.stage { e["stage"] = .string(stage) }
        e["retriable"] = .bool(f.retriable)
        e["fixable_by"] = .string(f.fixableBy)
        return e
    }

    static func status(_ s: StatusRecord) -> JSONObject {
        var o = JSONObject()
        o["state"] = .string(s.state.rawValue)
        o["worker_id"] = .string(s.workerId)
        if let trace = s.trace, !trace.isEmpty { o["trace"] = .string(trace) }
        // Extension (Connect clients ignore unknown fields): what the failure is and who can fix it.
        if let f = s.failure { o["error"] = .object(failure(f)) }
        // Extension: why an UNASSIGNED connector or task waits (a cluster's rebalance), in the same object.
        if let note = s.rebalance {
            o["error"] = [
                "class": "rebalance", "retriable": true, "fixable_by": "retry", "message": .string(note.message),
                "worker_id": .string(s.workerId), "reassign_at": note.reassignAt.map { .int($0) } ?? .null,
            ]
        }
        // Extension: a sink task's lag verdict (Burrow's evaluation), largest records lag and age.
        if let lag = s.lag {
            o["lag"] = [
                "verdict": .string(lag.verdict.rawValue),
                "records": lag.records.isFinite ? .int(Int64(lag.records)) : .null,
                "seconds": lag.seconds.isFinite ? .double(lag.seconds) : .null,
            ]
        }
        return o
    }

    static func taskState(_ t: TaskStateInfo) -> JSONValue {
        var o = JSONObject()
        o["id"] = .int(Int64(t.id))
        for (k, v) in status(t.status) { o[k] = v }
        return .object(o)
    }

    static func connectorState(_ s: ConnectorStateInfo) -> JSONValue {
        [
            "name": .string(s.name), "connector": .object(status(s.connector)), "tasks": .array(s.tasks.map(taskState)),
            "type": .string(s.type),
        ]
    }

    /// `{"offsets": [{"partition": {…}, "offset": {…}|null}]}`.
    static func offsets(_ offsets: [ConnectorOffset]) -> JSONValue {
        [
            "offsets": .array(
                offsets.map { o in
                    ["partition": OffsetCodec.json(o.partition), "offset": o.offset.map(OffsetCodec.json) ?? .null]
                })
        ]
    }

    /// A `ConnectorOffsets` request body.
    static func parseOffsets(_ json: JSONValue) throws(ConnectError) -> [ConnectorOffset] {
        guard let list = json["offsets"]?.arrayValue, !list.isEmpty else {
            throw ConnectError(.badRequest, "Partitions / offsets need to be provided for an alter offsets request")
        }
        var out: [ConnectorOffset] = []
        for entry in list {
            guard let partition = entry["partition"]?.objectValue else {
                throw ConnectError(.badRequest, "Each offset needs a 'partition' object")
            }
            let offset = entry["offset"]
            if let offset, !offset.isNull, offset.objectValue == nil {
                throw ConnectError(.badRequest, "An 'offset' must be a JSON object or null")
            }
            out.append(
                ConnectorOffset(
                    partition: OffsetCodec.offsetMap(partition), offset: offset?.objectValue.map(OffsetCodec.offsetMap))
            )
        }
        return out
    }

    static func taskInfo(_ t: TaskInfo) -> JSONValue {
        ["id": taskId(t.id), "config": config(t.config)]
    }

    static func plugin(_ p: PluginDesc) -> JSONValue {
        var o = JSONObject()
        o["class"] = .string(p.className)
        o["type"] = .string(p.type.rawValue)
        if let v = p.version { o["version"] = .string(v) }
        return .object(o)
    }

    /// `ConfigKeyInfo`.
    static func configKey(_ k: ConfigKey) -> JSONValue {
        var o = JSONObject()
        o["name"] = .string(k.name)
        o["type"] = .string(k.type.rawValue)
        o["required"] = .bool(k.isRequired)
        o["default_value"] = k.defaultValue.map { .string(k.type == .password ? "[hidden]" : $0) } ?? .null
        o["importance"] = .string(k.importance.rawValue)
        o["documentation"] = .string(k.documentation)
        o["group"] = k.group.map { .string($0) } ?? .null
        o["order"] = .int(Int64(k.orderInGroup))
        o["width"] = .string(k.width.rawValue)
        o["display_name"] = .string(k.displayName)
        o["dependents"] = .array(k.dependents.map { .string($0) })
        return .object(o)
    }

    /// `ConfigInfos`, as `/config/validate` returns it.
    static func configInfos(_ infos: ConfigInfos) -> JSONValue {
        [
            "name": .string(infos.name), "error_count": .int(Int64(infos.errorCount)),
            "groups": .array(infos.groups.map { .string($0) }),
            "configs": .array(
                infos.configs.map { c in
                    [
                        "definition": c.definition.map(configKey) ?? .null,
                        "value": [
                            "name": .string(c.name), "value": c.value.map { .string($0) } ?? .null,
                            "recommended_values": [], "errors": .array(c.errors.map { .string($0) }),
                            "visible": .bool(c.visible),
                        ],
                    ]
                }),
        ]
    }
}
