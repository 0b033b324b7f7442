#!/usr/bin/env bash
# make bench: every benchmark, one after the other, printing its figures.
# docs/PERFORMANCE.md records them with the machine and date.
set -uo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u +%F)"
status=0
bench/bench_events.sh "$BUILD" 10 64 || status=1
bench/bench_replay.sh "$BUILD" || status=1
for b in "$BUILD"/bench_*; do
  [ -x "$b" ] || continue
  echo "--- $(basename "$b")"
  "$b" || status=1
done
exit $status
