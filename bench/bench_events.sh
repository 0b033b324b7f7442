#!/usr/bin/env bash
# Benchmark: wrk against POST /v1/events with keep-alive on loopback, each
# request a new event (unique id) that is validated, decided and durably
# stored (SQLite WAL, synchronous=FULL, group commit) before the answer.
# Prints requests/s and p50/p99 latency.
# Usage: bench/bench_events.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-10}
CONNS=${3:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/$BUILD/accountguard"
[ -x "$BIN" ] || BIN="$BUILD/accountguard"
DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
"$BIN" serve --data-dir="$DIR" --listen="127.0.0.1:$PORT" --log-level=warn 2>"$DIR/log" &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.05; done
KEY=$("$BIN" apikey create --name bench --scopes events:write --data-dir="$DIR")
export AG_KEY=$KEY
# warm-up (the risk engine builds its IP network index in the background for a few seconds after start)
sleep 5
wrk -t2 -c"$CONNS" -d2s -s "$ROOT/bench/events.lua" "http://127.0.0.1:$PORT" >/dev/null 2>&1 || true
echo "events: wrk -t2 -c$CONNS -d${SECS}s POST /v1/events (SQLite, durable group commit)"
wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$ROOT/bench/events.lua" "http://127.0.0.1:$PORT" | grep RESULT
echo "server RSS: $(grep VmRSS /proc/$PID/status | awk '{print $2, $3}')"
