import ConnectAPI

#if canImport(Glibc)
    import Glibc
#endif

/// `org.apache.kafka.connect.file.FileStreamSourceConnector`: streams the lines of a file (or stdin) to a topic.
public final class FileStreamSourceConnector: SourceConnector {
    public static let className = "org.apache.kafka.connect.file.FileStreamSourceConnector"
    public static var version: String? { ConnectVersion.kafka }

    public static let configDef = ConfigDef()
        .define(
            "file", .string, default: .none, importance: .high,
            documentation: "Source filename. If not specified, the standard input will be used"
        )
        .define(
            "topic", .string, default: .required, validator: .nonEmptyString, importance: .high,
            documentation: "The topic to publish data to"
        )
        .define(
            "batch.size", .int, default: 2000, validator: .atLeast(1), importance: .low,
            documentation: "The maximum number of records the source task can read from the file each time it is polled"
        )

    private var props: [String: String] = [:]

    public init() {}

    public var taskType: any Task.Type { FileStreamSourceTask.self }

    public func start(_ props: [String: String]) throws {
        _ = try Self.configDef.parse(props)
        self.props = props
    }

    /// One task only: a file has one reader.
    public func taskConfigs(maxTasks: Int) throws -> [[String: String]] { [props] }

    public func stop() throws {}

    /// Offsets are `{"filename": …}` → `{"position": <bytes>}`, all kept by the framework.
    public func alterOffsets(
        _ config: [String: String], _ offsets: [(partition: OffsetMap, offset: OffsetMap?)]
    )
        throws -> Bool
    {
        for (partition, offset) in offsets {
            guard partition[FileStreamSourceTask.filenameField] != nil else {
                throw ConnectError(.connect, "Partition objects should contain the key 'filename'")
            }
            guard let offset else { continue }
            guard let position = offset[FileStreamSourceTask.positionField] else {
                throw ConnectError(.connect, "Offset objects should either be null or contain the key 'position'")
            }
            guard let p = position.int64Value, p >= 0 else {
                throw ConnectError(
                    .connect, "The value for the 'position' key in the offset is expected to be a non-negative integer")
            }
        }
        return true
    }
}

/// Reads new lines of the file from the last committed byte position.
public final class FileStreamSourceTask: SourceTask {
    public static let filenameField = "filename"
    public static let positionField = "position"

    private var context: (any SourceTaskContext)?
    private var filename: String?
    private var topic = ""
    private var batchSize = 2000
    private var handle: UnsafeMutablePointer<FILE>?
    private var position: Int64 = 0
    private var pending: [UInt8] = []

    public init() {}

    public func initialize(_ context: any SourceTaskContext) { self.context = context }

    public func start(_ props: [String: String]) throws {
        let config = try FileStreamSourceConnector.configDef.parse(props)
        filename = config.string("file").flatMap { $0.isEmpty ? nil : $0 }
        topic = config.string("topic") ?? ""
        batchSize = Int(config.int("batch.size") ?? 2000)
        if let filename, let offset = context?.offsetStorageReader.offset(for: [Self.filenameField: .string(filename)])
        {
            guard let p = offset[Self.positionField]?.int64Value else {
                throw ConnectError.connect("Offset position is the incorrect type")
            }
            position = p
        }
    }

    public func poll() throws -> [SourceRecord]? {
        if handle == nil {
            if let filename {
                guard let f = fopen(filename, "rb") else {
                    // Connect waits for the file to appear.
                    usleep(1_000_000)
                    return nil
                }
                if position > 0 && fseeko(f, off_t(position), SEEK_SET) != 0 {
                    fclose(f)
                    throw ConnectError.connect("Error while trying to seek to offset \(position) in file \(filename)")
                }
                handle = f
            } else {
                handle = fdopen(STDIN_FILENO, "rb")
            }
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = fread(&chunk, 1, chunk.count, handle)
        if n == 0 {
            clearerr(handle)
            usleep(200_000)
            return nil
        }
        pending.append(contentsOf: chunk[0..<n])
        var records: [SourceRecord] = []
        var start = 0
        var i = 0
        while i < pending.count && records.count < batchSize {
            let b = pending[i]
            if b == 0x0A || b == 0x0D {
                // A lone \r at the end of the buffer may be the start of \r\n: wait for more data.
                if b == 0x0D && i + 1 == pending.count { break }
                let line = String(decoding: pending[start..<i], as: UTF8.self)
                var end = i + 1
                if b == 0x0D && pending[i + 1] == 0x0A { end += 1 }
                position += Int64(end - start)
                records.append(record(line))
                start = end
                i = end
                continue
            }
            i += 1
        }
        pending.removeFirst(start)
        if !pending.isEmpty && records.count < batchSize {
            // Keep the partial line; re-read from its start next time so `position` stays a line boundary.
            fseeko(handle, -off_t(pending.count), SEEK_CUR)
            pending.removeAll()
        }
        return records
    }

    private func record(_ line: String) -> SourceRecord {
        SourceRecord(
            sourcePartition: filename.map { [Self.filenameField: .string($0)] },
            sourceOffset: filename.map { _ in [Self.positionField: .int64(position)] },
            topic: topic, valueSchema: Schema.string, value: .string(line),
            timestamp: Int64(time(nil)) * 1000)
    }

    public func stop() throws {
        if let handle, filename != nil { fclose(handle) }
        handle = nil
    }
}
