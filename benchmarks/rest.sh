#!/usr/bin/env bash
# REST benchmark of what connector UIs and CLIs call (Kafbat UI, AKHQ, kafka-connect-ui, kcctl) on a standalone worker
# (release build) holding CONNECTORS datagen connectors of one task each, on a local Tansu broker:
#   (a) GET /connectors, ?expand=status, ?expand=info and ?expand=info&expand=status (the listing UIs poll);
#   (b) GET /connectors/{c}/topics and /connectors/{c}/status for every connector, one after the other (a UI's
#       per-connector fetches), as requests per second and the median of one;
#   (c) GET /health on the same worker: the cost of a request that does no work, the floor of the figures above.
# Connectors are created PAUSED (KIP-980 initial_state: each task exists, with its producer, and writes nothing); the
# first RUNNING ones (default 100) are resumed until each has written to its topic, so /topics answers real
# active-topic sets, and the combined listing is timed while they run; then they are paused again and every figure
# is the REST path's own cost. (A thousand producers writing at once saturate 2 cores and the broker: that measures
# the machine, not the API.) Each listing is requested REPEAT times; the table gives the median and the slowest.
# Usage: [REPEAT=..] [RUNNING=..] benchmarks/rest.sh [CONNECTORS]   (default 1000, REPEAT 20). Prints a Markdown
# table; benchmarks/RESULTS.md keeps results.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
N="${1:-1000}"
REPEAT="${REPEAT:-20}"
RUNNING="${RUNNING:-100}"

"$ROOT/scripts/install" >/dev/null 2>&1
swift build -c release --product connect-worker >/dev/null
BIN="$(swift build -c release --show-bin-path)/connect-worker"

WORK=$(mktemp -d)
KPORT=$(free_port)
PORT=$(free_port)
BOOTSTRAP="127.0.0.1:$KPORT"
URL="http://127.0.0.1:$PORT"
TANSU_PID=$(start_tansu "$KPORT" "$WORK/tansu.log")
cleanup() {
    [ -n "${WORKER_PID:-}" ] && kill -9 "$WORKER_PID" 2>/dev/null
    kill -9 "$TANSU_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
wait_for_broker "$BOOTSTRAP"

cat > "$WORK/worker.properties" <<PROPS
bootstrap.servers=$BOOTSTRAP
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$WORK/worker.offsets
listeners=$URL
PROPS
"$BIN" standalone "$WORK/worker.properties" > "$WORK/worker.log" 2>&1 &
WORKER_PID=$!
wait_for_http "$URL/health" 60

say "creating $N connectors"
T0=$SECONDS
deadline=$((SECONDS + 1200))
for i in $(seq 1 "$N"); do
    printf '{"name":"bench-%d","config":{"connector.class":"DatagenConnector","kafka.topic":"rest-bench-%d","quickstart":"orders","max.interval":2000,"tasks.max":"1"},"initial_state":"PAUSED"}' \
        "$i" $((i % 10)) > "$WORK/create.json"
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary "@$WORK/create.json" "$URL/connectors")
    [ "$code" = 201 ] || { echo "creating bench-$i answered $code" >&2; exit 1; }
done
CREATE_SECS=$((SECONDS - T0))

# state_count STATE: how many connectors and tasks the expand=status listing shows in STATE.
state_count() { curl -s "$URL/connectors?expand=status" | grep -o "\"state\":\"$1\"" | wc -l; }
await_count() {
    until [ "$(state_count "$1")" = "$2" ]; do
        [ $SECONDS -lt $deadline ] || { echo "not $2 connectors and tasks $1" >&2; exit 1; }
        sleep 1
    done
}
await_count PAUSED $((2 * N))

say "resuming bench-1..bench-$RUNNING until each has written"
for i in $(seq 1 "$RUNNING"); do curl -s -o /dev/null -X PUT "$URL/connectors/bench-$i/resume"; done
await_count RUNNING $((2 * RUNNING))
with_topics() {
    local n=0
    for i in $(seq 1 "$RUNNING"); do
        [ "$(curl -s "$URL/connectors/bench-$i/topics")" = "{\"bench-$i\":{\"topics\":[\"rest-bench-$((i % 10))\"]}}" ] \
            && n=$((n + 1))
    done
    echo "$n"
}
until [ "$(with_topics)" = "$RUNNING" ]; do
    [ $SECONDS -lt $deadline ] || { echo "no active topic for every running connector" >&2; exit 1; }
    sleep 1
done
RSS_KB=$(awk '/VmRSS/ {print $2}' "/proc/$WORKER_PID/status")

# stats PATH: REPEAT timed GETs of PATH; prints "median_ms max_ms bytes".
stats() {
    local times=() bytes=0 line
    for _ in $(seq 1 "$REPEAT"); do
        line=$(curl -s -o /dev/null -w '%{time_total} %{size_download} %{http_code}' "$URL$1")
        [ "${line##* }" = 200 ] || { echo "GET $1 answered ${line##* }" >&2; exit 1; }
        times+=("${line%% *}")
        bytes=$(echo "$line" | awk '{print $2}')
    done
    printf '%s\n' "${times[@]}" | sort -g | awk -v b="$bytes" '
        { t[NR] = $1 } END { printf "%.1f %.1f %d\n", t[int((NR + 1) / 2)] * 1000, t[NR] * 1000, b }'
}
# each PATH_TEMPLATE: one GET per connector ({c} replaced); prints "requests_per_second median_ms".
each() {
    local t0 times=()
    t0=$(date +%s.%N)
    for i in $(seq 1 "$N"); do
        times+=("$(curl -s -o /dev/null -w '%{time_total}' "$URL${1//\{c\}/bench-$i}")")
    done
    local secs
    secs=$(echo "$(date +%s.%N) - $t0" | bc -l)
    printf '%s\n' "${times[@]}" | sort -g | awk -v n="$N" -v s="$secs" '
        { t[NR] = $1 } END { printf "%.0f %.2f\n", n / s, t[int((NR + 1) / 2)] * 1000 }'
}

read -r HL_MED HL_MAX _ <<< "$(stats /health)"
read -r BL_MED BL_MAX _ <<< "$(stats '/connectors?expand=info&expand=status')"
for i in $(seq 1 "$RUNNING"); do curl -s -o /dev/null -X PUT "$URL/connectors/bench-$i/pause"; done
await_count PAUSED $((2 * N))
read -r H_MED H_MAX _ <<< "$(stats /health)"
read -r L_MED L_MAX L_BYTES <<< "$(stats /connectors)"
read -r S_MED S_MAX S_BYTES <<< "$(stats '/connectors?expand=status')"
read -r I_MED I_MAX I_BYTES <<< "$(stats '/connectors?expand=info')"
read -r B_MED B_MAX B_BYTES <<< "$(stats '/connectors?expand=info&expand=status')"
read -r M_MED M_MAX M_BYTES <<< "$(stats /metrics)"
read -r J_MED J_MAX J_BYTES <<< "$(stats '/jolokia/read/kafka.connect:type=connector-task-metrics,connector=bench-1,task=0')"
read -r T_RATE T_MED <<< "$(each '/connectors/{c}/topics')"
read -r C_RATE C_MED <<< "$(each '/connectors/{c}/status')"
read -r HE_RATE HE_MED <<< "$(each '/health')"

CPU=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
cat <<TABLE
Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($CPU); standalone worker (release), Tansu on loopback;
$N datagen connectors of one task each (created in $CREATE_SECS s, PAUSED; $RUNNING resumed until each wrote to its
topic); worker RSS $((RSS_KB / 1024)) MiB. Times are curl's \`time_total\` over loopback, $REPEAT requests each.

| While $RUNNING of the tasks run | Median (ms) | Slowest (ms) |
|---|---:|---:|
| GET /health (floor) | $HL_MED | $HL_MAX |
| GET /connectors?expand=info&expand=status | $BL_MED | $BL_MAX |

All $N paused:

| Request | Median (ms) | Slowest (ms) | Body (bytes) |
|---|---:|---:|---:|
| GET /health (floor) | $H_MED | $H_MAX | |
| GET /connectors | $L_MED | $L_MAX | $L_BYTES |
| GET /connectors?expand=status | $S_MED | $S_MAX | $S_BYTES |
| GET /connectors?expand=info | $I_MED | $I_MAX | $I_BYTES |
| GET /connectors?expand=info&expand=status | $B_MED | $B_MAX | $B_BYTES |
| GET /metrics (a Prometheus scrape) | $M_MED | $M_MAX | $M_BYTES |
| GET /jolokia/read of one task's MBean | $J_MED | $J_MAX | $J_BYTES |

| Per connector, $N in a row | Requests/s | Median (ms) |
|---|---:|---:|
| GET /connectors/{c}/topics | $T_RATE | $T_MED |
| GET /connectors/{c}/status | $C_RATE | $C_MED |
| GET /health (floor, as many) | $HE_RATE | $HE_MED |
TABLE
