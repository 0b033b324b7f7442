#!/bin/sh
# Build the console for the CMake build (web/console.cmake): install the npm
# packages from the lock file only when node_modules is missing or older
# than package-lock.json (so an offline machine with node_modules builds),
# then bundle. Serialized with flock: several build directories may build
# at once. Usage: web/build.sh OUT_DIR ASSETS_C
set -eu
web=$(cd "$(dirname "$0")" && pwd)
out=$1
cfile=$2
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "web/build.sh: node and npm are needed to build the console (scripts/install-deps.sh installs them)" >&2
  exit 1
fi
exec 9<"$web/package.json"
flock 9
if [ ! -d "$web/node_modules/esbuild" ] || [ "$web/package-lock.json" -nt "$web/node_modules" ]; then
  echo "web/build.sh: npm ci in web/" >&2
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >&2 && touch node_modules)
fi
node "$web/build.mjs" "$out" "$cfile"
