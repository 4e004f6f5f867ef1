import ConnectAPI
import ConnectConverters
import JSON
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where source offsets live: a map from serialized key to serialized value, as Connect's `OffsetBackingStore`.
/// Keys are Connect's JSON `["<connector>", {<partition>}]`; values the offset as JSON (nil removes the key).
public protocol OffsetBackingStore: Sendable {
    func get(_ keys: [[UInt8]]) -> [[UInt8]: [UInt8]]
    func set(_ values: [[UInt8]: [UInt8]?]) throws(ConnectError)
    /// Every entry (for listing a connector's offsets).
    func all() -> [[UInt8]: [UInt8]]
}

/// Offsets in memory (tests, and the base of the file store).
public final class MemoryOffsetBackingStore: OffsetBackingStore {
    let data = Mutex<[[UInt8]: [UInt8]]>([:])

    public init() {}

    public func get(_ keys: [[UInt8]]) -> [[UInt8]: [UInt8]] {
        data.withLock { d in
            var out: [[UInt8]: [UInt8]] = [:]
            for k in keys { if let v = d[k] { out[k] = v } }
            return out
        }
    }

    public func set(_ values: [[UInt8]: [UInt8]?]) throws(ConnectError) {
        data.withLock { d in
            for (k, v) in values { d[k] = v }
        }
    }

    public func all() -> [[UInt8]: [UInt8]] { data.withLock { $0 } }
}

/// Offsets in a file (`offset.storage.file.filename`), rewritten whole on every flush: written to a temporary file,
/// synced, then renamed over the old one, so a crash leaves either the old or the new offsets, never a torn file.
/// The file holds a JSON array of `[key, value]` pairs, both in Connect's JSON form.
public final class FileOffsetBackingStore: OffsetBackingStore {
    public let path: String
    private let memory = MemoryOffsetBackingStore()
    private let writeLock = Mutex<Void>(())

    public init(path: String) throws(ConnectError) {
        self.path = path
        try load()
    }

    private func load() throws(ConnectError) {
        guard access(path, F_OK) == 0 else { return }
        let text = try readText(path)
        if text.isEmpty { return }
        let json: JSONValue
        do {
            json = try JSONParser.parse(text)
        } catch {
            throw ConnectError.connect("Offset file \(path) is not valid JSON: \(error)")
        }
        var entries: [[UInt8]: [UInt8]?] = [:]
        for pair in json.arrayValue ?? [] {
            guard let kv = pair.arrayValue, kv.count == 2 else { continue }
            entries[JSONWriter.bytes(kv[0])] = JSONWriter.bytes(kv[1])
        }
        try memory.set(entries)
    }

    public func get(_ keys: [[UInt8]]) -> [[UInt8]: [UInt8]] { memory.get(keys) }
    public func all() -> [[UInt8]: [UInt8]] { memory.all() }

    public func set(_ values: [[UInt8]: [UInt8]?]) throws(ConnectError) {
        try writeLock.withLock { _ throws(ConnectError) in
            try memory.set(values)
            try persist(memory.all())
        }
    }

    private func persist(_ snapshot: [[UInt8]: [UInt8]]) throws(ConnectError) {
        var pairs: [JSONValue] = []
        for (k, v) in snapshot.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let key = (try? JSONParser.parse(k)) ?? .null
            let value = (try? JSONParser.parse(v)) ?? .null
            pairs.append(.array([key, value]))
        }
        let bytes = Array((JSONWriter.string(.array(pairs)) + "\n").utf8)
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ConnectError.connect("Cannot write offsets to \(tmp): \(String(cString: strerror(errno)))")
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                throw ConnectError.connect("Cannot write offsets to \(tmp): \(reason)")
            }
            written += n
        }
        fsync(fd)
        close(fd)
        guard rename(tmp, path) == 0 else {
            throw ConnectError.connect("Cannot replace offset file \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Connect's serialized form of source partitions and offsets: schemaless JSON.
public enum OffsetCodec {
    public static func key(connector: String, partition: OffsetMap) -> [UInt8] {
        JSONWriter.bytes(.array([.string(connector), json(partition)]))
    }

    public static func value(_ offset: OffsetMap?) -> [UInt8]? {
        offset.map { JSONWriter.bytes(json($0)) }
    }

    /// Decodes a key into its connector name and partition.
    public static func decodeKey(_ bytes: [UInt8]) -> (connector: String, partition: OffsetMap)? {
        guard let json = try? JSONParser.parse(bytes), let arr = json.arrayValue, arr.count == 2,
            let name = arr[0].stringValue, let p = arr[1].objectValue
        else { return nil }
        return (name, offsetMap(p))
    }

    public static func decodeValue(_ bytes: [UInt8]) -> OffsetMap? {
        guard let json = try? JSONParser.parse(bytes), let o = json.objectValue else { return nil }
        return offsetMap(o)
    }

    /// An offset map as schemaless JSON, keys sorted (Connect writes offsets with a schemaless JsonConverter).
    public static func json(_ map: OffsetMap) -> JSONValue {
        let entries = map.sorted { $0.key < $1.key }.map { Value.MapEntry(.string($0.key), $0.value) }
        return (try? schemaless.toJSON(schema: nil, value: .map(entries))) ?? .null
    }

    public static func offsetMap(_ o: JSONObject) -> OffsetMap {
        var out: OffsetMap = [:]
        for (k, v) in o { if let value = JsonConverter.inferValue(v) { out[k] = value } }
        return out
    }

    /// A schemaless converter (made per use: offsets are written once per flush, not per record).
    private static var schemaless: JsonConverter {
        let c = JsonConverter()
        try? c.configure(["schemas.enable": "false"], isKey: false)
        return c
    }
}

/// Reads one connector's committed offsets.
public struct ConnectorOffsetReader: OffsetStorageReader {
    let connector: String
    let store: any OffsetBackingStore

    public func offset(for partition: OffsetMap) -> OffsetMap? {
        let key = OffsetCodec.key(connector: connector, partition: partition)
        return store.get([key])[key].flatMap(OffsetCodec.decodeValue)
    }
}
