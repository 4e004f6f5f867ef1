import ConnectAPI
import ConnectREST
import ConnectRuntime
import ConnectWorkerKit
import HTTPServer
import JSON
import Logging
import Synchronization
import Testing

@Suite("Config patches, task configs, active topics, offsets and loggers through the router")
struct LifecycleEndpointsTests {
    let herder = FakeHerder()
    var server: ConnectRestServer { ConnectRestServer(herder: herder) }
    let datagen =
        #"{"name":"dg","config":{"connector.class":"io.confluent.kafka.connect.datagen.DatagenConnector","kafka.topic":"ratings","max.interval":750,"quickstart":"ratings","tasks.max":1}}"#

    func call(
        _ method: String, _ path: String, query: [(String, String)] = [], body: String? = nil
    ) -> (
        Int, JSONValue?
    ) {
        let r = server.handle(
            HTTPRequest(
                method: method, path: path, query: query,
                headers: body == nil ? [:] : ["Content-Type": "application/json"],
                body: Array((body ?? "").utf8)))
        return (r.status, r.body.isEmpty ? nil : try? JSONParser.parse(r.body))
    }

    @Test("PATCH config merges, null removes a key, and the result is validated")
    func patchConfig() {
        _ = call("POST", "/connectors", body: datagen)
        let (s, b) = call("PATCH", "/connectors/dg/config", body: #"{"max.interval": 10, "tasks.max": null}"#)
        #expect(s == 200)
        #expect(b?["config"]?["max.interval"] == "10")
        #expect(b?["config"]?["tasks.max"] == nil)
        #expect(b?["config"]?["kafka.topic"] == "ratings")
        let (bad, message) = call("PATCH", "/connectors/dg/config", body: #"{"tasks.max": "zero"}"#)
        #expect(bad == 400)
        #expect(
            message?["message"]?.stringValue?.hasPrefix(
                "Connector configuration is invalid and contains the following 1 error(s):") == true)
        #expect(call("PATCH", "/connectors/nope/config", body: "{}").0 == 404)
        #expect(call("PATCH", "/connectors/dg/config", body: "[1]").0 == 400)
    }

    @Test("tasks-config maps <connector>-<task> to each task's config")
    func tasksConfig() {
        _ = call("POST", "/connectors", body: datagen)
        let (s, b) = call("GET", "/connectors/dg/tasks-config")
        #expect(s == 200)
        #expect(b?["dg-0"]?["kafka.topic"] == "ratings")
        #expect(call("GET", "/connectors/nope/tasks-config").0 == 404)
    }

    @Test("active topics are listed under the connector name and reset with 202")
    func topics() {
        _ = call("POST", "/connectors", body: datagen)
        herder.state.withLock { $0.topics["dg"] = ["ratings"] }
        let (s, b) = call("GET", "/connectors/dg/topics")
        #expect(s == 200)
        #expect(b == ["dg": ["topics": ["ratings"]]])
        #expect(call("PUT", "/connectors/dg/topics/reset").0 == 202)
        #expect(call("GET", "/connectors/dg/topics").1 == ["dg": ["topics": []]])
    }

    @Test("offsets: read, refused while running, altered and reset once stopped, with Connect's messages")
    func offsets() {
        _ = call("POST", "/connectors", body: datagen)
        let body = #"{"offsets": [{"partition": {"task.id": 0}, "offset": {"current.iteration": 42}}]}"#
        let (refused, why) = call("PATCH", "/connectors/dg/offsets", body: body)
        #expect(refused == 400)
        #expect(
            why?["message"]
                == "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/dg/stop' endpoint"
        )
        #expect(call("PUT", "/connectors/dg/stop").0 == 204)
        let (s, m) = call("PATCH", "/connectors/dg/offsets", body: body)
        #expect(s == 200)
        #expect(m == ["message": "The offsets for this connector have been altered successfully"])
        #expect(
            call("GET", "/connectors/dg/offsets").1
                == ["offsets": [["partition": ["task.id": 0], "offset": ["current.iteration": 42]]]])
        let (empty, emptyWhy) = call("PATCH", "/connectors/dg/offsets", body: #"{"offsets": []}"#)
        #expect(empty == 400)
        #expect(emptyWhy?["message"] == "Partitions / offsets need to be provided for an alter offsets request")
        #expect(call("PATCH", "/connectors/dg/offsets", body: #"{"offsets": [{"offset": {}}]}"#).0 == 400)
        #expect(
            call("DELETE", "/connectors/dg/offsets").1
                == ["message": "The offsets for this connector have been reset successfully"])
        #expect(call("GET", "/connectors/nope/offsets").0 == 404)
    }

    @Test("/admin/loggers lists, reads and sets levels with Connect's errors")
    func loggers() {
        let name = "org.apache.kafka.connect.test.\(UInt32.random(in: 0...UInt32.max))"
        _ = ConnectLogHandler(label: name + ".Child")
        let (s, b) = call("GET", "/admin/loggers")
        #expect(s == 200)
        #expect(b?["root"]?["level"] != nil)
        #expect(call("GET", "/admin/loggers/\(name).Child").1?["last_modified"] == .null)
        #expect(
            call("GET", "/admin/loggers/no.such.logger.anywhere").1?["message"]
                == "Logger no.such.logger.anywhere not found.")
        let (set, affected) = call("PUT", "/admin/loggers/\(name)", body: #"{"level": "DEBUG"}"#)
        #expect(set == 200)
        #expect(affected == [.string(name), .string(name + ".Child")])
        #expect(call("GET", "/admin/loggers/\(name).Child").1?["level"] == "DEBUG")
        #expect(call("GET", "/admin/loggers").1?[name]?["level"] == "DEBUG")
        #expect(
            call("PUT", "/admin/loggers/\(name)", query: [("scope", "cluster")], body: #"{"level": "INFO"}"#).0 == 204)
        let (missing, missingWhy) = call("PUT", "/admin/loggers/\(name)", body: "{}")
        #expect(missing == 400)
        #expect(missingWhy?["message"] == "Desired 'level' parameter was not specified in request.")
        let (invalid, invalidWhy) = call("PUT", "/admin/loggers/\(name)", body: #"{"level": "LOUD"}"#)
        #expect(invalid == 404)
        #expect(invalidWhy?["message"] == "invalid log level 'LOUD'.")
    }
}
