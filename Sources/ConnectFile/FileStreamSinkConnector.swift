import ConnectAPI

#if canImport(Glibc)
    import Glibc
#endif

/// `org.apache.kafka.connect.file.FileStreamSinkConnector`: appends each record's value (`toString()`) and a newline
/// to a file, or to stdout.
public final class FileStreamSinkConnector: SinkConnector {
    public static let className = "org.apache.kafka.connect.file.FileStreamSinkConnector"
    public static var version: String? { ConnectVersion.kafka }

    public static let configDef = ConfigDef()
        .define(
            "file", .string, default: .none, importance: .high,
            documentation: "Destination filename. If not specified, the standard output will be used")

    private var props: [String: String] = [:]

    public init() {}

    public var taskType: any Task.Type { FileStreamSinkTask.self }

    public func start(_ props: [String: String]) throws {
        _ = try Self.configDef.parse(props)
        self.props = props
    }

    public func taskConfigs(maxTasks: Int) throws -> [[String: String]] {
        Array(repeating: props, count: max(1, maxTasks))
    }

    public func stop() throws {}

    /// A file keeps no offsets: the consumer group's are the whole story.
    public func alterOffsets(
        _ config: [String: String], _ offsets: [(partition: OffsetMap, offset: OffsetMap?)]
    )
        throws -> Bool
    { true }
}

/// Writes every batch with one `write` call, so what `put` returned is in the operating system's hands even if the
/// worker is killed right after.
public final class FileStreamSinkTask: SinkTask {
    private var fd: Int32 = -1
    private var filename: String?

    public init() {}

    public func initialize(_ context: any SinkTaskContext) {}

    public func start(_ props: [String: String]) throws {
        let config = try FileStreamSinkConnector.configDef.parse(props)
        filename = config.string("file").flatMap { $0.isEmpty ? nil : $0 }
        if let filename {
            fd = Glibc.open(filename, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw ConnectError.connect(
                    "Couldn't find or create file '\(filename)' for FileStreamSinkTask",
                    cause: ConnectError(.io, String(cString: strerror(errno))))
            }
        } else {
            fd = STDOUT_FILENO
        }
    }

    public func put(_ records: [SinkRecord]) throws {
        guard !records.isEmpty else { return }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(records.count * 128)
        for r in records {
            ValueFormatter.write(r.value, into: &buffer)
            buffer.append(0x0A)
        }
        var written = 0
        while written < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ConnectError(
                    .io, "Failed to write to \(filename ?? "stdout"): \(String(cString: strerror(errno)))")
            }
            written += n
        }
    }

    public func flush(_ currentOffsets: [TopicPartition: Int64]) throws {
        if fd >= 0 && fd != STDOUT_FILENO && fsync(fd) != 0 && errno != EINVAL {
            throw ConnectError(.io, "Failed to flush \(filename ?? "stdout"): \(String(cString: strerror(errno)))")
        }
    }

    public func stop() throws {
        if fd >= 0 && fd != STDOUT_FILENO { Glibc.close(fd) }
        fd = -1
    }
}
