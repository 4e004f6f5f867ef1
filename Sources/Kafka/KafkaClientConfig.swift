import CRdKafka
import KafkaProtocol

/// Client properties for librdkafka, checked key by key so that a wrong key is reported by name. Java clients'
/// security keys (`sasl.jaas.config`, `ssl.truststore.*`, `ssl.keystore.*`) are translated to librdkafka's
/// (`KafkaSecurity.librdkafkaProperties`), so a Connect worker file works as it is.
public struct KafkaClientConfig: Sendable {
    public var properties: [String: String]

    public init(_ properties: [String: String] = [:]) { self.properties = properties }

    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// Checks every key and value against librdkafka without creating a client.
    public func validate() throws(KafkaError) {
        let conf = try makeConf()
        rd_kafka_conf_destroy(conf)
    }

    /// Builds a conf object; the caller owns it (and hands it to `rd_kafka_new`, which takes it only on success).
    func makeConf() throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(kind: .fatal, message: "rd_kafka_conf_new failed")
        }
        let translated: [String: String]
        do {
            translated = try KafkaSecurity.librdkafkaProperties(properties)
        } catch {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(kind: .config, message: error.description)
        }
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in translated.sorted(by: { $0.key < $1.key }) {
            let res = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            if res == RD_KAFKA_CONF_UNKNOWN {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(kind: .config, message: "Unknown Kafka client configuration property '\(key)'")
            }
            if res != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let detail = text(ofErrorBuffer: errstr)
                let shown =
                    key.contains("password") || key.contains("secret") || key.contains("jaas") ? "[hidden]" : value
                throw KafkaError(
                    kind: .config, message: "Invalid value \(shown) for Kafka client configuration '\(key)': \(detail)")
            }
        }
        return conf
    }
}

/// The text of a NUL-terminated error buffer filled in by librdkafka.
func text(ofErrorBuffer buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
