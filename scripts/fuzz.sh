#!/bin/sh
# Runs the libFuzzer targets of fuzz/ (clang, ASan+UBSan) on the corpora
# in the tree, and says how many inputs each ran and what it found.
#
#   scripts/fuzz.sh [TARGET] [SECONDS]    every target, or one; 60 s each
#   RUNS=N scripts/fuzz.sh [TARGET]       N executions instead of a time
#
# The tree's corpus (fuzz/corpus/TARGET) is read, not written: new inputs
# go to build-fuzz/corpus/TARGET, findings to build-fuzz/findings/TARGET.
# Copy a finding into fuzz/corpus/TARGET once fixed: check.sh replays it
# in both builds from then on.
set -eu
cd "$(dirname "$0")/.."

target=${1:-}
seconds=${2:-60}
./scripts/deps.sh
CC=clang cmake -S . -B build-fuzz -DPHONEBIND_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" -- --no-print-directory >/dev/null

if [ -n "$target" ]; then
  targets=$target
else
  targets=$(cd fuzz && ls fuzz_*.c | sed 's/\.c$//')
fi
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in $targets; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  if [ -n "${RUNS:-}" ]; then
    limit="-runs=$RUNS"
  else
    limit="-max_total_time=$seconds"
  fi
  log="build-fuzz/findings/$t/last.log"
  if "build-fuzz/fuzz/$t" "$limit" -print_final_stats=1 \
      -artifact_prefix="build-fuzz/findings/$t/" "build-fuzz/corpus/$t" "fuzz/corpus/$t" \
      >"$log" 2>&1; then
    result=ok
  else
    result="FINDING (see $log and build-fuzz/findings/$t/)"
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "$t: ${runs:-?} executions, $result"
done
exit $status
