#!/usr/bin/env bash
# Throughput benchmark of the worker next to the raw librdkafka ceiling (kcat), in one run on a local Tansu broker:
#   (a) datagen (max.interval=0) -> JsonConverter -> broker, vs kcat producing the same keys and values;
#   (a') the same with a Cast + ReplaceField + InsertField chain;
#   (b) broker -> JsonConverter -> FileStreamSink, vs kcat consuming the same records;
#   (c) the worker's idle RSS and the time from process start to /health = 200.
# Usage: benchmarks/run.sh [RECORDS]   (default 200000). Prints a Markdown table; benchmarks/RESULTS.md keeps results.
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

cat > "$WORK/worker.properties" <<PROPS
bootstrap.servers=$BOOTSTRAP
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$WORK/connect.offsets
offset.flush.interval.ms=10000
listeners=http://127.0.0.1:$PORT
consumer.session.timeout.ms=6000
PROPS

# (c) start-up time and idle memory.
t0=$(now)
"$BIN" standalone "$WORK/worker.properties" >"$WORK/worker.log" 2>&1 &
WORKER_PID=$!
await "[ \"\$(curl -s -o /dev/null -w %{http_code} http://127.0.0.1:$PORT/health)\" = 200 ]"
STARTUP=$(elapsed "$t0" "$(now)")
sleep 2
IDLE_RSS_KB=$(ps -o rss= -p "$WORKER_PID" | tr -d ' ')

# (a) source: datagen -> JsonConverter -> broker.
t0=$(now)
curl -s -X PUT -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/connectors/bench-datagen/config" -d "{
  \"connector.class\": \"DatagenConnector\", \"kafka.topic\": \"bench-orders\", \"quickstart\": \"orders\",
  \"max.interval\": 0, \"iterations\": $N, \"random.seed\": 1}" >/dev/null
# Done when the source offset of the last record is committed: offsets are written only after the broker
# acknowledged every record before them (the task stops itself after `iterations` and flushes).
await "grep -q '\"current.iteration\":$N[,}]' '$WORK/connect.offsets' 2>/dev/null"
SRC_SECS=$(elapsed "$t0" "$(now)")
ON_TOPIC=$(count bench-orders)
[ "$ON_TOPIC" -ge "$N" ] || { echo "only $ON_TOPIC of $N records on the topic" >&2; exit 1; }
BYTES=$("$PY" "$TOOL" dump "$BOOTSTRAP" bench-orders "$WORK/records.tsv" "$N")

# (a') the same source with a realistic transform chain: Cast + ReplaceField + InsertField.
t0=$(now)
curl -s -X PUT -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/connectors/bench-datagen-smt/config" -d "{
  \"connector.class\": \"DatagenConnector\", \"kafka.topic\": \"bench-orders-smt\", \"quickstart\": \"orders\",
  \"max.interval\": 0, \"iterations\": $N, \"random.seed\": 1,
  \"transforms\": \"cast,drop,insert\",
  \"transforms.cast.type\": \"org.apache.kafka.connect.transforms.Cast\$Value\",
  \"transforms.cast.spec\": \"orderid:string,orderunits:int32\",
  \"transforms.drop.type\": \"org.apache.kafka.connect.transforms.ReplaceField\$Value\",
  \"transforms.drop.exclude\": \"ordertime\", \"transforms.drop.renames\": \"itemid:item\",
  \"transforms.insert.type\": \"org.apache.kafka.connect.transforms.InsertField\$Value\",
  \"transforms.insert.topic.field\": \"source_topic\", \"transforms.insert.timestamp.field\": \"ts\"}" >/dev/null
await "grep -q '\"bench-datagen-smt\",{\"task.id\":0}\],{\"current.iteration\":$N[,}]' '$WORK/connect.offsets' 2>/dev/null"
SMT_SECS=$(elapsed "$t0" "$(now)")
SMT_BYTES=$("$PY" "$TOOL" dump "$BOOTSTRAP" bench-orders-smt "$WORK/records-smt.tsv" "$N")

# kcat producing the same keys and values with the same producer guarantees.
t0=$(now)
# kcat -P exits once every record is acknowledged.
kcat -b "$BOOTSTRAP" -P -t bench-kcat -K $'\t' -X enable.idempotence=true -X acks=all -X linger.ms=5 -l "$WORK/records.tsv"
KCAT_P_SECS=$(elapsed "$t0" "$(now)")

# (b) sink: broker -> JsonConverter -> FileStreamSink.
SINK="$WORK/sink.txt"
t0=$(now)
curl -s -X PUT -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/connectors/bench-sink/config" -d "{
  \"connector.class\": \"FileStreamSink\", \"topics\": \"bench-orders\", \"file\": \"$SINK\"}" >/dev/null
await "[ -s '$SINK' ]"
t_first=$(now)
await "[ \$(wc -l < '$SINK') -ge $N ]"
t_end=$(now)
SINK_SECS=$(elapsed "$t0" "$t_end")
SINK_STEADY=$(elapsed "$t_first" "$t_end")

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
| (b) kcat consuming the same records (no group) | $(rate "$N" "$KCAT_C_SECS") | $(mbps "$BYTES" "$KCAT_C_SECS") | $(printf '%.2f' "$KCAT_C_SECS") |

| Worker | Value |
|---|---:|
| start to /health = 200 | $(printf '%.0f' "$(echo "$STARTUP * 1000" | bc -l)") ms |
| idle RSS (no connectors) | $((IDLE_RSS_KB / 1024)) MiB |
TABLE
