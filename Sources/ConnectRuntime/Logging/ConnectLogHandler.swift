import Foundation
import Logging
import Synchronization

/// Log lines in Connect's log4j layout, one per event on stderr:
/// `[2026-11-28 06:30:00,123] INFO [datagen-orders|task-0] message (logger)`.
/// Levels are looked up per logger name in `LogLevels`, so they can change while the worker runs.
public struct ConnectLogHandler: LogHandler {
    /// Metadata key holding Connect's connector context (`[name|task-0] `).
    public static let contextKey = "connector.context"

    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level {
        get { LogLevels.shared.level(for: label) }
        set { LogLevels.shared.set(newValue, for: label) }
    }

    /// Sets the connector context of the calling thread's log lines, as Connect's `LoggingContext` puts it in log4j's
    /// MDC: a plug-in's own loggers (a Debezium task's) then carry `[name|task-0]` too. Nil clears it.
    public static func setThreadContext(_ context: String?) {
        Thread.current.threadDictionary[contextKey] = context
    }

    public init(label: String) {
        self.label = label
        LogLevels.shared.noteLogger(label)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        FileHandle.standardError.write(Data(line(event.level, event.message, event.metadata).utf8))
    }

    /// The log line for an event, secrets scrubbed: the context is the logger's or the event's, else the thread's.
    func line(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata?) -> String {
        var all = self.metadata
        if let explicit = metadata { all.merge(explicit) { _, new in new } }
        let context =
            all.removeValue(forKey: Self.contextKey).map { "\($0)" }
            ?? (Thread.current.threadDictionary[Self.contextKey] as? String) ?? ""
        let extra =
            all.isEmpty
            ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return SecretScrubber.shared.scrub(
            "[\(Self.timestamp())] \(Self.name(level)) \(context)\(message)\(extra) (\(label))\n")
    }

    public static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace: return "TRACE"
        case .debug: return "DEBUG"
        case .info: return "INFO"
        case .notice: return "INFO"
        case .warning: return "WARN"
        case .error: return "ERROR"
        case .critical: return "FATAL"
        }
    }

    /// Parses a log4j level name (`WARN`, `debug`, ...).
    public static func level(named name: String) -> Logger.Level? {
        switch name.uppercased() {
        case "TRACE", "ALL": return .trace
        case "DEBUG": return .debug
        case "INFO": return .info
        case "WARN", "WARNING": return .warning
        case "ERROR": return .error
        case "FATAL", "OFF": return .critical
        default: return nil
        }
    }

    private static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = tv.tv_sec
        var tm = tm()
        localtime_r(&t, &tm)
        let ms = Int(tv.tv_usec / 1000)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d,%03d", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
            Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), ms)
    }
}

/// Log levels by logger name: the most specific configured prefix (`org.apache.kafka.connect`) wins, then `root`.
/// Levels set through `/admin/loggers` remember when (`last_modified`).
public final class LogLevels: Sendable {
    public static let shared = LogLevels()

    private struct State {
        var levels: [String: Logger.Level] = ["root": .info]
        var modified: [String: Int64] = [:]
        var known: Set<String> = []
    }

    private let state = Mutex(State())

    public func set(_ level: Logger.Level, for logger: String) {
        state.withLock { $0.levels[logger] = level }
    }

    /// Remembers a logger name that exists in the worker.
    func noteLogger(_ label: String) {
        state.withLock { _ = $0.known.insert(label) }
    }

    public func level(for label: String) -> Logger.Level {
        state.withLock { Self.effective(label, $0.levels) }
    }

    private static func effective(_ label: String, _ levels: [String: Logger.Level]) -> Logger.Level {
        var name = Substring(label)
        while true {
            if let level = levels[String(name)] { return level }
            guard let dot = name.lastIndex(of: ".") else { break }
            name = name[..<dot]
        }
        return levels["root"] ?? .info
    }

    /// Configured levels, by logger name.
    public var all: [String: Logger.Level] { state.withLock { $0.levels } }

    /// Loggers with a level of their own, and `root`, with when a request last changed them (epoch ms).
    public func explicitLevels() -> [(name: String, level: Logger.Level, lastModified: Int64?)] {
        state.withLock { s in s.levels.keys.sorted().map { ($0, s.levels[$0]!, s.modified[$0]) } }
    }

    /// A logger's effective level, or nil when no such logger (or namespace of loggers) exists.
    public func describe(_ name: String) -> (level: Logger.Level, lastModified: Int64?)? {
        state.withLock { s in
            let exists =
                s.levels[name] != nil || s.known.contains(name) || s.known.contains { $0.hasPrefix(name + ".") }
            guard exists else { return nil }
            return (Self.effective(name, s.levels), s.modified[name])
        }
    }

    /// Sets a logger and every logger below it (as log4j does for a namespace); returns the affected names, sorted.
    public func setNamespace(_ name: String, to level: Logger.Level, at now: Int64) -> [String] {
        state.withLock { s in
            var affected: Set<String> = [name]
            for other in s.known.union(s.levels.keys) where name == "root" || other.hasPrefix(name + ".") {
                affected.insert(other)
            }
            for n in affected {
                s.levels[n] = level
                s.modified[n] = now
            }
            return affected.sorted()
        }
    }
}
