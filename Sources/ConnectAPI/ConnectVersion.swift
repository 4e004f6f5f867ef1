/// Versions the worker reports.
public enum ConnectVersion {
    /// The Apache Kafka Connect release whose REST API, configs and formats this worker implements; reported as the
    /// worker and built-in plug-in version so that tools that gate features on it behave as with that release.
    public static let kafka = "3.9.0"
    /// This project's own version.
    public static let project = "0.1.0"
}
