#!/bin/sh
# Run the console's browser tests (ctest: tests/browser.cmake). Installs the
# npm packages from the lock file first if they are missing (make test's
# node-deps step normally has). Usage: AG_BIN=... tests/browser/run.sh [test names]
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
exec node console.test.mjs "$@"
