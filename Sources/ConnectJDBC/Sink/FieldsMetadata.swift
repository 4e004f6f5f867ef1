import ConnectAPI
import Foundation

/// The columns one record is written to: the primary key columns (from `pk.mode` and `pk.fields`) and the value
/// columns (the value struct's other fields, limited by `fields.whitelist`), with the row's values (Confluent's
/// `FieldsMetadata.extract` and `PreparedStatementBinder`).
struct RecordRow {
    var keyColumns: [(name: String, schema: Schema)] = []
    var valueColumns: [(name: String, schema: Schema)] = []
    var keyValues: [Value?] = []
    var values: [Value?] = []

    /// Throws a DataException for a record the mode cannot write (a missing key, a value that is not a struct).
    init(_ record: SinkRecord, config: JdbcSinkConfig, isDelete: Bool) throws(ConnectError) {
        let coordinates =
            "(topic='\(record.topic)',partition=\(record.kafkaPartition ?? 0),offset=\(record.kafkaOffset))"
        var valueStruct: Struct?
        if !isDelete {
            guard case .struct(let s)? = record.value, record.valueSchema?.type == .struct else {
                throw ConnectError(
                    .connect,
                    "Sink connector is configured with 'delete.enabled=\(config.deleteEnabled)' and 'pk.mode=\(config.pkMode.rawValue)' and therefore requires records with a non-null Struct value and non-null Struct schema, but found record at \(coordinates) with a \(record.value.map { _ in "non-Struct" } ?? "null") value and \(record.valueSchema.map { $0.type.rawValue } ?? "null") value schema."
                )
            }
            valueStruct = s
        }
        switch config.pkMode {
        case .none:
            break
        case .kafka:
            let names =
                config.pkFields.count == 3
                ? config.pkFields : ["__connect_topic", "__connect_partition", "__connect_offset"]
            keyColumns = [(names[0], .string), (names[1], .int32), (names[2], .int64)]
            keyValues = [
                .string(record.topic), .int32(record.kafkaPartition ?? 0), .int64(record.kafkaOffset),
            ]
        case .recordKey:
            guard let keySchema = record.keySchema, let key = record.key else {
                throw ConnectError(
                    .connect, "PK mode for table is record_key, but the record at \(coordinates) has a null key")
            }
            if keySchema.type.isPrimitive {
                guard config.pkFields.count == 1 else {
                    throw ConnectError(
                        .connect,
                        "Need exactly one PK column defined since the key schema for records is a primitive type, defined columns are: \(config.pkFields)"
                    )
                }
                keyColumns = [(config.pkFields[0], keySchema)]
                keyValues = [key]
            } else if keySchema.type == .struct, case .struct(let s) = key {
                let fields =
                    config.pkFields.isEmpty
                    ? keySchema.fields
                    : try config.pkFields.map { name throws(ConnectError) in
                        guard let f = keySchema.field(name) else {
                            throw ConnectError(
                                .connect, "PK field not present in record key Struct schema: \(name)")
                        }
                        return f
                    }
                keyColumns = fields.map { ($0.name, $0.schema) }
                keyValues = fields.map { s.get($0) }
            } else {
                throw ConnectError(
                    .connect, "Key schema must be primitive type or Struct, but is of type: \(keySchema.type.rawValue)")
            }
        case .recordValue:
            guard let s = valueStruct else { break }
            let fields =
                config.pkFields.isEmpty
                ? s.schema.fields
                : try config.pkFields.map { name throws(ConnectError) in
                    guard let f = s.schema.field(name) else {
                        throw ConnectError(.connect, "PK field not present in record value Struct schema: \(name)")
                    }
                    return f
                }
            keyColumns = fields.map { ($0.name, $0.schema) }
            keyValues = fields.map { s.get($0) }
        }
        guard let s = valueStruct else { return }
        let keys = Set(keyColumns.map(\.name))
        for field in s.schema.fields where !keys.contains(field.name) {
            if !config.fieldsWhitelist.isEmpty && !config.fieldsWhitelist.contains(field.name) { continue }
            valueColumns.append((field.name, field.schema))
            values.append(s.get(field))
        }
    }
}
