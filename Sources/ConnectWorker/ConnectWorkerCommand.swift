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
        version: "connect-worker \(ConnectVersion.project) (Kafka Connect \(ConnectVersion.kafka) compatible)",
        subcommands: [Standalone.self])
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

    func validate() throws {
        if let logLevel, ConnectLogHandler.level(named: logLevel) == nil {
            throw ValidationError("Invalid --log-level '\(logLevel)': use TRACE, DEBUG, INFO, WARN or ERROR.")
        }
    }

    func run() throws {
        LoggingSystem.bootstrap { ConnectLogHandler(label: $0) }
        let logger = Logger(label: "org.apache.kafka.connect.cli.ConnectStandalone")
        do {
            let connect = try ConnectStandalone.start(
                workerProperties: workerProperties, connectorFiles: connectorFiles, logLevel: logLevel,
                environment: ProcessInfo.processInfo.environment, logger: logger)
            connect.awaitShutdownSignal()
        } catch {
            logger.error("Stopping due to error: \(ConnectError.describe(error))")
            throw ExitCode(1)
        }
    }
}
