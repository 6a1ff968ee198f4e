#!/bin/sh
# Runs one benchmark with its default parameters and ends with one JSON
# object per line per figure: {"bench", "metric", "value", "unit"}.
#
#   bench/run.sh registry-load [--duration S] [--threads 1,2]
#   bench/run.sh registry-load-pg [--duration S] [--instances 1,2] [--fsync on|off]
#   bench/run.sh attach-storm  [--sizes 1,100,1000] [--repeat N]
#   bench/run.sh idle-check    [--seconds 60]
#   bench/run.sh peers         [--sizes 1,100,1000] [--rounds 3] [--daemons phonebind,boltd,floor,floor2]
#
# Builds a Release tree in build-bench/ first. Everything listens on
# 127.0.0.1 and stops by itself. Needs root (a tmpfs mount, and
# attach-storm raises net.unix.max_dgram_qlen for the run).
set -eu
cd "$(dirname "$0")/.."

name=${1:?usage: bench/run.sh registry-load|registry-load-pg|attach-storm|idle-check|peers [options]}
shift

./scripts/deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" -- --no-print-directory >/dev/null

export PHONEBIND_BUILD_DIR="$PWD/build-bench"
export PYTHONPATH="$PWD/tests/support"
case "$name" in
  registry-load|registry-load-pg|attach-storm|idle-check) ;;
  peers)
    # the peer, for the bench only (not a dependency of the project)
    if [ ! -x /usr/libexec/boltd ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bolt >/dev/null
    fi ;;
  *)
    echo "bench/run.sh: unknown benchmark $name" >&2
    exit 2 ;;
esac

# Scratch space on a tmpfs of its own, in a private mount namespace that
# vanishes with the run: umockdev fsyncs every sysfs file it writes (on a
# disk that, not the daemon, dominates a storm), and its preload takes any
# path under /dev/ for a device node, tracking those in a table of 50 that
# aborts when full, so /dev/shm will not do either. Without the rights
# for a mount namespace the run goes on in the default TMPDIR, slower.
scratch="$PWD/build-bench/scratch"
mkdir -p "$scratch"
set -- /usr/bin/python3 "bench/$name.py" "$@"
if unshare --mount --propagation private mount -t tmpfs phonebind-bench "$scratch" 2>/dev/null; then
  exec unshare --mount --propagation private /bin/sh -c '
    mount -t tmpfs -o size=1g,mode=0755 phonebind-bench "$1" || exit 1
    export TMPDIR="$1"
    shift
    exec "$@"' sh "$scratch" "$@"
fi
echo "bench/run.sh: cannot mount a private tmpfs; using ${TMPDIR:-/tmp} (umockdev will be slow)" >&2
exec "$@"
