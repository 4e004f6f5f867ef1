/// How a metric is exposed to Prometheus.
public enum MetricType: String, Sendable {
    /// Monotonic; Connect's `*-total` attributes (exported as `<stem>_total` and, stripped, as a gauge).
    case counter
    case gauge
    /// A string attribute (`status`, `connector-class`), exported as info-style series with the value as a label.
    case text
}

/// One attribute of one Connect metric group.
public struct MetricDefinition: Sendable {
    public let group: String
    public let attribute: String
    public let type: MetricType
    public let help: String
    /// Tag names, in Connect's order.
    public let tags: [String]
    /// For this project's own metrics: the exported name (never one of Connect's).
    public let extensionName: String?
    /// The JMX domain: `kafka.connect`, or `kafka.producer` / `kafka.consumer` for the Kafka clients' metrics.
    public var domain: String = ConnectMetricsCatalog.connectDomain

    public var isExtension: Bool { extensionName != nil }

    /// `connect`, `client` (the Java Kafka clients' names) or `extension`.
    public var origin: String {
        isExtension ? "extension" : domain == ConnectMetricsCatalog.connectDomain ? "connect" : "client"
    }

    /// The MBean pattern of the group (`kafka.connect:type=<group>,connector={connector}`).
    public var mbeanPattern: String { "\(domain):type=\(group)" + tags.map { ",\($0)={\($0)}" }.joined() }
}

/// Every metric the worker exposes, declared once, as Kafka's `ConnectMetricsRegistry` declares Connect's: groups,
/// attributes, descriptions, tags and kinds. Exporters are views over the registry that read this catalogue.
public enum ConnectMetricsCatalog {
    public static let connectDomain = "kafka.connect"
    public static let workerGroup = "connect-worker-metrics"
    public static let rebalanceGroup = "connect-worker-rebalance-metrics"
    public static let connectorGroup = "connector-metrics"
    public static let taskGroup = "connector-task-metrics"
    public static let sourceTaskGroup = "source-task-metrics"
    public static let sinkTaskGroup = "sink-task-metrics"
    public static let taskErrorGroup = "task-error-metrics"

    static let task = ["connector", "task"]

    private static func d(
        _ group: String, _ attribute: String, _ type: MetricType, _ tags: [String], _ help: String
    ) -> MetricDefinition {
        MetricDefinition(group: group, attribute: attribute, type: type, help: help, tags: tags, extensionName: nil)
    }

    private static func x(
        _ group: String, _ attribute: String, _ name: String, _ tags: [String], _ help: String,
        type: MetricType = .gauge
    ) -> MetricDefinition {
        MetricDefinition(group: group, attribute: attribute, type: type, help: help, tags: tags, extensionName: name)
    }

    public static let sinkPartitionLagGroup = "sink-partition-lag-metrics"
    public static let sinkTaskLagGroup = "sink-task-lag-metrics"
    public static let sinkTaskVerdictGroup = "sink-task-lag-verdict-metrics"

    public static let taskActivityGroup = "task-activity-metrics"
    public static let taskFunnelGroup = "task-funnel-metrics"
    public static let transformGroup = "transform-metrics"
    public static let taskErrorClassGroup = "task-error-class-metrics"
    public static let taskRestartGroup = "task-restart-metrics"
    public static let metricsPushGroup = "metrics-push-metrics"
    public static let taskDLQGroup = "task-dead-letter-queue-metrics"
    /// A cluster's rebalances and assignment as its leader sees them (extension; other workers report 0 or nothing).
    public static let clusterGroup = "cluster-metrics"
    public static let clusterRebalanceGroup = "cluster-rebalance-metrics"

    public static let all: [MetricDefinition] =
        worker + workerConnector + rebalance + coordinator + connector + connectorTask + sourceTask + sinkTask
        + taskError + clients + extensions

    public static let producerGroup = "producer-metrics"
    public static let consumerGroup = "consumer-metrics"
    public static let fetchManagerGroup = "consumer-fetch-manager-metrics"
    public static let coordinatorGroup = "consumer-coordinator-metrics"

    /// The domain of a group's MBeans.
    public static func domain(ofGroup group: String) -> String {
        switch group {
        case producerGroup: "kafka.producer"
        case consumerGroup, fetchManagerGroup, coordinatorGroup: "kafka.consumer"
        default: connectDomain
        }
    }

    private static func c(
        _ group: String, _ attribute: String, _ type: MetricType, _ help: String, partition: Bool = false
    ) -> MetricDefinition {
        var def = MetricDefinition(
            group: group, attribute: attribute, type: type, help: help,
            tags: partition ? ["client-id", "topic", "partition"] : ["client-id"], extensionName: nil)
        def.domain = domain(ofGroup: group)
        return def
    }

    /// The Java Kafka clients' metrics a Connect dashboard reads, computed from the task clients' librdkafka
    /// statistics (`statistics.interval.ms`): rates over the metrics window from librdkafka's cumulative counters,
    /// latencies from its broker round-trip windows, lags from its partition offsets.
    static let clients: [MetricDefinition] = [
        c(producerGroup, "record-send-rate", .gauge, "The average number of records sent per second."),
        c(producerGroup, "record-send-total", .counter, "The total number of records sent."),
        c(producerGroup, "outgoing-byte-rate", .gauge, "The number of outgoing bytes sent to all servers per second."),
        c(producerGroup, "incoming-byte-rate", .gauge, "The number of bytes read off all sockets per second."),
        c(producerGroup, "request-rate", .gauge, "The number of requests sent per second."),
        c(producerGroup, "response-rate", .gauge, "The number of responses received per second."),
        c(producerGroup, "request-latency-avg", .gauge, "The average request latency in ms."),
        c(producerGroup, "request-latency-max", .gauge, "The maximum request latency in ms."),
        c(
            producerGroup, "record-queue-time-avg", .gauge,
            "The average time in ms record batches spent in the send buffer."),
        c(
            producerGroup, "record-queue-time-max", .gauge,
            "The maximum time in ms record batches spent in the send buffer."),
        c(consumerGroup, "outgoing-byte-rate", .gauge, "The number of outgoing bytes sent to all servers per second."),
        c(consumerGroup, "incoming-byte-rate", .gauge, "The number of bytes read off all sockets per second."),
        c(consumerGroup, "request-rate", .gauge, "The number of requests sent per second."),
        c(consumerGroup, "response-rate", .gauge, "The number of responses received per second."),
        c(fetchManagerGroup, "records-consumed-rate", .gauge, "The average number of records consumed per second."),
        c(fetchManagerGroup, "records-consumed-total", .counter, "The total number of records consumed."),
        c(fetchManagerGroup, "bytes-consumed-rate", .gauge, "The average number of bytes consumed per second."),
        c(fetchManagerGroup, "bytes-consumed-total", .counter, "The total number of bytes consumed."),
        c(fetchManagerGroup, "fetch-latency-avg", .gauge, "The average time taken for a fetch request, in ms."),
        c(fetchManagerGroup, "fetch-latency-max", .gauge, "The max time taken for any fetch request, in ms."),
        c(
            fetchManagerGroup, "records-lag-max", .gauge,
            "The maximum lag in terms of number of records for any partition in this window."),
        c(
            fetchManagerGroup, "records-lag", .gauge, "The latest lag of the partition, in records.",
            partition: true),
        c(
            coordinatorGroup, "rebalance-total", .counter,
            "The total number of rebalance events the consumer took part in."),
        c(
            coordinatorGroup, "last-rebalance-seconds-ago", .gauge,
            "The number of seconds since the last rebalance event."),
        c(
            coordinatorGroup, "assigned-partitions", .gauge,
            "The number of partitions currently assigned to this consumer."),
        c(producerGroup, "connection-count", .gauge, "The current number of active connections."),
        c(consumerGroup, "connection-count", .gauge, "The current number of active connections."),
        c(producerGroup, "last-error", .text, "Extension: the last error the client reported (empty when none)."),
        c(consumerGroup, "last-error", .text, "Extension: the last error the client reported (empty when none)."),
        c(
            consumerGroup, "client-age-seconds", .gauge,
            "Extension: seconds since the client was created (librdkafka's age), as of its last statistics."),
    ]

    /// Metrics Connect does not have, under names of their own (`swift_connect_*`).
    static let extensions: [MetricDefinition] = [
        x(
            clusterRebalanceGroup, "rebalances-total", "swift_connect_cluster_rebalances_total", ["cause"],
            "Rebalances this worker assigned as the group's leader, by cause: timeout (a worker vanished without stopping its work: killed, frozen or cut off), leave (a worker left the group), join (a worker joined), config_change (connectors or tasks changed), scheduled (the scheduled rebalance handed out held-back work), revocation (the second round that hands out revoked work), other.",
            type: .counter),
        x(
            clusterGroup, "leader", "swift_connect_cluster_leader", [],
            "1 on the worker that leads the group (it assigns the work), 0 on the others."),
        x(
            clusterGroup, "workers", "swift_connect_cluster_workers", [],
            "Workers in the group at the leader's last assignment (0 on the other workers)."),
        x(
            clusterGroup, "unassigned-connectors", "swift_connect_cluster_unassigned_connectors", [],
            "Configured connectors no worker runs at the leader's last assignment (0 on the other workers)."),
        x(
            clusterGroup, "unassigned-tasks", "swift_connect_cluster_unassigned_tasks", [],
            "Configured tasks no worker runs at the leader's last assignment: held back for the scheduled rebalance after a worker left, or not handed out yet (0 on the other workers)."
        ),
        x(
            clusterGroup, "unassigned-oldest-seconds", "swift_connect_cluster_unassigned_oldest_seconds", [],
            "Seconds the longest-waiting unassigned task has waited since the leader saw it lose its worker (0 when none; on the leader)."
        ),
        x(
            clusterGroup, "task-unassigned-seconds-max", "swift_connect_cluster_task_unassigned_seconds_max", [],
            "The longest a task waited unassigned before a worker was given it, over the metrics window (on the leader)."
        ),
        x(
            clusterGroup, "task-unassigned-seconds-total", "swift_connect_cluster_task_unassigned_seconds_total", [],
            "Seconds tasks spent unassigned, summed over the tasks the leader handed out again.", type: .counter),
        x(
            clusterGroup, "assignment-skew-tasks", "swift_connect_cluster_assignment_skew_tasks", [],
            "Tasks on the busiest worker minus tasks on the least busy one, at the leader's last assignment (0 on the other workers)."
        ),
        x(
            clusterGroup, "scheduled-rebalance-seconds", "swift_connect_cluster_scheduled_rebalance_seconds", [],
            "Seconds until the scheduled rebalance hands out held-back work (0 when none is pending)."),
        x(
            clusterGroup, "scheduled-rebalance-max-delay-seconds",
            "swift_connect_cluster_scheduled_rebalance_max_delay_seconds", [],
            "The worker's scheduled.rebalance.max.delay.ms, in seconds: how long a lost worker's work is held back."),
        x(
            sinkPartitionLagGroup, "records-lag", "swift_connect_sink_partition_lag_records",
            task + ["topic", "partition"],
            "Records in the partition after the sink's last committed offset (log end offset minus committed offset)."),
        x(
            sinkPartitionLagGroup, "unconsumed-records", "swift_connect_sink_partition_unconsumed_records",
            task + ["topic", "partition"],
            "Records in the partition the sink task has not read yet (log end offset minus consumer position)."),
        x(
            sinkPartitionLagGroup, "lag-seconds", "swift_connect_sink_partition_lag_seconds",
            task + ["topic", "partition"],
            "Age in seconds of the oldest record of the partition not yet committed by the sink (0 when caught up)."),
        x(
            sinkTaskLagGroup, "records-lag-max", "swift_connect_sink_task_lag_records_max", task,
            "The largest records lag over the task's partitions."),
        x(
            taskFunnelGroup, "records-total", "swift_connect_task_funnel_records_total", task + ["stage"],
            "Records that passed each stage of the task: polled, transformed, converted, produced, acknowledged, committed (source); consumed, converted, transformed, put, committed (sink).",
            type: .counter),
        x(
            taskErrorClassGroup, "errors-total", "swift_connect_task_errors_total",
            task + ["stage", "error_class"],
            "Failed processing attempts of the task by stage (Connect's stage names) and error class (config, auth, network, serialization, schema, downstream, broker, internal).",
            type: .counter),
        x(
            taskFunnelGroup, "records-rate", "swift_connect_task_funnel_records_rate", task + ["stage"],
            "Records per second through each stage of the task over the metrics window (records in: polled or consumed; out: acknowledged or put)."
        ),
        x(
            taskErrorClassGroup, "errors-rate", "swift_connect_task_errors_rate", task + ["stage", "error_class"],
            "Failed processing attempts per second of the task by stage and error class, over the metrics window."),
        x(
            taskDLQGroup, "dlq-records-rate", "swift_connect_task_dlq_records_rate", task,
            "Records per second the task sent to its dead letter queue, over the metrics window."),
        x(
            taskRestartGroup, "restarts-total", "swift_connect_task_restarts_total", task + ["reason"],
            "Restarts of the task by who asked: rest (the REST API) or policy (errors.restart.policy).",
            type: .counter),
        x(
            metricsPushGroup, "pushes-total", "swift_connect_metrics_pushes_total", ["target"],
            "Successful metric pushes of this worker, by target (pushgateway, topic).", type: .counter),
        x(
            metricsPushGroup, "failures-total", "swift_connect_metrics_push_failures_total", ["target"],
            "Failed metric pushes of this worker, by target (pushgateway, topic); pushing to the gateway backs off while they last.",
            type: .counter),
        x(
            transformGroup, "dropped-records-total", "swift_connect_transform_dropped_records_total",
            task + ["transform"],
            "Records a transform (by alias) dropped.", type: .counter),
        x(
            taskActivityGroup, "time-since-last-poll-seconds", "swift_connect_task_time_since_last_poll_seconds", task,
            "Seconds since the task last polled: its source task returned from poll(), or its consumer returned records."
        ),
        x(
            taskActivityGroup, "time-since-last-put-seconds", "swift_connect_task_time_since_last_put_seconds", task,
            "Seconds since the sink task's last successful put()."),
        x(
            taskActivityGroup, "time-since-last-ack-seconds", "swift_connect_task_time_since_last_ack_seconds", task,
            "Seconds since the broker last acknowledged a record of the source task."),
        x(
            taskActivityGroup, "time-since-last-commit-seconds", "swift_connect_task_time_since_last_commit_seconds",
            task,
            "Seconds since the task last committed offsets successfully."),
        x(
            taskActivityGroup, "source-lag-seconds", "swift_connect_source_task_lag_seconds", task,
            "Seconds between now and the timestamp (or send time) of the source task's last record acknowledged by the broker."
        ),
        x(
            taskActivityGroup, "records-behind-source", "swift_connect_source_task_behind_source_records", task,
            "Records the source system holds that the source task has not polled yet, as its connector reports them (only for connectors that can tell)."
        ),
        x(
            taskActivityGroup, "bytes-behind-source", "swift_connect_source_task_behind_source_bytes", task,
            "Bytes of the source system's log the source task has still to read or holds back on the server (binlog bytes after its position, WAL its replication slot retains), as its connector reports them (only for connectors that can tell)."
        ),
        x(
            sinkTaskVerdictGroup, "lag-verdict", "swift_connect_sink_task_lag_verdict", task + ["verdict"],
            "1 for the sink task's current lag verdict, after Burrow's evaluation over a window of ten commit intervals (OK, WARN, REWIND, STALL, STOP), 0 for the others."
        ),
        x(
            sinkTaskLagGroup, "lag-seconds-max", "swift_connect_sink_task_lag_seconds_max", task,
            "The largest lag in seconds over the task's partitions."),
    ]

    static let worker: [MetricDefinition] = [
        d(workerGroup, "connector-count", .gauge, [], "The number of connectors run in this worker."),
        d(workerGroup, "task-count", .gauge, [], "The number of tasks run in this worker."),
        d(
            workerGroup, "connector-startup-attempts-total", .counter, [],
            "The total number of connector startups that this worker has attempted."),
        d(
            workerGroup, "connector-startup-success-total", .counter, [],
            "The total number of connector starts that succeeded."),
        d(
            workerGroup, "connector-startup-success-percentage", .gauge, [],
            "The average percentage of this worker's connectors starts that succeeded."),
        d(
            workerGroup, "connector-startup-failure-total", .counter, [],
            "The total number of connector starts that failed."),
        d(
            workerGroup, "connector-startup-failure-percentage", .gauge, [],
            "The average percentage of this worker's connectors starts that failed."),
        d(
            workerGroup, "task-startup-attempts-total", .counter, [],
            "The total number of task startups that this worker has attempted."),
        d(workerGroup, "task-startup-success-total", .counter, [], "The total number of task starts that succeeded."),
        d(
            workerGroup, "task-startup-success-percentage", .gauge, [],
            "The average percentage of this worker's tasks starts that succeeded."),
        d(workerGroup, "task-startup-failure-total", .counter, [], "The total number of task starts that failed."),
        d(
            workerGroup, "task-startup-failure-percentage", .gauge, [],
            "The average percentage of this worker's tasks starts that failed."),
    ]

    static let workerConnector: [MetricDefinition] = [
        d(
            workerGroup, "connector-total-task-count", .gauge, ["connector"],
            "The number of tasks of the connector on the worker."),
        d(
            workerGroup, "connector-running-task-count", .gauge, ["connector"],
            "The number of running tasks of the connector on the worker."),
        d(
            workerGroup, "connector-paused-task-count", .gauge, ["connector"],
            "The number of paused tasks of the connector on the worker."),
        d(
            workerGroup, "connector-failed-task-count", .gauge, ["connector"],
            "The number of failed tasks of the connector on the worker."),
        d(
            workerGroup, "connector-unassigned-task-count", .gauge, ["connector"],
            "The number of unassigned tasks of the connector on the worker."),
        d(
            workerGroup, "connector-destroyed-task-count", .gauge, ["connector"],
            "The number of destroyed tasks of the connector on the worker."),
        d(
            workerGroup, "connector-restarting-task-count", .gauge, ["connector"],
            "The number of restarting tasks of the connector on the worker."),
    ]

    static let rebalance: [MetricDefinition] = [
        d(rebalanceGroup, "connect-protocol", .text, [], "The Connect protocol used by this cluster"),
        d(rebalanceGroup, "leader-name", .text, [], "The name of the group leader."),
        d(rebalanceGroup, "epoch", .gauge, [], "The epoch or generation number of this worker."),
        d(
            rebalanceGroup, "completed-rebalances-total", .counter, [],
            "The total number of rebalances completed by this worker."),
        d(rebalanceGroup, "rebalancing", .gauge, [], "Whether this worker is currently rebalancing."),
        d(
            rebalanceGroup, "rebalance-max-time-ms", .gauge, [],
            "The maximum time in milliseconds spent by this worker to rebalance."),
        d(
            rebalanceGroup, "rebalance-avg-time-ms", .gauge, [],
            "The average time in milliseconds spent by this worker to rebalance."),
        d(
            rebalanceGroup, "time-since-last-rebalance-ms", .gauge, [],
            "The time in milliseconds since this worker completed the most recent rebalance."),
    ]

    /// A distributed worker's group membership (`connect-coordinator-metrics`, tagged with the member's client id):
    /// Kafka's `GroupCoordinatorMetrics` and Connect's `WorkerCoordinatorMetrics`.
    public static let connectCoordinatorGroup = "connect-coordinator-metrics"

    static let coordinator: [MetricDefinition] = [
        c(
            connectCoordinatorGroup, "assigned-connectors", .gauge,
            "The number of connector instances currently assigned to this consumer"),
        c(connectCoordinatorGroup, "assigned-tasks", .gauge, "The number of tasks currently assigned to this consumer"),
        c(
            connectCoordinatorGroup, "heartbeat-response-time-max", .gauge,
            "The max time taken to receive a response to a heartbeat request"),
        c(connectCoordinatorGroup, "heartbeat-rate", .gauge, "The number of heartbeats per second"),
        c(connectCoordinatorGroup, "heartbeat-total", .counter, "The total number of heartbeats"),
        c(connectCoordinatorGroup, "join-time-avg", .gauge, "The average time taken for a group rejoin"),
        c(connectCoordinatorGroup, "join-time-max", .gauge, "The max time taken for a group rejoin"),
        c(connectCoordinatorGroup, "join-rate", .gauge, "The number of group joins per second"),
        c(connectCoordinatorGroup, "join-total", .counter, "The total number of group joins"),
        c(connectCoordinatorGroup, "sync-time-avg", .gauge, "The average time taken for a group sync"),
        c(connectCoordinatorGroup, "sync-time-max", .gauge, "The max time taken for a group sync"),
        c(connectCoordinatorGroup, "sync-rate", .gauge, "The number of group syncs per second"),
        c(connectCoordinatorGroup, "sync-total", .counter, "The total number of group syncs"),
        c(
            connectCoordinatorGroup, "rebalance-latency-avg", .gauge,
            "The average time taken for a group to complete a successful rebalance, which may be composed of several failed re-trials until it succeeded"
        ),
        c(
            connectCoordinatorGroup, "rebalance-latency-max", .gauge,
            "The max time taken for a group to complete a successful rebalance, which may be composed of several failed re-trials until it succeeded"
        ),
        c(
            connectCoordinatorGroup, "rebalance-latency-total", .counter,
            "The total number of milliseconds this consumer has spent in successful rebalances since creation"),
        c(
            connectCoordinatorGroup, "rebalance-total", .counter,
            "The total number of successful rebalance events, each event is composed of several failed re-trials until it succeeded"
        ),
        c(
            connectCoordinatorGroup, "rebalance-rate-per-hour", .gauge,
            "The number of successful rebalance events per hour, each event is composed of several failed re-trials until it succeeded"
        ),
        c(connectCoordinatorGroup, "failed-rebalance-total", .counter, "The total number of failed rebalance events"),
        c(
            connectCoordinatorGroup, "failed-rebalance-rate-per-hour", .gauge,
            "The number of failed rebalance events per hour"),
        c(
            connectCoordinatorGroup, "last-rebalance-seconds-ago", .gauge,
            "The number of seconds since the last successful rebalance event"),
        c(
            connectCoordinatorGroup, "last-heartbeat-seconds-ago", .gauge,
            "The number of seconds since the last coordinator heartbeat was sent"),
    ]

    static let connector: [MetricDefinition] = [
        d(
            connectorGroup, "connector-type", .text, ["connector"],
            "The type of the connector. One of 'source' or 'sink'."),
        d(connectorGroup, "connector-class", .text, ["connector"], "The name of the connector class."),
        d(
            connectorGroup, "connector-version", .text, ["connector"],
            "The version of the connector class, as reported by the connector."),
        d(
            connectorGroup, "status", .text, ["connector"],
            "The status of the connector. One of 'unassigned', 'running', 'paused', 'stopped', 'failed', or 'restarting'."
        ),
    ]

    static let connectorTask: [MetricDefinition] = [
        d(
            taskGroup, "status", .text, task,
            "The status of the connector task. One of 'unassigned', 'running', 'paused', 'failed', or 'restarting'."),
        d(taskGroup, "running-ratio", .gauge, task, "The fraction of time this task has spent in the running state."),
        d(taskGroup, "pause-ratio", .gauge, task, "The fraction of time this task has spent in the pause state."),
        d(
            taskGroup, "offset-commit-max-time-ms", .gauge, task,
            "The maximum time in milliseconds taken by this task to commit offsets."),
        d(
            taskGroup, "offset-commit-avg-time-ms", .gauge, task,
            "The average time in milliseconds taken by this task to commit offsets."),
        d(
            taskGroup, "batch-size-max", .gauge, task,
            "The number of records in the largest batch the task has processed so far."),
        d(
            taskGroup, "batch-size-avg", .gauge, task,
            "The average number of records in the batches the task has processed so far."),
        d(
            taskGroup, "offset-commit-failure-percentage", .gauge, task,
            "The average percentage of this task's offset commit attempts that failed."),
        d(
            taskGroup, "offset-commit-success-percentage", .gauge, task,
            "The average percentage of this task's offset commit attempts that succeeded."),
    ]

    static let sourceTask: [MetricDefinition] = [
        d(
            sourceTaskGroup, "source-record-poll-rate", .gauge, task,
            "The average per-second number of records produced/polled (before transformation) by this task belonging to the named source connector in this worker."
        ),
        d(
            sourceTaskGroup, "source-record-poll-total", .counter, task,
            "The total number of records produced/polled (before transformation) by this task belonging to the named source connector in this worker."
        ),
        d(
            sourceTaskGroup, "source-record-write-rate", .gauge, task,
            "The average per-second number of records written to Kafka for this task belonging to the named source connector in this worker, since the task was last restarted. This is after transformations are applied, and excludes any records filtered out by the transformations."
        ),
        d(
            sourceTaskGroup, "source-record-write-total", .counter, task,
            "The number of records output written to Kafka for this task belonging to the named source connector in this worker, since the task was last restarted. This is after transformations are applied, and excludes any records filtered out by the transformations."
        ),
        d(
            sourceTaskGroup, "poll-batch-max-time-ms", .gauge, task,
            "The maximum time in milliseconds taken by this task to poll for a batch of source records."),
        d(
            sourceTaskGroup, "poll-batch-avg-time-ms", .gauge, task,
            "The average time in milliseconds taken by this task to poll for a batch of source records."),
        d(
            sourceTaskGroup, "source-record-active-count", .gauge, task,
            "The number of records that have been produced by this task but not yet completely written to Kafka."),
        d(
            sourceTaskGroup, "source-record-active-count-max", .gauge, task,
            "The maximum number of records that have been produced by this task but not yet completely written to Kafka."
        ),
        d(
            sourceTaskGroup, "source-record-active-count-avg", .gauge, task,
            "The average number of records that have been produced by this task but not yet completely written to Kafka."
        ),
    ]

    static let sinkTask: [MetricDefinition] = [
        d(
            sinkTaskGroup, "sink-record-read-rate", .gauge, task,
            "The average per-second number of records read from Kafka for this task belonging to the named sink connector in this worker. This is before transformations are applied."
        ),
        d(
            sinkTaskGroup, "sink-record-read-total", .counter, task,
            "The total number of records read from Kafka by this task belonging to the named sink connector in this worker, since the task was last restarted."
        ),
        d(
            sinkTaskGroup, "sink-record-send-rate", .gauge, task,
            "The average per-second number of records output from the transformations and sent/put to this task belonging to the named sink connector in this worker. This is after transformations are applied and excludes any records filtered out by the transformations."
        ),
        d(
            sinkTaskGroup, "sink-record-send-total", .counter, task,
            "The total number of records output from the transformations and sent/put to this task belonging to the named sink connector in this worker, since the task was last restarted."
        ),
        d(
            sinkTaskGroup, "partition-count", .gauge, task,
            "The number of topic partitions assigned to this task belonging to the named sink connector in this worker."
        ),
        d(sinkTaskGroup, "offset-commit-seq-no", .gauge, task, "The current sequence number for offset commits."),
        d(
            sinkTaskGroup, "offset-commit-completion-rate", .gauge, task,
            "The average per-second number of offset commit completions that were completed successfully."),
        d(
            sinkTaskGroup, "offset-commit-completion-total", .counter, task,
            "The total number of offset commit completions that were completed successfully."),
        d(
            sinkTaskGroup, "offset-commit-skip-rate", .gauge, task,
            "The average per-second number of offset commit completions that were received too late and skipped/ignored."
        ),
        d(
            sinkTaskGroup, "offset-commit-skip-total", .counter, task,
            "The total number of offset commit completions that were received too late and skipped/ignored."),
        d(
            sinkTaskGroup, "put-batch-max-time-ms", .gauge, task,
            "The maximum time taken by this task to put a batch of sinks records."),
        d(
            sinkTaskGroup, "put-batch-avg-time-ms", .gauge, task,
            "The average time taken by this task to put a batch of sinks records."),
        d(
            sinkTaskGroup, "sink-record-active-count", .gauge, task,
            "The number of records that have been read from Kafka but not yet completely committed/flushed/acknowledged by the sink task."
        ),
        d(
            sinkTaskGroup, "sink-record-active-count-max", .gauge, task,
            "The maximum number of records that have been read from Kafka but not yet completely committed/flushed/acknowledged by the sink task."
        ),
        d(
            sinkTaskGroup, "sink-record-active-count-avg", .gauge, task,
            "The average number of records that have been read from Kafka but not yet completely committed/flushed/acknowledged by the sink task."
        ),
    ]

    static let taskError: [MetricDefinition] = [
        d(
            taskErrorGroup, "total-record-failures", .gauge, task,
            "The number of record processing failures in this task."),
        d(taskErrorGroup, "total-record-errors", .gauge, task, "The number of record processing errors in this task."),
        d(taskErrorGroup, "total-records-skipped", .gauge, task, "The number of records skipped due to errors."),
        d(taskErrorGroup, "total-retries", .gauge, task, "The number of operations retried."),
        d(taskErrorGroup, "total-errors-logged", .gauge, task, "The number of errors that were logged."),
        d(
            taskErrorGroup, "deadletterqueue-produce-requests", .gauge, task,
            "The number of attempted writes to the dead letter queue."),
        d(
            taskErrorGroup, "deadletterqueue-produce-failures", .gauge, task,
            "The number of failed writes to the dead letter queue."),
        d(
            taskErrorGroup, "last-error-timestamp", .gauge, task,
            "The epoch timestamp when this task last encountered an error."),
    ]

    /// The definition of an attribute of a group; worker attributes with a `connector` tag are the per-connector set.
    public static func definition(group: String, attribute: String) -> MetricDefinition? {
        all.first { $0.group == group && $0.attribute == attribute }
    }
}
