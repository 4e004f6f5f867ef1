#!/usr/bin/env bash
# Change data capture benchmark, MySQL connector on MariaDB and PostgreSQL connector, in one run on loopback:
#   (a) the database's own rate: one INSERT ... SELECT of ROWS rows into an empty table (the ceiling a CDC reader
#       follows), then the connector (streaming only, snapshot.mode=no_data / never) until every row's change event
#       is on the topic: change events per second from the insert's start, and from the first event to the last;
#   (b) insert-to-topic latency: LAT rows inserted one transaction each at about RATE rows/s, each carrying its
#       insert time in microseconds; latency = the record's Kafka timestamp (the worker's send time) minus that
#       time: median, 99th percentile and maximum, in milliseconds.
# Usage: benchmarks/cdc.sh [ROWS] [LAT] [RATE]   (defaults 100000, 2000, 200). Prints Markdown; RESULTS.md keeps it.
# PROFILE=1 also prints the worker's top symbols during each bulk (perf, cpu-clock) to stderr.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
ROWS="${1:-100000}"
LAT="${2:-2000}"
RATE="${3:-200}"

"$ROOT/scripts/install" >/dev/null 2>&1
swift build -c release --product connect-worker >/dev/null
BIN="$(swift build -c release --show-bin-path)/connect-worker"

WORK=$(mktemp -d)
chmod 755 "$WORK"
KPORT=$(free_port)
PORT=$(free_port)
MYPORT=$(free_port)
PGPORT=$(free_port)
BOOTSTRAP="127.0.0.1:$KPORT"
TANSU_PID=$(start_tansu "$KPORT" "$WORK/tansu.log")
cleanup() {
    set +e  # every step runs, whatever the one before it returned
    [ -n "${WORKER_PID:-}" ] && kill -TERM "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null
    [ -f "$WORK/mysqld.pid" ] && kill -9 "$(cat "$WORK/mysqld.pid")" 2>/dev/null
    stop_postgres "$WORK"
    kill -9 "$TANSU_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
wait_for_broker "$BOOTSTRAP" >/dev/null

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
rate() { printf '%.0f' "$(echo "$1 / $2" | bc -l)"; }
await() { local deadline=$((SECONDS + 600)); until eval "$1"; do [ $SECONDS -lt $deadline ] || { echo "timed out: $1" >&2; exit 1; }; sleep 0.05; done; }
count() { kcat -b "$BOOTSTRAP" -C -t "$1" -o beginning -e -q -f '.\n' 2>/dev/null | wc -l; }

start_mariadb "$WORK" "$MYPORT" --innodb-flush-log-at-trx-commit=2 --sync-binlog=0
mysql_() { mariadb --no-defaults -uroot -h127.0.0.1 -P"$MYPORT" -N -B "$@"; }
start_postgres "$WORK" "$PGPORT" "-c synchronous_commit=off"
psql_() { psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench -v ON_ERROR_STOP=1 -qAt "$@"; }
await 'mysql_ -e "SELECT 1" >/dev/null 2>&1'
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE bench" >/dev/null
COLUMNS_SQL="id INT PRIMARY KEY, customer_id INT, total DECIMAL(10,2), item VARCHAR(40), city VARCHAR(40), created_us BIGINT"
mysql_ -e "CREATE DATABASE bench"
mysql_ -D bench -e "CREATE TABLE bulk ($COLUMNS_SQL); CREATE TABLE lat ($COLUMNS_SQL)"
psql_ -c "CREATE TABLE bulk ($COLUMNS_SQL); CREATE TABLE lat ($COLUMNS_SQL)"

cat > "$WORK/worker.properties" <<PROPS
bootstrap.servers=$BOOTSTRAP
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$WORK/connect.offsets
offset.flush.interval.ms=10000
listeners=http://127.0.0.1:$PORT
PROPS
"$BIN" standalone "$WORK/worker.properties" >"$WORK/worker.log" 2>&1 &
WORKER_PID=$!
await "[ \"\$(curl -s -o /dev/null -w %{http_code} http://127.0.0.1:$PORT/health)\" = 200 ]"

create() { curl -s -X PUT -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/connectors/$1/config" -d "$2" >/dev/null; }
create mysql-bench "{\"connector.class\": \"io.debezium.connector.mysql.MySqlConnector\",
  \"database.hostname\": \"127.0.0.1\", \"database.port\": \"$MYPORT\", \"database.user\": \"root\",
  \"database.password\": \"\", \"database.server.id\": \"91\", \"topic.prefix\": \"my\",
  \"table.include.list\": \"bench.bulk,bench.lat\", \"snapshot.mode\": \"no_data\", \"include.schema.changes\": \"false\"}"
create pg-bench "{\"connector.class\": \"io.debezium.connector.postgresql.PostgresConnector\",
  \"database.hostname\": \"127.0.0.1\", \"database.port\": \"$PGPORT\", \"database.user\": \"postgres\",
  \"database.password\": \"\", \"database.dbname\": \"bench\", \"topic.prefix\": \"pg\", \"slot.name\": \"bench\",
  \"publication.name\": \"bench\", \"table.include.list\": \"public.bulk,public.lat\", \"snapshot.mode\": \"never\"}"
running() { [ "$(curl -s "http://127.0.0.1:$PORT/connectors/$1/status" | jq -r '.tasks[0].state')" = RUNNING ]; }
await 'running mysql-bench && running pg-bench'
sleep 3  # the readers are at the log's end

# Records of a connector's task the broker acknowledged (the worker's own count, cheap to poll: reading the topic
# back with kcat while the worker runs would take the CPU the worker needs).
acked() {
    curl -s "http://127.0.0.1:$PORT/metrics" | awk -v p="swift_connect_task_funnel_records_total{connector=\"$1\",task=\"0\",stage=\"acknowledged\"}" \
        'index($0, p) == 1 { print $2; found = 1 } END { if (!found) print 0 }'
}
# (a) bulk insert: $1 connector, $2 command running the INSERT ... SELECT, $3 topic.
bulk() {
    local t0 t_db t_first t_end perf_pid=
    # PROFILE=1: a cpu-clock profile of the worker during the bulk, its top symbols printed to stderr.
    if [ -n "${PROFILE:-}" ]; then
        perf record -q -e cpu-clock -F 999 -g -p "$WORKER_PID" -o "$WORK/$1.perf" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 0.5
    fi
    t0=$(now)
    eval "$2"
    t_db=$(now)
    await "[ \$(acked $1) -ge 1 ]"
    t_first=$(now)
    await "[ \$(acked $1) -ge $ROWS ]"
    t_end=$(now)
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
        { echo "== $1: top symbols (self)"; perf report -i "$WORK/$1.perf" --no-children --sort symbol --stdio 2>/dev/null \
            | grep -E '^ +[0-9.]+%' | sed 's/ *- *- *$//' | head -25 || true; } >&2
    fi
    [ "$(count "$3")" -ge "$ROWS" ] || { echo "only $(count "$3") of $ROWS change events on $3" >&2; exit 1; }
    local bytes
    bytes=$(kcat -b "$BOOTSTRAP" -C -t "$3" -o beginning -e -q -f '%S %K\n' 2>/dev/null | awk '{ n += $1 + length($2) } END { print n }')
    echo "$(elapsed "$t0" "$t_db") $(elapsed "$t0" "$t_end") $(elapsed "$t_first" "$t_end") $((bytes / ROWS))"
}
read -r MY_DB MY_ALL MY_STEADY MY_BYTES < <(bulk mysql-bench "mysql_ -D bench -e \"INSERT INTO bulk SELECT seq, seq % 1000, seq / 100, CONCAT('item ', seq), 'Leeds', 0 FROM seq_1_to_$ROWS\"" my.bench.bulk)
read -r PG_DB PG_ALL PG_STEADY PG_BYTES < <(bulk pg-bench "psql_ -c \"INSERT INTO bulk SELECT g, g % 1000, g / 100.0, 'item ' || g, 'Leeds', 0 FROM generate_series(1, $ROWS) g\"" pg.public.bulk)

# (b) latency: one row per transaction at about RATE rows/s, each with its insert time.
latency() {  # $1 client function, $2 "now in microseconds" SQL, $3 topic
    local i
    for ((i = 1; i <= LAT; i++)); do
        echo "INSERT INTO lat VALUES ($i, 1, 9.99, 'x', 'y', $2);"
    done | awk -v rate="$RATE" '{ print; if (NR % 20 == 0) { system("sleep " 20 / rate) } }' | $1 >/dev/null
    await "[ \$(count $3) -ge $LAT ]"
    kcat -b "$BOOTSTRAP" -C -t "$3" -o beginning -e -q -f '%T %s\n' 2>/dev/null | python3 -c '
import json, sys
lat = sorted(int(ts) - json.loads(v)["payload"]["after"]["created_us"] / 1000
             for ts, v in (line.split(" ", 1) for line in sys.stdin if line.strip()))
pick = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))]
print("%.1f %.1f %.1f" % (pick(0.5), pick(0.99), lat[-1]))'
}
my_lat() { mysql_ -D bench; }
pg_lat() { psql_; }
read -r MY_P50 MY_P99 MY_MAX < <(latency my_lat "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)" my.bench.lat)
read -r PG_P50 PG_P99 PG_MAX < <(latency pg_lat "(extract(epoch from clock_timestamp()) * 1000000)::bigint" pg.public.lat)

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
cat <<TABLE
Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($CPU); Tansu, MariaDB $(mysql_ -e "SELECT VERSION()" | cut -d- -f1) and PostgreSQL $(psql_ -c "SHOW server_version" | cut -d' ' -f1) on loopback;
JsonConverter with schemas; $ROWS rows of 6 columns in one INSERT ... SELECT; latency over $LAT single-row transactions at about $RATE/s.

| Connector | Database insert (rows/s) | Change events/s, insert start → last on topic | Change events/s, first → last on topic | Bytes/event (key + value) | Latency p50 / p99 / max (ms) |
|---|---:|---:|---:|---:|---:|
| MySqlConnector (MariaDB binlog) | $(rate "$ROWS" "$MY_DB") | $(rate "$ROWS" "$MY_ALL") | $(rate "$ROWS" "$MY_STEADY") | $MY_BYTES | $MY_P50 / $MY_P99 / $MY_MAX |
| PostgresConnector (pgoutput) | $(rate "$ROWS" "$PG_DB") | $(rate "$ROWS" "$PG_ALL") | $(rate "$ROWS" "$PG_STEADY") | $PG_BYTES | $PG_P50 / $PG_P99 / $PG_MAX |
TABLE
