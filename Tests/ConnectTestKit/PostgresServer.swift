import Foundation

/// A real PostgreSQL server (Debian's `postgresql-15`) on a free loopback port, with a private data directory and
/// `wal_level=logical`, started for tests and stopped with them.
///
/// initdb and postgres refuse to run as root: as root the server runs as the `postgres` user (`runuser`).
public final class PostgresServer: Sendable {
    public let port: Int
    public let directory: URL
    private let bin: URL

    /// One server shared by every test in the process; each test uses its own database.
    public static let shared: PostgresServer = {
        do {
            return try PostgresServer()
        } catch {
            fatalError("Cannot start PostgreSQL for tests: \(error)")
        }
    }()

    /// Starts a private server; `walLevel` other than `logical` gives a server logical decoding refuses.
    public init(walLevel: String = "logical") throws {
        bin = try Self.locateBinaries()
        port = try FreePort.allocate()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swift-connect-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres:postgres", directory.path]) }
        try runAsServerUser(
            bin.appendingPathComponent("initdb").path,
            ["-D", directory.appendingPathComponent("data").path, "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        let options = [
            "-c listen_addresses=127.0.0.1", "-c port=\(port)", "-c unix_socket_directories=\(directory.path)",
            "-c wal_level=\(walLevel)", "-c max_replication_slots=20", "-c max_wal_senders=20", "-c fsync=off",
        ].joined(separator: " ")
        try runAsServerUser(
            bin.appendingPathComponent("pg_ctl").path,
            [
                "-D", directory.appendingPathComponent("data").path, "-l",
                directory.appendingPathComponent("server.log").path, "-o", options, "-w", "start",
            ])
        // A watcher stops the server when the test process is gone: the shared server is never deinitialised.
        let stop = Self.asServerUser(
            bin.appendingPathComponent("pg_ctl").path,
            ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "stop"]
        )
        .map { "'\($0)'" }.joined(separator: " ")
        try Self.whenTestProcessEnds("\(stop) >/dev/null 2>&1; rm -rf '\(directory.path)'")
    }

    /// Runs `command` with `/bin/sh` once this test process is gone: how the servers a test starts (and that the
    /// shared instances never deinitialise) are stopped and their directories removed.
    static func whenTestProcessEnds(_ command: String) throws {
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/bin/sh")
        watcher.arguments = ["-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; " + command]
        watcher.standardOutput = FileHandle.nullDevice
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
    }

    /// Stops a private server now (the shared one stops with the test process).
    public func stop() {
        _ = try? runAsServerUser(
            bin.appendingPathComponent("pg_ctl").path,
            ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "stop"])
    }

    /// Runs SQL with psql as the superuser, in `database`; returns psql's unaligned output.
    @discardableResult
    public func sql(_ statements: String, database: String = "postgres") throws -> String {
        try Self.run(
            bin.appendingPathComponent("psql").path,
            [
                "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
                "-qAt", "-c", statements,
            ])
    }

    /// A new database for one test.
    public func createDatabase(_ name: String) throws {
        try sql("CREATE DATABASE \(name)")
    }

    /// The Debezium connector properties that reach this server's `database`.
    public func connectorProperties(database: String) -> [String: String] {
        [
            "database.hostname": "127.0.0.1", "database.port": String(port), "database.user": "postgres",
            "database.password": "", "database.dbname": database,
        ]
    }

    private func runAsServerUser(_ path: String, _ args: [String]) throws {
        try Self.run(Self.asServerUser(path, args)[0], Array(Self.asServerUser(path, args).dropFirst()))
    }

    private static func asServerUser(_ path: String, _ args: [String]) -> [String] {
        getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + args : [path] + args
    }

    /// Runs a program to its end and returns what it printed. posix_spawn and waitpid, not Foundation's `Process`:
    /// `pg_ctl start` leaves a server behind that keeps inherited pipes open, and `Process` did not see `runuser`
    /// exit.
    @discardableResult
    static func run(_ path: String, _ args: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pg-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw TestKitError("cannot run \(path): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS are macros: an exit status is bits 8-15 of a normal exit.
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
            throw TestKitError("\(path) \(args.joined(separator: " ")) failed: \(text)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func locateBinaries() throws -> URL {
        for version in ["17", "16", "15", "14"] {
            let dir = URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin")
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("postgres").path) { return dir }
        }
        throw TestKitError("PostgreSQL server binaries not found: run ./scripts/install")
    }
}
