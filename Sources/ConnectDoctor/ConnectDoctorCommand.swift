import ArgumentParser
import ConnectDoctorKit
import Foundation

@main
struct ConnectDoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect-doctor",
        abstract: "Says what is wrong with a Kafka Connect cluster and how to fix it.",
        discussion: """
            Exit codes: 0 healthy, 1 warnings, 2 failures, 3 cannot reach the cluster. Every finding names a rule \
            (docs/doctor/<id>.md) with its evidence, a confidence and the fix.
            """,
        subcommands: [
            CheckCommand.self, ExplainCommand.self, TraceCommand.self, DeadLetterQueueCommand.self, BundleCommand.self,
        ])
}

/// Output options every subcommand shares.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print the machine-readable report (docs/doctor/findings.schema.json).")
    var json = false

    @Flag(name: .long, help: "Never colour the output (colours are used only on a terminal anyway).")
    var noColor = false

    /// Prints the report and exits with its code.
    func finish(_ report: Report) throws -> Never {
        print(report)
        throw ExitCode(report.exitCode)
    }

    func print(_ report: Report) {
        if json {
            Swift.print(ReportRenderer.json(report))
        } else {
            let colors =
                !noColor && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            Swift.print(ReportRenderer.text(report, colors: colors), terminator: "")
        }
    }
}

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Classify a failure trace (Apache Kafka Connect's or Swift Connect's) from a file, or - for stdin.")

    @Argument(help: "A file holding the trace, or - to read standard input.")
    var file: String

    @OptionGroup var output: OutputOptions

    func run() throws {
        let text =
            file == "-"
            ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : try readText(file)
        let finding = TraceClassifier().finding(trace: text, subject: .trace)
        try output.finish(Report(target: [file == "-" ? "stdin" : file], findings: [finding]))
    }
}

/// A file's text, or a usage error naming it.
func readText(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("Cannot read \(path).") }
    return String(decoding: data, as: UTF8.self)
}
