#!/usr/bin/env bash
# Install every Debian package accountguard needs to build, run and test.
# Idempotent: installs only what is missing, runs apt-get update at most once.
# Usage: scripts/install-deps.sh [run|test]   (test adds the test-only tools)
set -euo pipefail

run_pkgs=(
  build-essential cmake pkg-config
  libjansson-dev libmicrohttpd-dev libsqlite3-dev sqlite3 libsodium-dev
  libpcre2-dev libloc-dev libloc-database uap-core libyaml-dev
  libcurl4-openssl-dev libgmime-3.0-dev libpsl-dev publicsuffix libidn2-dev
  libicu-dev libqrencode-dev libpq-dev
  libpng-dev nettle-dev libzxcvbn-dev libmagic-dev libxml2-dev libjemalloc-dev
)
test_pkgs=(
  libcmocka-dev python3 clang libclang-rt-14-dev oathtool zbar-tools wrk
  postgresql python3-aiosmtpd chromium
)

want=("${run_pkgs[@]}")
# cmocka is linked by the unit tests, which every build configures.
want+=(libcmocka-dev python3)
if [ "${1:-run}" = test ]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# Node.js and npm build the console and run the JavaScript-side validators.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
