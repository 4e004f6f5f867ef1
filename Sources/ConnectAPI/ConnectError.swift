/// The error type of the Connect API. `kind` names the Java exception class Connect would throw, so traces and REST
/// errors read as Connect's; new kinds are added as static members.
public struct ConnectError: Error, Sendable, CustomStringConvertible {
    public struct Kind: Sendable, Hashable {
        /// Fully qualified Java class name, as it appears in traces.
        public let className: String
        public let isRetriable: Bool
        /// The HTTP status a REST answer carries, for the kinds that fix one (`ConnectRestException`'s status code).
        public let httpStatus: Int?

        public init(className: String, isRetriable: Bool = false, httpStatus: Int? = nil) {
            self.className = className
            self.isRetriable = isRetriable
            self.httpStatus = httpStatus
        }

        public static let connect = Kind(className: "org.apache.kafka.connect.errors.ConnectException")
        public static let data = Kind(className: "org.apache.kafka.connect.errors.DataException")
        public static let retriable = Kind(
            className: "org.apache.kafka.connect.errors.RetriableException", isRetriable: true)
        public static let notFound = Kind(className: "org.apache.kafka.connect.errors.NotFoundException")
        public static let alreadyExists = Kind(className: "org.apache.kafka.connect.errors.AlreadyExistsException")
        public static let config = Kind(className: "org.apache.kafka.common.config.ConfigException")
        public static let illegalArgument = Kind(className: "java.lang.IllegalArgumentException")
        public static let illegalState = Kind(className: "java.lang.IllegalStateException")
        public static let serialization = Kind(className: "org.apache.kafka.common.errors.SerializationException")
        public static let io = Kind(className: "java.io.IOException")
    }

    public var kind: Kind
    public var message: String
    /// Where the error happened, outermost last, rendered as `\tat ...` lines.
    public var context: [String]
    public var cause: CauseBox?
    /// For a request that must run on another worker of the cluster (Connect's `RequestTargetException`:
    /// `NotLeaderException`, `NotAssignedException`): that worker's advertised URL, nil when unknown.
    public var requestTarget: String?

    public init(_ kind: Kind, _ message: String, cause: (any Error)? = nil, context: [String] = []) {
        self.kind = kind
        self.message = message
        self.context = context
        self.cause = cause.map { CauseBox($0) }
    }

    public static func connect(_ message: String, cause: (any Error)? = nil) -> ConnectError {
        ConnectError(.connect, message, cause: cause)
    }
    public static func data(_ message: String, cause: (any Error)? = nil) -> ConnectError {
        ConnectError(.data, message, cause: cause)
    }
    public static func config(_ message: String) -> ConnectError { ConnectError(.config, message) }
    /// `ConfigException(name, value, message)`: "Invalid value <v> for configuration <name>: <message>".
    /// The value of a secret key reads `[hidden]`.
    public static func invalidConfig(_ name: String, _ value: String?, _ reason: String?) -> ConnectError {
        let shown = value.map { SecretRedaction.isSecret(name) ? SecretRedaction.hidden : $0 } ?? "null"
        return ConnectError(
            .config, "Invalid value \(shown) for configuration \(name)" + (reason.map { ": " + $0 } ?? ""))
    }

    public var isRetriable: Bool { kind.isRetriable }

    public func adding(context line: String) -> ConnectError {
        var e = self
        e.context.append(line)
        return e
    }

    public var description: String { "\(kind.className): \(message)" }

    /// A trace in Connect's layout: `Class: message`, `\tat` context lines, then `Caused by: ...` for each cause.
    public var trace: String {
        var lines = [description]
        for c in context { lines.append("\tat " + c) }
        var next = cause?.error
        while let error = next {
            if let ce = error as? ConnectError {
                lines.append("Caused by: " + ce.description)
                for c in ce.context { lines.append("\tat " + c) }
                next = ce.cause?.error
            } else {
                lines.append("Caused by: " + ConnectError.describe(error))
                next = nil
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `Class: message` for any error.
    public static func describe(_ error: any Error) -> String {
        if let ce = error as? ConnectError { return ce.description }
        if let d = error as? any CustomStringConvertible { return d.description }
        return String(describing: error)
    }

    /// Wraps any error as a ConnectError, keeping ConnectErrors as they are.
    public static func wrap(_ error: any Error, _ message: String? = nil) -> ConnectError {
        if let ce = error as? ConnectError, message == nil { return ce }
        return ConnectError(.connect, message ?? describe(error), cause: error)
    }
}

/// Holds an error cause; errors are values, but the chain is recursive.
public final class CauseBox: Sendable {
    public let error: any Error
    public init(_ error: any Error) { self.error = error }
}

extension ConnectError {
    /// The configuration key a ConfigException names (`... for configuration <key>: ...`,
    /// `Missing required configuration "<key>" ...`), for reporting it under that key.
    public var configKey: String? {
        for marker in ["for configuration ", "Missing required configuration \""] {
            guard let r = message.firstRange(of: marker) else { continue }
            let rest = message[r.upperBound...]
            return String(rest.prefix { $0 != ":" && $0 != "\"" && $0 != " " })
        }
        return nil
    }
}
