import ConnectAPI
import ConnectREST
import ConnectRuntime
import ConnectTestKit
import ConnectWorkerKit
import Foundation
import JSON
import Logging
import Testing

@Suite("FileStream source and sink through a real Tansu broker", .serialized, .timeLimit(.minutes(5)))
struct FileStreamPipelineTests {
    let broker = TansuBroker.shared

    @Test(
        "lines appended to a file reach the sink file once each, also across a worker restart, with Connect's offsets")
    func fileToFile() throws {
        let dir = try ProjectPaths.temporaryDirectory("filestream")
        let topic = "lines-\(UInt32.random(in: 0...UInt32.max))"
        let input = dir.appendingPathComponent("input.txt").path
        let output = dir.appendingPathComponent("output.txt").path
        let offsets = dir.appendingPathComponent("connect.offsets").path
        try "line-0\nline-1\nline-2\n".write(toFile: input, atomically: true, encoding: .utf8)
        let source = dir.appendingPathComponent("source.properties")
        try "name=file-source\nconnector.class=FileStreamSource\nfile=\(input)\ntopic=\(topic)\n"
            .write(to: source, atomically: true, encoding: .utf8)
        let sink = dir.appendingPathComponent("sink.properties")
        try "name=file-sink\nconnector.class=FileStreamSinkConnector\ntopics=\(topic)\nfile=\(output)\n"
            .write(to: sink, atomically: true, encoding: .utf8)
        let props = [
            "bootstrap.servers": broker.bootstrapServers,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "offset.storage.file.filename": offsets, "offset.flush.interval.ms": "500",
            "listeners": "http://127.0.0.1:0",
            "consumer.session.timeout.ms": "6000",
        ]
        func start() throws -> Connect {
            try ConnectStandalone.start(
                workerProperties: nil, connectorFiles: [source.path, sink.path], extraProperties: props,
                logLevel: "WARN",
                environment: [:], logger: Logger(label: "test"))
        }
        func outputLines() -> [String] {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        var runtime = try start()
        #expect(ProjectPaths.waitUntil(30) { outputLines().count >= 3 })
        let handle = try #require(FileHandle(forWritingAtPath: input))
        handle.seekToEndOfFile()
        handle.write(Data("line-3\nline-4\n".utf8))
        #expect(ProjectPaths.waitUntil(30) { outputLines().count >= 5 })
        runtime.stop()

        // Connect's offset form: partition {"filename": ...}, offset {"position": <bytes read>}.
        let stored = try JSONParser.parse(String(contentsOfFile: offsets, encoding: .utf8))
        let entry = stored.arrayValue?.first { $0.arrayValue?[0].arrayValue?[0] == "file-source" }
        #expect(entry?.arrayValue?[0] == ["file-source", ["filename": .string(input)]])
        #expect(entry?.arrayValue?[1] == ["position": 35])

        handle.write(Data("line-5\n".utf8))
        try handle.close()
        runtime = try start()
        defer { runtime.stop() }
        #expect(ProjectPaths.waitUntil(30) { outputLines().count >= 6 })
        Thread.sleep(forTimeInterval: 1)
        // Records without keys spread over the partitions, so only the set and the count are fixed.
        #expect(outputLines().sorted() == (0...5).map { "line-\($0)" })
    }
}
