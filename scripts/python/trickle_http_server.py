"""An HTTP server that answers every request slowly but steadily, for the HTTP client's idle-timeout test.

Usage: trickle_http_server.py BYTES INTERVAL_MS [SILENCE_MS]
Prints its port, then for each connection reads the request head (and a Content-Length body), sends a 200 answer
whose body is BYTES bytes of "x", one byte every INTERVAL_MS milliseconds; with SILENCE_MS it first says nothing
for that long.
"""
import socket
import sys
import threading
import time

size, interval = int(sys.argv[1]), int(sys.argv[2]) / 1000
silence = int(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0


def serve(conn):
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            body += chunk
        time.sleep(silence)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % size)
            for _ in range(size):
                conn.sendall(b"x")
                time.sleep(interval)
        except OSError:
            pass


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen()
print(listener.getsockname()[1], flush=True)
while True:
    c, _ = listener.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
