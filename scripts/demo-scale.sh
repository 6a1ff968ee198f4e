#!/bin/bash
# phonebind at scale, shown: PostgreSQL with a synchronous standby, two
# registry instances on it, HAProxy in front, two PCs' daemons with
# simulated phones (umockdev) through it; one instance is killed, then the
# primary, while phones are attached, and the standby is promoted. The
# decisions each PC's desktop client receives are printed.
#
# Runs as root on Debian 12 (deps through scripts/deps.sh); PostgreSQL runs
# as the postgres user. Everything listens on 127.0.0.1, lives in a
# temporary directory and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" -- --no-print-directory >/dev/null

exec /usr/bin/python3 scripts/demo-scale.py
