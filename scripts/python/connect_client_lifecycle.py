#!/usr/bin/env python3
"""Drives a connector's life cycle through kafka-connect-py, a REST client library written for Apache Kafka Connect,
used as published (no changes), and prints what each call returned as one JSON object.

Usage: connect_client_lifecycle.py URL TOPIC SINK_FILE
"""
import json
import sys
import time

from kafka_connect import KafkaConnect


def wait_state(client, name, state, seconds=40):
    deadline = time.time() + seconds
    status = None
    while time.time() < deadline:
        status = client.get_connector_status(name)
        if status["connector"]["state"] == state and all(t["state"] == state for t in status["tasks"]):
            return status
        time.sleep(0.3)
    return status


def main():
    url, topic, sink_file = sys.argv[1], sys.argv[2], sys.argv[3]
    client = KafkaConnect(url=url)
    out = {"info": client.get_cluster_info()}
    out["plugins"] = [p["class"] for p in client.list_connector_plugins()]
    source = {"connector.class": "DatagenConnector", "kafka.topic": topic, "quickstart": "users", "max.interval": 20}
    out["validate_errors"] = client.validate_connector_config(
        "DatagenConnector", dict(source, name="py-source"))["error_count"]
    out["created"] = client.create_connector({"name": "py-source", "config": source})["name"]
    client.create_connector({"name": "py-sink", "config": {
        "connector.class": "FileStreamSink", "topics": topic, "file": sink_file}})
    out["running"] = wait_state(client, "py-sink", "RUNNING")["connector"]["state"]
    out["listed"] = sorted(client.list_connectors(expand="status").keys())
    client.pause_connector("py-source")
    out["paused"] = wait_state(client, "py-source", "PAUSED")["connector"]["state"]
    client.resume_connector("py-source")
    out["resumed"] = wait_state(client, "py-source", "RUNNING")["connector"]["state"]
    restarted = client.restart_connector("py-source", include_tasks=True)
    out["restart_states"] = [restarted["connector"]["state"]] + [t["state"] for t in restarted["tasks"]]
    client.restart_connector_task("py-source", 0)
    out["task_status"] = client.get_connector_task_status("py-source", 0)["state"]
    deadline = time.time() + 30
    while time.time() < deadline and not client.list_connector_topics("py-sink")["py-sink"]["topics"]:
        time.sleep(0.3)
    out["topics"] = client.list_connector_topics("py-sink")
    client.reset_connector_topics("py-sink")
    out["topics_after_reset"] = client.list_connector_topics("py-sink")
    updated = client.update_connector("py-source", dict(source, **{"max.interval": 50}))
    out["updated_interval"] = updated["config"]["max.interval"]
    client.stop_connector("py-source")
    out["stopped"] = wait_state(client, "py-source", "STOPPED")["connector"]["state"]
    client.delete_connector("py-source")
    client.delete_connector("py-sink")
    out["after_delete"] = client.list_connectors()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
