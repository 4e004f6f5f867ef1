#!/usr/bin/env python3
"""Reads a topic with the confluent-kafka client (an independent librdkafka consumer, no Connect code) and checks
that every value is Kafka Connect's JsonConverter envelope, byte for byte: the bytes must equal the envelope
re-encoded the way Connect's JsonConverter and Jackson write it (keys in Connect's order, no whitespace, Java
number formatting), and the schema must be exactly the datagen `orders` schema.

Prints one JSON summary line: {"count": N, "mismatches": [...], "orderids": [...], "keys_ok": bool, "first": "..."}.
"""
import json
import sys

from read_topic import read_records

ORDERS_SCHEMA = {
    "type": "struct",
    "fields": [
        {"type": "int64", "optional": False, "field": "ordertime"},
        {"type": "int32", "optional": False, "field": "orderid"},
        {"type": "string", "optional": False, "field": "itemid"},
        {"type": "double", "optional": False, "field": "orderunits"},
        {
            "type": "struct",
            "fields": [
                {"type": "string", "optional": False, "field": "city"},
                {"type": "string", "optional": False, "field": "state"},
                {"type": "int64", "optional": False, "field": "zipcode"},
            ],
            "optional": False,
            "name": "ksql.address",
            "field": "address",
        },
    ],
    "optional": False,
    "name": "ksql.orders",
}


def java_double(x):
    """Java's Double.toString for the magnitudes datagen produces (plain notation in [1e-3, 1e7))."""
    if x == int(x) and abs(x) < 1e7:
        return "%.1f" % x
    if 1e-3 <= abs(x) < 1e7:
        return repr(x)
    mantissa, exp = ("%r" % x).split("e") if "e" in repr(x) else (repr(x), "0")
    if "." not in mantissa:
        mantissa += ".0"
    return "%sE%d" % (mantissa, int(exp))


def encode(value):
    """Jackson's compact output: no spaces, key order kept, non-ASCII as UTF-8."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + encode(v) for k, v in value.items()) + "}"


def main():
    bootstrap, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mismatches, orderids, keys_ok, first = [], [], True, None
    records = read_records(bootstrap, topic, expected, idle_polls=20, group="verify")
    for r in records:
        raw = r["value"]
        doc = json.loads(raw)
        if first is None or doc["payload"]["orderid"] == 0:
            first = raw
        if list(doc.keys()) != ["schema", "payload"] or doc["schema"] != ORDERS_SCHEMA:
            mismatches.append({"offset": r["offset"], "reason": "schema", "raw": raw[:300]})
        elif encode(doc) != raw:
            mismatches.append({"offset": r["offset"], "reason": "bytes", "raw": raw[:300], "expected": encode(doc)[:300]})
        orderids.append(doc["payload"]["orderid"])
        if r["key"] != str(doc["payload"]["orderid"]):
            keys_ok = False
    print(json.dumps({"count": len(records), "mismatches": mismatches[:5], "orderids": sorted(orderids),
                      "keys_ok": keys_ok, "first": first}))


if __name__ == "__main__":
    main()
