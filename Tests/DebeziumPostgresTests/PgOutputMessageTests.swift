import ConnectAPI
import DebeziumCore
import Postgres
import Testing

@testable import DebeziumPostgres

@Suite("pgoutput messages and PostgreSQL values")
struct PgOutputMessageTests {
    /// Big-endian bytes of the message parts.
    static func bytes(_ parts: [Any]) -> [UInt8] {
        var out: [UInt8] = []
        for p in parts {
            switch p {
            case let c as Character: out.append(c.asciiValue!)
            case let v as UInt8: out.append(v)
            case let v as UInt16: out += [UInt8(v >> 8), UInt8(v & 0xFF)]
            case let v as UInt32: out += (0..<4).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) }
            case let v as UInt64: out += (0..<8).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
            case let s as String: out += Array(s.utf8) + [0]
            case let t as [String?]:
                out += [UInt8(t.count >> 8), UInt8(t.count & 0xFF)]
                for v in t {
                    if let v {
                        out.append(UInt8(ascii: "t"))
                        let b = Array(v.utf8)
                        out +=
                            (0..<4).reversed().map { UInt8(truncatingIfNeeded: UInt32(b.count) >> (8 * UInt32($0))) }
                            + b
                    } else {
                        out.append(UInt8(ascii: "n"))
                    }
                }
            default: fatalError("unsupported part \(p)")
            }
        }
        return out
    }

    @Test(
        "BEGIN, RELATION, INSERT, UPDATE with the old key, DELETE, TRUNCATE and COMMIT decode as the server sends them")
    func decodesMessages() throws {
        #expect(
            try PgOutputMessage.decode(Self.bytes(["B" as Character, UInt64(0x152FB78), UInt64(5), UInt32(730)]))
                == .begin(finalLSN: LogSequenceNumber(0x152FB78), commitTime: 5, xid: 730))
        let relation = try PgOutputMessage.decode(
            Self.bytes([
                "R" as Character, UInt32(16386), "inventory", "customers", UInt8(ascii: "d"), UInt16(2), UInt8(1), "id",
                UInt32(23), UInt32(0xFFFF_FFFF), UInt8(0), "email", UInt32(1043), UInt32(259),
            ]))
        guard case .relation(let r) = relation else {
            Issue.record("not a relation: \(relation)")
            return
        }
        #expect(r.name == "customers" && r.namespace == "inventory" && r.columns.count == 2)
        #expect(r.columns[0].isKey && r.columns[0].typeModifier == -1 && r.columns[1].typeModifier == 259)
        #expect(
            try PgOutputMessage.decode(Self.bytes(["I" as Character, UInt32(16386), "N" as Character, ["2", "s@x"]]))
                == .insert(relation: 16386, new: [.text("2"), .text("s@x")]))
        #expect(
            try PgOutputMessage.decode(
                Self.bytes([
                    "U" as Character, UInt32(1), "K" as Character, ["2", nil], "N" as Character, ["100", "a"],
                ]))
                == .update(relation: 1, old: [.text("2"), .null], oldIsKey: true, new: [.text("100"), .text("a")]))
        #expect(
            try PgOutputMessage.decode(Self.bytes(["D" as Character, UInt32(1), "O" as Character, ["1", "b"]]))
                == .delete(relation: 1, old: [.text("1"), .text("b")], oldIsKey: false))
        #expect(
            try PgOutputMessage.decode(Self.bytes(["T" as Character, UInt32(2), UInt8(1), UInt32(7), UInt32(8)]))
                == .truncate(relations: [7, 8], cascade: true, restartIdentity: false))
        #expect(throws: PgOutputMessage.DecodeError.self) {
            try PgOutputMessage.decode(Self.bytes(["I" as Character, UInt32(1)]))
        }
    }

    @Test("keepalives and status updates carry LSNs big-endian, time from 2000-01-01")
    func frames() throws {
        let k = try ReplicationFrame.decode(Self.bytes(["k" as Character, UInt64(0x152FA48), UInt64(0), UInt8(1)]))
        #expect(k == .keepalive(walEnd: LogSequenceNumber(0x152FA48), replyRequested: true))
        let status = ReplicationFrame.standbyStatus(
            received: LogSequenceNumber(2), flushed: LogSequenceNumber(1), nowMicros: PostgresEpoch.offsetMicros + 3)
        #expect(status.count == 34 && status[0] == UInt8(ascii: "r"))
        #expect(status[8] == 2 && status[16] == 1 && status[24] == 1 && status[32] == 3 && status[33] == 0)
        let ask = ReplicationFrame.standbyStatus(
            received: LogSequenceNumber(2), flushed: LogSequenceNumber(1), nowMicros: 0, replyRequested: true)
        #expect(ask[33] == 1, "a status update that asks the server for a keepalive")
        #expect(LogSequenceNumber("16/B374D848")?.value == 0x16_B374_D848)
        #expect(LogSequenceNumber(0x16_B374_D848).description == "16/B374D848")
    }

    @Test("values map as Debezium's defaults map them")
    func values() {
        let c = PostgresValueConverter()
        typealias O = PostgresValueConverter.OID
        let numeric = c.column(typeOID: O.numeric, typeModifier: (10 << 16 | 2) + 4, optional: true)
        #expect(numeric.schema.name == "org.apache.kafka.connect.data.Decimal")
        #expect(
            numeric.schema.parameter("scale") == "2" && numeric.schema.parameter("connect.decimal.precision") == "10")
        #expect(numeric.convert("12.3") == .decimal(BigDecimal(unscaledValue: 1230, scale: 2)))
        let big = c.column(typeOID: O.numeric, typeModifier: (38 << 16 | 0) + 4, optional: true)
        #expect(big.convert("123456789012345678901234567890") != nil)
        let variable = c.column(typeOID: O.numeric, typeModifier: -1, optional: true)
        #expect(variable.schema.name == "io.debezium.data.VariableScaleDecimal")
        let tz = c.column(typeOID: O.timestamptz, typeModifier: -1, optional: false)
        #expect(tz.convert("2024-01-02 02:04:05.678+00") == .string("2024-01-02T02:04:05.678Z"))
        let ts = c.column(typeOID: O.timestamp, typeModifier: 3, optional: true)
        #expect(ts.schema.name == "io.debezium.time.Timestamp")
        #expect(ts.convert("2018-06-20 06:37:03") == .int64(1_529_476_623_000))
        let micro = c.column(typeOID: O.timestamp, typeModifier: -1, optional: true)
        #expect(micro.schema.name == "io.debezium.time.MicroTimestamp")
        #expect(micro.convert("2018-06-20 15:13:16.945104") == .int64(1_529_507_596_945_104))
        #expect(c.column(typeOID: O.date, typeModifier: -1, optional: true).convert("2024-02-29") == .int32(19782))
        #expect(
            c.column(typeOID: O.bytea, typeModifier: -1, optional: true).convert("\\x00ff10") == .bytes([0, 255, 16]))
        #expect(c.column(typeOID: O.uuid, typeModifier: -1, optional: true).schema.name == "io.debezium.data.Uuid")
        let tags = c.column(typeOID: 1009, typeModifier: -1, optional: true)
        #expect(tags.schema.type == .array)
        #expect(tags.convert("{x,\"y z\",NULL}") == .array([.string("x"), .string("y z"), nil]))
        #expect(
            c.column(typeOID: O.interval, typeModifier: -1, optional: true).convert("1 mon 2 days 00:00:01")
                == .int64(2_629_800_000_000 + 172_800_000_000 + 1_000_000))
        var base64 = PostgresValueConverter()
        base64.binaryMode = .base64
        #expect(
            base64.column(typeOID: O.bytea, typeModifier: -1, optional: true).convert("\\x00ff10") == .string("AP8Q"))
        var asString = PostgresValueConverter()
        asString.decimalMode = .string
        #expect(
            asString.column(typeOID: O.numeric, typeModifier: (10 << 16 | 2) + 4, optional: true).convert("1.5")
                == .string("1.5"))
    }
}
