#!/usr/bin/env python3
"""Runs a Cypher query on FalkorDB through Redis' own protocol (GRAPH.QUERY falkordb QUERY, what redis-cli sends)
and prints each result row's values joined by "|", one row per line: an independent check of what the Neo4j sink
wrote over Bolt.

Usage: graph_query.py REDIS_PORT QUERY
"""
import socket
import sys


def main():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
    args = ["GRAPH.QUERY", "falkordb", sys.argv[2]]
    s.sendall(("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a.encode()), a) for a in args)).encode())
    f = s.makefile("rb")

    def read():
        line = f.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [read() for _ in range(n)]
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:-2].decode()
        if kind == b":":
            return int(rest)
        if kind == b"-":
            raise SystemExit("error: " + rest.decode())
        return rest.decode()

    reply = read()
    for row in reply[1] if len(reply) == 3 else []:
        print("|".join(str(v) for v in row))


if __name__ == "__main__":
    main()
