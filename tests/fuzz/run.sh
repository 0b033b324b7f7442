#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan/UBSan) and run them.
#
#   tests/fuzz/run.sh short   # CI (ctest fuzz/short): FUZZ_SECONDS (30) per target
#   tests/fuzz/run.sh long    # make fuzz: FUZZ_SECONDS (600) per target
#
# Every target first replays tests/fuzz/regressions/<target>/* (inputs that
# once crashed) and its seeds, then fuzzes from its seed corpus
# tests/fuzz/corpus/<target>/ (read-only) plus a working corpus under the
# build directory (kept between runs, so long runs build on each other),
# with tests/fuzz/dict/<target>.dict when there is one. Any crash, leak,
# sanitizer report or timeout fails the run; the input is saved under
# $FUZZ_BUILD/artifacts/<target>/ and the command that replays it is printed.
#
# Environment:
#   FUZZ_BUILD    build directory (default: build-fuzz in the source tree)
#   FUZZ_SECONDS  seconds of fuzzing per target
#   FUZZ_TARGETS  space-separated subset of targets (default: every fuzz_*.c)
#   FUZZ_JOBS     parallel build jobs (default: nproc)
#   CC            the clang to use (default: clang)
set -uo pipefail

mode=${1:-short}
case $mode in
  short) secs=${FUZZ_SECONDS:-30} ;;
  long)  secs=${FUZZ_SECONDS:-600} ;;
  *) echo "usage: $0 short|long" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD:-$src/build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}
cc=${CC:-clang}
if [[ $cc != *clang* ]]; then cc=clang; fi

if ! command -v "$cc" >/dev/null; then
  echo "fuzz: $cc not found (scripts/install-deps.sh test installs clang)" >&2
  exit 1
fi

# The targets: one per tests/fuzz/fuzz_<module>_<what>.c.
if [ -n "${FUZZ_TARGETS:-}" ]; then
  targets=($FUZZ_TARGETS)
else
  targets=()
  for f in "$here"/fuzz_*.c; do
    t=$(basename "$f" .c)
    targets+=("$t")
  done
fi

echo "fuzz: configuring $build (clang, ASan/UBSan, libFuzzer)"
# RelWithDebInfo at -O1 without NDEBUG: fast enough to fuzz, asserts kept.
if ! cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DAG_SANITIZE=ON -DAG_FUZZ=ON \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" >"$build.configure.log" 2>&1; then
  cat "$build.configure.log" >&2
  echo "fuzz: configure failed" >&2
  exit 1
fi
rm -f "$build.configure.log"

echo "fuzz: building ${targets[*]}"
if ! cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1; then
  grep -E "error|Error" "$build/fuzz-build.log" | head -40 >&2
  echo "fuzz: build failed (full log: $build/fuzz-build.log)" >&2
  exit 1
fi

# Sanitizer settings: stop at the first report, symbolized, with leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Per-target extras: more seed directories (read-only) and libFuzzer flags.
# The phishing target and its seeds belong to src/phish's owners
# (tests/fuzz/fuzz_phish_email.c, tests/fuzz_phish.cmake, fuzz_phish.sh);
# this runner only adds it to the set.
extra_seeds() {
  case $1 in
    fuzz_phish_email) echo "$src/tests/data/phish $here/corpus_phish" ;;
  esac
}
extra_opts() {
  case $1 in
    fuzz_phish_email) echo "-max_len=65536" ;;
    fuzz_intel_stix|fuzz_intel_misp|fuzz_rules_compile) echo "-max_len=16384" ;;
  esac
}

failed=()
summary=()
for t in "${targets[@]}"; do
  bin=$build/$t
  seeds=$here/corpus/$t
  work=$build/corpus/$t
  art=$build/artifacts/$t
  mkdir -p "$work" "$art"
  log=$build/$t.log
  opts=(-timeout=25 -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$art/")
  [ -f "$here/dict/$t.dict" ] && opts+=(-dict="$here/dict/$t.dict")
  opts+=($(extra_opts "$t"))

  # 1. Regressions: every input that once crashed must now pass.
  regs=()
  if [ -d "$here/regressions/$t" ]; then
    while IFS= read -r -d '' f; do regs+=("$f"); done \
      < <(find "$here/regressions/$t" -type f -print0 | sort -z)
  fi
  if [ ${#regs[@]} -gt 0 ]; then
    if ! "$bin" "${opts[@]}" "${regs[@]}" >"$log" 2>&1; then
      echo "FAIL $t: a regression input crashes again:" >&2
      grep -E "Running:|ERROR|SUMMARY|runtime error" "$log" | tail -8 >&2
      failed+=("$t")
      summary+=("$(printf '%-22s FAIL  regression' "$t")")
      continue
    fi
  fi

  # 2. Fuzz from the seeds (which are also replayed first).
  start=$(date +%s)
  src_dirs=("$work")
  [ -d "$seeds" ] && src_dirs+=("$seeds")
  for d in $(extra_seeds "$t"); do [ -d "$d" ] && src_dirs+=("$d"); done
  "$bin" "${opts[@]}" -max_total_time="$secs" "${src_dirs[@]}" >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  stats=$(grep -E "^#[0-9]+.*(DONE|pulse|NEW|REDUCE)" "$log" | tail -1 | grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*" || true)
  runs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$log" | grep -oE "[0-9]+$" || echo "?")
  if [ $rc -ne 0 ]; then
    crash=$(grep -oE "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')
    echo "FAIL $t after ${took}s (exit $rc):" >&2
    grep -E "ERROR|SUMMARY|runtime error|fuzz_[a-z_]+: " "$log" | head -6 >&2
    echo "  log:    $log" >&2
    if [ -n "$crash" ]; then
      echo "  input:  $crash" >&2
      echo "  replay: $bin $crash" >&2
      echo "  once fixed, keep it: cp $crash $here/regressions/$t/" >&2
    fi
    failed+=("$t")
    summary+=("$(printf '%-22s FAIL  %4ss' "$t" "$took")")
  else
    summary+=("$(printf '%-22s ok    %4ss  %9s runs  %s' "$t" "$took" "$runs" "$stats")")
  fi
done

echo
echo "fuzz ($mode, ${secs}s per target):"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no crashes"
