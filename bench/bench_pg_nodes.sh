#!/usr/bin/env bash
# Benchmark: events/s and p99 of POST /v1/events on the embedded SQLite store,
# on one node over PostgreSQL, and on two nodes sharing that PostgreSQL
# (docs/SCALING.md), side by side. wrk as in bench_events.sh (bench/events.lua:
# a new event per request, validated, decided and durably stored before the
# answer). PostgreSQL is a throwaway server (tests/pg/pgctl.py --durable:
# fsync and synchronous_commit on, as in production) on loopback; every run
# gets a fresh database. On two nodes, half the connections go to each (two
# wrk at once); events/s is their sum and p99 the worse of the two.
# Usage: bench/bench_pg_nodes.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-10}
CONNS=${3:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/$BUILD/accountguard"
[ -x "$BIN" ] || BIN="$BUILD/accountguard"
PGCTL="$ROOT/tests/pg/pgctl.py"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  python3 "$PGCTL" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_node DIR PORT [STORE] -> pid in $NODE_PID
start_node() {
  local dir=$1 port=$2 store=${3:-}
  mkdir -p "$dir"
  "$BIN" serve --data-dir="$dir" --listen="127.0.0.1:$port" --log-level=warn \
    ${store:+--store="$store"} 2>"$dir/log" &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.05; done
  echo "node on $port did not start: $(tail -5 "$dir/log")" >&2
  exit 1
}

# run_wrk NAME CONNS PORT... -> prints "rps p99_ms" (summed / worst over ports)
run_wrk() {
  local name=$1 conns=$2
  shift 2
  local n=$# per=$((conns / $#)) i=0 outs=() wp=()
  for port in "$@"; do  # warm-up
    AG_ID_PREFIX="w$i$name" wrk -t1 -c"$per" -d2s -s "$ROOT/bench/events.lua" \
      "http://127.0.0.1:$port" >/dev/null 2>&1 &
    wp+=($!)
    i=$((i + 1))
  done
  wait "${wp[@]}" || true
  i=0
  wp=()
  for port in "$@"; do
    AG_ID_PREFIX="m$i$name" wrk -t$((n == 1 ? 2 : 1)) -c"$per" -d"${SECS}s" \
      -s "$ROOT/bench/events.lua" "http://127.0.0.1:$port" >"$WORK/wrk-$name-$i" 2>&1 &
    wp+=($!)
    outs+=("$WORK/wrk-$name-$i")
    i=$((i + 1))
  done
  wait "${wp[@]}" || true
  python3 - "${outs[@]}" <<'PY'
import re, sys
rps = p99 = 0.0
errs = 0
for f in sys.argv[1:]:
    line = [l for l in open(f) if l.startswith("RESULT")][0]
    kv = dict(x.split("=") for x in line.split()[1:])
    rps += float(kv["rps"]); p99 = max(p99, float(kv["p99_ms"]))
    errs += int(kv["errors_status"]) + int(kv["errors_connect"])
print(f"{rps:.0f} {p99:.2f} {errs}")
PY
}

mkkey() { "$BIN" apikey create --name bench --scopes events:write --data-dir="$1" ${2:+--store="$2"}; }

echo "accountguard events benchmark: wrk -c$CONNS -d${SECS}s POST /v1/events, $(nproc) cores"

# 1. SQLite, one node
P1=$(free_port)
start_node "$WORK/sqlite" "$P1"
export AG_KEY=$(mkkey "$WORK/sqlite")
read -r S_RPS S_P99 S_ERR <<<"$(run_wrk sqlite "$CONNS" "$P1")"
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true

# 2. PostgreSQL, one node
python3 "$PGCTL" start "$WORK/pg" --durable >/dev/null
BASE=$(python3 "$PGCTL" url "$WORK/pg")
mkdb() { python3 -c "import sys; sys.path.insert(0, '$ROOT/tests/pg'); import pgctl; print(pgctl.createdb('$BASE', '$1'))"; }
DB1=$(mkdb bench_one)
P2=$(free_port)
start_node "$WORK/pg1" "$P2" "$DB1"
ONE_PID=$NODE_PID
export AG_KEY=$(mkkey "$WORK/pg1" "$DB1")
read -r O_RPS O_P99 O_ERR <<<"$(run_wrk pgone "$CONNS" "$P2")"
kill "$ONE_PID"; wait "$ONE_PID" 2>/dev/null || true

# 3. PostgreSQL, two nodes (one secret for both)
DB2=$(mkdb bench_two)
P3=$(free_port); P4=$(free_port)
start_node "$WORK/pga" "$P3" "$DB2"
mkdir -p "$WORK/pgb"; cp "$WORK/pga/secret.key" "$WORK/pgb/"
start_node "$WORK/pgb" "$P4" "$DB2"
export AG_KEY=$(mkkey "$WORK/pga" "$DB2")
read -r T_RPS T_P99 T_ERR <<<"$(run_wrk pgtwo "$CONNS" "$P3" "$P4")"

printf '%-34s %12s %10s %8s\n' "store" "events/s" "p99 ms" "errors"
printf '%-34s %12s %10s %8s\n' "SQLite, one node" "$S_RPS" "$S_P99" "$S_ERR"
printf '%-34s %12s %10s %8s\n' "PostgreSQL, one node" "$O_RPS" "$O_P99" "$O_ERR"
printf '%-34s %12s %10s %8s\n' "PostgreSQL, two nodes" "$T_RPS" "$T_P99" "$T_ERR"
