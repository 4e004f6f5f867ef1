import ConnectAPI
import DebeziumCore

extension PostgresTable: CapturedTable {}

/// The connector's change event records (`ChangeEventBuilder`), with its offsets and database.
struct PostgresEventBuilder {
    let config: PostgresConnectorConfig
    let database: String
    let core: ChangeEventBuilder

    init(config: PostgresConnectorConfig, database: String) {
        self.config = config
        self.database = database
        core = ChangeEventBuilder(serverName: config.serverName, tombstonesOnDelete: config.tombstonesOnDelete)
    }

    static func nowMicros() -> Int64 { ChangeEventBuilder.nowMicros() }

    func event(
        _ op: Envelope.Operation, table: PostgresTable, key: Struct?, before: Struct?, after: Struct?, source: Struct,
        offset: PostgresOffset, headers: Headers = Headers()
    ) throws(ConnectError) -> SourceRecord {
        try core.event(
            op, table: table, key: key, before: before, after: after, source: source, offset: offset.map,
            headers: headers)
    }

    func delete(
        table: PostgresTable, key: Struct?, before: Struct?, source: Struct, offset: PostgresOffset,
        headers: Headers = Headers()
    ) throws(ConnectError) -> [SourceRecord] {
        try core.delete(table: table, key: key, before: before, source: source, offset: offset.map, headers: headers)
    }

    func truncate(table: PostgresTable, source: Struct, offset: PostgresOffset) throws(ConnectError) -> SourceRecord {
        try core.truncate(table: table, source: source, offset: offset.map)
    }
}
