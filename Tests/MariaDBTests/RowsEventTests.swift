import Testing

@testable import MariaDB

/// Row image values in MySQL's binary forms, from bytes whose meaning MySQL's documentation and server code give.
struct RowsEventTests {
    private func decode(_ bytes: [UInt8], type: UInt8, meta: UInt16, unsigned: Bool = false) throws -> ColumnValue {
        var c = ByteCursor(bytes)
        let v = try RowsEvent.value(type: type, meta: meta, unsigned: unsigned, &c)
        #expect(c.remaining == 0, "every byte of the value is read")
        return v
    }

    @Test func decimalsOfMySQLsDocumentedExample() throws {
        // DECIMAL(14,4) 1234567890.1234 (strings/decimal.c's comment) and its negation.
        #expect(
            try decode([0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2], type: ColumnType.newdecimal, meta: 14 << 8 | 4)
                == .decimal("1234567890.1234"))
        #expect(
            try decode([0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D], type: ColumnType.newdecimal, meta: 14 << 8 | 4)
                == .decimal("-1234567890.1234"))
        // DECIMAL(10,2) 0.00 keeps its scale.
        #expect(try decode([0x80, 0, 0, 0, 0], type: ColumnType.newdecimal, meta: 10 << 8 | 2) == .decimal("0.00"))
    }

    @Test func integersTakeTheColumnsSignedness() throws {
        #expect(try decode([0xFF], type: ColumnType.tiny, meta: 0) == .signed(-1))
        #expect(try decode([0xFF], type: ColumnType.tiny, meta: 0, unsigned: true) == .unsigned(255))
        #expect(try decode([0xFE, 0xFF, 0xFF], type: ColumnType.int24, meta: 0) == .signed(-2))
        #expect(
            try decode([UInt8](repeating: 0xFF, count: 8), type: ColumnType.longlong, meta: 0, unsigned: true)
                == .unsigned(UInt64.max))
    }

    @Test func charEnumAndSetAreToldApartByTheirMetadata() throws {
        // CHAR(10) utf8mb4 (40 bytes): real type 0xFE, a 1-byte length.
        #expect(try decode([2, 0x41, 0x42], type: ColumnType.string, meta: 0xFE28) == .bytes([0x41, 0x42]))
        // ENUM with one index byte; SET with one member byte.
        #expect(try decode([2], type: ColumnType.string, meta: 0xF701) == .enumIndex(2))
        #expect(try decode([5], type: ColumnType.string, meta: 0xF801) == .setBits(5))
        // CHAR(255) utf8mb4 (1020 bytes): the length's high bits are folded into the type byte, a 2-byte length.
        #expect(try decode([1, 0, 0x41], type: ColumnType.string, meta: 0xCEFC) == .bytes([0x41]))
    }

    @Test func temporalValues() throws {
        // DATE 2024-02-29: day + month*32 + year*512.
        let date = 29 + 2 * 32 + 2024 * 512
        #expect(
            try decode(
                [UInt8(date & 0xFF), UInt8(date >> 8 & 0xFF), UInt8(date >> 16)], type: ColumnType.date, meta: 0)
                == .date(year: 2024, month: 2, day: 29))
        // TIME2(0) -00:00:01 and 838:59:59.
        #expect(try decode([0x7F, 0xFF, 0xFF], type: ColumnType.time2, meta: 0) == .time(micros: -1_000_000))
        let big: Int64 = 0x80_0000 + (838 << 12 | 59 << 6 | 59)
        #expect(
            try decode([UInt8(big >> 16), UInt8(big >> 8 & 0xFF), UInt8(big & 0xFF)], type: ColumnType.time2, meta: 0)
                == .time(micros: (838 * 3600 + 59 * 60 + 59) * 1_000_000))
        // TIME2(3) -00:00:00.500: the fraction borrows from the integer part.
        #expect(
            try decode([0x7F, 0xFF, 0xFF, 0xEC, 0x78], type: ColumnType.time2, meta: 3) == .time(micros: -500_000))
        // TIMESTAMP2(3) 1700000000.123.
        #expect(
            try decode([0x65, 0x53, 0xF1, 0x00, 0x04, 0xCE], type: ColumnType.timestamp2, meta: 3)
                == .timestamp(micros: 1_700_000_000_123_000))
    }

    @Test func aValueCutShortIsAnErrorNotACrash() {
        #expect(throws: BinlogError.self) { try decode([0x01], type: ColumnType.long, meta: 0) }
        #expect(throws: BinlogError.self) { try decode([9, 0x41], type: ColumnType.varchar, meta: 20) }
    }
}
