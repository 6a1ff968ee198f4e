#!/bin/sh
# Runs the invariant test (tests/invariant/test_invariant.py) on fresh
# random seeds until SECONDS have passed, one seed after another, and says
# which seeds failed and how to run one of them again.
#
#   scripts/soak.sh SECONDS [BUILD_DIR]
#
# Without BUILD_DIR it uses build/ of this tree, configured and brought up
# to date first (JOBS parallel jobs, default 2); a BUILD_DIR given is used
# as it is. Each seed runs for PHONEBIND_INVARIANT_SECONDS (default 30, less
# when less time is left). Logs stay in a directory named at the start.
# Exit status: 0 when every seed passed, 1 when any failed, 2 on bad usage.
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)

if [ $# -lt 1 ] || [ $# -gt 2 ] || ! [ "$1" -gt 0 ] 2>/dev/null; then
  echo "usage: $0 SECONDS [BUILD_DIR]" >&2
  exit 2
fi
total=$1
if [ $# -eq 2 ]; then
  build=$(cd "$2" && pwd)
else
  build=$src/build
  [ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DPHONEBIND_WERROR=ON >/dev/null
  echo "==> build $build"
  cmake --build "$build" -j "${JOBS:-2}" -- --no-print-directory >/dev/null
fi
for program in daemon/phonebindd server/phonebind-registry; do
  if [ ! -x "$build/$program" ]; then
    echo "$0: $build/$program is not built" >&2
    exit 2
  fi
done

per_seed=${PHONEBIND_INVARIANT_SECONDS:-30}
logs=$(mktemp -d "${TMPDIR:-/tmp}/phonebind-soak.XXXXXX")
echo "==> soak for $total s, up to $per_seed s a seed; logs in $logs"

# one field of the test's last line: "invariant: seed=N rounds=R operations=K violations=V"
field() {
  sed -n "s/^invariant: seed=.* $1=\([0-9]*\).*/\1/p" "$2" | tail -n 1
}

interrupted=
trap 'interrupted=1' INT TERM
end=$(($(date +%s) + total))
seeds=0 operations=0 violations=0 failed=
while [ -z "$interrupted" ] && [ "$(date +%s)" -lt "$end" ]; do
  seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
  seed=$((seed % 2147483646 + 1))
  left=$((end - $(date +%s)))
  budget=$per_seed
  [ "$left" -lt "$budget" ] && budget=$left
  [ "$budget" -lt 10 ] && budget=10
  log=$logs/seed-$seed.log
  status=ok
  PHONEBIND_SEED=$seed PHONEBIND_INVARIANT_SECONDS=$budget PHONEBIND_BUILD_DIR=$build \
    PHONEBIND_SOURCE_DIR=$src PYTHONPATH=$src/tests/support PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 "$src/tests/invariant/test_invariant.py" >"$log" 2>&1 || status=failed
  [ -n "$interrupted" ] && break
  ops=$(field operations "$log")
  found=$(field violations "$log")
  rounds=$(field rounds "$log")
  seeds=$((seeds + 1))
  operations=$((operations + ${ops:-0}))
  violations=$((violations + ${found:-0}))
  if [ "$status" = ok ]; then
    echo "seed $seed: ${ops:-?} operations in ${rounds:-?} rounds, ok"
  else
    failed="$failed $seed:${rounds:-0}"
    echo "seed $seed: ${ops:-?} operations in ${rounds:-?} rounds, FAILED (${found:-?} violations)"
    grep '^  \[' "$log" | sed 's/^/    /' || sed -n '/^AssertionError\|^RuntimeError\|Error:/p' "$log" | head -n 5
  fi
done

echo "==> $seeds seeds, $operations operations, $violations violations${interrupted:+ (interrupted)}"
if [ -z "$failed" ]; then
  exit 0
fi
echo "==> failed seeds; each runs again (the same choices, not the same timing) with:"
for entry in $failed; do
  seed=${entry%%:*}
  rounds=${entry#*:}
  echo "  PHONEBIND_SEED=$seed PHONEBIND_INVARIANT_ROUNDS=$rounds PHONEBIND_BUILD_DIR=$build" \
    "PYTHONPATH=$src/tests/support /usr/bin/python3 $src/tests/invariant/test_invariant.py" \
    "    # log: $logs/seed-$seed.log"
done
exit 1
