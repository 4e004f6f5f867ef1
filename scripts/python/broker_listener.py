"""A broker listener with TLS and/or SASL in front of a plaintext broker (Tansu in the tests), for tests of the
worker's clients against the SSL, SASL_PLAINTEXT and SASL_SSL listeners a production broker has.

Tansu keeps SCRAM users in its memory and refuses to create them once authentication is on, so it cannot be a SASL
broker here; this listener authenticates clients as a Kafka broker does (SaslHandshake v1 then SaslAuthenticate,
KIP-152, in v0-v2 layouts; the Swift client and librdkafka send v1; not v0's raw tokens; PLAIN, and
SCRAM-SHA-256/512 by the `scramp` library, RFC 5802/7677) and then passes every byte on to the broker. Before a client is authenticated only ApiVersions reaches the broker; anything else closes the
connection, as a Kafka broker's SASL listener does.

Usage: broker_listener.py --port P --target T [--cert CERT --key KEY [--ca CA]] [--sasl JSON]
  --cert/--key: serve TLS; --ca: require client certificates signed by CA.
  --sasl: '{"mechanisms": ["PLAIN", "SCRAM-SHA-256"], "users": {"alice": "secret"}}'.
Prints "ready" once listening; exits when its parent is gone.
"""
import argparse
import asyncio
import json
import os
import ssl
import struct

import scramp

SASL_HANDSHAKE, API_VERSIONS, SASL_AUTHENTICATE = 17, 18, 36
UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE, SASL_AUTHENTICATION_FAILED = 33, 34, 58


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        writer.close()


async def read_frame(reader):
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    return await reader.readexactly(size)


def uvarint(data, pos):
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def put_uvarint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def skip_tagged_fields(data, pos):
    count, pos = uvarint(data, pos)
    for _ in range(count):
        _, pos = uvarint(data, pos)
        size, pos = uvarint(data, pos)
        pos += size
    return pos


class Authenticator:
    """One connection's SASL exchange: the mechanism chosen by the handshake, then its rounds."""

    def __init__(self, config):
        self.mechanisms = config["mechanisms"]
        self.users = config["users"]
        self.mechanism = None
        self.scram = None
        self.done = False

    def handshake(self, mechanism):
        if mechanism not in self.mechanisms:
            return UNSUPPORTED_SASL_MECHANISM
        self.mechanism = mechanism
        if mechanism.startswith("SCRAM-"):
            m = scramp.ScramMechanism(mechanism)
            infos = {u: m.make_auth_info(p, iteration_count=4096) for u, p in self.users.items()}

            def auth_fn(username):
                if username not in infos:
                    raise scramp.ScramException("unknown user")
                return infos[username]

            self.scram = m.make_server(auth_fn)
        return 0

    def step(self, token):
        """(error code, message, reply bytes); the exchange is over when `done`."""
        failed = (
            f"Authentication failed during authentication due to invalid credentials with SASL mechanism {self.mechanism}"
        )
        if self.mechanism is None:
            return ILLEGAL_SASL_STATE, "SaslAuthenticate before SaslHandshake", b""
        try:
            token.decode()
        except UnicodeDecodeError:
            return SASL_AUTHENTICATION_FAILED, "Authentication failed: the SASL token is not UTF-8", b""
        if self.mechanism == "PLAIN":
            parts = token.split(b"\0")
            if len(parts) == 3 and self.users.get(parts[1].decode()) == parts[2].decode():
                self.done = True
                return 0, None, b""
            return SASL_AUTHENTICATION_FAILED, "Authentication failed: Invalid username or password", b""
        try:
            if self.scram.stage is None:
                self.scram.set_client_first(token.decode())
                return 0, None, self.scram.get_server_first().encode()
            self.scram.set_client_final(token.decode())
            self.done = True
            return 0, None, self.scram.get_server_final().encode()
        except scramp.ScramException:
            return SASL_AUTHENTICATION_FAILED, failed, b""


def handshake_response(correlation_id, code, mechanisms):
    body = struct.pack(">ihi", correlation_id, code, len(mechanisms))
    for m in mechanisms:
        body += struct.pack(">h", len(m)) + m.encode()
    return body


def authenticate_response(correlation_id, version, code, message, token):
    if version >= 2:
        body = struct.pack(">i", correlation_id) + b"\0" + struct.pack(">h", code)
        encoded = None if message is None else message.encode()
        body += put_uvarint(0) if encoded is None else put_uvarint(len(encoded) + 1) + encoded
        body += put_uvarint(len(token) + 1) + token + struct.pack(">q", 0) + b"\0"
        return body
    body = struct.pack(">ih", correlation_id, code)
    encoded = None if message is None else message.encode()
    body += struct.pack(">h", -1) if encoded is None else struct.pack(">h", len(encoded)) + encoded
    body += struct.pack(">i", len(token)) + token
    if version >= 1:
        body += struct.pack(">q", 0)
    return body


async def authenticate(reader, writer, sasl, target):
    """Runs the client's SASL exchange; True once it authenticated."""
    auth = Authenticator(sasl)
    target_reader, target_writer = target
    while not auth.done:
        frame = await read_frame(reader)
        api_key, version, correlation_id = struct.unpack_from(">hhi", frame, 0)
        client_id_size = struct.unpack_from(">h", frame, 8)[0]
        pos = 10 + max(client_id_size, 0)
        if api_key == API_VERSIONS:
            target_writer.write(struct.pack(">i", len(frame)) + frame)
            await target_writer.drain()
            answer = await read_frame(target_reader)
            writer.write(struct.pack(">i", len(answer)) + answer)
        elif api_key == SASL_HANDSHAKE:
            size = struct.unpack_from(">h", frame, pos)[0]
            mechanism = frame[pos + 2 : pos + 2 + size].decode(errors="replace")
            code = auth.handshake(mechanism) if auth.mechanism is None else ILLEGAL_SASL_STATE
            answer = handshake_response(correlation_id, code, sasl["mechanisms"])
            writer.write(struct.pack(">i", len(answer)) + answer)
            if code:
                await writer.drain()
                return False
        elif api_key == SASL_AUTHENTICATE:
            if version >= 2:
                pos = skip_tagged_fields(frame, pos)
                size, pos = uvarint(frame, pos)
                token = frame[pos : pos + size - 1]
            else:
                size = struct.unpack_from(">i", frame, pos)[0]
                token = frame[pos + 4 : pos + 4 + size]
            code, message, reply = auth.step(token)
            answer = authenticate_response(correlation_id, version, code, message, reply)
            writer.write(struct.pack(">i", len(answer)) + answer)
            if code:
                await writer.drain()
                return False
        else:
            return False
        await writer.drain()
    return True


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", type=int, required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--ca")
    parser.add_argument("--sasl")
    args = parser.parse_args()
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        if args.ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.ca)
    sasl = json.loads(args.sasl) if args.sasl else None

    async def handle(client_reader, client_writer):
        try:
            target_reader, target_writer = await asyncio.open_connection("127.0.0.1", args.target)
        except OSError:
            client_writer.close()
            return
        try:
            if sasl and not await authenticate(
                client_reader, client_writer, sasl, (target_reader, target_writer)
            ):
                raise ConnectionError("not authenticated")
        except (
            ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError, struct.error, IndexError, ValueError
        ):
            client_writer.close()
            target_writer.close()
            return
        await asyncio.gather(pipe(client_reader, target_writer), pipe(target_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", args.port, ssl=context)
    print("ready", flush=True)
    parent = os.getppid()
    async with server:
        while os.getppid() == parent:
            await asyncio.sleep(0.5)


asyncio.run(main())
