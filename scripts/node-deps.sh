#!/usr/bin/env bash
# Install the npm packages of every JavaScript part of the repo (test
# validators, the console's build) from their lock files. Idempotent: skips a
# folder whose node_modules is newer than its package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
for pj in tests/*/package.json web/package.json; do
  [ -f "$pj" ] || continue
  dir=$(dirname "$pj")
  if [ -d "$dir/node_modules" ] && [ "$dir/node_modules" -nt "$dir/package-lock.json" ]; then
    continue
  fi
  echo "node-deps: npm ci in $dir" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2 && touch node_modules)
done
