import ConnectAPI
import ConnectREST
import ConnectRuntime
import ConnectWorkerKit
import HTTPServer
import JSON
import Synchronization
import Testing

@Suite("REST resources, called through the router without a socket")
struct ConnectRestServerTests {
    let herder = FakeHerder()
    var server: ConnectRestServer { ConnectRestServer(herder: herder) }

    func call(
        _ method: String, _ path: String, query: [(String, String)] = [], body: String? = nil,
        contentType: String? = "application/json"
    ) -> (Int, JSONValue?) {
        var headers: [String: String] = [:]
        if body != nil, let contentType { headers["Content-Type"] = contentType }
        let r = server.handle(
            HTTPRequest(
                method: method, path: path, query: query.map { ($0.0, $0.1) }, headers: headers,
                body: Array((body ?? "").utf8)))
        return (r.status, r.body.isEmpty ? nil : try? JSONParser.parse(r.body))
    }

    let datagen =
        #"{"name":"dg","config":{"connector.class":"io.confluent.kafka.connect.datagen.DatagenConnector","kafka.topic":"ratings","max.interval":750,"quickstart":"ratings","tasks.max":1}}"#

    @Test("GET / reports version, commit and cluster id")
    func root() {
        let (status, body) = call("GET", "/")
        #expect(status == 200)
        #expect(body == ["version": "3.9.0", "commit": "abc123", "kafka_cluster_id": "cluster-1"])
    }

    @Test("GET /cluster: the group, every worker with what it runs, and the work waiting with the time it moves")
    func cluster() {
        let (status, body) = call("GET", "/cluster")
        #expect(status == 200)
        #expect(
            body == [
                "mode": "distributed", "group_id": "connect-cluster", "generation": 7, "protocol": "sessioned",
                "configured_protocol": "sessioned", "config_offset": 12, "leader_url": "http://10.0.0.1:8083/",
                "rebalancing": false,
                "workers": [
                    [
                        "worker_id": "10.0.0.1:8083", "url": "http://10.0.0.1:8083/", "member_id": "connect-1",
                        "leader": true, "since": 1_700_000_000_000, "connectors": ["dg"],
                        "tasks": [["connector": "dg", "task": 0]],
                    ]
                ],
                "unassigned": [
                    "connectors": [], "tasks": [["connector": "dg", "task": 1]], "reassign_at": 1_700_000_300_000,
                ],
                "partial": nil,
            ])
        #expect(ClusterView.workerId(fromURL: "https://connect-0.svc:8443") == "connect-0.svc:8443")
    }

    @Test("GET /cluster when the leader does not answer: this worker's own part, marked partial with the reason")
    func clusterLeaderGone() {
        herder.deadLeader.withLock { $0 = "http://127.0.0.1:1/" }
        let (status, body) = call("GET", "/cluster")
        #expect(status == 200)
        #expect(
            body?["workers"] == [
                [
                    "worker_id": "10.0.0.2:8083", "url": "http://10.0.0.2:8083/", "member_id": "connect-2",
                    "leader": false, "since": nil, "connectors": [], "tasks": [["connector": "dg", "task": 2]],
                ]
            ])
        let partial = body?["partial"]?.stringValue ?? ""
        #expect(partial.hasPrefix("The leader did not answer (IO Error trying to forward REST request: "))
        #expect(partial.hasSuffix("); this worker's own assignment only"))
    }

    @Test("An UNASSIGNED task's status carries the herder's rebalance note as its error object")
    func unassignedNote() {
        _ = call("POST", "/connectors", body: datagen)
        herder.setStatus("dg", connector: .running, tasks: [(.unassigned, nil)])
        herder.state.withLock {
            $0.statuses["dg"]?.tasks[0].status.rebalance = RebalanceNote(
                reassignAt: 1_700_000_300_000, message: "Given up by worker w:8083")
        }
        let (status, body) = call("GET", "/connectors/dg/tasks/0/status")
        #expect(status == 200)
        #expect(
            body == [
                "id": 0, "state": "UNASSIGNED", "worker_id": "w:8083",
                "error": [
                    "class": "rebalance", "retriable": true, "fixable_by": "retry",
                    "message": "Given up by worker w:8083", "worker_id": "w:8083", "reassign_at": 1_700_000_300_000,
                ],
            ])
    }

    @Test("a trailing slash answers as without it (the UIs' /connectors/ and /connector-plugins/)")
    func trailingSlash() {
        for path in ["/connectors", "/connector-plugins", "/"] {
            let plain = call("GET", path)
            let slashed = call("GET", path == "/" ? "//" : path + "/")
            #expect(plain.0 == 200 && slashed.0 == plain.0 && slashed.1 == plain.1, "\(path)")
        }
        #expect(call("GET", "/connectors/", query: [("expand", "status")]).0 == 200)
    }

    @Test("GET /health answers healthy with Connect's message")
    func health() {
        let (status, body) = call("GET", "/health")
        #expect(status == 200)
        #expect(body?["status"] == "healthy")
        #expect(body?["message"] == "Worker has completed startup and is ready to handle requests.")
    }

    @Test("POST /connectors creates (201, ConnectorInfo, numbers taken as strings) and refuses a duplicate (409)")
    func create() {
        let (status, body) = call("POST", "/connectors", body: datagen)
        #expect(status == 201)
        #expect(body?["name"] == "dg")
        #expect(body?["config"]?["max.interval"] == "750")
        #expect(body?["config"]?["name"] == "dg")
        #expect(body?["tasks"] == [["connector": "dg", "task": 0]])
        #expect(body?["type"] == "source")
        let (dup, err) = call("POST", "/connectors", body: datagen)
        #expect(dup == 409)
        #expect(err == ["error_code": 409, "message": "Connector dg already exists"])
    }

    @Test("an invalid config is a 400 with Connect's error count message")
    func invalidConfig() {
        let (status, body) = call(
            "POST", "/connectors",
            body: #"{"name":"dg","config":{"connector.class":"DatagenConnector","quickstart":"orders"}}"#)
        #expect(status == 400)
        #expect(body?["error_code"] == 400)
        #expect(
            body?["message"]?.stringValue?.hasPrefix(
                "Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration \"kafka.topic\""
            ) == true)
    }

    @Test("an unknown connector class is a 500 with Connect's message")
    func unknownClass() {
        let (status, body) = call("PUT", "/connectors/x/config", body: #"{"connector.class":"com.example.Missing"}"#)
        #expect(status == 500)
        #expect(
            body?["message"]?.stringValue?.hasPrefix(
                "Failed to find any class that implements Connector and which name matches com.example.Missing") == true
        )
    }

    @Test(
        "malformed bodies get a 4xx error JSON that says what is wrong",
        arguments: [
            ("{not json", "application/json", 400, "Request body is not valid JSON"),
            ("[1,2]", "application/json", 400, "must be a JSON object"),
            ("", "application/json", 400, "Request body is empty"),
            ("name=x", "application/x-www-form-urlencoded", 415, "HTTP 415 Unsupported Media Type"),
            (#"{"name":"x"}"#, "application/json", 400, "Connector config is required"),
        ])
    func malformed(body: String, contentType: String, status: Int, message: String) {
        let (s, b) = call("POST", "/connectors", body: body, contentType: contentType)
        #expect(s == status)
        #expect(b?["error_code"]?.intValue == Int64(status))
        #expect(b?["message"]?.stringValue?.contains(message) == true)
    }

    @Test("a name in the config that differs from the URL is a 400 with Connect's message")
    func nameMismatch() {
        let (s, b) = call(
            "PUT", "/connectors/a/config", body: #"{"name":"b","connector.class":"FileStreamSink","topics":"t"}"#)
        #expect(s == 400)
        #expect(b?["message"] == "Connector name configuration (b) doesn't match connector name in the URL (a)")
    }

    @Test("PUT config creates with 201 then updates with 200")
    func putConfig() {
        let cfg = #"{"connector.class":"FileStreamSink","topics":"t","tasks.max":2}"#
        #expect(call("PUT", "/connectors/s/config", body: cfg).0 == 201)
        let (s, b) = call("PUT", "/connectors/s/config", body: cfg)
        #expect(s == 200)
        #expect(b?["config"]?["tasks.max"] == "2")
        #expect(call("GET", "/connectors/s/config").1?["topics"] == "t")
    }

    @Test("a config read with its secrets [hidden] and written back keeps the secrets (PUT and PATCH)")
    func hiddenSecretsRoundTrip() throws {
        let cfg = #"{"connector.class":"FileStreamSink","topics":"t","connection.password":"s3cret"}"#
        #expect(call("PUT", "/connectors/s/config", body: cfg).0 == 201)
        let shown = try #require(call("GET", "/connectors/s/config").1)
        #expect(shown["connection.password"] == "[hidden]")
        // A UI edits one key and writes the whole config back.
        var edited = try #require(shown.objectValue)
        edited["topics"] = "u"
        #expect(call("PUT", "/connectors/s/config", body: JSONWriter.string(.object(edited))).0 == 200)
        #expect(herder.state.withLock { $0.configs["s"]?["connection.password"] } == "s3cret")
        #expect(herder.state.withLock { $0.configs["s"]?["topics"] } == "u")
        #expect(
            call("PATCH", "/connectors/s/config", body: #"{"connection.password":"[hidden]","topics":"v"}"#).0 == 200)
        #expect(herder.state.withLock { $0.configs["s"]?["connection.password"] } == "s3cret")
        // A new value replaces it; "[hidden]" for a key that is no secret is a value like any other.
        #expect(
            call("PATCH", "/connectors/s/config", body: #"{"connection.password":"n3w","file":"[hidden]"}"#).0 == 200)
        #expect(herder.state.withLock { $0.configs["s"]?["connection.password"] } == "n3w")
        #expect(herder.state.withLock { $0.configs["s"]?["file"] } == "[hidden]")
    }

    @Test("unknown connectors are 404 with Connect's messages")
    func notFound() {
        #expect(call("GET", "/connectors/nope").1 == ["error_code": 404, "message": "Connector nope not found"])
        #expect(call("GET", "/connectors/nope/status").0 == 404)
        #expect(call("DELETE", "/connectors/nope").0 == 404)
        #expect(call("PUT", "/connectors/nope/pause").1?["message"] == "Unknown connector nope")
    }

    @Test("unknown paths are 404 and wrong methods 405, both as error JSON")
    func routing() {
        #expect(call("GET", "/nowhere").1 == ["error_code": 404, "message": "HTTP 404 Not Found"])
        #expect(call("DELETE", "/connectors").1 == ["error_code": 405, "message": "HTTP 405 Method Not Allowed"])
    }

    @Test("status has Connect's shape; trace appears only on failures")
    func status() {
        _ = call("POST", "/connectors", body: datagen)
        herder.setStatus(
            "dg", connector: .running,
            tasks: [(.running, nil), (.failed, "org.apache.kafka.connect.errors.ConnectException: boom")])
        let (s, b) = call("GET", "/connectors/dg/status")
        #expect(s == 200)
        #expect(b?["connector"] == ["state": "RUNNING", "worker_id": "w:8083"])
        #expect(b?["tasks"]?.arrayValue?[0] == ["id": 0, "state": "RUNNING", "worker_id": "w:8083"])
        #expect(b?["tasks"]?.arrayValue?[1]["trace"] == "org.apache.kafka.connect.errors.ConnectException: boom")
        #expect(call("GET", "/connectors/dg/tasks/1/status").1?["state"] == "FAILED")
        #expect(call("GET", "/connectors/dg/tasks/9/status").1?["message"] == "No status found for task dg-9")
        // Extension: what the failure is, read from the trace.
        #expect(
            b?["tasks"]?.arrayValue?[1]["error"] == ["class": "internal", "retriable": false, "fixable_by": "person"])
        #expect(b?["tasks"]?.arrayValue?[0]["error"] == nil)
    }

    @Test("history lists failures and restarts per task, with counts, times and outcomes")
    func history() {
        _ = call("POST", "/connectors", body: datagen)
        let id = ConnectorTaskId("dg", 0)
        herder.history.recordFailure(.task(id), trace: "org.apache.kafka.connect.errors.ConnectException: boom")
        herder.history.recordRestart(.task(id), reason: "rest")
        let (s, b) = call("GET", "/connectors/dg/tasks/0/history")
        #expect(s == 200)
        #expect(b?["id"] == ["connector": "dg", "task": 0])
        let entries = b?["history"]?.arrayValue ?? []
        #expect(entries.count == 2)
        #expect(entries.first?["kind"] == "failure")
        #expect(entries.first?["count"] == 1)
        #expect(entries.first?["outcome"] == "restarted")
        #expect(entries.first?["first_seen"] == "2023-11-14T22:13:20.000Z")
        #expect(entries.first?["error"]?["class"] == "internal")
        #expect(entries.last?["reason"] == "rest")
        let (cs, cb) = call("GET", "/connectors/dg/history")
        #expect(cs == 200)
        #expect(cb?["tasks"]?["0"]?.arrayValue?.count == 2)
        #expect(cb?["connector"] == [])
        #expect(call("GET", "/connectors/dg/tasks/3/history").0 == 404)
        #expect(call("GET", "/connectors/nope/history").0 == 404)
    }

    @Test("expand=status and expand=info give the map the jq journey reads")
    func expand() {
        _ = call("POST", "/connectors", body: datagen)
        herder.setStatus("dg", connector: .running, tasks: [(.running, nil)])
        let (_, plain) = call("GET", "/connectors")
        #expect(plain == ["dg"])
        let (_, expanded) = call("GET", "/connectors", query: [("expand", "info"), ("expand", "status")])
        #expect(expanded?["dg"]?["info"]?["type"] == "source")
        #expect(
            expanded?["dg"]?["info"]?["config"]?["connector.class"]
                == "io.confluent.kafka.connect.datagen.DatagenConnector")
        #expect(expanded?["dg"]?["status"]?["connector"]?["state"] == "RUNNING")
        let (_, onlyStatus) = call("GET", "/connectors", query: [("expand", "status")])
        #expect(onlyStatus?["dg"]?["info"] == nil)
    }

    @Test("restart: 204 for the legacy form, 202 with the plan otherwise; task restart 204")
    func restart() {
        _ = call("POST", "/connectors", body: datagen)
        herder.setStatus("dg", connector: .failed, tasks: [(.running, nil)])
        #expect(call("POST", "/connectors/dg/restart").0 == 204)
        let (s, b) = call("POST", "/connectors/dg/restart", query: [("includeTasks", "true"), ("onlyFailed", "true")])
        #expect(s == 202)
        #expect(b?["connector"]?["state"] == "RESTARTING")
        #expect(call("POST", "/connectors/dg/tasks/0/restart").0 == 204)
        #expect(call("POST", "/connectors/dg/tasks/x/restart").0 == 404)
    }

    @Test("pause and resume answer 202, delete 204")
    func lifecycle() {
        _ = call("POST", "/connectors", body: datagen)
        #expect(call("PUT", "/connectors/dg/pause").0 == 202)
        #expect(herder.state.withLock { $0.paused } == ["dg"])
        #expect(call("PUT", "/connectors/dg/resume").0 == 202)
        #expect(call("DELETE", "/connectors/dg").0 == 204)
        #expect(call("GET", "/connectors").1 == [])
    }

    @Test("connector-plugins lists sinks then sources; connectorsOnly=false adds converters")
    func plugins() {
        let (_, b) = call("GET", "/connector-plugins")
        let classes = b?.arrayValue?.compactMap { $0["class"]?.stringValue } ?? []
        #expect(
            classes == [
                "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
                "io.confluent.connect.jdbc.JdbcSinkConnector", "org.apache.kafka.connect.file.FileStreamSinkConnector",
                "org.neo4j.connectors.kafka.sink.Neo4jConnector", "streams.kafka.connect.sink.Neo4jSinkConnector",
                "io.confluent.connect.jdbc.JdbcSourceConnector", "io.confluent.kafka.connect.datagen.DatagenConnector",
                "io.debezium.connector.mariadb.MariaDbConnector", "io.debezium.connector.mysql.MySqlConnector",
                "io.debezium.connector.postgresql.PostgresConnector",
                "org.apache.kafka.connect.file.FileStreamSourceConnector",
            ])
        #expect(
            b?.arrayValue?.dropFirst(2).first == [
                "class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "type": "sink", "version": "3.9.0",
            ])
        let (_, all) = call("GET", "/connector-plugins", query: [("connectorsOnly", "false")])
        #expect(
            all?.arrayValue?.contains {
                $0["type"] == "converter" && $0["class"] == "org.apache.kafka.connect.json.JsonConverter"
            } == true)
        #expect(all?.arrayValue?.contains { $0["type"] == "header_converter" } == true)
        #expect(
            all?.arrayValue?.contains {
                $0["class"] == "org.apache.kafka.connect.transforms.Cast$Value" && $0["type"] == "transformation"
            } == true)
        #expect(
            all?.arrayValue?.contains {
                $0["class"] == "org.apache.kafka.connect.transforms.predicates.HasHeaderKey"
                    && $0["type"] == "predicate"
            } == true)
        // Connect's order: connectors, then transformations, predicates, converters, header converters.
        let types = all?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
        #expect(types.firstIndex(of: "transformation")! < types.firstIndex(of: "predicate")!)
        #expect(types.firstIndex(of: "predicate")! < types.firstIndex(of: "converter")!)
    }
}

@Suite("Plug-in configuration and validation endpoints")
struct PluginConfigTests {
    let server = ConnectRestServer(herder: FakeHerder())

    func call(_ method: String, _ path: String, body: String? = nil) -> (Int, JSONValue?) {
        let r = server.handle(
            HTTPRequest(
                method: method, path: path, headers: body == nil ? [:] : ["Content-Type": "application/json"],
                body: Array((body ?? "").utf8)))
        return (r.status, try? JSONParser.parse(r.body))
    }

    @Test("a connector's config lists its own keys first, then the framework's, as ConfigKeyInfo")
    func connectorConfig() {
        let (status, body) = call("GET", "/connector-plugins/FileStreamSink/config")
        #expect(status == 200)
        let names = body?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names.first == "file")
        #expect(names.contains("topics") && names.contains("errors.tolerance") && names.contains("name"))
        let tasksMax = body?.arrayValue?.first { $0["name"] == "tasks.max" }
        #expect(
            tasksMax == [
                "name": "tasks.max", "type": "INT", "required": false, "default_value": "1", "importance": "HIGH",
                "documentation": "Maximum number of tasks to use for this connector.", "group": "Common", "order": 3,
                "width": "SHORT", "display_name": "Tasks max", "dependents": [],
            ])
    }

    @Test("a transform's config lists its keys; required keys have no default")
    func transformConfig() {
        let (status, body) = call("GET", "/connector-plugins/org.apache.kafka.connect.transforms.Cast$Value/config")
        #expect(status == 200)
        #expect(body?.arrayValue?.first?["name"] == "spec")
        #expect(body?.arrayValue?.first?["required"] == true)
        #expect(body?.arrayValue?.first?["default_value"] == .null)
        #expect(
            call("GET", "/connector-plugins/nope/config").1 == ["error_code": 404, "message": "Unknown plugin nope."])
    }

    @Test("validate answers 200 with ConfigInfos, errors attached to their keys, including transform keys")
    func validate() {
        let (status, body) = call(
            "PUT", "/connector-plugins/DatagenConnector/config/validate",
            body:
                #"{"connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector", "name": "d", "quickstart": "orders", "transforms": "c", "transforms.c.type": "org.apache.kafka.connect.transforms.Cast$Value"}"#
        )
        #expect(status == 200)
        #expect(body?["name"] == "io.confluent.kafka.connect.datagen.DatagenConnector")
        #expect(body?["error_count"] == 2)
        let configs = body?["configs"]?.arrayValue ?? []
        let topic = configs.first { $0["value"]?["name"] == "kafka.topic" }
        #expect(
            topic?["value"]?["errors"] == ["Missing required configuration \"kafka.topic\" which has no default value."]
        )
        let spec = configs.first { $0["value"]?["name"] == "transforms.c.spec" }
        #expect(
            spec?["value"]?["errors"] == [
                "Missing required configuration \"transforms.c.spec\" which has no default value."
            ])
        #expect(spec?["definition"]?["group"] == "Transforms: c")
        #expect(body?["groups"]?.arrayValue?.contains("Transforms: c") == true)
    }

    @Test("validate refuses a body whose connector.class does not match the path")
    func mismatch() {
        let (status, body) = call(
            "PUT", "/connector-plugins/FileStreamSink/config/validate",
            body: #"{"connector.class": "DatagenConnector"}"#)
        #expect(status == 400)
        #expect(
            body?["message"] == "Included connector type DatagenConnector does not match request type FileStreamSink")
    }
}

@Suite struct StartingResponseTests {
    @Test("before the herder is up, /health says starting and other paths answer 503 error JSON")
    func starting() throws {
        let health = ConnectRestServer.startingResponse(HTTPRequest(method: "GET", path: "/health"))
        #expect(health.status == 503)
        #expect(try JSONParser.parse(health.body) == ["status": "starting", "message": "Worker is still starting up."])
        let other = ConnectRestServer.startingResponse(HTTPRequest(method: "GET", path: "/connectors"))
        #expect(try JSONParser.parse(other.body) == ["error_code": 503, "message": "Worker is still starting up."])
    }
}
