import Foundation

/// A certificate authority of a test's own, and certificates it signs, made with the `openssl` command line in a
/// temporary directory: the way an operator secures a worker with a private CA.
public struct PrivateCA: Sendable {
    public let directory: URL
    /// The CA's certificate (PEM): what a client is told to trust.
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }

    public init() throws {
        directory = try ProjectPaths.temporaryDirectory("private-ca")
        _ = try ProjectPaths.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Swift Connect Test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout", path("ca.key"), "-out", caFile,
            ])
    }

    /// A certificate for `commonName` signed by this CA, valid for 127.0.0.1 and localhost, for a server or a client.
    public func issue(_ commonName: String, client: Bool = false) throws -> (certificate: String, key: String) {
        let name = commonName.replacingOccurrences(of: " ", with: "-")
        let extensions = path("\(name).ext")
        try """
        subjectAltName=IP:127.0.0.1,DNS:localhost
        extendedKeyUsage=\(client ? "clientAuth" : "serverAuth")
        """.write(toFile: extensions, atomically: true, encoding: .utf8)
        _ = try ProjectPaths.run(
            "/usr/bin/openssl",
            [
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(commonName)", "-keyout", path("\(name).key"),
                "-out", path("\(name).csr"),
            ])
        _ = try ProjectPaths.run(
            "/usr/bin/openssl",
            [
                "x509", "-req", "-in", path("\(name).csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-CAcreateserial",
                "-days", "2", "-extfile", extensions, "-out", path("\(name).pem"),
            ])
        return (path("\(name).pem"), path("\(name).key"))
    }

    private func path(_ file: String) -> String { directory.appendingPathComponent(file).path }
}
