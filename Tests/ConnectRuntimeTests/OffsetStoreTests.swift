import ConnectAPI
import ConnectRuntime
import ConnectWorkerKit
import Foundation
import Testing

@Suite struct OffsetStoreTests {
    func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("offsets-\(UUID().uuidString)").path
    }

    @Test("keys and values use Connect's schemaless JSON form")
    func codec() {
        let key = OffsetCodec.key(connector: "file-source", partition: ["filename": .string("/tmp/a.txt")])
        #expect(String(decoding: key, as: UTF8.self) == #"["file-source",{"filename":"/tmp/a.txt"}]"#)
        let value = OffsetCodec.value(["position": .int64(42)])!
        #expect(String(decoding: value, as: UTF8.self) == #"{"position":42}"#)
        #expect(OffsetCodec.decodeValue(value) == ["position": .int64(42)])
        #expect(OffsetCodec.decodeKey(key)?.connector == "file-source")
    }

    @Test("offsets written to the file are read back by a new store, and removed keys stay removed")
    func survivesRestart() throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try FileOffsetBackingStore(path: path)
        let k1 = OffsetCodec.key(connector: "c", partition: ["p": .int32(1)])
        let k2 = OffsetCodec.key(connector: "c", partition: ["p": .int32(2)])
        try store.set([k1: OffsetCodec.value(["o": .int64(10)]), k2: OffsetCodec.value(["o": .int64(20)])])
        try store.set([k2: nil])
        let reopened = try FileOffsetBackingStore(path: path)
        #expect(reopened.get([k1, k2]) == [k1: OffsetCodec.value(["o": .int64(10)])!])
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    @Test("a corrupt offset file is reported with its path, not silently ignored")
    func corruptFile() throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{not json".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try FileOffsetBackingStore(path: path)
        } throws: { error in
            (error as? ConnectError)?.message.contains(path) == true
        }
    }
}
