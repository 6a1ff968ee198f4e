#!/bin/sh
# Formats every C file of the tree by .clang-format; with --check, changes
# nothing and fails naming the files that do not match (check.sh runs it so).
#
#   scripts/format.sh [--check] [FILE...]   (default: every .c and .h)
set -eu
check=""
if [ "${1:-}" = "--check" ]; then
  check=yes
  shift
fi
style="--style=file:$(cd "$(dirname "$0")/.." && pwd)/.clang-format"
if [ $# -gt 0 ]; then
  files="$*"
else
  cd "$(dirname "$0")/.."
  if git rev-parse --git-dir >/dev/null 2>&1; then
    # tracked and new (not ignored) files: a file about to be added counts
    files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h')
  else
    files=$(find lib daemon server ctl tests bench -name '*.[ch]' | sort)
  fi
fi
if [ -n "$check" ]; then
  bad=""
  for f in $files; do
    clang-format "$style" --dry-run --Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
  done
  if [ -n "$bad" ]; then
    echo "not formatted by .clang-format (run scripts/format.sh):$bad" >&2
    exit 1
  fi
  exit 0
fi
# shellcheck disable=SC2086
clang-format "$style" -i $files
