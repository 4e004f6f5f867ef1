"""A TLS listener in front of a plaintext TCP service: a broker's SSL listener, for tests of the worker's TLS clients
against a broker (Tansu in the tests) that only speaks plaintext.

Usage: tls_proxy.py LISTEN_PORT TARGET_PORT CERT KEY [CA]
Listens on 127.0.0.1:LISTEN_PORT with CERT/KEY (with CA: client certificates signed by it are required), forwards
every connection to 127.0.0.1:TARGET_PORT, and prints "ready" once listening. Exits when its parent is gone.
"""
import asyncio
import os
import ssl
import sys


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


async def main():
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    if len(sys.argv) > 5:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(sys.argv[5])

    async def handle(client_reader, client_writer):
        try:
            target_reader, target_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, target_writer), pipe(target_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, ssl=context)
    print("ready", flush=True)
    parent = os.getppid()
    async with server:
        while os.getppid() == parent:
            await asyncio.sleep(0.5)


asyncio.run(main())
