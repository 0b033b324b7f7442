#!/usr/bin/env bash
# Replay of simulated RBA rows through the whole pipeline (issue 3: 1M rows
# under 10 s), then the detection figures of that replay.
# Usage: bench/bench_replay.sh [BUILD] [ROWS]   (defaults: build 1000000)
set -euo pipefail
BUILD=${1:-build}
ROWS=${2:-1000000}
BIN="$BUILD/accountguard"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# 30,000 users over 30 days make about 1.2M rows; keep the first ROWS.
"$BIN" simulate --users 30000 --days 30 --seed 3 --out "$TMP/all.csv" >/dev/null
head -n $((ROWS + 1)) "$TMP/all.csv" >"$TMP/sim.csv"
rm -f "$TMP/all.csv"
start=$(date +%s.%N)
"$BIN" replay --format rba --out "$TMP/scores.tsv" "$TMP/sim.csv"
end=$(date +%s.%N)
echo "replay of $ROWS rows: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b - a}') s wall for the whole command (target < 10 s)"
"$BIN" evaluate "$TMP/sim.csv" --scores "$TMP/scores.tsv" --svg "$TMP/roc.svg" | tail -n 9
