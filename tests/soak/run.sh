#!/usr/bin/env bash
# Soak run (make soak): `accountguard serve` under a fixed request rate for a
# long time, watching its memory; then the crash-safety test in its long form.
#
#   tests/soak/run.sh BUILD      # BUILD holds the accountguard binary
#
# 1. Starts BUILD/accountguard serve on a free loopback port with its own
#    temporary data directory (SQLite file store, as deployed) and creates an
#    API key with `accountguard apikey create`.
# 2. Warms up for SOAK_WARMUP seconds at the soak rate (profiles, caches,
#    SQLite page cache and the allocator reach their working size).
# 3. Runs wrk for SOAK_SECONDS at SOAK_RATE requests per second, paced by
#    tests/soak/soak.lua (POST /v1/events, a unique id per request), sampling
#    the server's RSS (VmRSS in /proc/PID/status) every SOAK_SAMPLE seconds.
# 4. Prints RSS at start, after warm-up and at the end, the error count and
#    the latency percentiles, and fails if RSS grew by more than
#    SOAK_RSS_GROWTH percent after warm-up, if any request failed (non-2xx
#    or socket error), if the server died, or if it did not stop cleanly on
#    SIGTERM.
# 5. Runs tests/api/test_durability.py with AG_CRASH_ROUNDS=SOAK_CRASH_ROUNDS
#    (kill -9 under load, N times; 0 skips it).
#
# Environment (defaults): SOAK_SECONDS (600), SOAK_WARMUP (60), SOAK_RATE
# (300), SOAK_THREADS (2), SOAK_CONNECTIONS (32), SOAK_SAMPLE (30),
# SOAK_RSS_GROWTH (10), SOAK_ACCOUNTS (5000), SOAK_CRASH_ROUNDS (200),
# TMPDIR (where the data directory goes).
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
bin=$(cd "$1" 2>/dev/null && pwd)/accountguard
secs=${SOAK_SECONDS:-600}
warmup=${SOAK_WARMUP:-60}
rate=${SOAK_RATE:-300}
threads=${SOAK_THREADS:-2}
conns=${SOAK_CONNECTIONS:-32}
sample=${SOAK_SAMPLE:-30}
growth=${SOAK_RSS_GROWTH:-10}
rounds=${SOAK_CRASH_ROUNDS:-200}
export SOAK_ACCOUNTS=${SOAK_ACCOUNTS:-5000}

[ -x "$bin" ] || { echo "soak: $bin not found (make build first)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "soak: wrk not found (scripts/install-deps.sh test)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "soak: python3 not found" >&2; exit 2; }

data=$(mktemp -d "${TMPDIR:-/tmp}/agsoak.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$data"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }

key=$("$bin" apikey create --name soak --scopes events:write --data-dir "$data" 2>/dev/null | grep -m1 '^agk_')
[ -n "$key" ] || { echo "soak: accountguard apikey create printed no key" >&2; exit 1; }
export AG_KEY=$key SOAK_RATE=$rate SOAK_THREADS=$threads

"$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" --log-level warn \
  --log-file "$data/server.log" >"$data/serve.out" 2>&1 &
pid=$!
up=0
for _ in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  if python3 - "$url/healthz" <<'EOF' 2>/dev/null; then up=1; break; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()
EOF
  sleep 0.1
done
if [ $up -ne 1 ]; then
  echo "soak: the server did not come up:" >&2
  cat "$data/serve.out" "$data/server.log" 2>/dev/null | tail -20 >&2
  exit 1
fi
rss_start=$(rss_kb)
echo "soak: server pid $pid on $url, RSS at start $(mb "$rss_start")"
echo "soak: ${rate} req/s, ${threads} threads, ${conns} connections; warm-up ${warmup}s, run ${secs}s"

# wrk with the soak script; prints its RESULT line. $1: seconds, $2: id prefix.
run_wrk() {
  SOAK_PREFIX=$2 wrk -t "$threads" -c "$conns" -d "${1}s" --timeout 10s \
    -s "$here/soak.lua" "$url/v1/events"
}
# A RESULT field's value.
field() { sed -n "s/.*RESULT.* $1=\([^ ]*\).*/\1/p" "$2" | tail -1; }

fail=0
tag=$(date +%s)
if [ "$warmup" -gt 0 ]; then
  run_wrk "$warmup" "w$tag" >"$data/warmup.out" 2>&1
  if [ "$(field non2xx "$data/warmup.out")" != 0 ] || [ "$(field errors_socket "$data/warmup.out")" != 0 ]; then
    echo "soak: errors during warm-up:" >&2
    grep -E "RESULT|soak:" "$data/warmup.out" >&2
    fail=1
  fi
fi
rss_warm=$(rss_kb)
echo "soak: RSS after warm-up $(mb "$rss_warm")"

run_wrk "$secs" "s$tag" >"$data/wrk.out" 2>&1 &
wrk_pid=$!
rss_max=$rss_warm
t0=$SECONDS
next_print=$sample
while kill -0 "$wrk_pid" 2>/dev/null; do
  sleep 1
  elapsed=$((SECONDS - t0))
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "soak: the server died after ${elapsed}s of the run" >&2
    fail=1
    break
  fi
  r=$(rss_kb)
  [ -n "$r" ] && [ "$r" -gt "$rss_max" ] && rss_max=$r
  if [ "$elapsed" -ge "$next_print" ]; then
    echo "soak: ${elapsed}s RSS $(mb "$r")"
    next_print=$((next_print + sample))
  fi
done
wait "$wrk_pid"
rss_end=$(rss_kb)
[ -n "$rss_end" ] || rss_end=0

cat "$data/wrk.out" | grep -v '^RESULT' | grep -E 'soak:|error|Socket' >&2
result=$(grep '^RESULT' "$data/wrk.out" | tail -1)
if [ -z "$result" ]; then
  echo "soak: wrk printed no result:" >&2
  tail -20 "$data/wrk.out" >&2
  fail=1
fi
requests=$(field requests "$data/wrk.out")
non2xx=$(field non2xx "$data/wrk.out")
sockerr=$(field errors_socket "$data/wrk.out")
rps=$(field rps "$data/wrk.out")

# Stop the server as an operator would; it must exit 0 promptly.
stop_rc=
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "soak: the server did not stop within 30 s of SIGTERM" >&2
    fail=1
  else
    wait "$pid"
    stop_rc=$?
    pid=
    if [ "$stop_rc" -ne 0 ]; then
      echo "soak: the server exited $stop_rc on SIGTERM" >&2
      fail=1
    fi
  fi
fi

limit=$(( rss_warm + rss_warm * growth / 100 ))
echo
echo "soak summary (${secs}s at ${rate} req/s target):"
echo "  requests        ${requests:-0} (${rps:-0} req/s achieved)"
echo "  errors          non-2xx ${non2xx:-?}, socket ${sockerr:-?}"
echo "  latency         p50 $(field p50_ms "$data/wrk.out") ms, p90 $(field p90_ms "$data/wrk.out") ms," \
     "p99 $(field p99_ms "$data/wrk.out") ms, p99.9 $(field p999_ms "$data/wrk.out") ms," \
     "max $(field max_ms "$data/wrk.out") ms"
echo "  RSS             start $(mb "$rss_start"), after warm-up $(mb "$rss_warm"), end $(mb "$rss_end")," \
     "max $(mb "$rss_max") (limit $(mb "$limit"), +${growth}%)"
echo "  store           $(du -sh "$data" | cut -f1) on disk"

if [ "${requests:-0}" -eq 0 ]; then fail=1; fi
if [ "${non2xx:-1}" != 0 ] || [ "${sockerr:-1}" != 0 ]; then
  echo "soak: FAIL: requests failed" >&2
  fail=1
fi
if [ "$rss_end" -gt "$limit" ]; then
  echo "soak: FAIL: RSS grew from $(mb "$rss_warm") to $(mb "$rss_end") after warm-up (more than ${growth}%)" >&2
  fail=1
fi
# The rate is the test's premise: say so when the server could not keep it.
if awk -v a="${rps:-0}" -v r="$rate" 'BEGIN { exit !(a < 0.9 * r) }'; then
  echo "soak: WARNING: achieved ${rps} req/s, below 90% of the ${rate} req/s target" >&2
fi
if [ $fail -ne 0 ]; then
  echo "soak: server log (last lines):" >&2
  tail -20 "$data/server.log" >&2 2>/dev/null
  exit 1
fi
echo "soak: ok"

if [ "$rounds" -gt 0 ]; then
  echo
  echo "soak: crash safety, $rounds kill -9 rounds (tests/api/test_durability.py)"
  if ! AG_BIN=$bin AG_SOURCE_DIR=$src AG_CRASH_ROUNDS=$rounds python3 "$src/tests/api/test_durability.py"; then
    echo "soak: FAIL: crash-safety test" >&2
    exit 1
  fi
fi
