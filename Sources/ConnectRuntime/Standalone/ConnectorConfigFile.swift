import ConnectAPI
import JSON

/// Connector configurations given on the command line: `.properties` files, or `.json` files holding either
/// `{"name": ..., "config": {...}}` (the REST create body) or a flat config object.
public enum ConnectorConfigFile {
    public static func load(_ path: String) throws(ConnectError) -> [String: String] {
        let text = try readText(path)
        guard path.lowercased().hasSuffix(".json") else {
            return try PropertiesParser.parse(text, source: path)
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(text)
        } catch {
            throw ConnectError.config("Connector configuration file \(path) is not valid JSON: \(error.description)")
        }
        guard let object = json.objectValue else {
            throw ConnectError.config("Connector configuration file \(path) must hold a JSON object")
        }
        var config: [String: String] = [:]
        let source = object["config"]?.objectValue ?? object
        for (k, v) in source where k != "config" || object["config"] == nil {
            guard let text = v.scalarText else {
                throw ConnectError.config("In \(path), the value of \(k) must be a string, number or boolean")
            }
            config[k] = text
        }
        if let name = object["name"]?.stringValue, object["config"] != nil { config["name"] = config["name"] ?? name }
        guard config["name"] != nil else {
            throw ConnectError.config("Connector configuration file \(path) has no \"name\"")
        }
        return config
    }
}
