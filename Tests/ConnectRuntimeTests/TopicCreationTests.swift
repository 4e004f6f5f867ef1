import ConnectAPI
import Testing

@testable import ConnectRuntime

/// KIP-158's topic creation settings, as Connect's `TopicCreationConfig` reads them.
struct TopicCreationTests {
    @Test("off without topic.creation.* keys, or when the worker turns it off")
    func off() throws {
        #expect(try TopicCreation(connectorConfig: ["name": "x"], workerEnabled: true) == nil)
        let props = ["topic.creation.default.replication.factor": "1", "topic.creation.default.partitions": "3"]
        #expect(try TopicCreation(connectorConfig: props, workerEnabled: false) == nil)
        #expect(try TopicCreation(connectorConfig: props, workerEnabled: true)?.group(for: "t").partitions == 3)
    }

    @Test("the first group whose include matches and exclude does not, else default; other keys are topic configs")
    func groups() throws {
        let creation = try #require(
            try TopicCreation(
                connectorConfig: [
                    "topic.creation.groups": "compacted, big",
                    "topic.creation.default.replication.factor": "-1", "topic.creation.default.partitions": "1",
                    "topic.creation.compacted.include": "status-.*, config-.*",
                    "topic.creation.compacted.exclude": "status-skip",
                    "topic.creation.compacted.cleanup.policy": "compact",
                    "topic.creation.big.include": ".*", "topic.creation.big.partitions": "12",
                ], workerEnabled: true))
        let status = creation.group(for: "status-a")
        #expect(status.name == "compacted" && status.configs == ["cleanup.policy": "compact"])
        // A group without its own factor or partitions takes default's.
        #expect(status.replicationFactor == -1 && status.partitions == 1)
        #expect(creation.group(for: "status-skip").name == "big")
        #expect(creation.group(for: "orders").partitions == 12)
    }

    @Test("default needs a replication factor and partitions; a count must be -1 or positive; each names its key")
    func errors() {
        #expect {
            _ = try TopicCreation(connectorConfig: ["topic.creation.default.partitions": "1"], workerEnabled: true)
        } throws: { ($0 as? ConnectError)?.configKey == "topic.creation.default.replication.factor" }
        #expect {
            _ = try TopicCreation(
                connectorConfig: [
                    "topic.creation.default.replication.factor": "0", "topic.creation.default.partitions": "1",
                ], workerEnabled: true)
        } throws: { ($0 as? ConnectError)?.configKey == "topic.creation.default.replication.factor" }
    }

    @Test("validation lists every error with its key: duplicate groups, default's missing settings, a bad count")
    func allErrors() {
        let errors = TopicCreation.errors(
            [
                "topic.creation.groups": "big, big", "topic.creation.big.partitions": "0",
                "topic.creation.big.include": "orders.*",
            ], workerEnabled: true)
        #expect(
            errors.map(\.key) == [
                "topic.creation.groups", "topic.creation.big.partitions", "topic.creation.default.replication.factor",
                "topic.creation.default.partitions",
            ])
        #expect(errors.first?.message.hasSuffix("Duplicate alias provided.") == true)
        // `topic.creation.groups` alone turns creation on, as any topic.creation.* key does in Connect.
        #expect(TopicCreation.errors(["topic.creation.groups": "a"], workerEnabled: true).count == 2)
        // A worker that does not create topics checks only the group names, as Connect's definition does.
        #expect(TopicCreation.errors(["topic.creation.groups": "a, a"], workerEnabled: false).count == 1)
        #expect(TopicCreation.errors(["topic.creation.groups": "a"], workerEnabled: false).isEmpty)
    }
}
