import Logging
import Synchronization

/// Every log line of the test process, kept so tests can check what the worker logged. `install` makes it the
/// logging backend once (each line is still printed, as swift-log's default does); loggers made afterwards feed it.
public enum LogCapture {
    private static let captured = Mutex<[String]>([])
    private static let installed: Void = {
        LoggingSystem.bootstrap { label in
            MultiplexLogHandler([StreamLogHandler.standardOutput(label: label), CapturingLogHandler(label: label)])
        }
    }()

    public static func install() { _ = installed }

    /// The lines logged so far that contain `text`, as `LEVEL label: message`.
    public static func lines(containing text: String) -> [String] {
        captured.withLock { $0.filter { $0.contains(text) } }
    }

    struct CapturingLogHandler: LogHandler {
        let label: String
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let line = "\(event.level) \(label): \(event.message)"
            LogCapture.captured.withLock { $0.append(line) }
        }
    }
}
