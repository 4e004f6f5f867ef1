import Foundation

/// A failure trace taken apart: the exception chain (outermost first), the frame lines, and the stage the failure
/// happened in. Reads Apache Kafka Connect's Java traces (as `/status` shows them, as logs print them, with or
/// without the leading tab, even flattened onto one line) and Swift Connect's, which use the same layout.
public struct TraceAnalysis: Sendable, Equatable {
    /// One `Class: message` of the chain.
    public struct Exception: Sendable, Equatable {
        public var className: String
        public var message: String
        /// The `at ...` lines printed under this exception, without the `at`.
        public var frames: [String] = []

        /// The line as the trace shows it.
        public var line: String { message.isEmpty ? className : "\(className): \(message)" }
        /// The class name without its package.
        public var simpleName: String { String(className.split(separator: ".").last ?? Substring(className)) }
    }

    public var exceptions: [Exception]
    /// `at ...` lines, in order, without the `at`.
    public var frames: [String]
    /// Connect's stage name (`VALUE_CONVERTER`, `TRANSFORMATION`, `TASK_PUT`, ...), when the trace tells.
    public var stage: String?
    /// The error codes the trace carries, normalised (lower case): `sqlstate:23505`, `ora-01017`,
    /// `sr:40401` (Schema Registry), `http:403`, `es:cluster_block_exception` (an Elasticsearch or
    /// OpenSearch error type). Rules match them with `codes_any` (a trailing `*` matches a prefix, as `sqlstate:23*`).
    public var codes: Set<String>
    public var text: String
    /// The code that threw the innermost exception that shows frames: its first frame outside the Java platform
    /// and Connect's data API, and the kind of component it belongs to.
    public var thrower: Thrower?

    /// Where an exception was thrown: a frame (`package.Class.method(File.java:12)`) and its component.
    public struct Thrower: Sendable, Equatable {
        public var frame: String
        public var component: Component
        /// Whether the frame is under the root cause; else under an exception that wraps it (the root cause was
        /// printed without frames), so the frame is where it was caught.
        public var atRoot: Bool

        /// The class without its package or method: `ChangeCase` for `a.b.ChangeCase.convertStruct(...)`.
        public var simpleClassName: String {
            let method = frame.prefix { $0 != "(" }
            let parts = method.split(separator: ".")
            return parts.count >= 2 ? String(parts[parts.count - 2]) : String(method)
        }
    }

    /// The kinds of code a Connect trace passes through, told by package and class names.
    public enum Component: String, Sendable, Equatable {
        case transform, converter, jdbcDriver, httpClient, kafkaClient, runtime, plugin

        /// How the doctor names it to a person.
        public var description: String {
            switch self {
            case .transform: "a transform"
            case .converter: "a converter"
            case .jdbcDriver: "the JDBC driver"
            case .httpClient: "an HTTP client"
            case .kafkaClient: "Kafka's client"
            case .runtime: "Connect's runtime"
            case .plugin: "the connector or plug-in"
            }
        }
    }

    /// The innermost exception: what actually went wrong.
    public var rootCause: Exception? { exceptions.last }

    public init(_ text: String) {
        self.text = text
        var exceptions: [Exception] = []
        var frames: [String] = []
        // A trace pasted onto one line keeps its structure in the "Caused by:" and " at " markers.
        let lines = Self.splitLines(text)
        for raw in lines {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("...") { continue }
            if line.hasPrefix("at ") {
                let frame = String(line.dropFirst(3))
                frames.append(frame)
                if !exceptions.isEmpty { exceptions[exceptions.count - 1].frames.append(frame) }
                continue
            }
            var body = Substring(line)
            if body.hasPrefix("Caused by: ") { body = body.dropFirst("Caused by: ".count) }
            if let e = Self.exception(body) {
                exceptions.append(e)
            } else if var last = exceptions.popLast() {
                // A message continued over several lines.
                last.message += (last.message.isEmpty ? "" : "\n") + line
                exceptions.append(last)
            } else {
                exceptions.append(Exception(className: "", message: line))
            }
        }
        self.exceptions = exceptions
        self.frames = frames
        stage = Self.stage(text: text, frames: frames)
        codes = Self.codes(text)
        thrower = Self.thrower(exceptions)
        // A trace without Connect's stage frames (a log's short trace, a plug-in's own wrapper) still tells a
        // transform's failure by the code that threw.
        if stage == nil, let thrower, thrower.atRoot, thrower.component == .transform { stage = "TRANSFORMATION" }
    }

    /// Lines, with a flattened trace's `Caused by:` and `\tat` markers turned back into line breaks.
    static func splitLines(_ text: String) -> [String] {
        var t = text.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")
        t = t.replacingOccurrences(of: " Caused by: ", with: "\nCaused by: ")
        t = t.replacingOccurrences(of: "\tat ", with: "\nat ")
        return t.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// `a.b.SomeException: message` (or `SomeError`, or a bare class), else nil.
    static func exception(_ line: Substring) -> Exception? {
        let head = line.prefix { $0 != ":" && $0 != " " }
        guard !head.isEmpty, head.first?.isLetter == true,
            head.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "$" || $0 == "_" })
        else { return nil }
        let simple = head.split(separator: ".").last ?? head
        let looksLikeClass =
            simple.hasSuffix("Exception") || simple.hasSuffix("Error") || simple.hasSuffix("Throwable")
            || (head.contains(".") && simple.first?.isUppercase == true)
        guard looksLikeClass else { return nil }
        var rest = line.dropFirst(head.count)
        if rest.hasPrefix(":") { rest = rest.dropFirst() } else if !rest.isEmpty { return nil }
        return Exception(className: String(head), message: rest.trimmingCharacters(in: .whitespaces))
    }

    /// The stage, from an explicit mention (`stage 'VALUE_CONVERTER'`, Swift Connect's `[VALUE_CONVERTER]`) or
    /// from the frames Connect's runtime leaves (`WorkerSinkTask.convertValue`, `TransformationChain.apply`, ...).
    static func stage(text: String, frames: [String]) -> String? {
        if let r = text.range(of: "stage '") {
            let rest = text[r.upperBound...]
            if let end = rest.firstIndex(of: "'") { return String(rest[..<end]) }
        }
        for stage in knownStages where text.contains("[\(stage)]") { return stage }
        for frame in frames {
            for (marker, stage) in frameStages where frame.contains(marker) { return stage }
        }
        return nil
    }

    /// Error codes in the text (see `codes`). Regular expressions from Foundation; the forms are those of the
    /// JDBC drivers (`SQLState: 23505`, `SQLSTATE[23505]`), Oracle, the Schema Registry client and Elasticsearch's bodies.
    static func codes(_ text: String) -> Set<String> {
        var out = Set<String>()
        func each(_ pattern: String, _ make: (String) -> String) {
            guard let re = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { return }
            let ns = text as NSString
            for m in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) where m.numberOfRanges > 1 {
                out.insert(make(ns.substring(with: m.range(at: 1)).lowercased()))
            }
        }
        each(#"\bsql\s*state(?:\s*[:=]\s*|\s*\[\s*)([0-9a-z]{5})\b"#) { "sqlstate:\($0)" }
        each(#"\b(ora-[0-9]{5})\b"#) { $0 }
        // The Schema Registry's codes: three digits (HTTP) or five; a MySQL "Error code: 1236" is neither.
        each(#"error code:\s*([0-9]{5}|[0-9]{3})\b"#) { "sr:\($0)" }
        each(#"(?:\bhttp/1\.[01]|\bstatus(?: code)?|\bstatuscode|\"status\")\s*[:=]?\s*([1-5][0-9]{2})\b"#) {
            "http:\($0)"
        }
        each(#"\"type\"\s*:\s*\"([a-z_]+_exception)\""#) { "es:\($0)" }
        return out
    }

    /// The first frame, innermost exception first, that is neither the Java platform's nor Connect's data API
    /// (`Struct.get` throws for the transform that called it).
    static func thrower(_ exceptions: [Exception]) -> Thrower? {
        for (i, e) in exceptions.enumerated().reversed() {
            for frame in e.frames {
                let f = frame.trimmingCharacters(in: .whitespaces)
                if platformPackages.contains(where: { f.hasPrefix($0) }) { continue }
                return Thrower(frame: f, component: component(of: f), atRoot: i == exceptions.count - 1)
            }
        }
        return nil
    }

    static let platformPackages = [
        "java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "scala.", "org.apache.kafka.connect.data.",
        "org.apache.kafka.connect.errors.", "com.google.common.", "org.apache.commons.",
    ]

    /// The component a frame's class belongs to, from its package and class name.
    static func component(of frame: String) -> Component {
        let f = frame.lowercased()
        let method = f.prefix { $0 != "(" }
        let parts = method.split(separator: ".")
        let simple = parts.count >= 2 ? parts[parts.count - 2] : method
        func under(_ packages: [String]) -> Bool { packages.contains { f.hasPrefix($0) } }
        if under([
            "org.apache.kafka.connect.runtime.", "org.apache.kafka.connect.storage.", "org.apache.kafka.connect.util.",
        ]) {
            return .runtime
        }
        if under(["org.apache.kafka.connect.transforms."])
            || [".transforms.", ".transform.", ".smt.", ".smts."]
                .contains(where: { f.contains($0) })
            || simple.hasSuffix("transform") || simple.hasSuffix("transformation")
        {
            return .transform
        }
        if (simple.hasSuffix("converter") && (method.hasSuffix("connectdata") || method.hasSuffix(".configure")))
            || f.contains(".converters.")
            || under([
                "io.confluent.connect.avro.", "io.confluent.connect.json.", "io.confluent.connect.protobuf.",
                "io.confluent.kafka.serializers.", "io.confluent.kafka.schemaregistry.", "io.apicurio.registry.",
            ])
        {
            return .converter
        }
        if under([
            "org.postgresql.", "com.mysql.", "org.mariadb.", "oracle.jdbc.", "oracle.net.", "com.microsoft.sqlserver.",
            "com.ibm.db2.", "net.sourceforge.jtds.", "org.sqlite.", "org.h2.", "org.apache.derby.", "org.hsqldb.",
            "com.clickhouse.", "ru.yandex.clickhouse.", "net.snowflake.client.", "com.ibm.as400.", "org.firebirdsql.",
        ]) {
            return .jdbcDriver
        }
        if under([
            "org.apache.http.", "org.apache.hc.", "okhttp3.", "org.elasticsearch.client.", "org.opensearch.client.",
            "io.netty.", "org.eclipse.jetty.client.", "com.google.api.client.http.", "software.amazon.awssdk.http.",
            "com.amazonaws.http.", "reactor.netty.",
        ]) {
            return .httpClient
        }
        if under(["org.apache.kafka.clients.", "org.apache.kafka.common."]) { return .kafkaClient }
        return .plugin
    }

    static let knownStages = [
        "KEY_CONVERTER", "VALUE_CONVERTER", "HEADER_CONVERTER", "TRANSFORMATION", "TASK_PUT", "TASK_POLL",
        "KAFKA_PRODUCE", "KAFKA_CONSUME",
    ]

    /// Frames of Connect's runtime (and of well-known converters) and the stage they mean, most specific first.
    static let frameStages: [(String, String)] = [
        ("WorkerSinkTask.convertKey", "KEY_CONVERTER"), ("WorkerSinkTask.convertValue", "VALUE_CONVERTER"),
        ("WorkerSinkTask.convertHeadersFor", "HEADER_CONVERTER"), ("TransformationChain", "TRANSFORMATION"),
        ("transforms.", "TRANSFORMATION"), ("Converter.toConnectData", "VALUE_CONVERTER"),
        ("Converter.fromConnectData", "VALUE_CONVERTER"), ("WorkerSinkTask.deliverMessages", "TASK_PUT"),
        ("SinkTask.put", "TASK_PUT"), ("WorkerSourceTask.poll", "TASK_POLL"), ("SourceTask.poll", "TASK_POLL"),
        ("KafkaProducer.send", "KAFKA_PRODUCE"), ("KafkaConsumer.poll", "KAFKA_CONSUME"),
    ]
}
