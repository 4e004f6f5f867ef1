import Foundation
import Logging
import Synchronization
import Testing

@testable import ConnectRuntime

@Suite("Connect's log layout")
struct ConnectLogHandlerTests {
    @Test("a plug-in's logger without context takes its task thread's, as Connect's MDC gives it")
    func threadContext() {
        let plugin = ConnectLogHandler(label: "io.debezium.connector.postgresql.PostgresConnectorTask")
        let lines = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            lines.withLock { $0.append(plugin.line(.warning, "moved key", nil)) }
            ConnectLogHandler.setThreadContext("[cdc|task-0] ")
            lines.withLock { $0.append(plugin.line(.warning, "moved key", nil)) }
            // The logger's own context wins over the thread's.
            lines.withLock {
                $0.append(plugin.line(.info, "own", [ConnectLogHandler.contextKey: "[other|worker] "]))
            }
            ConnectLogHandler.setThreadContext(nil)
            done.signal()
        }
        thread.start()
        #expect(done.wait(timeout: .now() + 5) == .success)
        let got = lines.withLock { $0 }
        #expect(got[0].contains("WARN moved key (io.debezium"))
        #expect(got[1].contains("WARN [cdc|task-0] moved key (io.debezium"))
        #expect(got[2].contains("INFO [other|worker] own ("))
    }
}
