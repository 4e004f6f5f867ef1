#!/usr/bin/env bash
# Sink connector benchmark: each sink of the worker next to its destination's own bulk-load ceiling, in one run on
# loopback (Tansu, PostgreSQL, MariaDB and osmem-server each on 127.0.0.1, a free port and a private directory):
#   (a) JdbcSinkConnector -> PostgreSQL (upsert, pk.mode=record_value, auto.create, batch.size=3000), from
#       POST /connectors until SELECT count(*) FROM orders = RECORDS; ceiling: psql's \copy of the same rows (CSV)
#       into a table of the same shape;
#   (b) the same sink -> MariaDB; ceiling: LOAD DATA LOCAL INFILE of the same rows;
#   (c) ElasticsearchSinkConnector -> osmem-server (key.ignore=false: ids from the keys, schema.ignore=true,
#       batch.size=2000), until GET /<index>/_count = RECORDS; ceiling: curl POSTing the same actions to _bulk
#       (the sink's external versions included), 2000 a request, one request after another, into another index.
# The records (orders: id, customer_id, item, price, quantity, created_at) are produced once with kcat to a
# one-partition topic as JsonConverter envelopes with a schema, keys = the id as a string. The sinks run one after
# another on one standalone worker; each is deleted once done. Servers: PostgreSQL with synchronous_commit=off,
# MariaDB with innodb_flush_log_at_trx_commit=2 and its binlog (as benchmarks/cdc.sh).
# Usage: benchmarks/sinks.sh [RECORDS]   (default 100000). Prints a Markdown table.
# BIN=/path/to/connect-worker uses that binary and skips the release build.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
N="${1:-100000}"

"$ROOT/scripts/install" >/dev/null 2>&1
if [ -z "${BIN:-}" ]; then
    swift build -c release --product connect-worker >/dev/null
    BIN="$(swift build -c release --show-bin-path)/connect-worker"
fi
[ -x "$BIN" ] || { echo "no worker binary at $BIN" >&2; exit 1; }
PY="$VENV/bin/python"
OSMEM="$VENV/lib/python3.11/site-packages/osmem_server/bin/osmem-server"

WORK=$(mktemp -d)
chmod 755 "$WORK"  # the postgres user reads the CSV file and writes the data directory here
KPORT=$(free_port)
PORT=$(free_port)
PGPORT=$(free_port)
MYPORT=$(free_port)
ESPORT=$(free_port)
BOOTSTRAP="127.0.0.1:$KPORT"
TOPIC=bench-orders
INDEX=$(echo "$TOPIC" | tr 'A-Z' 'a-z')  # the sink's index: the topic in lower case
TANSU_PID=$(start_tansu "$KPORT" "$WORK/tansu.log")
cleanup() {
    set +e  # every step runs, whatever the one before it returned
    [ -n "${WORKER_PID:-}" ] && kill -TERM "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null
    [ -n "${ES_PID:-}" ] && kill -9 "$ES_PID" 2>/dev/null
    [ -f "$WORK/mysqld.pid" ] && kill -9 "$(cat "$WORK/mysqld.pid")" 2>/dev/null
    stop_postgres "$WORK"
    kill -9 "$TANSU_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
rate() { printf '%.0f' "$(echo "$1 / $2" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }  # a ceiling's seconds over a sink's: its share of the ceiling
# Records on a topic, counted by reading it.
count() { kcat -b "$BOOTSTRAP" -C -t "$1" -o beginning -e -q -f '.\n' 2>/dev/null | wc -l; }
# await CONDITION [INTERVAL]: waits for a shell condition, at most 600 s, polling every INTERVAL s (default 0.05).
await() { local deadline=$((SECONDS + 600)); until eval "$1"; do [ $SECONDS -lt $deadline ] || { echo "timed out: $1" >&2; exit 1; }; sleep "${2:-0.05}"; done; }

# --- the servers -----------------------------------------------------------------------------------------------
start_postgres "$WORK" "$PGPORT" "-c synchronous_commit=off"
psql_() { psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench -v ON_ERROR_STOP=1 -qAt "$@"; }
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE bench" >/dev/null

# MariaDB: local_infile on for LOAD DATA LOCAL INFILE.
start_mariadb "$WORK" "$MYPORT" --skip-name-resolve --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_general_ci --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --local-infile=1
mysql_() { mariadb --no-defaults -uroot -h127.0.0.1 -P"$MYPORT" -N -B "$@"; }

# osmem-server: an OpenSearch-compatible server; it exits with this shell too (-parent-pid).
"$OSMEM" -addr "127.0.0.1:$ESPORT" -no-stdin-watch -parent-pid $$ >"$WORK/osmem.log" 2>&1 &
ES_PID=$!
disown "$ES_PID"  # no "Killed" line when the cleanup stops it
ES="http://127.0.0.1:$ESPORT"

wait_for_broker "$BOOTSTRAP" >/dev/null
await 'mysql_ -e "SELECT 1" >/dev/null 2>&1' 0.2
mysql_ -e "CREATE DATABASE bench"
wait_for_http "$ES/" 30

# --- the records -----------------------------------------------------------------------------------------------
# records.tsv: key<TAB>JsonConverter envelope, for kcat; rows.csv: the same rows for COPY and LOAD DATA;
# bulk/*.ndjson: the sink's _bulk actions (index, id = key, external version = the record's offset), 2000 a file.
mkdir "$WORK/bulk"
"$PY" - "$N" "$WORK" "$INDEX-bulk" <<'PYTHON'
import json, sys
n, work, index = int(sys.argv[1]), sys.argv[2], sys.argv[3]
schema = {"type": "struct", "name": "orders", "optional": False, "fields": [
    {"field": "id", "type": "int32", "optional": False},
    {"field": "customer_id", "type": "int32", "optional": False},
    {"field": "item", "type": "string", "optional": False},
    {"field": "price", "type": "double", "optional": False},
    {"field": "quantity", "type": "int32", "optional": False},
    {"field": "created_at", "type": "int64", "optional": False}]}
with open(f"{work}/records.tsv", "w") as tsv, open(f"{work}/rows.csv", "w") as csv:
    bulk = None
    for i in range(1, n + 1):
        row = {"id": i, "customer_id": i * 7919 % 5000 + 1, "item": f"item-{i % 1000}",
               "price": round(i * 37 % 10000 / 100 + 0.99, 2), "quantity": i % 10 + 1,
               "created_at": 1700000000000 + i * 1000}
        payload = json.dumps(row, separators=(",", ":"))
        tsv.write(f"{i}\t" + json.dumps({"schema": schema, "payload": row}, separators=(",", ":")) + "\n")
        csv.write(",".join(str(v) for v in row.values()) + "\n")
        if (i - 1) % 2000 == 0:
            if bulk: bulk.close()
            bulk = open(f"{work}/bulk/{i:09d}.ndjson", "w")
        action = {"index": {"_index": index, "_id": str(i), "version": i - 1, "version_type": "external"}}
        bulk.write(json.dumps(action, separators=(",", ":")) + "\n" + payload + "\n")
    bulk.close()
PYTHON
BYTES=$(awk -F'\t' '{ n += length($1) + length($2) } END { print n }' "$WORK/records.tsv")

# One partition, so one task reads everything in order (and offsets are id - 1).
"$PY" - "$BOOTSTRAP" "$TOPIC" <<'PYTHON'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({"bootstrap.servers": sys.argv[1]})  # kept alive until the futures resolve
for f in admin.create_topics([NewTopic(sys.argv[2], 1, 1)]).values():
    f.result()
PYTHON
t0=$(now)
kcat -b "$BOOTSTRAP" -P -t "$TOPIC" -K $'\t' -X acks=all -X linger.ms=5 -l "$WORK/records.tsv"  # exits once all are acked
PRODUCE_SECS=$(elapsed "$t0" "$(now)")
ON_TOPIC=$(count "$TOPIC")
[ "$ON_TOPIC" -ge "$N" ] || { echo "only $ON_TOPIC of $N records on $TOPIC" >&2; exit 1; }

# --- the worker ------------------------------------------------------------------------------------------------
cat > "$WORK/worker.properties" <<PROPS
bootstrap.servers=$BOOTSTRAP
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$WORK/connect.offsets
offset.flush.interval.ms=10000
listeners=http://127.0.0.1:$PORT
consumer.session.timeout.ms=6000
PROPS
"$BIN" standalone "$WORK/worker.properties" >"$WORK/worker.log" 2>&1 &
WORKER_PID=$!
await "[ \"\$(curl -s -o /dev/null -w %{http_code} http://127.0.0.1:$PORT/health)\" = 200 ]"

# The task's state; a FAILED one ends the run with its trace.
not_failed() {
    local status
    status=$(curl -s "http://127.0.0.1:$PORT/connectors/$1/status")
    if echo "$status" | jq -e '[.connector.state, .tasks[]?.state] | index("FAILED")' >/dev/null; then
        echo "$1 failed: $(echo "$status" | jq -r '[.connector.trace, .tasks[]?.trace] | map(select(.)) | .[0]' | head -20)" >&2
        exit 1
    fi
}
# run_sink NAME CONFIG_JSON COUNT_COMMAND: creates the connector, waits until COUNT_COMMAND prints N (polled every
# 0.1 s; the task's state every 2 s), deletes it; prints the seconds from the POST to the count, and from the first
# record counted (the steady rate, without the group join and the table or index creation).
run_sink() {
    local t0 t_first="" t_end polls=0 deadline=$((SECONDS + 600)) code seen
    t0=$(now)
    code=$(curl -s -o "$WORK/$1.post" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        "http://127.0.0.1:$PORT/connectors" -d "{\"name\": \"$1\", \"config\": $2}")
    [ "$code" = 201 ] || { echo "POST /connectors ($1) answered $code: $(cat "$WORK/$1.post")" >&2; exit 1; }
    while true; do
        seen=$(eval "$3" 2>/dev/null || echo 0)
        [ "$seen" -gt 0 ] 2>/dev/null && [ -z "$t_first" ] && t_first=$(now)
        [ "$seen" -ge "$N" ] 2>/dev/null && break
        polls=$((polls + 1))
        if [ $((polls % 20)) = 0 ]; then not_failed "$1"; fi
        [ $SECONDS -lt $deadline ] || { echo "timed out: $1 ($seen of $N)" >&2; exit 1; }
        sleep 0.1
    done
    t_end=$(now)
    curl -s -X DELETE "http://127.0.0.1:$PORT/connectors/$1" >/dev/null
    echo "$(elapsed "$t0" "$t_end") $(elapsed "${t_first:-$t0}" "$t_end")"
}
jdbc_config() {  # $1 connection.url, $2 user
    cat <<JSON
{"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "topics": "$TOPIC", "tasks.max": "1",
 "connection.url": "$1", "connection.user": "$2", "connection.password": "",
 "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id", "auto.create": "true",
 "table.name.format": "orders", "batch.size": "3000",
 "key.converter": "org.apache.kafka.connect.storage.StringConverter",
 "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true"}
JSON
}
es_count() {  # documents in index $1, after a refresh
    curl -s -X POST "$ES/$1/_refresh" >/dev/null
    curl -s "$ES/$1/_count" | jq -r '.count // 0'
}

# --- (a) PostgreSQL ----------------------------------------------------------------------------------------------
PG_SINK=$(run_sink jdbc-postgres "$(jdbc_config "jdbc:postgresql://127.0.0.1:$PGPORT/bench" postgres)" \
    "psql_ -c 'SELECT count(*) FROM orders'")
# The ceiling's table: the shape the sink created (columns, types, primary key), empty.
psql_ -c "CREATE TABLE orders_copy (LIKE orders INCLUDING ALL)"
t0=$(now)
psql_ -c "\\copy orders_copy (id, customer_id, item, price, quantity, created_at) FROM '$WORK/rows.csv' CSV"
PG_COPY=$(elapsed "$t0" "$(now)")
[ "$(psql_ -c 'SELECT count(*) FROM orders_copy')" = "$N" ] || { echo "COPY loaded $(psql_ -c 'SELECT count(*) FROM orders_copy') rows" >&2; exit 1; }

# --- (b) MariaDB -------------------------------------------------------------------------------------------------
MY_SINK=$(run_sink jdbc-mariadb "$(jdbc_config "jdbc:mariadb://127.0.0.1:$MYPORT/bench" root)" \
    "mysql_ -D bench -e 'SELECT count(*) FROM orders'")
mysql_ -D bench -e "CREATE TABLE orders_load LIKE orders"
t0=$(now)
mysql_ --local-infile=1 -D bench -e "LOAD DATA LOCAL INFILE '$WORK/rows.csv' INTO TABLE orders_load
    FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n' (id, customer_id, item, price, quantity, created_at)"
MY_LOAD=$(elapsed "$t0" "$(now)")
[ "$(mysql_ -D bench -e 'SELECT count(*) FROM orders_load')" = "$N" ] || { echo "LOAD DATA loaded $(mysql_ -D bench -e 'SELECT count(*) FROM orders_load') rows" >&2; exit 1; }

# --- (c) Elasticsearch (osmem-server) ----------------------------------------------------------------------------
ES_SINK=$(run_sink elasticsearch "{
 \"connector.class\": \"io.confluent.connect.elasticsearch.ElasticsearchSinkConnector\", \"topics\": \"$TOPIC\",
 \"tasks.max\": \"1\", \"connection.url\": \"$ES\", \"key.ignore\": \"false\", \"schema.ignore\": \"true\",
 \"batch.size\": \"2000\", \"key.converter\": \"org.apache.kafka.connect.storage.StringConverter\",
 \"value.converter\": \"org.apache.kafka.connect.json.JsonConverter\", \"value.converter.schemas.enable\": \"true\"}" \
    "es_count $INDEX")
# The ceiling: the same actions, one _bulk request after another, each checked for item errors; then a refresh.
t0=$(now)
for f in "$WORK"/bulk/*.ndjson; do
    curl -s -X POST -H 'Content-Type: application/x-ndjson' --data-binary "@$f" "$ES/_bulk" -o "$WORK/bulk.out"
    [ "$(jq -r '.errors' "$WORK/bulk.out")" = false ] || { echo "_bulk of $f: $(head -c 500 "$WORK/bulk.out")" >&2; exit 1; }
done
curl -s -X POST "$ES/$INDEX-bulk/_refresh" >/dev/null
ES_BULK=$(elapsed "$t0" "$(now)")
[ "$(es_count "$INDEX-bulk")" = "$N" ] || { echo "_bulk indexed $(es_count "$INDEX-bulk") documents" >&2; exit 1; }

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
# row WHAT SECONDS CEILING_SECONDS [STEADY_SECONDS]
row() {
    local steady=-
    if [ -n "${4:-}" ]; then steady=$(rate "$N" "$4"); fi
    echo "| $1 | $N | $(printf '%.2f' "$2") | $(rate "$N" "$2") | $steady | $(ratio "$3" "$2") |"
}
set -- $PG_SINK; PG_SINK=$1; PG_STEADY=$2
set -- $MY_SINK; MY_SINK=$1; MY_STEADY=$2
set -- $ES_SINK; ES_SINK=$1; ES_STEADY=$2
cat <<TABLE
Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($CPU); worker $BIN;
Tansu, PostgreSQL $(psql_ -c "SHOW server_version" | cut -d' ' -f1), MariaDB $(mysql_ -e "SELECT VERSION()" | cut -d- -f1) and osmem-server on loopback;
$N orders records (one partition, $((BYTES / N)) bytes each on average: key + JsonConverter envelope), produced by kcat in $(printf '%.2f' "$PRODUCE_SECS") s.
A sink's time runs from POST /connectors (group join and table or index creation included) to the last row counted.

| What | Records | Seconds | Records/s | Records/s from the first | Ratio to ceiling |
|---|---:|---:|---:|---:|---:|
$(row "JdbcSinkConnector → PostgreSQL (upsert, batch.size=3000)" "$PG_SINK" "$PG_COPY" "$PG_STEADY")
$(row "PostgreSQL COPY, psql \copy … CSV (ceiling)" "$PG_COPY" "$PG_COPY")
$(row "JdbcSinkConnector → MariaDB (upsert, batch.size=3000)" "$MY_SINK" "$MY_LOAD" "$MY_STEADY")
$(row "MariaDB LOAD DATA LOCAL INFILE (ceiling)" "$MY_LOAD" "$MY_LOAD")
$(row "ElasticsearchSinkConnector → osmem-server (batch.size=2000)" "$ES_SINK" "$ES_BULK" "$ES_STEADY")
$(row "curl _bulk, 2000 actions a request (ceiling)" "$ES_BULK" "$ES_BULK")
TABLE
