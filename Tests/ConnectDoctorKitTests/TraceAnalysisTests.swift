import ConnectDoctorKit
import Testing

@Suite("Failure traces taken apart")
struct TraceAnalysisTests {
    @Test("a Java trace: the chain outermost first, frames, the root cause, the stage from Connect's frames")
    func javaTrace() {
        let t = TraceAnalysis(
            """
            org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler
            \tat org.apache.kafka.connect.runtime.errors.RetryWithToleranceOperator.execAndHandleError(RetryWithToleranceOperator.java:206)
            \tat org.apache.kafka.connect.runtime.WorkerSinkTask.convertValue(WorkerSinkTask.java:540)
            Caused by: org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error:
            \tat org.apache.kafka.connect.json.JsonConverter.toConnectData(JsonConverter.java:333)
            Caused by: org.apache.kafka.common.errors.SerializationException: com.fasterxml.jackson.core.JsonParseException: Unrecognized token 'abc': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')
            \t... 13 more
            """)
        #expect(t.exceptions.map(\.simpleName) == ["ConnectException", "DataException", "SerializationException"])
        #expect(
            t.rootCause?.message.hasPrefix("com.fasterxml.jackson.core.JsonParseException: Unrecognized token") == true)
        #expect(t.frames.count == 3)
        #expect(t.stage == "VALUE_CONVERTER")
    }

    @Test("a trace flattened onto one line, as JSON and some logs show it, keeps its structure")
    func flattened() {
        let t = TraceAnalysis(
            #"org.apache.kafka.connect.errors.DataException: bad\n\tat io.confluent.connect.avro.AvroConverter.toConnectData(AvroConverter.java:96)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.convertMessages(WorkerSinkTask.java:453)\nCaused by: org.apache.kafka.common.errors.SerializationException: Unknown magic byte!"#
        )
        #expect(t.exceptions.count == 2)
        #expect(t.frames.first == "io.confluent.connect.avro.AvroConverter.toConnectData(AvroConverter.java:96)")
        #expect(t.rootCause?.line == "org.apache.kafka.common.errors.SerializationException: Unknown magic byte!")
    }

    @Test("a Swift Connect trace: same layout, the stage from its bracketed marker or Connect's wording")
    func swiftConnectTrace() {
        let t = TraceAnalysis(
            """
            org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler
            \tat Executing stage 'TRANSFORMATION' with class 'org.apache.kafka.connect.transforms.Cast$Value', where consumed record is {topic='orders', partition=0, offset=7}
            Caused by: org.apache.kafka.connect.errors.DataException: Unexpected type in Cast transformation: java.lang.String
            """)
        #expect(t.stage == "TRANSFORMATION")
        #expect(t.rootCause?.simpleName == "DataException")
        let classified = TraceClassifier().classify(t)
        #expect(classified?.rule.id == "CD-SMT-002")
    }

    @Test("an unknown trace still gives a finding with its root cause and stage, at low confidence")
    func unknown() {
        let f = TraceClassifier().finding(
            trace: """
                java.lang.IllegalStateException: something odd
                \tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:601)
                Caused by: com.example.WidgetException: the widget broke
                """, subject: .task("orders-sink", 0))
        #expect(f.rule.id == "CD-TASK-001")
        #expect(f.confidence < 0.5)
        #expect(
            f.detail
                == "root cause com.example.WidgetException: the widget broke, caught in "
                + "org.apache.kafka.connect.runtime.WorkerSinkTask (Connect's runtime), in stage TASK_PUT")
        #expect(f.evidence.map(\.kind) == [.trace, .trace, .trace, .stage])
    }

    @Test("the catch-all names the class that threw, the kind of component it is, and the external system's codes")
    func unknownNamesThrower() {
        let f = TraceClassifier().finding(
            trace: """
                org.apache.kafka.connect.errors.ConnectException: java.sql.SQLException: the widget table is odd
                \tat io.example.connect.WidgetSinkTask.put(WidgetSinkTask.java:80)
                Caused by: java.sql.SQLException: the widget table is odd (SQLState: 99ZZ9)
                \tat java.sql.DriverManager.getConnection(DriverManager.java:1)
                \tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2553)
                \tat io.example.connect.WidgetSinkTask.put(WidgetSinkTask.java:77)
                """, subject: .task("widgets", 0))
        #expect(f.rule.id == "CD-TASK-001")
        #expect(
            f.detail
                == "root cause java.sql.SQLException: the widget table is odd (SQLState: 99ZZ9), thrown in "
                + "org.postgresql.core.v3.QueryExecutorImpl (the JDBC driver), in stage TASK_PUT, error codes sqlstate:99zz9"
        )
        #expect(
            f.evidence.contains(
                Evidence(
                    .trace,
                    "at org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2553)")))
    }

    @Test("a transform's exception tells the transform stage by its frames when the trace names no stage")
    func transformByFrames() {
        let t = TraceAnalysis(
            """
            Caused by: java.lang.NullPointerException: Cannot invoke "Struct.get(Field)" because "input" is null
            \tat org.apache.kafka.connect.data.Struct.get(Struct.java:74)
            \tat com.example.kafka.connect.smt.Uppercase.convertStruct(Uppercase.java:73)
            """)
        #expect(t.stage == "TRANSFORMATION")
        #expect(t.thrower?.component == .transform)
        #expect(t.thrower?.simpleClassName == "Uppercase")
        #expect(TraceClassifier().classify(t)?.rule.id == "CD-SMT-001")
        #expect(TraceAnalysis("x.YException: y\n\tat com.example.Widget.run(Widget.java:1)").stage == nil)
    }

    @Test("a connector's unrecognised failure is CD-CONN-001, a task's CD-TASK-001")
    func genericBySubject() {
        let classifier = TraceClassifier()
        #expect(classifier.finding(trace: "java.lang.Error: x", subject: .connector("c")).rule.id == "CD-CONN-001")
        #expect(classifier.finding(trace: "java.lang.Error: x", subject: .task("c", 1)).rule.id == "CD-TASK-001")
    }

    @Test("error codes are read from the forms drivers, the Schema Registry client and Elasticsearch use")
    func codes() {
        func codes(_ s: String) -> Set<String> { TraceAnalysis(s).codes }
        #expect(
            codes("org.postgresql.util.PSQLException: ERROR: duplicate key value; SQLState: 23505") == [
                "sqlstate:23505"
            ])
        #expect(codes("java.sql.BatchUpdateException: SQLSTATE[28P01] password") == ["sqlstate:28p01"])
        #expect(codes("java.sql.SQLException: ORA-01017: invalid username/password; logon denied") == ["ora-01017"])
        #expect(codes("RestClientException: Subject 'orders-value' not found.; error code: 40401") == ["sr:40401"])
        #expect(
            codes(#"Bulk request failed: [{"type":"cluster_block_exception","reason":"blocked"}]"#) == [
                "es:cluster_block_exception"
            ])
        #expect(
            codes(
                "ElasticsearchStatusException: method [HEAD], host [http://es:9200], URI [/orders], status line [HTTP/1.1 403 Forbidden]"
            ) == ["http:403"])
        #expect(codes("java.lang.NullPointerException").isEmpty)
    }
}
