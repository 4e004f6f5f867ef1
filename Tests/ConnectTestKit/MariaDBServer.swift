import Foundation

/// A real MariaDB server (Debian's `mariadb-server`) on a free loopback port, with a private data directory and
/// the binlog as the Debezium MySQL connector needs it (`log_bin`, `binlog_format=ROW`, `binlog_row_image=FULL`),
/// started for tests and stopped with them.
public final class MariaDBServer: Sendable {
    public let port: Int
    public let directory: URL

    /// One server shared by every test in the process; each test uses its own database.
    public static let shared: MariaDBServer = {
        do {
            return try MariaDBServer()
        } catch {
            fatalError("Cannot start MariaDB for tests: \(error)")
        }
    }()

    /// Starts a private server; `binlog: false` gives one without a binlog (`log_bin` off).
    public init(binlog: Bool = true) throws {
        guard let daemon = Self.locate("mariadbd"), let installDB = Self.locate("mariadb-install-db") else {
            throw TestKitError("MariaDB server binaries not found: run ./scripts/install")
        }
        port = try FreePort.allocate()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swift-connect-mdb-\(UUID().uuidString)")
        let data = directory.appendingPathComponent("data").path
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let user = getuid() == 0 ? ["--user=root"] : []
        try PostgresServer.run(
            installDB,
            ["--no-defaults", "--datadir=\(data)", "--auth-root-authentication-method=normal", "--skip-test-db"] + user)
        let args =
            [
                daemon, "--no-defaults", "--datadir=\(data)", "--socket=\(directory.path)/mysqld.sock",
                "--port=\(port)", "--bind-address=127.0.0.1", "--pid-file=\(directory.path)/mysqld.pid",
                "--log-error=\(directory.path)/error.log", "--server-id=1",
                "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-annotate-row-events=ON",
                "--innodb-flush-log-at-trx-commit=2", "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci", "--sync-binlog=0", "--skip-name-resolve",
            ] + user + (binlog ? ["--log-bin=\(data)/mysql-bin"] : [])
        // The server outlives the shell that starts it; a watcher stops it when the test process is gone.
        try PostgresServer.run(
            "/bin/sh",
            ["-c", args.map { "'\($0)'" }.joined(separator: " ") + " >/dev/null 2>&1 </dev/null &"])
        try PostgresServer.whenTestProcessEnds(
            "kill -9 $(cat '\(directory.path)/mysqld.pid') >/dev/null 2>&1; sleep 1; rm -rf '\(directory.path)'")
        let deadline = Date().addingTimeInterval(60)
        while (try? sql("SELECT 1")) == nil {
            guard Date() < deadline else {
                let log = (try? String(contentsOfFile: "\(directory.path)/error.log", encoding: .utf8)) ?? ""
                throw TestKitError("MariaDB did not start: \(log.suffix(2000))")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Stops a private server now (the shared one stops with the test process).
    public func stop() {
        guard let pid = try? String(contentsOfFile: "\(directory.path)/mysqld.pid", encoding: .utf8) else { return }
        _ = try? PostgresServer.run("/bin/kill", ["-9", pid.trimmingCharacters(in: .whitespacesAndNewlines)])
        // A second stop must not kill whatever process has the number by then.
        try? FileManager.default.removeItem(atPath: "\(directory.path)/mysqld.pid")
    }

    /// Runs SQL with the `mariadb` client as root; returns its tab-separated output without headers.
    @discardableResult
    public func sql(_ statements: String, database: String? = nil) throws -> String {
        guard let client = Self.locate("mariadb") else { throw TestKitError("mariadb client not found") }
        return try PostgresServer.run(
            client,
            ["--no-defaults", "-uroot", "-h127.0.0.1", "-P\(port)", "-N", "-B"] + (database.map { ["-D", $0] } ?? [])
                + ["-e", statements])
    }

    /// A new database for one test.
    public func createDatabase(_ name: String) throws { try sql("CREATE DATABASE `\(name)`") }

    /// The Debezium connector properties that reach this server as root.
    public func connectorProperties() -> [String: String] {
        [
            "database.hostname": "127.0.0.1", "database.port": String(port), "database.user": "root",
            "database.password": "",
        ]
    }

    static func locate(_ name: String) -> String? {
        ["/usr/sbin", "/usr/bin", "/usr/local/bin"].map { "\($0)/\(name)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }
}
