#!/usr/bin/env python3
"""Dumps a topic for the benchmark's kcat replay, on the confluent-kafka client.

  topic_tool.py dump BOOTSTRAP TOPIC FILE N   -> writes N records as "key<TAB>value" lines, prints total key+value bytes
"""
import sys

from confluent_kafka import Consumer, TopicPartition


def consumer(bootstrap):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-tool", "enable.auto.commit": False})


def dump(bootstrap, topic, path, n):
    c = consumer(bootstrap)
    parts = c.list_topics(topic, timeout=10).topics[topic].partitions
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    written, size, idle = 0, 0, 0
    with open(path, "wb") as f:
        while written < n and idle < 20:
            msgs = c.consume(1000, 0.5)
            if not msgs:
                idle += 1
                continue
            idle = 0
            for m in msgs:
                if m.error() or written >= n:
                    continue
                key, value = m.key() or b"", m.value() or b""
                f.write(key + b"\t" + value + b"\n")
                size += len(key) + len(value)
                written += 1
    c.close()
    print(size)


if __name__ == "__main__":
    dump(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
