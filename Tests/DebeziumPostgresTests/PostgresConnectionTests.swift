import ConnectTestKit
import Foundation
import Postgres
import Testing

@Suite("A libpq connection against a real PostgreSQL")
struct PostgresConnectionTests {
    static func connect() throws -> PostgresConnection {
        let pg = PostgresServer.shared
        return try PostgresConnection(parameters: [
            "host": "127.0.0.1", "port": String(pg.port), "user": "postgres", "dbname": "postgres",
        ])
    }

    @Test("a statement with a timeout: the last result of several, the server's error and SQLSTATE, 08006 on time out")
    func queryWithTimeout() throws {
        let c = try Self.connect()
        #expect(try c.query("SELECT 1; SELECT 2 AS two", timeoutMilliseconds: 5000).rows == [["2"]])
        #expect {
            try c.query("SELECT 1/0", timeoutMilliseconds: 5000)
        } throws: { ($0 as? PostgresError)?.sqlState == "22012" }
        // Every result was read: the connection takes the next statement.
        #expect(try c.query("SELECT 'still here'", timeoutMilliseconds: 5000).rows == [["still here"]])
        let started = ContinuousClock.now
        #expect {
            try c.query("SELECT pg_sleep(5)", timeoutMilliseconds: 300)
        } throws: { ($0 as? PostgresError)?.sqlState == "08006" }
        #expect(ContinuousClock.now - started < .seconds(3), "the wait ends at the timeout, not with the statement")
    }
}
