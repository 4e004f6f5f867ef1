#!/usr/bin/env bash
# Instructions per record of the worker's record paths next to kcat's, counted by valgrind's callgrind: figures that
# do not move with the machine's load, where benchmarks/run.sh's wall-clock rates move by ±30 % between runs here.
#   (a) datagen (max.interval=0) -> JsonConverter -> broker, and kcat producing the same keys and values;
#   (a') the same with run.sh's Cast + ReplaceField + InsertField chain;
#   (b) broker -> JsonConverter -> FileStreamSink, and kcat consuming the same records as a group member to a file.
# The worker is counted from the connector's creation to the last record (its start-up excluded: instrumentation is
# switched on just before); kcat whole, start-up included. "Task thread" is the task's own work (WorkerTask.run);
# "process" adds librdkafka's threads, the REST server and the herder. Usage: benchmarks/instructions.sh [RECORDS]
# (default 20000; each path runs about 50x slower under callgrind). Prints a Markdown table.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
N="${1:-20000}"

"$ROOT/scripts/install" >/dev/null 2>&1
swift build -c release --product connect-worker >/dev/null
WORK=$(mktemp -d)
# Valgrind 3.19 cannot read the DWARF 5 the Swift toolchain writes: it is given a copy without debug sections
# (function names stay, from the symbol table).
BIN="$WORK/connect-worker"
objcopy --strip-debug "$(swift build -c release --show-bin-path)/connect-worker" "$BIN"
PY="$VENV/bin/python"
KPORT=$(free_port)
BOOTSTRAP="127.0.0.1:$KPORT"
TANSU_PID=$(start_tansu "$KPORT" "$WORK/tansu.log")
WORKER_PID=""
cleanup() {
    [ -n "$WORKER_PID" ] && kill -9 "$WORKER_PID" 2>/dev/null
    kill -9 "$TANSU_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
wait_for_broker "$BOOTSTRAP"

await() { local deadline=$((SECONDS + 900)); until eval "$1"; do [ $SECONDS -lt $deadline ] || { echo "timed out: $1" >&2; exit 1; }; sleep 0.2; done; }
# callgrind_total FILE [FUNCTION]: the program's instructions, or a function's inclusive ones.
callgrind_total() {
    local report
    if [ -z "${2:-}" ]; then
        report=$(callgrind_annotate "$1" 2>/dev/null)
        awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }' <<< "$report"
    else
        report=$(callgrind_annotate --inclusive=yes "$1" 2>/dev/null | swift demangle --simplified)
        awk -v f="$2" 'index($0, f) && !done { gsub(",", "", $1); print $1; done = 1 }' <<< "$report"
    fi
}
per() { printf "%'.0f" "$(echo "$1 / $N" | bc -l)"; }

# run_worker NAME CONNECTOR_JSON DONE_CONDITION: a standalone worker under callgrind, counted from the connector's
# creation until DONE_CONDITION holds; sets TOTAL and TASK (instructions).
run_worker() {
    local port
    port=$(free_port)
    cat > "$WORK/$1.properties" <<PROPS
bootstrap.servers=$BOOTSTRAP
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$WORK/$1.offsets
offset.flush.interval.ms=10000
listeners=http://127.0.0.1:$port
consumer.session.timeout.ms=6000
PROPS
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/$1.cg" \
        "$BIN" standalone "$WORK/$1.properties" > "$WORK/$1.log" 2>&1 &
    WORKER_PID=$!
    await "[ \"\$(curl -s -o /dev/null -w %{http_code} http://127.0.0.1:$port/health)\" = 200 ]"
    callgrind_control -i on "$WORKER_PID" >/dev/null 2>&1
    curl -s -X PUT -H 'Content-Type: application/json' "http://127.0.0.1:$port/connectors/$1/config" -d "$2" >/dev/null
    await "$3"
    callgrind_control -i off "$WORKER_PID" >/dev/null 2>&1
    kill -TERM "$WORKER_PID"
    wait "$WORKER_PID" 2>/dev/null || true
    WORKER_PID=""
    TOTAL=$(callgrind_total "$WORK/$1.cg")
    TASK=$(callgrind_total "$WORK/$1.cg" "WorkerTask.run()")
}
datagen() {
    echo "{\"connector.class\": \"DatagenConnector\", \"kafka.topic\": \"$1\", \"quickstart\": \"orders\",
      \"max.interval\": 0, \"iterations\": $N, \"random.seed\": 1 ${2:-}}"
}
source_done() { echo "grep -q 'current.iteration\":$N[,}]' '$WORK/$1.offsets' 2>/dev/null"; }

# The records every path works on, written once by a worker run natively, then dumped for kcat.
port=$(free_port)
printf 'bootstrap.servers=%s\nkey.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\noffset.storage.file.filename=%s\nlisteners=http://127.0.0.1:%s\n' \
    "$BOOTSTRAP" "$WORK/seed.offsets" "$port" > "$WORK/seed.properties"
"$BIN" standalone "$WORK/seed.properties" > "$WORK/seed.log" 2>&1 &
WORKER_PID=$!
await "[ \"\$(curl -s -o /dev/null -w %{http_code} http://127.0.0.1:$port/health)\" = 200 ]"
curl -s -X PUT -H 'Content-Type: application/json' "http://127.0.0.1:$port/connectors/seed/config" \
    -d "$(datagen cg-orders)" >/dev/null
await "$(source_done seed)"
kill -TERM "$WORKER_PID"
wait "$WORKER_PID" 2>/dev/null || true
WORKER_PID=""
BYTES=$("$PY" benchmarks/topic_tool.py dump "$BOOTSTRAP" cg-orders "$WORK/records.tsv" "$N")

run_worker source "$(datagen cg-source)" "$(source_done source)"
SRC=("$TOTAL" "$TASK")
run_worker smt "$(datagen cg-smt ",
  \"transforms\": \"cast,drop,insert\",
  \"transforms.cast.type\": \"org.apache.kafka.connect.transforms.Cast\$Value\",
  \"transforms.cast.spec\": \"orderid:string,orderunits:int32\",
  \"transforms.drop.type\": \"org.apache.kafka.connect.transforms.ReplaceField\$Value\",
  \"transforms.drop.exclude\": \"ordertime\", \"transforms.drop.renames\": \"itemid:item\",
  \"transforms.insert.type\": \"org.apache.kafka.connect.transforms.InsertField\$Value\",
  \"transforms.insert.topic.field\": \"source_topic\", \"transforms.insert.timestamp.field\": \"ts\"")" \
    "$(source_done smt)"
SMT=("$TOTAL" "$TASK")
run_worker sink "{\"connector.class\": \"FileStreamSink\", \"topics\": \"cg-orders\", \"file\": \"$WORK/sink.txt\"}" \
    "[ -s '$WORK/sink.txt' ] && [ \$(wc -l < '$WORK/sink.txt') -ge $N ]"
SINK=("$TOTAL" "$TASK")

valgrind --tool=callgrind --callgrind-out-file="$WORK/kcat-p.cg" kcat -b "$BOOTSTRAP" -P -t cg-kcat -K $'\t' \
    -X enable.idempotence=true -X acks=all -X linger.ms=5 -l "$WORK/records.tsv" > /dev/null 2>&1
KCAT_P=$(callgrind_total "$WORK/kcat-p.cg")
valgrind --tool=callgrind --callgrind-out-file="$WORK/kcat-g.cg" kcat -b "$BOOTSTRAP" -G cg-kcat-group \
    -X auto.offset.reset=earliest -q -c "$N" -f '%s\n' cg-orders > "$WORK/kcat-sink.txt" 2>/dev/null
KCAT_G=$(callgrind_total "$WORK/kcat-g.cg")

cat <<TABLE
Instructions per record (callgrind), $(date -u '+%Y-%m-%d %H:%M UTC'); $N datagen orders records, $((BYTES / N)) bytes each on average.

| Path | Worker process | Worker task thread | kcat (whole program) | kcat / worker process |
|---|---:|---:|---:|---:|
| (a) datagen → JsonConverter → broker | $(per "${SRC[0]}") | $(per "${SRC[1]}") | $(per "$KCAT_P") (producing) | $(printf '%.0f' "$(echo "100 * $KCAT_P / ${SRC[0]}" | bc -l)") % |
| (a') same with Cast + ReplaceField + InsertField | $(per "${SMT[0]}") | $(per "${SMT[1]}") | | (a) / (a'): $(printf '%.0f' "$(echo "100 * ${SRC[0]} / ${SMT[0]}" | bc -l)") % |
| (b) broker → JsonConverter → FileStreamSink | $(per "${SINK[0]}") | $(per "${SINK[1]}") | $(per "$KCAT_G") (group member, to a file) | $(printf '%.0f' "$(echo "100 * $KCAT_G / ${SINK[0]}" | bc -l)") % |
TABLE
