#!/bin/sh
# Checks the formatting (.clang-format), builds phonebind and runs every
# test: first the normal build (gcc, warnings as errors), then the same
# suite in an ASan+UBSan build (clang: gcc's ASan runtime clashes with
# umockdev's LD_PRELOAD).
#
#   ./scripts/check.sh            both builds
#   PHONEBIND_SKIP_SANITIZE=1 ./scripts/check.sh   normal build only
#   ./scripts/check.sh --valgrind  instead: the unit tests, and the daemon
#                                  and registry of the integration tests,
#                                  under memcheck (slow: not for CI)
set -eu
cd "$(dirname "$0")/.."

./scripts/deps.sh

echo "==> format"
./scripts/format.sh --check

jobs=$(nproc)

run_suite() {
  build_dir=$1
  shift
  echo "==> configure $build_dir"
  cmake -S . -B "$build_dir" -DPHONEBIND_WERROR=ON "$@" >/dev/null
  echo "==> build $build_dir"
  cmake --build "$build_dir" -j "$jobs" -- --no-print-directory >/dev/null
  echo "==> test $build_dir"
  ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
}

if [ "${1:-}" = "--valgrind" ]; then
  # A build of its own without sanitizers, -O1 for readable reports.
  cmake -S . -B build-valgrind -DPHONEBIND_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
    -DPHONEBIND_TEST_TIMEOUT_SCALE=15 >/dev/null
  cmake --build build-valgrind -j "$jobs" -- --no-print-directory >/dev/null
  echo "==> unit tests under memcheck"
  ctest --test-dir build-valgrind -L unit -j "$jobs" --output-on-failure \
    -T memcheck --overwrite MemoryCheckCommandOptions="--error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite"
  echo "==> integration tests: daemon and registry under memcheck"
  PHONEBIND_VALGRIND=1 ctest --test-dir build-valgrind -L integration -j "$jobs" \
    --output-on-failure
  echo "==> no memcheck errors"
  exit 0
fi

run_suite build

if [ -z "${PHONEBIND_SKIP_SANITIZE:-}" ]; then
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  CC=clang run_suite build-sanitize -DPHONEBIND_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
fi
echo "==> all tests passed"
