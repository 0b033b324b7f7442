#!/usr/bin/env bash
# Phishing analyzer benchmark (`make bench-phish`): quality on the held-out
# part of ../shared/corpora and one-core speed, then SpamAssassin and Rspamd
# on the same held-out emails in the same run (local rules only, no network
# tests), side by side. Takes a few minutes; not part of `make test`.
# Usage: bench/bench_phish.sh [BUILD_DIR] [CORPORA]   (PHISH_PEERS=0 skips peers)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-phish}
CORPORA=${2:-../shared/corpora}
OUT=${PHISH_BENCH_OUT:-$BUILD/bench-phish}
if [ ! -f "$CORPORA/labels_email.tsv" ]; then
  echo "bench-phish: no corpora at $CORPORA (see ../shared/corpora/README.md)" >&2
  exit 1
fi
mkdir -p "$OUT"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target ag_phish_tool >/dev/null

echo "== accountguard (one thread, pinned to one core)"
taskset -c 0 "$BUILD/ag_phish_tool" eval "$CORPORA" "${PHISH_SECONDS:-5}" "$OUT/ours.tsv" |
  tee "$OUT/ours.txt"
ours_rate=$(sed -n 's/^speed, one thread: \([0-9]*\) emails.*/\1/p' "$OUT/ours.txt")
cut -f1 "$OUT/ours.tsv" >"$OUT/files.txt"
n=$(wc -l <"$OUT/files.txt")

if [ "${PHISH_PEERS:-1}" = 0 ]; then
  exit 0
fi
bench/phish_peers.sh "$OUT" "$ours_rate"
echo "(held-out emails: $n; details in $OUT/)"
