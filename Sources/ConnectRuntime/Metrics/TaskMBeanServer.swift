import ConnectAPI

/// A task's MBeans go into the worker's registry and leave it with the task's metrics (`PluginMBeanServer`).
struct TaskMBeanServer: PluginMBeanServer {
    let id: ConnectorTaskId
    let metrics: TaskMetrics

    var taskTags: [(key: String, value: String)] { [("connector", id.connector), ("task", String(id.task))] }

    func register(
        domain: String, type: String, properties: [(key: String, value: String)],
        attributes: [(name: String, value: MBeanAttribute)]
    ) throws(PluginMBeanError) {
        try metrics.registerPluginMBean(domain: domain, type: type, properties: properties, attributes: attributes)
    }
}
