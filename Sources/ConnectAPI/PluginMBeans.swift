/// An attribute of a plug-in's MBean, read when a scrape or a Jolokia request asks for it (on any thread).
public enum MBeanAttribute: Sendable {
    case number(@Sendable () -> Double)
    case boolean(@Sendable () -> Bool)
    case string(@Sendable () -> String)
    /// A JMX `Map<String, Long>`, as Debezium's `RowsScanned` (rows per table).
    case table(@Sendable () -> [(key: String, value: Double)])
}

/// Where a task registers MBeans of its own, as a Java plug-in registers them with the platform MBean server
/// (Debezium's `debezium.mysql:type=connector-metrics,context=streaming,server=<topic.prefix>`). The worker serves
/// them through Jolokia (`/jolokia/read/<object name>`) and `/metrics` (under the names of the plug-in's JMX exporter
/// rules), and unregisters every MBean a task registered when the task stops.
public protocol PluginMBeanServer: Sendable {
    /// Registers the MBean `<domain>:type=<type>,<key>=<value>,…` (properties in the given order); a task that
    /// registers a name again adds the attributes to its own MBean, replacing those of the same name.
    ///
    /// - Throws: `PluginMBeanError.instanceAlreadyExists` when another task holds the name (JMX's
    ///   `InstanceAlreadyExistsException`: two Debezium connectors with one `topic.prefix`); that MBean is kept.
    func register(
        domain: String, type: String, properties: [(key: String, value: String)],
        attributes: [(name: String, value: MBeanAttribute)]) throws(PluginMBeanError)

    /// The properties that name the task an MBean belongs to (`connector`, `task`), which plug-ins put in their MBean
    /// names as KIP-877's `PluginMetrics` adds them to a plug-in's metrics; empty where the runtime does not say.
    var taskTags: [(key: String, value: String)] { get }
}

extension PluginMBeanServer {
    public var taskTags: [(key: String, value: String)] { [] }
}

/// Why an MBean was not registered.
public enum PluginMBeanError: Error, Equatable, CustomStringConvertible {
    /// Another task registered this object name first (`javax.management.InstanceAlreadyExistsException`).
    case instanceAlreadyExists(objectName: String)

    public var description: String {
        switch self {
        case .instanceAlreadyExists(let name): "javax.management.InstanceAlreadyExistsException: \(name)"
        }
    }
}
