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

    @Test("the MySQL connector's failures: binlog off or not ROW, position purged, server id taken, login, structure")
    func mysqlCauses() {
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: The MySQL server is not configured to use a ROW binlog_format, which is required for this connector to work properly. Change the MySQL configuration to use a binlog_format=ROW and restart the connector.
                \tat MySqlConnectorTask.start
                """) == "CD-DBZ-004")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: The connector is trying to read binlog starting at mysql-bin.000001:4521, but this is no longer available on the server. Reconfigure the connector to use a snapshot when needed (snapshot.mode=when_needed).
                """) == "CD-DBZ-001")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: The binlog stream from 127.0.0.1:3306 was lost
                Caused by: java.sql.SQLException: A slave with the same server_uuid/server_id is already connected; the first event 'mysql-bin.000001' at 1236, the last event read from 'mysql-bin.000001' at 2767, the last byte read from 'mysql-bin.000001' at 2798. (errno 4052, SQLState: HY000)
                """) == "CD-DBZ-007")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: The MySQL server is not configured to use a binlog (log_bin is off), which is required for this connector to work properly. Change the server configuration to enable log_bin and restart the connector.
                """) == "CD-DBZ-004")
        // A user without the right to read the binlog: MariaDB's and MySQL's wording.
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: Starting the mysql connector failed
                Caused by: java.sql.SQLException: Access denied; you need (at least one of) the SUPER, BINLOG MONITOR privilege(s) for this operation (errno 1227, SQLState: 42000)
                """) == "CD-DBZ-004")
        #expect(
            Self.rule(
                """
                org.apache.kafka.connect.errors.ConnectException: Error reading MySQL variables: Access denied; you need (at least one of) the SUPER, REPLICATION CLIENT privilege(s) for this operation
                """) == "CD-DBZ-004")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: Unable to connect to the MySQL server at db-1:3306
                Caused by: java.sql.SQLException: Access denied for user 'cdc'@'10.0.0.2' (using password: YES) (errno 1045, SQLState: 28000)
                """) == "CD-AUTH-003")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: Unable to connect to the MySQL server at 127.0.0.1:3307
                Caused by: java.sql.SQLException: Can't connect to server on '127.0.0.1' (115) (errno 2002, SQLState: HY000)
                """) == "CD-NET-002")
        #expect(
            Self.rule(
                """
                io.debezium.DebeziumException: The binlog's rows event for demo.ORDERS has 10 columns but the table now has 9: its structure changed after the change was written; restart with snapshot.mode=when_needed or always
                """) == "CD-DBZ-006")
    }
}
