import ConnectAPI
import ConnectConverters
import ConnectTransforms

/// Plug-in types, named as `/connector-plugins` names them.
public enum PluginType: String, Sendable, CaseIterable {
    case sink, source, converter
    case headerConverter = "header_converter"
    case transformation, predicate
}

/// A plug-in the worker can instantiate, with its class name, aliases and configuration definition.
public struct PluginDesc: Sendable {
    public let className: String
    public let type: PluginType
    public let version: String?
    public let configDef: ConfigDef
    /// Creates an instance (a connector, converter, ...).
    public let make: @Sendable () -> AnyObject

    /// The simple class name (after the last `.`).
    public let simpleName: String
    /// The simple name without its type suffix (`FileStreamSinkConnector` → `FileStreamSink`), if it has one.
    let shortAlias: String?

    public init(
        className: String, type: PluginType, version: String?, configDef: ConfigDef,
        make: @escaping @Sendable () -> AnyObject
    ) {
        self.className = className
        self.type = type
        self.version = version
        self.configDef = configDef
        self.make = make
        // Both names are computed once: `find` runs for every connector of a listing (`GET /connectors?expand=info`).
        simpleName = className.split(separator: ".").last.map(String.init) ?? className
        let suffix: String =
            switch type {
            case .sink, .source: "Connector"
            case .converter, .headerConverter: "Converter"
            case .transformation: "Transformation"
            case .predicate: "Predicate"
            }
        shortAlias =
            simpleName.hasSuffix(suffix) && simpleName != suffix ? String(simpleName.dropLast(suffix.count)) : nil
    }
}

/// The plug-ins a worker can run, found by full Java class name, simple name, or simple name without its type suffix
/// (`FileStreamSink`, `Json`), as Connect's `PluginUtils` computes aliases.
public struct PluginRegistry: Sendable {
    public private(set) var plugins: [PluginDesc] = []

    public init() {}

    /// The framework's own plug-ins: converters, header converters, transforms and predicates. Connectors are
    /// plug-ins the runtime does not know of; the worker's composition adds them.
    public static let framework: PluginRegistry = {
        var r = PluginRegistry()
        r.register(converter: JsonConverter.self, className: JsonConverter.className)
        r.register(converter: StringConverter.self, className: StringConverter.className)
        r.register(converter: ByteArrayConverter.self, className: ByteArrayConverter.className)
        r.register(headerConverter: SimpleHeaderConverter.self, className: SimpleHeaderConverter.className)
        r.register(headerConverter: JsonConverter.self, className: JsonConverter.className)
        r.register(headerConverter: StringConverter.self, className: StringConverter.className)
        r.register(headerConverter: ByteArrayConverter.self, className: ByteArrayConverter.className)
        for t in BuiltInTransforms.transformations { r.register(t, type: .transformation) }
        for p in BuiltInTransforms.predicates { r.register(p, type: .predicate) }
        return r
    }()

    public mutating func register<C: Connector & SendableMetatype>(
        connector: C.Type, className: String, type: PluginType
    ) {
        plugins.append(
            PluginDesc(className: className, type: type, version: C.version, configDef: C.configDef, make: { C() }))
    }

    public mutating func register<C: Converter & SendableMetatype>(converter: C.Type, className: String) {
        plugins.append(
            PluginDesc(
                className: className, type: .converter, version: C.version, configDef: C.configDef, make: { C() }))
    }

    public mutating func register<C: HeaderConverter & SendableMetatype>(headerConverter: C.Type, className: String) {
        plugins.append(
            PluginDesc(
                className: className, type: .headerConverter, version: C.version, configDef: C.configDef, make: { C() })
        )
    }

    public mutating func register<T: Transformation & SendableMetatype>(transformation: T.Type, className: String) {
        plugins.append(
            PluginDesc(
                className: className, type: .transformation, version: T.version, configDef: T.configDef,
                make: { T() }))
    }

    /// Adds a plug-in described in full.
    public mutating func register(_ plugin: PluginDesc) { plugins.append(plugin) }

    public mutating func register(_ plugin: TransformPlugin, type: PluginType) {
        plugins.append(
            PluginDesc(
                className: plugin.className, type: type, version: plugin.version, configDef: plugin.configDef,
                make: plugin.make))
    }

    public func plugins(of types: Set<PluginType>) -> [PluginDesc] {
        plugins.filter { types.contains($0.type) }
    }

    /// Finds a plug-in of one of `types` by class name or alias.
    public func find(_ name: String, types: Set<PluginType>) -> PluginDesc? {
        if let exact = plugins.first(where: { $0.className == name && types.contains($0.type) }) { return exact }
        var found: PluginDesc?
        for p in plugins where types.contains(p.type) && (p.simpleName == name || p.shortAlias == name) {
            guard found == nil else { return nil }  // ambiguous
            found = p
        }
        return found
    }

    /// Connect's error for a connector class it cannot find.
    public func connectorNotFound(_ name: String) -> ConnectError {
        let available = plugins(of: [.source, .sink]).map(\.className).sorted().joined(separator: ", ")
        return ConnectError.connect(
            "Failed to find any class that implements Connector and which name matches \(name), available connectors are: \(available)"
        )
    }

    public func newConnector(_ name: String) throws(ConnectError) -> (PluginDesc, any Connector) {
        guard let desc = find(name, types: [.source, .sink]), let c = desc.make() as? any Connector else {
            throw connectorNotFound(name)
        }
        return (desc, c)
    }

    public func newConverter(_ name: String) throws(ConnectError) -> any Converter {
        guard let desc = find(name, types: [.converter]), let c = desc.make() as? any Converter else {
            throw ConnectError.config("Class \(name) cannot be found or is not a Converter")
        }
        return c
    }

    public func newTransformation(_ name: String) throws(ConnectError) -> any Transformation {
        guard let desc = find(name, types: [.transformation]), let t = desc.make() as? any Transformation else {
            throw ConnectError.config("Class \(name) cannot be found or is not a Transformation")
        }
        return t
    }

    public func newPredicate(_ name: String) throws(ConnectError) -> any ConnectAPI.Predicate {
        guard let desc = find(name, types: [.predicate]), let p = desc.make() as? any ConnectAPI.Predicate else {
            throw ConnectError.config("Class \(name) cannot be found or is not a Predicate")
        }
        return p
    }

    public func newHeaderConverter(_ name: String) throws(ConnectError) -> any HeaderConverter {
        guard let desc = find(name, types: [.headerConverter]), let c = desc.make() as? any HeaderConverter else {
            throw ConnectError.config("Class \(name) cannot be found or is not a HeaderConverter")
        }
        return c
    }
}
