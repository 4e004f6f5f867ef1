import ConnectAPI
import Foundation
import HTTPClient
import JSON
import Logging

/// The REST calls the sink makes (Confluent's `ElasticsearchClient`): index existence and creation, the mapping,
/// and `POST /_bulk` with NDJSON, each retried `max.retries` times with a doubling back-off from
/// `retry.backoff.ms` when no answer comes or the answer is 429 or 5xx. With several `connection.url`s a retry
/// goes to the next one.
final class ElasticsearchClient {
    /// One item of a bulk answer that failed: its position in the request and Elasticsearch's error.
    struct ItemFailure: Sendable, Equatable {
        var position: Int
        var status: Int
        var type: String
        var reason: String

        var message: String { "\(type): \(reason)" }
    }

    private let config: ElasticsearchSinkConnectorConfig
    private let http: HTTPClient
    private var next = 0
    private let logger: Logger
    private let metrics: SinkWriterMetrics?

    init(_ config: ElasticsearchSinkConnectorConfig, logger: Logger, metrics: SinkWriterMetrics? = nil) {
        self.metrics = metrics
        self.config = config
        var c = HTTPClientConfiguration()
        // As Confluent's client: read.timeout.ms is the socket's read timeout (0: none), connection.timeout.ms the
        // connect timeout (0: libcurl's default); a long bulk request that keeps answering is not cut.
        c.timeout = .zero
        c.idleTimeout = config.readTimeoutMs > 0 ? .milliseconds(config.readTimeoutMs) : nil
        c.connectTimeout = config.connectionTimeoutMs > 0 ? .milliseconds(config.connectionTimeoutMs) : .seconds(300)
        if let user = config.username { c.basicAuth = .init(username: user, password: config.password ?? "") }
        http = HTTPClient(configuration: c)
        self.logger = logger
    }

    /// Sends a request to the cluster, retried as the type says; throws ConnectException naming the action once
    /// the retries are spent. 4xx answers other than 429 are returned, not retried.
    /// `countsRetries`: the request writes a batch, whose retries `SinkWriterMetrics` counts.
    private func call(
        _ description: String, _ method: String, _ path: String, body: [UInt8]? = nil,
        contentType: String = "application/json", countsRetries: Bool = false
    ) throws(ConnectError) -> HTTPClientResponse {
        var backoff = max(config.retryBackoffMs, 1)
        var attempt = 0
        while true {
            let url = config.urls[next % config.urls.count] + path
            var failure: String
            var reason = "connection"
            do {
                let response = try http.execute(
                    HTTPClientRequest(
                        method: method, url: url, headers: body == nil ? [] : [("Content-Type", contentType)],
                        body: body))
                if response.status == 401 || response.status == 403 {
                    throw ConnectError(
                        .connect,
                        "Failed to \(description): Elasticsearch refused the credentials (HTTP \(response.status)): \(response.text.prefix(500))"
                    )
                }
                guard response.status == 429 || response.status >= 500 else { return response }
                failure = "HTTP \(response.status): \(response.text.prefix(500))"
                reason = "http-\(response.status)"
            } catch let e as HTTPClientError {
                failure = e.description
            } catch let e as ConnectError {
                throw e
            } catch {
                failure = "\(error)"
            }
            attempt += 1
            next += 1
            guard attempt <= config.maxRetries else {
                throw ConnectError(
                    .connect, "Failed to \(description) after total of \(attempt) attempt(s)",
                    cause: ConnectError(.io, failure))
            }
            if countsRetries { metrics?.retried(reason: reason) }
            logger.warning(
                "Failed to \(description) on attempt \(attempt)/\(config.maxRetries + 1). Will retry in \(backoff) ms: \(failure)"
            )
            Thread.sleep(forTimeInterval: Double(min(backoff, 60_000)) / 1000)
            backoff *= 2
        }
    }

    private static func path(_ index: String) -> String {
        "/"
            + (index.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", "?", "#"])) ?? index)
    }

    func indexExists(_ index: String) throws(ConnectError) -> Bool {
        try call("check if index \(index) exists", "HEAD", Self.path(index)).status == 200
    }

    /// Whether the index has a mapping with fields (Confluent's `hasMapping`): `GET /<index>/_mapping`.
    func hasMapping(_ index: String) throws(ConnectError) -> Bool {
        let r = try call("get mapping of index \(index)", "GET", Self.path(index) + "/_mapping")
        guard (200..<300).contains(r.status), let answer = try? JSONParser.parse(r.body) else {
            throw ConnectError(
                .connect, "Failed to get mapping of index \(index): HTTP \(r.status): \(r.text.prefix(500))")
        }
        let mappings = answer.objectValue?.entries.first?.value["mappings"]
        return !(mappings?["properties"]?.objectValue?.isEmpty ?? true)
    }

    /// Puts `mapping` on an existing index (Confluent's `createMapping`): `PUT /<index>/_mapping`.
    /// - Throws: ConnectException "Cannot create mapping" with Elasticsearch's answer.
    func putMapping(_ index: String, _ mapping: JSONValue) throws(ConnectError) {
        let r = try call(
            "create mapping for index \(index)", "PUT", Self.path(index) + "/_mapping", body: JSONWriter.bytes(mapping))
        guard (200..<300).contains(r.status) else {
            throw ConnectError(
                .connect,
                "Cannot create mapping \(JSONWriter.string(mapping)) -- HTTP \(r.status): \(r.text.prefix(500))")
        }
    }

    /// Creates the index, with `mapping` when given; false when it existed already.
    @discardableResult
    func createIndex(_ index: String, mapping: JSONValue?) throws(ConnectError) -> Bool {
        let body: JSONValue = mapping.map { ["mappings": $0] } ?? [:]
        let r = try call("create index \(index)", "PUT", Self.path(index), body: JSONWriter.bytes(body))
        if (200..<300).contains(r.status) { return true }
        if r.text.contains("resource_already_exists_exception") { return false }
        throw ConnectError(.connect, "Failed to create index \(index): HTTP \(r.status): \(r.text.prefix(500))")
    }

    /// Sends `operations` as one `_bulk` request and returns the items that failed.
    /// - Throws: ConnectException "Bulk request failed" when the request itself fails after its retries, or when the
    ///   answer does not hold one item per action (nothing could say which records were written).
    func bulk(_ operations: [BulkOperation]) throws(ConnectError) -> [ItemFailure] {
        var body: [UInt8] = []
        for op in operations { body += op.ndjson }
        let r: HTTPClientResponse
        do {
            r = try call(
                "execute bulk request", "POST", "/_bulk", body: body, contentType: "application/x-ndjson",
                countsRetries: true)
        } catch {
            throw ConnectError(.connect, "Bulk request failed", cause: error)
        }
        guard (200..<300).contains(r.status), let answer = try? JSONParser.parse(r.body) else {
            throw ConnectError(
                .connect, "Bulk request failed",
                cause: ConnectError(.io, "HTTP \(r.status): \(r.text.prefix(1000))"))
        }
        let items = answer["items"]?.arrayValue ?? []
        guard items.count == operations.count else {
            throw ConnectError(
                .connect, "Bulk request failed",
                cause: ConnectError(
                    .io, "The bulk answer holds \(items.count) items for \(operations.count) actions"))
        }
        guard answer["errors"]?.boolValue == true else { return [] }
        var failures: [ItemFailure] = []
        for (i, item) in items.enumerated() {
            guard let result = item.objectValue?.entries.first?.value, let error = result["error"] else { continue }
            failures.append(
                ItemFailure(
                    position: i, status: Int(result["status"]?.intValue ?? 0),
                    type: error["type"]?.stringValue ?? "unknown", reason: error["reason"]?.stringValue ?? "\(error)"))
        }
        return failures
    }
}
