#!/usr/bin/env bash
# Throughput benchmark of the worker next to the raw librdkafka ceiling (kcat), in one run on a local Tansu broker:
#   (a) datagen (max.interval=0) -> JsonConverter -> broker, vs kcat producing the same keys and values;
#   (a') the same with a Cast + ReplaceField + InsertField chain;
#   (b) broker -> JsonConverter -> FileStreamSink, vs kcat consuming the same records as a consumer-group member
#       writing them to a file (the fair ceiling for a sink), and without a group (the raw fetch ceiling);
#   (c) the worker's idle RSS, what each running task adds, and the time from process start to /health = 200;
#   (d) (a) and (b) again on a worker with metrics recording off, for what recording costs.
# Usage: benchmarks/run.sh [RECORDS]   (default 200000). Prints Markdown tables, the last one the goals of issue 20
# with whether each is met; benchmarks/RESULTS.md keeps results.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
N="${1:-200000}"

"$ROOT/scripts/install" >/dev/null 2>&1
swift build -c release --product connect-worker >/dev/null
BIN="$(swift build -c release --show-bin-path)/connect-worker"
PY="$VENV/bin/python"
TOOL="$ROOT/benchmarks/topic_tool.py"  # dumps records for kcat to replay

WORK=$(mktemp -d)
KPORT=$(free_port)
PORT=$(free_port)
BOOTSTRAP="127.0.0.1:$KPORT"
TANSU_PID=$(start_tansu "$KPORT" "$WORK/tansu.log")
cleanup() {
    [ -n "${WORKER_PID:-}" ] && kill -TERM "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null
    kill -9 "$TANSU_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
wait_for_broker "$BOOTSTRAP"

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
rate() { printf '%.0f' "$(echo "$1 / $2" | bc -l)"; }
mbps() { printf '%.2f' "$(echo "$1 / $2 / 1048576" | bc -l)"; }
# Records on a topic, counted by reading it (Tansu's high watermarks can lag behind what it holds).
count() { kcat -b "$BOOTSTRAP" -C -t "$1" -o beginning -e -q -f '.\n' 2>/dev/null | wc -l; }
# Waits for a shell condition, at most 600 s.
await() { local deadline=$((SECONDS + 600)); until eval "$1"; do [ $SECONDS -lt $deadline ] || { echo "timed out: $1" >&2; exit 1; }; sleep 0.05; done; }

# worker_properties PORT OFFSETS [EXTRA]: a standalone worker's properties.
worker_properties() {
    cat <<PROPS
bootstrap.servers=$BOOTSTRAP
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$2
offset.flush.interval.ms=10000
listeners=http://127.0.0.1:$1
consumer.session.timeout.ms=6000
${3:-}
PROPS
}
# start_worker PORT NAME [EXTRA]: starts a worker, waits for /health; sets WORKER_PID.
start_worker() {
    worker_properties "$1" "$WORK/$2.offsets" "${3:-}" > "$WORK/$2.properties"
    "$BIN" standalone "$WORK/$2.properties" >"$WORK/$2.log" 2>&1 &
    WORKER_PID=$!
    await "[ \"\$(curl -s -o /dev/null -w %{http_code} http://127.0.0.1:$1/health)\" = 200 ]"
}
# run_source PORT WORKER CONNECTOR TOPIC [EXTRA_JSON]: runs N datagen records, prints the seconds until the offset of
# the last one is committed (offsets are written only after the broker acknowledged every record before them; the
# task stops itself after `iterations` and flushes).
run_source() {
    local t0
    t0=$(now)
    curl -s -X PUT -H 'Content-Type: application/json' "http://127.0.0.1:$1/connectors/$3/config" -d "{
      \"connector.class\": \"DatagenConnector\", \"kafka.topic\": \"$4\", \"quickstart\": \"orders\",
      \"max.interval\": 0, \"iterations\": $N, \"random.seed\": 1 ${5:-}}" >/dev/null
    await "grep -q '\"$3\",{\"task.id\":0}\],{\"current.iteration\":$N[,}]' '$WORK/$2.offsets' 2>/dev/null"
    elapsed "$t0" "$(now)"
}
# run_sink PORT CONNECTOR FILE: sinks the N records of bench-orders into FILE; prints total and steady-state seconds.
run_sink() {
    local t0 t_first t_end
    t0=$(now)
    curl -s -X PUT -H 'Content-Type: application/json' "http://127.0.0.1:$1/connectors/$2/config" -d "{
      \"connector.class\": \"FileStreamSink\", \"topics\": \"bench-orders\", \"file\": \"$3\"}" >/dev/null
    await "[ -s '$3' ]"
    t_first=$(now)
    await "[ \$(wc -l < '$3') -ge $N ]"
    t_end=$(now)
    echo "$(elapsed "$t0" "$t_end") $(elapsed "$t_first" "$t_end")"
}

# (c) start-up time and idle memory.
t0=$(now)
start_worker "$PORT" worker
STARTUP=$(elapsed "$t0" "$(now)")
sleep 2
IDLE_RSS_KB=$(ps -o rss= -p "$WORKER_PID" | tr -d ' ')
WORKER_ON_PID=$WORKER_PID

# A warm-up source of 20,000 records first: the first connector of a fresh worker and broker ran up to 40 % slower
# than the same one right after it, which made the ratios below depend on the order of the runs.
N=20000 run_source "$PORT" worker bench-warmup bench-warmup >/dev/null

# (a) source: datagen -> JsonConverter -> broker.
SRC_SECS=$(run_source "$PORT" worker bench-datagen bench-orders)
ON_TOPIC=$(count bench-orders)
[ "$ON_TOPIC" -ge "$N" ] || { echo "only $ON_TOPIC of $N records on the topic" >&2; exit 1; }
BYTES=$("$PY" "$TOOL" dump "$BOOTSTRAP" bench-orders "$WORK/records.tsv" "$N")

# (a') the same source with a realistic transform chain: Cast + ReplaceField + InsertField.
SMT_SECS=$(run_source "$PORT" worker bench-datagen-smt bench-orders-smt ",
  \"transforms\": \"cast,drop,insert\",
  \"transforms.cast.type\": \"org.apache.kafka.connect.transforms.Cast\$Value\",
  \"transforms.cast.spec\": \"orderid:string,orderunits:int32\",
  \"transforms.drop.type\": \"org.apache.kafka.connect.transforms.ReplaceField\$Value\",
  \"transforms.drop.exclude\": \"ordertime\", \"transforms.drop.renames\": \"itemid:item\",
  \"transforms.insert.type\": \"org.apache.kafka.connect.transforms.InsertField\$Value\",
  \"transforms.insert.topic.field\": \"source_topic\", \"transforms.insert.timestamp.field\": \"ts\"")
SMT_BYTES=$("$PY" "$TOOL" dump "$BOOTSTRAP" bench-orders-smt "$WORK/records-smt.tsv" "$N")

# kcat producing the same keys and values with the same producer guarantees.
t0=$(now)
# kcat -P exits once every record is acknowledged.
kcat -b "$BOOTSTRAP" -P -t bench-kcat -K $'\t' -X enable.idempotence=true -X acks=all -X linger.ms=5 -l "$WORK/records.tsv"
KCAT_P_SECS=$(elapsed "$t0" "$(now)")

# (b) sink: broker -> JsonConverter -> FileStreamSink.
read -r SINK_SECS SINK_STEADY < <(run_sink "$PORT" bench-sink "$WORK/sink.txt")
kill -TERM "$WORKER_ON_PID"; wait "$WORKER_ON_PID" 2>/dev/null || true

# (d) the same source and sink on a worker with metrics recording off (metrics.recording.enabled=false).
PORT_OFF=$(free_port)
start_worker "$PORT_OFF" worker-off "metrics.recording.enabled=false"
N=20000 run_source "$PORT_OFF" worker-off bench-warmup-off bench-warmup-off >/dev/null
OFF_SRC_SECS=$(run_source "$PORT_OFF" worker-off bench-datagen-off bench-orders-off)
read -r OFF_SINK_SECS OFF_SINK_STEADY < <(run_sink "$PORT_OFF" bench-sink-off "$WORK/sink-off.txt")

# kcat consuming the same records as a consumer-group member, writing the values to a file (joins included, as
# the worker's (b)).
t0=$(now)
kcat -b "$BOOTSTRAP" -G bench-kcat-group -X auto.offset.reset=earliest -q -c "$N" -f '%s\n' bench-orders \
    > "$WORK/kcat-sink.txt" &
KCAT_PID=$!
await "[ -s '$WORK/kcat-sink.txt' ]"
t_first=$(now)
wait "$KCAT_PID"
t_end=$(now)
KCAT_G_SECS=$(elapsed "$t0" "$t_end")
KCAT_G_STEADY=$(elapsed "$t_first" "$t_end")

# (c) what running tasks add: ten slow datagen tasks (one record a second each), on the second worker (metrics
# recording off, its sink connector still there).
TASKS=10
RSS_BEFORE_KB=$(ps -o rss= -p "$WORKER_PID" | tr -d ' ')
curl -s -X PUT -H 'Content-Type: application/json' "http://127.0.0.1:$PORT_OFF/connectors/bench-idle-tasks/config" \
    -d "{\"connector.class\": \"DatagenConnector\", \"kafka.topic\": \"bench-idle\", \"quickstart\": \"orders\",
      \"max.interval\": 1000, \"tasks.max\": $TASKS}" >/dev/null
await "[ \$(curl -s http://127.0.0.1:$PORT_OFF/connectors/bench-idle-tasks/status | grep -o RUNNING | wc -l) -ge $((TASKS + 1)) ]"
sleep 5
RSS_TASKS_KB=$(ps -o rss= -p "$WORKER_PID" | tr -d ' ')
PER_TASK_KB=$(( (RSS_TASKS_KB - RSS_BEFORE_KB) / TASKS ))

# kcat consuming the same records (no group: the raw fetch ceiling).
t0=$(now)
kcat -b "$BOOTSTRAP" -C -t bench-orders -o beginning -e -q -c "$N" > /dev/null
KCAT_C_SECS=$(elapsed "$t0" "$(now)")

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
cat <<TABLE
Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB; Tansu on loopback;
$N datagen orders records, $((BYTES / N)) bytes each on average (key + JSON envelope value).

| Path | Records/s | MB/s | Time (s) |
|---|---:|---:|---:|
| (a) datagen → JsonConverter → broker (worker) | $(rate "$N" "$SRC_SECS") | $(mbps "$BYTES" "$SRC_SECS") | $(printf '%.2f' "$SRC_SECS") |
| (a') same with Cast + ReplaceField + InsertField ($((SMT_BYTES / N)) bytes/record) | $(rate "$N" "$SMT_SECS") | $(mbps "$SMT_BYTES" "$SMT_SECS") | $(printf '%.2f' "$SMT_SECS") |
| (a) kcat producing the same bytes (idempotent, acks=all) | $(rate "$N" "$KCAT_P_SECS") | $(mbps "$BYTES" "$KCAT_P_SECS") | $(printf '%.2f' "$KCAT_P_SECS") |
| (b) broker → JsonConverter → FileStreamSink (worker, incl. group join) | $(rate "$N" "$SINK_SECS") | $(mbps "$BYTES" "$SINK_SECS") | $(printf '%.2f' "$SINK_SECS") |
| (b) same, from the first record written (steady state) | $(rate "$N" "$SINK_STEADY") | $(mbps "$BYTES" "$SINK_STEADY") | $(printf '%.2f' "$SINK_STEADY") |
| (b) kcat consuming the same records as a group member, values to a file (incl. group join) | $(rate "$N" "$KCAT_G_SECS") | $(mbps "$BYTES" "$KCAT_G_SECS") | $(printf '%.2f' "$KCAT_G_SECS") |
| (b) same, from the first record written (steady state) | $(rate "$N" "$KCAT_G_STEADY") | $(mbps "$BYTES" "$KCAT_G_STEADY") | $(printf '%.2f' "$KCAT_G_STEADY") |
| (b) kcat consuming the same records (no group) | $(rate "$N" "$KCAT_C_SECS") | $(mbps "$BYTES" "$KCAT_C_SECS") | $(printf '%.2f' "$KCAT_C_SECS") |
| (d) = (a) with metrics recording off | $(rate "$N" "$OFF_SRC_SECS") | $(mbps "$BYTES" "$OFF_SRC_SECS") | $(printf '%.2f' "$OFF_SRC_SECS") |
| (d) = (b) steady state with metrics recording off | $(rate "$N" "$OFF_SINK_STEADY") | $(mbps "$BYTES" "$OFF_SINK_STEADY") | $(printf '%.2f' "$OFF_SINK_STEADY") |

| Worker | Value |
|---|---:|
| start to /health = 200 | $(printf '%.0f' "$(echo "$STARTUP * 1000" | bc -l)") ms |
| idle RSS (no connectors) | $((IDLE_RSS_KB / 1024)) MiB |
| RSS each running task adds ($TASKS datagen tasks, on the metrics-off worker) | $(printf '%.2f' "$(echo "$PER_TASK_KB / 1024" | bc -l)") MiB |
TABLE

# goal NAME VALUE GOAL DIRECTION(min|max) UNIT: a row of the goals table.
goal() {
    local met=no
    if [ "$4" = min ]; then [ "$(echo "$2 >= $3" | bc -l)" = 1 ] && met=yes; else [ "$(echo "$2 <= $3" | bc -l)" = 1 ] && met=yes; fi
    printf '| %s | %s %s | %s %s %s | %s |\n' "$1" "$2" "$5" "$([ "$4" = min ] && echo '≥' || echo '≤')" "$3" "$5" "$met"
}
pct() { printf '%.0f' "$(echo "100 * $1 / $2" | bc -l)"; }
echo
echo "| Goal (issue 20) | Value | Goal | Met |"
echo "|---|---:|---:|:---:|"
goal "source path / kcat producing" "$(pct "$KCAT_P_SECS" "$SRC_SECS")" 70 min %
goal "sink path / kcat in a group to a file (steady state)" "$(pct "$KCAT_G_STEADY" "$SINK_STEADY")" 70 min %
goal "three transforms / the same source path without" "$(pct "$SRC_SECS" "$SMT_SECS")" 85 min %
goal "idle RSS" "$((IDLE_RSS_KB / 1024))" 30 max MiB
goal "RSS per running task" "$(printf '%.2f' "$(echo "$PER_TASK_KB / 1024" | bc -l)")" 2 max MiB
goal "start to /health = 200" "$(printf '%.0f' "$(echo "$STARTUP * 1000" | bc -l)")" 150 max ms
