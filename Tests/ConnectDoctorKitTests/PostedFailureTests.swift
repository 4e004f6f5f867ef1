import ConnectDoctorKit
import Testing

/// Failures people post often, each as such a trace reads, diagnosed to its cause.
@Suite("connect-doctor trace names the cause of commonly posted failures")
struct PostedFailureTests {
    func top(_ trace: String) -> String { TraceClassifier().finding(trace: trace, subject: .trace).rule.id }

    @Test("a JDBC source whose database refused the login (ORA-01017): the external system rejected the credentials")
    func oracleLogin() {
        #expect(
            top(
                """
                org.apache.kafka.connect.errors.ConnectException: java.sql.SQLException: ORA-01017: invalid username/password; logon denied
                \tat io.confluent.connect.jdbc.util.CachedConnectionProvider.getConnection(CachedConnectionProvider.java:59)
                \tat io.confluent.connect.jdbc.source.JdbcSourceTask.poll(JdbcSourceTask.java:330)
                Caused by: java.sql.SQLException: ORA-01017: invalid username/password; logon denied
                \tat oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:509)
                """) == "CD-AUTH-003")
    }

    @Test("a JDBC sink whose table is missing with auto.create off")
    func tableMissing() {
        #expect(
            top(
                """
                org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.
                \tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:614)
                Caused by: org.apache.kafka.connect.errors.ConnectException: Table "orders" is missing and auto-creation is disabled
                \tat io.confluent.connect.jdbc.sink.DbStructure.create(DbStructure.java:118)
                \tat io.confluent.connect.jdbc.sink.JdbcSinkTask.put(JdbcSinkTask.java:84)
                """) == "CD-JDBC-001")
    }

    @Test("a JDBC sink given schemaless JSON: no fields found using key and value schemas")
    func noFields() {
        #expect(
            top(
                """
                org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.
                Caused by: org.apache.kafka.connect.errors.ConnectException: No fields found using key and value schemas for table: orders
                \tat io.confluent.connect.jdbc.sink.metadata.FieldsMetadata.extract(FieldsMetadata.java:127)
                \tat io.confluent.connect.jdbc.sink.BufferedRecords.add(BufferedRecords.java:84)
                """) == "CD-JDBC-002")
    }

    @Test("an Elasticsearch bulk failure on a read-only index (disk watermark)")
    func readOnlyIndex() {
        #expect(
            top(
                """
                org.apache.kafka.connect.errors.ConnectException: Bulk request failed: [{"type":"cluster_block_exception","reason":"index [orders] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];"}]
                \tat io.confluent.connect.elasticsearch.bulk.BulkProcessor$BulkTask.execute(BulkProcessor.java:439)
                """) == "CD-ES-001")
    }

    @Test(
        "a NullPointerException inside ValueToKey.applyWithSchema, with no stage line: a transform's field is missing")
    func valueToKeyNPE() {
        #expect(
            top(
                """
                java.lang.NullPointerException
                \tat org.apache.kafka.connect.transforms.ValueToKey.applyWithSchema(ValueToKey.java:85)
                \tat org.apache.kafka.connect.transforms.ValueToKey.apply(ValueToKey.java:65)
                \tat org.apache.kafka.connect.runtime.TransformationChain.lambda$apply$0(TransformationChain.java:50)
                """) == "CD-SMT-001")
        // A NullPointerException in a connector's own code is not a transform's.
        #expect(
            top(
                """
                java.lang.NullPointerException
                \tat io.confluent.connect.hdfs.DataWriter.write(DataWriter.java:380)
                \tat io.confluent.connect.hdfs.HdfsSinkTask.put(HdfsSinkTask.java:111)
                """) != "CD-SMT-001")
    }

    @Test(
        "Schema Registry answers inside converter traces: 40401, 40403 and 409 each name their cause, not the magic byte"
    )
    func schemaRegistryCodes() {
        func converter(_ cause: String, direction: String = "toConnectData") -> String {
            """
            org.apache.kafka.connect.errors.DataException: Failed to deserialize data for topic orders to Avro:
            \tat io.confluent.connect.avro.AvroConverter.\(direction)(AvroConverter.java:125)
            \tat org.apache.kafka.connect.runtime.WorkerSinkTask.convertValue(WorkerSinkTask.java:545)
            Caused by: org.apache.kafka.common.errors.SerializationException: Error retrieving Avro value schema for id 42
            Caused by: io.confluent.kafka.schemaregistry.client.rest.exceptions.RestClientException: \(cause)
            \tat io.confluent.kafka.schemaregistry.client.rest.RestService.sendHttpRequest(RestService.java:297)
            """
        }
        #expect(top(converter("Subject 'orders-value' not found.; error code: 40401")) == "CD-SR-001")
        #expect(top(converter("Schema 42 not found; error code: 40403")) == "CD-SR-002")
        #expect(
            top(
                converter(
                    "Schema being registered is incompatible with an earlier schema for subject \"orders-value\"; error code: 409",
                    direction: "fromConnectData")) == "CD-SR-003")
        // Records that are not Schema Registry framed at all stay the magic byte.
        #expect(
            top(
                """
                org.apache.kafka.connect.errors.DataException: Failed to deserialize data for topic orders to Avro:
                \tat io.confluent.connect.avro.AvroConverter.toConnectData(AvroConverter.java:125)
                Caused by: org.apache.kafka.common.errors.SerializationException: Unknown magic byte!
                """) == "CD-SERDE-002")
    }
}
