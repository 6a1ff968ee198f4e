#!/bin/sh
# Runs one benchmark with its default parameters and ends with one JSON
# object per line per figure: {"bench", "metric", "value", "unit"}.
#
#   bench/run.sh registry-load [--duration S] [--threads 1,2]
#   bench/run.sh attach-storm  [--sizes 1,100,1000] [--repeat N]
#   bench/run.sh idle-check    [--seconds 60]
#
# Builds a Release tree in build-bench/ first. Everything listens on
# 127.0.0.1 and stops by itself.
set -eu
cd "$(dirname "$0")/.."

name=${1:?usage: bench/run.sh registry-load|attach-storm|idle-check [options]}
shift

./scripts/deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" -- --no-print-directory >/dev/null

export PHONEBIND_BUILD_DIR="$PWD/build-bench"
export PYTHONPATH="$PWD/tests/support"
export TMPDIR=/dev/shm  # umockdev fsyncs every attribute it writes
case "$name" in
  registry-load|attach-storm|idle-check)
    exec /usr/bin/python3 "bench/$name.py" "$@" ;;
  *)
    echo "bench/run.sh: unknown benchmark $name" >&2
    exit 2 ;;
esac
