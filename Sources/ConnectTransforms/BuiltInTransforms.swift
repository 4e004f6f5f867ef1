import ConnectAPI

/// A transform or predicate plug-in: class name, definition and a factory.
public struct TransformPlugin: Sendable {
    public let className: String
    public let version: String?
    public let configDef: ConfigDef
    public let make: @Sendable () -> AnyObject
}

/// The single message transforms and predicates shipped with the worker, under Connect's class names.
public enum BuiltInTransforms {
    static let prefix = "org.apache.kafka.connect.transforms."

    static func plugin<T: Transformation>(_ name: String, _ make: @escaping @Sendable () -> T) -> TransformPlugin {
        TransformPlugin(className: prefix + name, version: T.version, configDef: T.configDef, make: make)
    }

    static func predicate<P: Predicate>(_ name: String, _ make: @escaping @Sendable () -> P) -> TransformPlugin {
        TransformPlugin(
            className: prefix + "predicates." + name, version: P.version, configDef: P.configDef, make: make)
    }

    public static let transformations: [TransformPlugin] = [
        plugin("Cast$Key") { CastKey() },
        plugin("Cast$Value") { CastValue() },
        plugin("DropHeaders") { DropHeaders() },
        plugin("ExtractField$Key") { ExtractFieldKey() },
        plugin("ExtractField$Value") { ExtractFieldValue() },
        plugin("Filter") { Filter() },
        plugin("Flatten$Key") { FlattenKey() },
        plugin("Flatten$Value") { FlattenValue() },
        plugin("HeaderFrom$Key") { HeaderFromKey() },
        plugin("HeaderFrom$Value") { HeaderFromValue() },
        plugin("HoistField$Key") { HoistFieldKey() },
        plugin("HoistField$Value") { HoistFieldValue() },
        plugin("InsertField$Key") { InsertFieldKey() },
        plugin("InsertField$Value") { InsertFieldValue() },
        plugin("InsertHeader") { InsertHeader() },
        plugin("MaskField$Key") { MaskFieldKey() },
        plugin("MaskField$Value") { MaskFieldValue() },
        plugin("RegexRouter") { RegexRouter() },
        plugin("ReplaceField$Key") { ReplaceFieldKey() },
        plugin("ReplaceField$Value") { ReplaceFieldValue() },
        plugin("SetSchemaMetadata$Key") { SetSchemaMetadataKey() },
        plugin("SetSchemaMetadata$Value") { SetSchemaMetadataValue() },
        plugin("TimestampConverter$Key") { TimestampConverterKey() },
        plugin("TimestampConverter$Value") { TimestampConverterValue() },
        plugin("TimestampRouter") { TimestampRouter() },
        plugin("ValueToKey") { ValueToKey() },
        TransformPlugin(
            className: ExtractNewRecordState.className, version: ExtractNewRecordState.version,
            configDef: ExtractNewRecordState.configDef, make: { ExtractNewRecordState() }),
    ]

    public static let predicates: [TransformPlugin] = [
        predicate("HasHeaderKey") { HasHeaderKey() },
        predicate("RecordIsTombstone") { RecordIsTombstone() },
        predicate("TopicNameMatches") { TopicNameMatches() },
    ]
}
