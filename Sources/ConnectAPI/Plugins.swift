/// Something with a version, as Connect's `Versioned`.
public protocol Versioned {
    /// The version reported by `/connector-plugins`; `nil` for plug-ins without one (shown without `version`).
    static var version: String? { get }
}

extension Versioned {
    public static var version: String? { nil }
}

/// A connector: configures itself and splits work into task configurations. Owned and called by the herder.
public protocol Connector: AnyObject, Versioned {
    init()
    /// Declared keys, which drive validation and `/connector-plugins/{p}/config`.
    static var configDef: ConfigDef { get }
    /// The task type this connector runs.
    var taskType: any Task.Type { get }
    func start(_ props: [String: String]) throws
    func taskConfigs(maxTasks: Int) throws -> [[String: String]]
    func stop() throws
    /// Extra validation beyond `configDef` (cross-key rules); returns errors by key.
    func validate(_ props: [String: String]) -> [String: [String]]
    /// Called before the offsets of a STOPPED connector are altered or reset (`offset` nil resets a partition):
    /// throws to refuse them; returns true when the connector keeps no offsets of its own elsewhere, so the
    /// framework's change is the whole change (Connect's `alterOffsets`). The default returns false.
    func alterOffsets(
        _ config: [String: String], _ offsets: [(partition: OffsetMap, offset: OffsetMap?)]
    ) throws
        -> Bool
}

extension Connector {
    public func validate(_ props: [String: String]) -> [String: [String]] { [:] }
    public func alterOffsets(
        _ config: [String: String], _ offsets: [(partition: OffsetMap, offset: OffsetMap?)]
    )
        throws -> Bool
    { false }
}

public protocol SourceConnector: Connector {}
public protocol SinkConnector: Connector {}

/// A task: does the work on its own thread. The runtime calls every method from that one thread.
public protocol Task: AnyObject {
    init()
    func start(_ props: [String: String]) throws
    func stop() throws
}

/// Reads offsets a source task committed earlier.
public protocol OffsetStorageReader: Sendable {
    func offset(for partition: OffsetMap) -> OffsetMap?
}

/// What a source task may ask of the runtime.
public protocol SourceTaskContext: Sendable {
    var offsetStorageReader: any OffsetStorageReader { get }
    var configs: [String: String] { get }
    /// Where the task registers MBeans of its own; nil where the runtime offers none (the default).
    var mbeanServer: (any PluginMBeanServer)? { get }
}

extension SourceTaskContext {
    public var mbeanServer: (any PluginMBeanServer)? { nil }
}

/// Kafka metadata of a record written by a source task.
public struct RecordMetadata: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

public protocol SourceTask: Task {
    func initialize(_ context: any SourceTaskContext)
    /// Returns new records, or nil/empty when none are ready. Should return within about a second so the runtime
    /// can stop the task promptly.
    func poll() throws -> [SourceRecord]?
    /// Called after offsets were flushed.
    func commit() throws
    /// Called when the broker acknowledged a record (metadata nil when a transform dropped it).
    func commitRecord(_ record: SourceRecord, metadata: RecordMetadata?) throws
    /// How many records the source system holds that this task has not polled yet ("position behind source"), when
    /// the task can tell; nil otherwise (the default). Called on the task's thread after each poll and exposed as
    /// the `swift_connect_source_task_behind_source_records` metric.
    func recordsBehindSource() -> Int64?
    /// How many bytes of the source system's log this task has still to read, or holds back on the server (a
    /// binlog's bytes after the task's position, the WAL a replication slot retains), when the task can tell; nil
    /// otherwise (the default). Called on the task's thread after each poll, so it should be cheap (cache a server
    /// query for a few seconds); exposed as the `swift_connect_source_task_behind_source_bytes` metric.
    func bytesBehindSource() -> Int64?
    /// Called on the task's thread about twice a second while the task is paused, instead of `poll` (an extension:
    /// Connect's `WorkerSourceTask` only stops polling). A task whose source drops silent readers keeps its
    /// connection alive here, as Debezium's PostgreSQL connector sends status updates from a keep-alive thread
    /// while its queue is full. The default does nothing.
    func whilePaused()
}

extension SourceTask {
    public func commit() throws {}
    public func commitRecord(_ record: SourceRecord, metadata: RecordMetadata?) throws {}
    public func recordsBehindSource() -> Int64? { nil }
    public func bytesBehindSource() -> Int64? { nil }
    public func whilePaused() {}
}

/// What a sink task may ask of the runtime.
public protocol SinkTaskContext: Sendable {
    var configs: [String: String] { get }
    func assignment() -> Set<TopicPartition>
    func pause(_ partitions: [TopicPartition])
    func resume(_ partitions: [TopicPartition])
    /// Rewinds consumption of a partition to `offset`.
    func offset(_ partition: TopicPartition, _ offset: Int64)
    func requestCommit()
    /// Reports records `put` could not process (KIP-610), so they follow the connector's error handling
    /// (`errors.tolerance`, the dead letter queue, the error log) instead of failing the batch. Nil unless the
    /// connector has a dead letter queue or `errors.log.enable=true`, as in Connect.
    var errantRecordReporter: (any ErrantRecordReporter)? { get }
    /// Where the task registers MBeans of its own; nil where the runtime offers none (the default).
    var mbeanServer: (any PluginMBeanServer)? { get }
}

extension SinkTaskContext {
    public var errantRecordReporter: (any ErrantRecordReporter)? { nil }
    public var mbeanServer: (any PluginMBeanServer)? { nil }
}

/// Takes a record a sink task failed to process (`ErrantRecordReporter`). `report` throws when the connector's
/// tolerance is exceeded (`errors.tolerance=none`); the task should let that error fail `put`.
public protocol ErrantRecordReporter: Sendable {
    func report(_ record: SinkRecord, error: any Error) throws
}

public protocol SinkTask: Task {
    func initialize(_ context: any SinkTaskContext)
    func open(_ partitions: [TopicPartition]) throws
    func put(_ records: [SinkRecord]) throws
    /// Makes everything put so far durable.
    func flush(_ currentOffsets: [TopicPartition: Int64]) throws
    /// Returns the offsets safe to commit; the default flushes and returns `currentOffsets`.
    func preCommit(_ currentOffsets: [TopicPartition: Int64]) throws -> [TopicPartition: Int64]
    func close(_ partitions: [TopicPartition]) throws
}

extension SinkTask {
    public func open(_ partitions: [TopicPartition]) throws {}
    public func close(_ partitions: [TopicPartition]) throws {}
    public func flush(_ currentOffsets: [TopicPartition: Int64]) throws {}
    public func preCommit(_ currentOffsets: [TopicPartition: Int64]) throws -> [TopicPartition: Int64] {
        try flush(currentOffsets)
        return currentOffsets
    }
}

/// Turns Connect data into bytes and back. One instance per task and role (key or value).
public protocol Converter: AnyObject, Versioned {
    init()
    static var configDef: ConfigDef { get }
    func configure(_ configs: [String: String], isKey: Bool) throws
    func fromConnectData(topic: String, headers: Headers, schema: Schema?, value: Value?) throws -> [UInt8]?
    func toConnectData(topic: String, headers: Headers, value: [UInt8]?) throws -> SchemaAndValue
}

/// Turns header values into bytes and back.
public protocol HeaderConverter: AnyObject, Versioned {
    init()
    static var configDef: ConfigDef { get }
    func configure(_ configs: [String: String]) throws
    func fromConnectHeader(topic: String, headerKey: String, schema: Schema?, value: Value?) throws -> [UInt8]?
    func toConnectHeader(topic: String, headerKey: String, value: [UInt8]?) throws -> SchemaAndValue
}

/// A single message transform. Returning nil drops the record.
public protocol Transformation: AnyObject, Versioned {
    init()
    static var configDef: ConfigDef { get }
    func configure(_ configs: [String: String]) throws
    func apply<R: ConnectRecord>(_ record: R) throws -> R?
    func close()
}

/// A condition a transform can be applied under.
public protocol Predicate: AnyObject, Versioned {
    init()
    static var configDef: ConfigDef { get }
    func configure(_ configs: [String: String]) throws
    func test<R: ConnectRecord>(_ record: R) throws -> Bool
    func close()
}
