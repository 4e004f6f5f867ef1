import Foundation

/// A failure trace taken apart: the exception chain (outermost first), the frame lines, and the stage the failure
/// happened in. Reads Apache Kafka Connect's Java traces (as `/status` shows them, as logs print them, with or
/// without the leading tab, even flattened onto one line) and Swift Connect's, which use the same layout.
public struct TraceAnalysis: Sendable, Equatable {
    /// One `Class: message` of the chain.
    public struct Exception: Sendable, Equatable {
        public var className: String
        public var message: String

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
                frames.append(String(line.dropFirst(3)))
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
