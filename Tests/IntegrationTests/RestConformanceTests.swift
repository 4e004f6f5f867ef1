import ConnectREST
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import HTTPServer
import JSON
import Testing

/// Every error row of Connect's REST reference (§1.2) and the status code of every endpoint, against a real worker:
/// status, `error_code` and the exact message.
@Suite("REST conformance: every endpoint's status and every error row's message", .serialized, .timeLimit(.minutes(5)))
struct RestConformanceTests {
    struct Row {
        let method: String
        let path: String
        var body: String? = nil
        var contentType = "application/json"
        let status: Int
        /// The exact message of the error body, or nil for a success.
        var message: String? = nil
        /// A prefix of the message, when its tail depends on the machine.
        var messagePrefix: String? = nil
    }

    func call(_ port: Int, _ row: Row) throws -> (Int, JSONValue?) {
        let (status, text) = try WorkerREST.call(
            port, row.method, row.path, body: row.body, contentType: row.contentType)
        return (status, text.isEmpty ? nil : try? JSONParser.parse(text))
    }

    @Test("status codes and messages as Connect answers them")
    func conformance() throws {
        let dir = try ProjectPaths.temporaryDirectory("conformance")
        let runtime = try WorkerFixture.start(
            [
                #"{"name": "dg", "config": {"connector.class": "DatagenConnector", "kafka.topic": "conformance", "quickstart": "users", "max.interval": 1000}}"#
            ], extra: ["topic.tracking.allow.reset": "false"], in: dir)
        defer { runtime.stop() }
        let port = runtime.restServer.boundListeners[0].port
        let fileSink = #""connector.class": "FileStreamSink", "topics": "t""#
        let rows: [Row] = [
            // Endpoints that succeed.
            Row(method: "GET", path: "/", status: 200),
            Row(method: "GET", path: "/health", status: 200),
            Row(method: "GET", path: "/connectors", status: 200),
            Row(method: "GET", path: "/connectors?expand=status&expand=info", status: 200),
            Row(method: "GET", path: "/connectors/dg", status: 200),
            Row(method: "GET", path: "/connectors/dg/config", status: 200),
            Row(method: "GET", path: "/connectors/dg/status", status: 200),
            Row(method: "GET", path: "/connectors/dg/tasks", status: 200),
            Row(method: "GET", path: "/connectors/dg/tasks-config", status: 200),
            Row(method: "GET", path: "/connectors/dg/tasks/0/status", status: 200),
            Row(method: "GET", path: "/connectors/dg/topics", status: 200),
            Row(method: "GET", path: "/connectors/dg/offsets", status: 200),
            Row(method: "GET", path: "/connector-plugins", status: 200),
            Row(method: "GET", path: "/connector-plugins?connectorsOnly=false", status: 200),
            Row(method: "GET", path: "/connector-plugins/FileStreamSink/config", status: 200),
            Row(
                method: "PUT", path: "/connector-plugins/FileStreamSink/config/validate", body: "{\(fileSink)}",
                status: 200),
            Row(method: "GET", path: "/admin/loggers", status: 200),
            Row(method: "POST", path: "/connectors", body: #"{"name": "fs", "config": {\#(fileSink)}}"#, status: 201),
            Row(method: "PUT", path: "/connectors/fs/config", body: "{\(fileSink)}", status: 200),
            Row(method: "PUT", path: "/connectors/fs2/config", body: "{\(fileSink)}", status: 201),
            Row(method: "PATCH", path: "/connectors/fs2/config", body: #"{"tasks.max": "1"}"#, status: 200),
            Row(method: "PUT", path: "/connectors/fs/pause", status: 202),
            Row(method: "PUT", path: "/connectors/fs/resume", status: 202),
            Row(method: "POST", path: "/connectors/fs/restart", status: 204),
            Row(method: "POST", path: "/connectors/fs/restart?includeTasks=true", status: 202),
            Row(method: "POST", path: "/connectors/fs/tasks/0/restart", status: 204),
            Row(method: "PUT", path: "/connectors/fs/stop", status: 204),
            Row(method: "DELETE", path: "/connectors/fs2", status: 204),

            // §1.2 error rows.
            Row(method: "GET", path: "/connectors/nope", status: 404, message: "Connector nope not found"),
            Row(
                method: "GET", path: "/connectors/nope/status", status: 404,
                message: "No status found for connector nope"),
            Row(method: "DELETE", path: "/connectors/nope", status: 404, message: "Connector nope not found"),
            Row(
                method: "GET", path: "/connectors/dg/tasks/9/status", status: 404,
                message: "No status found for task dg-9"),
            Row(method: "PUT", path: "/connectors/nope/pause", status: 404, message: "Unknown connector nope"),
            Row(method: "PUT", path: "/connectors/nope/resume", status: 404, message: "Unknown connector nope"),
            Row(method: "POST", path: "/connectors/nope/restart", status: 404, message: "Connector nope not found"),
            Row(method: "POST", path: "/connectors/dg/tasks/9/restart", status: 404, message: "Task dg-9 not found"),
            Row(
                method: "POST", path: "/connectors",
                body:
                    #"{"name": "dg", "config": {"connector.class": "DatagenConnector", "kafka.topic": "x", "quickstart": "users"}}"#,
                status: 409, message: "Connector dg already exists"),
            Row(
                method: "PUT", path: "/connectors/a/config", body: #"{"name": "b", \#(fileSink)}"#, status: 400,
                message: "Connector name configuration (b) doesn't match connector name in the URL (a)"),
            Row(
                method: "POST", path: "/connectors",
                body: #"{"name": "bad", "config": {\#(fileSink), "tasks.max": "zero"}}"#,
                status: 400,
                messagePrefix:
                    "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value zero for configuration tasks.max"
            ),
            Row(
                method: "PUT", path: "/connectors/bad/config", body: #"{"topics": "t"}"#, status: 400,
                messagePrefix: "Connector config {"),
            Row(
                method: "PUT", path: "/connectors/bad/config",
                body: #"{"topics": "t", "file": null, "connector.class": "FileStreamSink"}"#,
                status: 400, messagePrefix: "Null value can not be supplied as the configuration value."),
            Row(
                method: "PUT", path: "/connector-plugins/FileStreamSource/config/validate", body: "{\(fileSink)}",
                status: 400,
                message: "Included connector type FileStreamSink does not match request type FileStreamSource"),
            Row(
                method: "GET", path: "/connector-plugins/NoSuchThing/config", status: 404,
                message: "Unknown plugin NoSuchThing."),
            Row(
                method: "PATCH", path: "/connectors/dg/offsets",
                body: #"{"offsets": [{"partition": {"a": 1}, "offset": null}]}"#,
                status: 400,
                message:
                    "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/dg/stop' endpoint"
            ),
            Row(
                method: "PATCH", path: "/connectors/fs/offsets", body: #"{"offsets": []}"#, status: 400,
                message: "Partitions / offsets need to be provided for an alter offsets request"),
            Row(
                method: "PATCH", path: "/connectors/fs/offsets",
                body: #"{"offsets": [{"partition": {"kafka_topic": "t"}, "offset": null}]}"#,
                status: 400,
                message:
                    "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'"
            ),
            Row(
                method: "PATCH", path: "/connectors/fs/offsets",
                body: #"{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"x": 1}}]}"#,
                status: 400,
                message: "The offset for a sink connector should either be null or contain the key 'kafka_offset'"),
            Row(
                method: "PUT", path: "/connectors/dg/topics/reset", status: 403,
                message: "Topic tracking reset is disabled."),
            Row(
                method: "PUT", path: "/admin/loggers/root", body: "{}", status: 400,
                message: "Desired 'level' parameter was not specified in request."),
            Row(
                method: "PUT", path: "/admin/loggers/root", body: #"{"level": "LOUD"}"#, status: 404,
                message: "invalid log level 'LOUD'."),
            Row(
                method: "GET", path: "/admin/loggers/no.such.logger", status: 404,
                message: "Logger no.such.logger not found."),
            // Routing and bodies.
            Row(method: "GET", path: "/nowhere", status: 404, message: "HTTP 404 Not Found"),
            Row(method: "DELETE", path: "/connectors", status: 405, message: "HTTP 405 Method Not Allowed"),
            Row(
                method: "POST", path: "/connectors", body: "{not json", status: 400,
                messagePrefix: "Request body is not valid JSON"),
            Row(
                method: "POST", path: "/connectors", body: "name=x", contentType: "text/plain", status: 415,
                messagePrefix: "HTTP 415 Unsupported Media Type"),
            Row(method: "POST", path: "/connectors", body: "[1, 2]", status: 400),
        ]
        for row in rows {
            let (status, body) = try call(port, row)
            #expect(status == row.status, "\(row.method) \(row.path): \(status) \(String(describing: body))")
            if row.status >= 400 {
                #expect(body?["error_code"] == .int(Int64(row.status)), "\(row.method) \(row.path) error_code")
            }
            if let message = row.message {
                #expect(body?["message"]?.stringValue == message, "\(row.method) \(row.path)")
            }
            if let prefix = row.messagePrefix {
                #expect(
                    body?["message"]?.stringValue?.hasPrefix(prefix) == true,
                    "\(row.method) \(row.path): \(body?["message"]?.stringValue ?? "")")
            }
        }

        // initial_state (KIP-980): a connector may be created STOPPED or PAUSED.
        for (name, state, tasks) in [("born-stopped", "STOPPED", 0), ("born-paused", "PAUSED", 1)] {
            let create = Row(
                method: "POST", path: "/connectors",
                body: #"{"name": "\#(name)", "initial_state": "\#(state.lowercased())", "config": {\#(fileSink)}}"#,
                status: 201)
            #expect(try call(port, create).0 == 201)
            let statusRow = Row(method: "GET", path: "/connectors/\(name)/status", status: 200)
            #expect(
                ProjectPaths.waitUntil(20) {
                    let s = try? call(port, statusRow).1
                    return s?["connector"]?["state"]?.stringValue == state
                        && (s?["tasks"]?.arrayValue?.count ?? -1) == tasks
                }, "\(name) is \(state)")
        }
    }
}
