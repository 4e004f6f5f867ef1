import ConnectAPI
import ConnectMetrics
import Testing

@testable import ConnectRuntime

/// A task's metric groups; a plug-in MBean name belongs to the task that registered it first, as in JMX.
@Suite("TaskMetrics")
struct TaskMetricsTests {
    @Test("a second task's bean with a taken name is refused and the first stays until its task closes")
    func secondRegistrationRefused() throws {
        let registry = MetricsRegistry()
        let status = StatusStore(workerId: "w:8083")
        let first = TaskMetrics(
            registry: registry, id: ConnectorTaskId("cdc-a", 0), isSource: true, status: status, clientId: "a")
        let second = TaskMetrics(
            registry: registry, id: ConnectorTaskId("cdc-b", 0), isSource: true, status: status, clientId: "b")
        let properties: [(key: String, value: String)] = [("context", "streaming"), ("server", "asgard")]
        func bean(_ value: Double) -> [(name: String, value: MBeanAttribute)] { [("Connected", .number { value })] }
        try first.registerPluginMBean(
            domain: "debezium.mysql", type: "connector-metrics", properties: properties, attributes: bean(1))
        // The same task may register the name again (it replaces its own bean).
        try first.registerPluginMBean(
            domain: "debezium.mysql", type: "connector-metrics", properties: properties, attributes: bean(1))
        #expect(
            throws: PluginMBeanError.instanceAlreadyExists(
                objectName: "debezium.mysql:type=connector-metrics,context=streaming,server=asgard")
        ) {
            try second.registerPluginMBean(
                domain: "debezium.mysql", type: "connector-metrics", properties: properties, attributes: bean(0))
        }
        func beans() -> [MetricGroup] { registry.allGroups.filter { $0.pluginDomain == "debezium.mysql" } }
        #expect(beans().count == 1)
        // Closing the refused task leaves the first task's bean; closing the first removes it.
        second.close()
        #expect(beans().count == 1)
        first.close()
        #expect(beans().isEmpty)
    }
}
