import ConnectAPI
import Foundation
import JSON

/// `org.apache.kafka.connect.storage.SimpleHeaderConverter`: header values as their string form; reading infers the
/// type back (booleans, integers in the narrowest type, floating point, else string), as Connect's `Values.parseString`.
public final class SimpleHeaderConverter: HeaderConverter {
    public static let className = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
    public static var version: String? { ConnectVersion.kafka }
    public static let configDef = StringConverter.configDef

    public init() {}

    public func configure(_ configs: [String: String]) throws {}

    public func fromConnectHeader(topic: String, headerKey: String, schema: Schema?, value: Value?) throws -> [UInt8]? {
        guard let value else { return nil }
        var out: [UInt8] = []
        switch value {
        case .bytes(let b): return Array(Data(b).base64EncodedString().utf8)
        // Integers are their decimal digits, written straight to bytes (the text `ValueFormatter` gives).
        case .int8(let v): JSONWriter.writeInteger(Int64(v), into: &out)
        case .int16(let v): JSONWriter.writeInteger(Int64(v), into: &out)
        case .int32(let v): JSONWriter.writeInteger(Int64(v), into: &out)
        case .int64(let v): JSONWriter.writeInteger(v, into: &out)
        default: return Array(ValueFormatter.string(value).utf8)
        }
        return out
    }

    public func toConnectHeader(topic: String, headerKey: String, value: [UInt8]?) throws -> SchemaAndValue {
        guard let value else { return .null }
        return Values.parseString(String(decoding: value, as: UTF8.self))
    }
}
