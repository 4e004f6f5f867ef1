import COpenSSL
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TLS client session over a connected non-blocking socket, by OpenSSL, the library librdkafka uses for the
/// worker's other Kafka clients (TLS 1.2 or later). The broker's certificate is checked against the trusted CAs and,
/// unless `ssl.endpoint.identification.algorithm` turns it off, against the host name or address connected to (as
/// Java's `https` identification does). A failed handshake names the reason OpenSSL gives (`certificate verify
/// failed: self-signed certificate in certificate chain`, `Hostname mismatch`, ...).
final class TLSSession {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let fd: Int32
    let peer: String
    /// The key's password, kept for OpenSSL's default password callback while the context lives.
    private var password: UnsafeMutablePointer<CChar>?

    /// A peer that closes the connection must be an error of the write, not a SIGPIPE that ends the worker.
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    init(
        fd: Int32, host: String, port: Int, settings: TLSSettings, until deadline: ContinuousClock.Instant
    )
        throws(KafkaProtocolError)
    {
        Self.ignoreSIGPIPE
        self.fd = fd
        peer = "\(host):\(port)"
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw .config("OpenSSL could not make a TLS context: \(Self.lastError())")
        }
        // Always a password (empty when none is set): an encrypted key without one fails to load instead of
        // OpenSSL asking for it on the terminal.
        let password = strdup(settings.keyPassword ?? "")
        // The context is complete before the session is made: a session copies its certificate, key, protocol
        // versions and modes from the context when it is created.
        do throws(KafkaProtocolError) {
            _ = copenssl_ctx_set_min_proto_version(context, TLS1_2_VERSION)
            _ = copenssl_ctx_set_mode(context, Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
            SSL_CTX_set_default_passwd_cb_userdata(context, password)
            try Self.configureTrust(context, settings)
            try Self.configureIdentity(context, settings, password: password)
            SSL_CTX_set_verify(context, settings.verifyCertificate ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        } catch {
            SSL_CTX_free(context)
            free(password)
            throw error
        }
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            free(password)
            throw .config("OpenSSL could not make a TLS session: \(Self.lastError())")
        }
        self.context = context
        self.ssl = ssl
        self.password = password
        _ = SSL_set_fd(ssl, fd)
        let isAddress = host.contains(":") || host.split(separator: ".").allSatisfy { Int($0) != nil }
        if !isAddress { _ = copenssl_set_tlsext_host_name(ssl, host) }
        if settings.verifyCertificate && settings.verifyHostname {
            let ok =
                isAddress
                ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) : SSL_set1_host(ssl, host)
            guard ok == 1 else { throw .config("Cannot check the broker certificate against \(host)") }
        }
        try handshake(until: deadline)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
        if let password { free(password) }
    }

    // MARK: Set-up

    private static func configureTrust(_ context: OpaquePointer, _ s: TLSSettings) throws(KafkaProtocolError) {
        let key = s.trustSource
        var loaded = false
        if let file = s.caFile {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory)
            let rc =
                isDirectory.boolValue
                ? SSL_CTX_load_verify_locations(context, nil, file) : SSL_CTX_load_verify_locations(context, file, nil)
            guard rc == 1 else {
                throw .config(
                    "Invalid value \(file) for configuration \(key): cannot load its certificates: \(lastError())")
            }
            loaded = true
        }
        if let pem = s.caPEM {
            for cert in try certificates(pem: pem, key: key) {
                X509_STORE_add_cert(SSL_CTX_get_cert_store(context), cert)
                X509_free(cert)
            }
            loaded = true
        }
        if let p12 = s.trustPKCS12 {
            let (privateKey, cert, chain) = try parsePKCS12(
                p12, password: s.trustPKCS12Password, key: key, passwordKey: "ssl.truststore.password")
            if let privateKey { EVP_PKEY_free(privateKey) }
            for c in [cert].compactMap({ $0 }) + chain {
                X509_STORE_add_cert(SSL_CTX_get_cert_store(context), c)
                X509_free(c)
            }
            loaded = true
        }
        if !loaded { SSL_CTX_set_default_verify_paths(context) }
    }

    private static func configureIdentity(
        _ context: OpaquePointer, _ s: TLSSettings, password: UnsafeMutablePointer<CChar>?
    ) throws(KafkaProtocolError) {
        let key = s.identitySource
        var identity = false
        if let file = s.certificateFile {
            guard SSL_CTX_use_certificate_chain_file(context, file) == 1 else {
                throw .config(
                    "Invalid value \(file) for configuration \(key): cannot load its certificate: \(lastError())")
            }
            identity = true
        }
        if let file = s.keyFile {
            guard SSL_CTX_use_PrivateKey_file(context, file, SSL_FILETYPE_PEM) == 1 else {
                throw .config(
                    "Invalid value \(file) for configuration \(s.keySource): cannot load its private key (is ssl.key.password right?): \(lastError())"
                )
            }
        }
        if let pem = s.certificatePEM {
            let chain = try certificates(pem: pem, key: key)
            SSL_CTX_use_certificate(context, chain[0])
            X509_free(chain[0])
            for c in chain.dropFirst() { _ = copenssl_ctx_add_extra_chain_cert(context, c) }
            identity = true
        }
        if let pem = s.keyPEM {
            let privateKey = pem.withCString { text -> OpaquePointer? in
                let bio = BIO_new_mem_buf(text, -1)
                defer { BIO_free(bio) }
                return PEM_read_bio_PrivateKey(bio, nil, nil, password.map { UnsafeMutableRawPointer($0) })
            }
            guard let privateKey else {
                throw .config(
                    "Invalid value for configuration \(s.keySource): cannot read its private key (is ssl.key.password right?): \(lastError())"
                )
            }
            SSL_CTX_use_PrivateKey(context, privateKey)
            EVP_PKEY_free(privateKey)
        }
        if let p12 = s.identityPKCS12 {
            let (privateKey, cert, chain) = try parsePKCS12(
                p12, password: s.identityPKCS12Password, key: key, passwordKey: "ssl.keystore.password")
            if let cert {
                SSL_CTX_use_certificate(context, cert)
                X509_free(cert)
                identity = true
            }
            if let privateKey {
                SSL_CTX_use_PrivateKey(context, privateKey)
                EVP_PKEY_free(privateKey)
            }
            for c in chain { _ = copenssl_ctx_add_extra_chain_cert(context, c) }
        }
        if identity && SSL_CTX_check_private_key(context) != 1 {
            throw .config(
                "Invalid value for configuration \(key): the private key does not match the certificate: \(lastError())"
            )
        }
    }

    private func handshake(until deadline: ContinuousClock.Instant) throws(KafkaProtocolError) {
        while true {
            ERR_clear_error()
            let rc = SSL_connect(ssl)
            if rc == 1 { return }
            let error = SSL_get_error(ssl, rc)
            if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE {
                guard
                    SocketTransport.wait(
                        fd, events: Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), until: deadline)
                else { throw .timeout("Timed out in the TLS handshake with broker \(peer)") }
                continue
            }
            var reason = Self.lastError()
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                reason += " (\(String(cString: X509_verify_cert_error_string(verify))))"
            }
            if reason.isEmpty { reason = "the broker closed the connection (does it speak TLS on this port?)" }
            throw .network("TLS handshake with broker \(peer) failed: \(reason)")
        }
    }

    // MARK: I/O

    func write(_ bytes: [UInt8], until deadline: ContinuousClock.Instant) throws(KafkaProtocolError) {
        var sent = 0
        while sent < bytes.count {
            ERR_clear_error()
            let n = bytes.withUnsafeBytes { buf in SSL_write(ssl, buf.baseAddress! + sent, Int32(bytes.count - sent)) }
            if n > 0 {
                sent += Int(n)
                continue
            }
            try awaitRetry(SSL_get_error(ssl, n), until: deadline, doing: "writing to")
        }
    }

    func read(count: Int, until deadline: ContinuousClock.Instant) throws(KafkaProtocolError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            ERR_clear_error()
            let n = out.withUnsafeMutableBytes { buf in SSL_read(ssl, buf.baseAddress! + got, Int32(count - got)) }
            if n > 0 {
                got += Int(n)
                continue
            }
            try awaitRetry(SSL_get_error(ssl, n), until: deadline, doing: "waiting for")
        }
        return out
    }

    private func awaitRetry(
        _ error: Int32, until deadline: ContinuousClock.Instant, doing: String
    )
        throws(KafkaProtocolError)
    {
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            guard
                SocketTransport.wait(
                    fd, events: Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), until: deadline)
            else { throw .timeout("Timed out \(doing) broker \(peer)") }
        case SSL_ERROR_ZERO_RETURN:
            throw .network("Broker \(peer) closed the TLS connection")
        default:
            let code = errno
            var reason = Self.lastError()
            if reason.isEmpty { reason = code == 0 ? "the connection was closed" : String(cString: strerror(code)) }
            throw .network("TLS connection to broker \(peer) failed: \(reason)")
        }
    }

    // MARK: Certificates

    /// OpenSSL's queued errors, oldest first, as one line.
    static func lastError() -> String {
        var lines: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            lines.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return lines.joined(separator: "; ")
    }

    /// The certificates of PEM text (the caller frees them); none is an error naming `key`.
    static func certificates(pem: String, key: String) throws(KafkaProtocolError) -> [OpaquePointer] {
        var certs: [OpaquePointer] = []
        pem.withCString { text in
            let bio = BIO_new_mem_buf(text, -1)
            defer { BIO_free(bio) }
            while let cert = PEM_read_bio_X509(bio, nil, nil, nil) { certs.append(cert) }
        }
        ERR_clear_error()
        guard !certs.isEmpty else { throw .config("Invalid value for configuration \(key): no PEM certificate in it") }
        return certs
    }

    /// A PKCS12 file's key, certificate and other certificates (the caller frees them); errors name `key` (the
    /// file's key) or `passwordKey`.
    static func parsePKCS12(
        _ path: String, password: String?, key: String, passwordKey: String
    )
        throws(KafkaProtocolError) -> (OpaquePointer?, OpaquePointer?, [OpaquePointer])
    {
        guard let file = fopen(path, "rb") else {
            throw .config("Invalid value \(path) for configuration \(key): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        guard let p12 = d2i_PKCS12_fp(file, nil) else {
            throw .config("Invalid value \(path) for configuration \(key): not a PKCS12 file: \(lastError())")
        }
        defer { PKCS12_free(p12) }
        var privateKey: OpaquePointer?
        var cert: OpaquePointer?
        var ca: OpaquePointer?
        guard PKCS12_parse(p12, password ?? "", &privateKey, &cert, &ca) == 1 else {
            throw .config("Cannot open \(path) (\(key)): is \(passwordKey) right? \(lastError())")
        }
        var chain: [OpaquePointer] = []
        if let ca {
            for i in 0..<copenssl_sk_x509_num(ca) {
                if let c = copenssl_sk_x509_value(ca, i) {
                    X509_up_ref(c)
                    chain.append(c)
                }
            }
            copenssl_sk_x509_pop_free(ca)
        }
        return (privateKey, cert, chain)
    }

    /// The certificates of a PKCS12 truststore as PEM text (librdkafka's `ssl.ca.pem`).
    static func certificatesPEM(pkcs12 path: String, password: String?) throws(KafkaProtocolError) -> String {
        let (key, cert, chain) = try parsePKCS12(
            path, password: password, key: "ssl.truststore.location", passwordKey: "ssl.truststore.password")
        if let key { EVP_PKEY_free(key) }
        var out = ""
        for c in [cert].compactMap({ $0 }) + chain {
            let bio = BIO_new(BIO_s_mem())
            PEM_write_bio_X509(bio, c)
            var pointer: UnsafeMutablePointer<CChar>?
            let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
            if let pointer, length > 0 {
                out += String(
                    decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), as: UTF8.self)
            }
            BIO_free(bio)
            X509_free(c)
        }
        guard !out.isEmpty else { throw .config("No certificate in the PKCS12 truststore \(path)") }
        return out
    }
}
