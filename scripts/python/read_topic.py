#!/usr/bin/env python3
"""Reads up to N records of a topic from the beginning with the confluent-kafka client (an independent consumer)
and prints them as one JSON array: [{"partition", "offset", "timestamp", "key", "value", "headers"}], where key
and value are decoded UTF-8 text (null for null) and headers a list of [name, text].

Usage: read_topic.py BOOTSTRAP TOPIC N
"""
import json
import sys

from confluent_kafka import Consumer, TopicPartition


def text(b):
    return None if b is None else b.decode("utf-8", errors="replace")


def read_records(bootstrap, topic, n, idle_polls=10, group="read"):
    """Up to n records of the topic from the beginning of every partition, as dicts of decoded text; stops after
    idle_polls empty polls of half a second."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group + "-" + topic, "enable.auto.commit": False})
    md = c.list_topics(topic, timeout=10)
    out, idle = [], 0
    if topic in md.topics and md.topics[topic].error is None:
        c.assign([TopicPartition(topic, p, 0) for p in md.topics[topic].partitions])
        while len(out) < n and idle < idle_polls:
            msg = c.poll(0.5)
            if msg is None:
                idle += 1
                continue
            if msg.error():
                continue
            idle = 0
            out.append({"partition": msg.partition(), "offset": msg.offset(), "timestamp": msg.timestamp()[1],
                        "key": text(msg.key()),
                        "value": text(msg.value()), "headers": [[k, text(v)] for k, v in (msg.headers() or [])]})
    c.close()
    return out


def main():
    bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(read_records(bootstrap, topic, n)))


if __name__ == "__main__":
    main()
