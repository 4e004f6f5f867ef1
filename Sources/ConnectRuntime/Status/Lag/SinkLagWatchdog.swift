import ConnectAPI
import Foundation
import Kafka
import Logging
import Synchronization

/// Keeps the lag of stuck sink tasks true. A sink task refreshes its partitions' log end offsets itself, on its own
/// thread; when that thread is stuck in `put` or `flush`, the lag and its verdict would freeze at their last values
/// (often OK) while records pile up. The watchdog asks the broker for the log end of any partition not refreshed for
/// a while, from a thread and a client of its own, so the verdict of a stuck sink turns STOP and `/status`, the
/// metrics and the alerts say so.
final class SinkLagWatchdog: Sendable {
    struct Watched: Sendable {
        let tracker: SinkLagTracker
        /// Publishes the tracker's summary to the status store.
        let publish: @Sendable () -> Void
    }

    private let consumer: KafkaConsumer
    private let watched = Mutex<[ConnectorTaskId: Watched]>([:])
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let logger: Logger
    /// A partition whose log end is older than this is refreshed here.
    static let staleAfterMs: Int64 = 5_000

    init(consumerProperties: [String: String], logger: Logger) throws {
        var props = consumerProperties
        props["group.id"] = props["group.id"] ?? "connect-lag-watchdog"
        props["enable.auto.commit"] = "false"
        props["statistics.interval.ms"] = "0"
        consumer = try KafkaConsumer(config: KafkaClientConfig(props))
        self.logger = logger
        let thread = Thread { [self] in run() }
        thread.name = "sink-lag-watchdog"
        thread.start()
    }

    func watch(_ id: ConnectorTaskId, _ tracker: SinkLagTracker, publish: @escaping @Sendable () -> Void) {
        watched.withLock { $0[id] = Watched(tracker: tracker, publish: publish) }
    }

    /// Stops watching the task's tracker, unless another instance of the task (a restart) watches its own by now.
    func unwatch(_ id: ConnectorTaskId, _ tracker: SinkLagTracker) {
        watched.withLock { w in
            if w[id]?.tracker === tracker { w[id] = nil }
        }
    }

    private func run() {
        while !stopping.load(ordering: .acquiring) {
            for (_, w) in watched.withLock({ Array($0) }) {
                let stale = w.tracker.stalePartitions(olderThanMs: Self.staleAfterMs)
                guard !stale.isEmpty else { continue }
                for tp in stale where !stopping.load(ordering: .acquiring) {
                    if let marks = try? consumer.queryWatermarks(
                        KafkaTopicPartition(tp.topic, tp.partition), timeoutMs: 2000)
                    {
                        w.tracker.recordEnd(tp, marks.high, start: marks.low)
                    }
                }
                w.publish()
            }
            // The client's logs and errors: it never fetches, so nothing else serves its queue.
            _ = consumer.poll(timeoutMs: 0)
            for _ in 0..<20 where !stopping.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.1) }
        }
        done.signal()
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        _ = done.wait(timeout: .now() + .seconds(10))
        consumer.close()
    }
}
