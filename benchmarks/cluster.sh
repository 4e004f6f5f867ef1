#!/usr/bin/env bash
# Rebalance benchmark of a cluster of three distributed workers (release build) on a local Tansu broker:
#   (a) CONNECTORS datagen connectors x TASKS tasks created through one worker (20 requests at a time), until every
#       connector and task is RUNNING (connectors, then their tasks, each need a rebalance);
#   (b) one worker stopped gracefully (it leaves the group): until all its work RUNS on the other two;
#   (c) the worker started again: until the work is balanced over three again;
#   (d) one worker killed with SIGKILL: until all its work RUNS elsewhere (session timeout, then the scheduled
#       rebalance delay);
# with scheduled.rebalance.max.delay.ms=DELAY_MS (default 0, so (b) and (d) measure the protocol itself) and the
# leader's rebalance metrics. Usage: [DELAY_MS=..] [MAX_INTERVAL_MS=..] benchmarks/cluster.sh [CONNECTORS] [TASKS]
# (default 100 4).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
CONNECTORS="${1:-100}"
TASKS="${2:-4}"
DELAY_MS="${DELAY_MS:-0}"
# Each datagen task waits a random 0..MAX_INTERVAL_MS ms between records (default 1000).
MAX_INTERVAL_MS="${MAX_INTERVAL_MS:-1000}"

"$ROOT/scripts/install" >/dev/null 2>&1
swift build -c release --product connect-worker >/dev/null
BIN="$(swift build -c release --show-bin-path)/connect-worker"

WORK=$(mktemp -d)
KPORT=$(free_port)
BOOTSTRAP="127.0.0.1:$KPORT"
TANSU_PID=$(start_tansu "$KPORT" "$WORK/tansu.log")
declare -a PORTS PIDS
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    kill -9 "$TANSU_PID" 2>/dev/null
    # LOGS_DIR=dir keeps the workers' and the broker's logs.
    if [ -n "${LOGS_DIR:-}" ]; then mkdir -p "$LOGS_DIR" && cp "$WORK"/*.log "$LOGS_DIR"/ 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
wait_for_broker "$BOOTSTRAP"

for i in 0 1 2; do
    PORTS[$i]=$(free_port)
    cat > "$WORK/w$i.properties" <<PROPS
bootstrap.servers=$BOOTSTRAP
group.id=bench-cluster
config.storage.topic=bench-configs
offset.storage.topic=bench-offsets
status.storage.topic=bench-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
listeners=http://127.0.0.1:${PORTS[$i]}
rest.advertised.host.name=127.0.0.1
scheduled.rebalance.max.delay.ms=$DELAY_MS
log.level=${LOG_LEVEL:-WARN}
PROPS
done
start() { "$BIN" distributed "$WORK/w$1.properties" >>"$WORK/w$1.log" 2>&1 & PIDS[$1]=$!; }
url() { echo "http://127.0.0.1:${PORTS[$1]}"; }
now() { date +%s.%N; }
since() { awk "BEGIN { printf \"%.1f\", $(now) - $1 }"; }
await() { local deadline=$((SECONDS + 900)); until eval "$1"; do [ $SECONDS -lt $deadline ] || { echo "timed out: $1" >&2; exit 1; }; sleep 0.2; done; }

# "connectors tasks" RUNNING on live workers, as worker $1 sees them; also sets OWNERS (tasks per worker id).
running() {
    local live="" i
    for i in 0 1 2; do [ -n "${PIDS[$i]:-}" ] && kill -0 "${PIDS[$i]}" 2>/dev/null && live="$live 127.0.0.1:${PORTS[$i]}"; done
    curl -s "$(url "$1")/connectors?expand=status" | jq -r --arg live "$live" '
        ($live | split(" ") | map(select(length > 0))) as $w
        | [.[] | .status] as $s
        | "\([$s[] | select(.connector.state == "RUNNING" and (.connector.worker_id | IN($w[])))] | length) \([$s[] | .tasks[] | select(.state == "RUNNING" and (.worker_id | IN($w[])))] | length)"'
}
all_running() { [ "$(running "$1")" = "$CONNECTORS $((CONNECTORS * TASKS))" ]; }
spread() { curl -s "$(url "$1")/connectors?expand=status" | jq -c '[.[] | .status.tasks[].worker_id] | group_by(.) | map(length)'; }

for i in 0 1 2; do start $i; done
for i in 0 1 2; do await "[ \"\$(curl -s -o /dev/null -w %{http_code} $(url $i)/health)\" = 200 ]"; done

# The creates go out 20 at a time, as a deployment script would send them: requests that arrive together are
# applied in one tick of the leader's herder, and the cluster rebalances for them together. A create answered with
# an error (a 500 `Request timed out` while the leader rebalances) is sent again, as such a script would; the
# errors are counted.
put_connector() {
    local attempt code
    for attempt in 1 2 3 4 5; do
        code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
            "$1/connectors/bench-$2/config" -d '{
              "connector.class": "DatagenConnector", "kafka.topic": "bench", "quickstart": "orders",
              "max.interval": '"$3"', "tasks.max": '"$4"'}')
        case "$code" in 2??) return 0 ;; esac
        echo "bench-$2: $code" >> "$WORK/create-errors"
        sleep 2
    done
}
export -f put_connector
export WORK
t0=$(now)
seq 1 "$CONNECTORS" | xargs -P 20 -I{} bash -c "put_connector '$(url 0)' {} '$MAX_INTERVAL_MS' '$TASKS'"
created=$(since "$t0")
create_errors=$( (cat "$WORK/create-errors" 2>/dev/null || true) | wc -l)
await "all_running 0"
a=$(since "$t0")
balance_a=$(spread 0)

kill -TERM "${PIDS[2]}"; t1=$(now); wait "${PIDS[2]}" || true; PIDS[2]=
await "all_running 0"
b=$(since "$t1")

start 2; t2=$(now)
await "all_running 0 && [ \"\$(spread 0 | jq length)\" = 3 ] && [ \"\$(spread 0 | jq 'max - min')\" -le 1 ]"
c=$(since "$t2")
balance_c=$(spread 0)

kill -9 "${PIDS[1]}"; t3=$(now); wait "${PIDS[1]}" 2>/dev/null || true; PIDS[1]=
await "all_running 0"
d=$(since "$t3")

metrics=$(curl -s "$(url 0)/metrics" | grep -E '^kafka_connect_connect_(worker_rebalance_metrics_(completed_rebalances_total|rebalance_max_time_ms|rebalance_avg_time_ms)|coordinator_metrics_(rebalance_latency_max|rebalance_latency_avg|rebalance_total))' | sed 's/{[^}]*}//' | awk '{printf "%s=%s ", $1, $2}')

cat <<TABLE

Run $(date -u '+%Y-%m-%d %H:%M') UTC on $(nproc) cores; Tansu on loopback; 3 workers (release build);
$CONNECTORS connectors x $TASKS tasks (datagen, a record every 0..$MAX_INTERVAL_MS ms each); scheduled.rebalance.max.delay.ms=$DELAY_MS; session.timeout.ms=10000.

| Step | Seconds |
|---|---:|
| (a) $CONNECTORS creates sent through one worker (PUT, 20 at a time; $create_errors error answers sent again) until the last is answered | $created |
| (a) from the first create to every connector and task RUNNING | $a |
| (b) graceful stop of a worker to all its work RUNNING on the other two | $b |
| (c) the worker back to the work balanced over three | $c |
| (d) SIGKILL of a worker to all its work RUNNING on the other two | $d |

Tasks per worker after (a): $balance_a; after (c): $balance_c.
Worker 1's metrics at the end: $metrics
TABLE
