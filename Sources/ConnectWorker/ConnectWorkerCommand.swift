import ArgumentParser
import ConnectAPI
import ConnectRuntime
import ConnectWorkerKit
import Foundation
import Logging

@main
struct ConnectWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect-worker",
        abstract: "A Kafka Connect worker.",
        discussion: """
            With no arguments and CONNECT_GROUP_ID in the environment, runs a distributed worker from the CONNECT_* \
            variables alone, as the Confluent image does (CONNECT_BOOTSTRAP_SERVERS sets bootstrap.servers; \
            _ is ., __ is -, ___ is _).
            """,
        version: "connect-worker \(ConnectVersion.project) (Kafka Connect \(ConnectVersion.kafka) compatible)",
        subcommands: [Standalone.self, Distributed.self])

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["CONNECT_GROUP_ID"] != nil else { throw CleanExit.helpRequest(self) }
        try Distributed.runWorker(workerProperties: nil, logLevel: nil, environment: environment)
    }
}

struct Distributed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a worker of a cluster (group.id): connectors over REST, state in Kafka's internal topics.",
        discussion: """
            The role of connect-distributed.sh: only the worker properties; connectors are created over REST. \
            Worker settings come from the file, overridden by CONNECT_* environment variables.
            """)

    @Argument(help: "Worker properties file.")
    var workerProperties: String

    @Option(name: .long, help: "Log level: TRACE, DEBUG, INFO, WARN, ERROR (overrides log.level).")
    var logLevel: String?

    func validate() throws { try validateLogLevel(logLevel) }

    func run() throws {
        try Self.runWorker(
            workerProperties: workerProperties, logLevel: logLevel, environment: ProcessInfo.processInfo.environment)
    }

    static func runWorker(workerProperties: String?, logLevel: String?, environment: [String: String]) throws {
        LoggingSystem.bootstrap { ConnectLogHandler(label: $0) }
        let logger = Logger(label: "org.apache.kafka.connect.cli.ConnectDistributed")
        let shutdown = ShutdownSignal()
        do {
            let connect = try ConnectDistributed.start(
                workerProperties: workerProperties, logLevel: logLevel, environment: environment, logger: logger)
            connect.awaitShutdown(shutdown)
        } catch {
            logger.error("Stopping due to error: \(ConnectError.describe(error))")
            throw ExitCode(1)
        }
    }
}

struct Standalone: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a standalone worker: connectors from files, offsets in offset.storage.file.filename.",
        discussion: """
            Worker settings come from the properties file, overridden by CONNECT_* environment variables \
            (CONNECT_BOOTSTRAP_SERVERS sets bootstrap.servers). Connector files are .properties or .json.
            """)

    @Argument(help: "Worker properties file.")
    var workerProperties: String

    @Argument(help: "Connector configuration files (.properties or .json).")
    var connectorFiles: [String] = []

    @Option(name: .long, help: "Log level: TRACE, DEBUG, INFO, WARN, ERROR (overrides log.level).")
    var logLevel: String?

    func validate() throws { try validateLogLevel(logLevel) }

    func run() throws {
        LoggingSystem.bootstrap { ConnectLogHandler(label: $0) }
        let logger = Logger(label: "org.apache.kafka.connect.cli.ConnectStandalone")
        let shutdown = ShutdownSignal()
        do {
            let connect = try ConnectStandalone.start(
                workerProperties: workerProperties, connectorFiles: connectorFiles, logLevel: logLevel,
                environment: ProcessInfo.processInfo.environment, logger: logger)
            connect.awaitShutdown(shutdown)
        } catch {
            logger.error("Stopping due to error: \(ConnectError.describe(error))")
            throw ExitCode(1)
        }
    }
}

/// `--log-level` takes Connect's level names.
func validateLogLevel(_ logLevel: String?) throws {
    if let logLevel, ConnectLogHandler.level(named: logLevel) == nil {
        throw ValidationError("Invalid --log-level '\(logLevel)': use TRACE, DEBUG, INFO, WARN or ERROR.")
    }
}
