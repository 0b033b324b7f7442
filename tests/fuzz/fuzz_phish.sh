#!/usr/bin/env bash
# Build and run the phishing analyzer's libFuzzer target.
# Usage: tests/fuzz/fuzz_phish.sh [SECONDS]   (default 30; build dir build-phish-fuzz)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-30}
B=${FUZZ_BUILD:-build-phish-fuzz}
CC=clang cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Debug -DAG_FUZZ_PHISH=ON >/dev/null
cmake --build "$B" -j "$(nproc)" --target fuzz_phish_email >/dev/null
mkdir -p "$B/fuzz-phish-corpus"
cp -n tests/data/phish/* tests/fuzz/corpus_phish/* "$B/fuzz-phish-corpus/" 2>/dev/null || true
"$B/fuzz_phish_email" -max_total_time="$SECS" -max_len=65536 -timeout=10 \
  -artifact_prefix="$B/" "$B/fuzz-phish-corpus"
