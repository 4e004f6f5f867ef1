import ConnectDoctorKit
import Testing

/// The failures Swift Connect's PostgreSQL connector reports, as its task traces show them, each named by the rule
/// for its cause.
@Suite("connect-doctor trace on the PostgreSQL CDC connector's failures")
struct DebeziumConnectorTraceTests {
    static func rule(_ trace: String) -> String { TraceClassifier().finding(trace: trace, subject: .trace).rule.id }

    @Test("server not set up, slot in use, publication missing, refused login, server down")
    func causes() {
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: Postgres server wal_level property must be 'logical' but is: 'replica'
                \tat PostgresConnectorTask.start
                """) == "CD-DBZ-004")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: Failed to start replication stream from slot 'debezium'
                Caused by: org.postgresql.util.PSQLException: ERROR:  replication slot "debezium" is active for PID 4242 (SQLState: 55006)
                """) == "CD-DBZ-002")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: Publication 'dbz_publication' does not exist and publication.autocreate.mode is disabled: create it (CREATE PUBLICATION dbz_publication FOR ALL TABLES) and restart the connector
                """) == "CD-DBZ-004")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: Unable to connect to PostgreSQL at db-1:5432
                Caused by: org.postgresql.util.PSQLException: connection to server at "db-1" (10.0.0.1), port 5432 failed: FATAL:  password authentication failed for user "cdc" (SQLState: 28P01)
                """) == "CD-AUTH-003")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: Unable to connect to PostgreSQL at 127.0.0.1:5433
                Caused by: org.postgresql.util.PSQLException: connection to server at "127.0.0.1", port 5433 failed: Connection refused Is the server running on that host and accepting TCP/IP connections? (SQLState: 08001)
                """) == "CD-NET-002")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: Starting the PostgreSQL connector failed
                Caused by: org.postgresql.util.PSQLException: ERROR:  must be superuser to create FOR ALL TABLES publication (SQLState: 42501)
                """) == "CD-DBZ-004")
    }
}
