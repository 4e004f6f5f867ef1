import Foundation
import KafkaProtocol

/// A Bolt failure: the server's `FAILURE` (a Neo4j status code such as `Neo.ClientError.Statement.SyntaxError` and
/// its message) or a lost, refused or timed-out connection.
public struct BoltError: Error, Sendable, CustomStringConvertible {
    public var code: String?
    public var message: String
    public var isConnectionError: Bool

    /// Worth trying again: a lost connection or Neo4j's `Neo.TransientError.*` (deadlocks, leader changes).
    public var isTransient: Bool { isConnectionError || (code?.hasPrefix("Neo.TransientError.") ?? false) }

    /// The statement refused these records: Neo4j's `Neo.ClientError.Statement.*` (syntax, types, arguments),
    /// `Neo.ClientError.Schema.*` (a constraint) and `Neo.ClientError.Procedure.*`, a failure without a code or with
    /// a code outside Neo4j's `Neo.*` status codes (FalkorDB answers a bad statement with `SyntaxError` and its
    /// message). Anything else (the login, a privilege, the database, the cluster, a transient error whose retries
    /// are spent) would refuse every record alike.
    public var isDataError: Bool {
        guard !isConnectionError else { return false }
        guard let code, code.hasPrefix("Neo.") else { return true }
        return ["Neo.ClientError.Statement.", "Neo.ClientError.Schema.", "Neo.ClientError.Procedure."].contains {
            code.hasPrefix($0)
        }
    }

    public var description: String {
        code.map { "\($0): \(message)" } ?? message
    }

    static func connection(_ message: String) -> BoltError {
        BoltError(code: nil, message: message, isConnectionError: true)
    }
}

/// How the client logs in: `none` or `basic` (user and password), Bolt's auth token schemes.
public enum BoltAuth: Sendable, Equatable {
    case none
    case basic(user: String, password: String)

    var token: [(String, PackValue)] {
        switch self {
        case .none: return [("scheme", .string("none"))]
        case .basic(let user, let password):
            return [("scheme", .string("basic")), ("principal", .string(user)), ("credentials", .string(password))]
        }
    }
}

/// A Bolt 4.4 or 5.x client connection (Neo4j's Bolt protocol): the handshake, `HELLO` (with `LOGON` from 5.1),
/// explicit transactions (`BEGIN`, `RUN`/`PULL`, `COMMIT`, `ROLLBACK`), `RESET` after a failure. Messages are
/// PackStream structures sent in chunks. One request at a time, on the caller's thread.
///
/// Written here because no Swift Bolt driver is among the packages this project may use; the TCP and TLS layer is
/// the Kafka protocol client's `SocketTransport`.
public final class BoltConnection {
    enum Message: UInt8 {
        case hello = 0x01, reset = 0x0F, run = 0x10, begin = 0x11, commit = 0x12, rollback = 0x13
        case pull = 0x3F, logon = 0x6A
        case success = 0x70, record = 0x71, ignored = 0x7E, failure = 0x7F
    }

    private let transport: SocketTransport
    private let timeout: Duration
    /// How long the answer to a statement (`RUN`, `PULL`, `COMMIT`) may take: a long transaction is not a lost
    /// connection.
    private let statementTimeout: Duration
    /// The protocol version the server chose.
    public let version: (major: Int, minor: Int)
    /// The server's agent (`Neo4j/5.13.0`), from `HELLO`'s answer.
    public private(set) var serverAgent = ""

    /// Connects, agrees on a version (5.0 to 5.7, else 4.2 to 4.4) and logs in. `timeout` bounds the connection,
    /// the login and every other answer; `statementTimeout` (at least `timeout`) the answers to `RUN`, `PULL` and
    /// `COMMIT`.
    /// - Throws: BoltError, a connection error for the network, the server's failure for a refused login.
    public init(
        host: String, port: Int, tls: TLSSettings?, auth: BoltAuth, userAgent: String, timeout: Duration,
        statementTimeout: Duration? = nil
    ) throws(BoltError) {
        self.timeout = timeout
        self.statementTimeout = max(timeout, statementTimeout ?? timeout)
        do {
            transport = try SocketTransport(host: host, port: port, timeout: timeout, noun: "Neo4j server")
            if let tls {
                try transport.startTLS(
                    host: host, port: port, settings: tls, until: ContinuousClock.now.advanced(by: timeout))
            }
            // Magic, then four proposals [0, range, minor, major]: 5.7 down to 5.0, 4.4 down to 4.2.
            try transport.write(
                [0x60, 0x60, 0xB0, 0x17, 0, 7, 7, 5, 0, 2, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0],
                until: ContinuousClock.now.advanced(by: timeout))
            let chosen = try transport.read(count: 4, until: ContinuousClock.now.advanced(by: timeout))
            version = (Int(chosen[3]), Int(chosen[2]))
        } catch {
            throw .connection(error.description)
        }
        guard version.major == 5 || (version.major == 4 && version.minor >= 2) else {
            throw .connection(
                "The Neo4j server at \(host):\(port) speaks no Bolt version this client knows (5.0-5.7, 4.2-4.4): it answered \(version.major).\(version.minor)"
            )
        }
        var hello: [(String, PackValue)] = [("user_agent", .string(userAgent))]
        if version.major == 5 {
            hello.append(("bolt_agent", .map([("product", .string(userAgent))])))
        }
        let separateLogon = version.major == 5 && version.minor >= 1
        if !separateLogon { hello += auth.token }
        let answer = try request(.hello, [.map(hello)])
        serverAgent = answer["server"]?.stringValue ?? ""
        if separateLogon { _ = try request(.logon, [.map(auth.token)]) }
    }

    deinit { close() }

    /// Closes the socket. No `GOODBYE` first: it is optional, and FalkorDB's Bolt listener stops answering new
    /// connections for about 40 s after one.
    public func close() {
        transport.close()
    }

    /// `BEGIN`, on `database` when given (the server's default otherwise).
    public func begin(database: String?) throws(BoltError) {
        _ = try request(.begin, [.map(database.map { [("db", .string($0))] } ?? [])])
    }

    public func commit() throws(BoltError) { _ = try request(.commit, [], wait: statementTimeout) }

    /// `ROLLBACK`; a failed transaction is rolled back by `RESET` instead.
    public func rollback() throws(BoltError) { _ = try request(.rollback, []) }

    /// `RESET`: leaves a failed state, rolling back any open transaction.
    public func reset() throws(BoltError) { _ = try request(.reset, []) }

    /// Runs `query` with `parameters` in the open transaction and pulls every record.
    /// - Returns: the records' values, in the order of the query's `RETURN`.
    public func run(_ query: String, _ parameters: [(String, PackValue)]) throws(BoltError) -> [[PackValue]] {
        _ = try request(.run, [.string(query), .map(parameters), .map([])], wait: statementTimeout)
        var records: [[PackValue]] = []
        try send(.pull, [.map([("n", .int(-1))])])
        while true {
            let (type, fields) = try receive(wait: statementTimeout)
            switch type {
            case .record:
                if case .list(let values)? = fields.first { records.append(values) }
            case .success: return records
            default: throw failure(type, fields)
            }
        }
    }

    /// Sends a message and reads its one summary, `SUCCESS` metadata or the failure thrown.
    private func request(
        _ message: Message, _ fields: [PackValue], wait: Duration? = nil
    ) throws(BoltError) -> PackValue {
        try send(message, fields)
        let (type, answer) = try receive(wait: wait ?? timeout)
        guard type == .success else { throw failure(type, answer) }
        return answer.first ?? .map([])
    }

    private func failure(_ type: Message, _ fields: [PackValue]) -> BoltError {
        guard type == .failure, let meta = fields.first else {
            return BoltError(
                code: nil,
                message: "The Neo4j server answered \(type) (the request was ignored after an earlier failure)",
                isConnectionError: false)
        }
        return BoltError(
            code: meta["code"]?.stringValue ?? meta["neo4j_code"]?.stringValue,
            message: meta["message"]?.stringValue ?? meta["description"]?.stringValue ?? "unknown failure",
            isConnectionError: false)
    }

    private func send(_ message: Message, _ fields: [PackValue]) throws(BoltError) {
        var w = PackStreamWriter()
        w.write(.structure(tag: message.rawValue, fields: fields))
        let body = w.bytes
        var out: [UInt8] = []
        out.reserveCapacity(body.count + body.count / 65535 * 2 + 4)
        var start = 0
        while start < body.count {
            let n = min(65535, body.count - start)
            out += [UInt8(n >> 8), UInt8(n & 0xFF)]
            out += body[start..<start + n]
            start += n
        }
        out += [0, 0]
        do { try transport.write(out, until: ContinuousClock.now.advanced(by: timeout)) } catch {
            throw .connection(error.description)
        }
    }

    private func receive(wait: Duration) throws(BoltError) -> (Message, [PackValue]) {
        var body: [UInt8] = []
        do {
            while true {
                // The first bytes may take the statement's time; the rest of a message comes at network speed.
                let size = try transport.read(
                    count: 2, until: ContinuousClock.now.advanced(by: body.isEmpty ? wait : timeout))
                let n = Int(size[0]) << 8 | Int(size[1])
                if n == 0 {
                    if body.isEmpty { continue }  // a NOOP between messages
                    break
                }
                body += try transport.read(count: n, until: ContinuousClock.now.advanced(by: timeout))
            }
        } catch {
            throw .connection(error.description)
        }
        var reader = PackStreamReader(body)
        guard case .structure(let tag, let fields)? = try? reader.read(), let type = Message(rawValue: tag) else {
            throw .connection("The Neo4j server sent a message this client cannot read")
        }
        return (type, fields)
    }
}
