#!/bin/bash
# phonebind demo: the registry on SQLite on a loopback port, shadow accounts,
# a phone's binding made, queried and refused over HTTP; then two PCs'
# daemons, each on a private bus, a simulated phone (umockdev) attached, and
# the decisions as a desktop client on each PC receives them, with the text
# the desktop notifier (phonebind-notify --print) shows for each.
# Everything runs in a temporary directory and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD="" PLAIN=""; fi
say() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }

build() {
  ./scripts/deps.sh
  cmake -S . -B build >/dev/null
  cmake --build build -j "$(nproc)" -- --no-print-directory >/dev/null
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_registry() {
  WORK=$(mktemp -d /tmp/phonebind-demo-XXXXXX)
  PORT=$(free_port)
  REGISTRY="http://127.0.0.1:$PORT"
  build/server/phonebind-registry --listen "127.0.0.1:$PORT" \
    --database "sqlite:$WORK/registry.db" 2>"$WORK/registry.log" &
  REGISTRY_PID=$!
  for _ in $(seq 50); do
    curl -fs "$REGISTRY/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  say "registry listening on $REGISTRY (database $WORK/registry.db)"
}

stop_all() {
  [ -n "${REGISTRY_PID:-}" ] && kill -TERM "$REGISTRY_PID" 2>/dev/null && wait "$REGISTRY_PID" || true
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
}
trap stop_all EXIT

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

http() { # METHOD PATH TOKEN: prints "STATUS BODY"
  curl -s -o "$WORK/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" "$REGISTRY$2"
  printf ' %s\n' "$(cat "$WORK/body")"
}

registry_demo() {
  say "two PCs' clients get shadow accounts (POST /v1/accounts)"
  local a b
  a=$(curl -s -X POST "$REGISTRY/v1/accounts")
  b=$(curl -s -X POST "$REGISTRY/v1/accounts")
  TOKEN_A=$(echo "$a" | json_field token)
  TOKEN_B=$(echo "$b" | json_field token)
  echo "PC A: account $(echo "$a" | json_field account)"
  echo "PC B: account $(echo "$b" | json_field account)"

  local phone=/v1/terminals/usb:18d1:DEMO0PHONE1
  say "PC A asks about a phone it has never seen (GET $phone)"
  echo "A: $(http GET "$phone" "$TOKEN_A")"
  say "PC A binds it (PUT $phone/binding)"
  echo "A: $(http PUT "$phone/binding" "$TOKEN_A")"
  say "PC B tries to bind the same phone: refused, one phone has one owner"
  echo "B: $(http PUT "$phone/binding" "$TOKEN_B")"
  say "both ask again"
  echo "A: $(http GET "$phone" "$TOKEN_A")"
  echo "B: $(http GET "$phone" "$TOKEN_B")"
}

daemon_demo() {
  say "the whole method: two PCs' daemons, a simulated phone, decisions on D-Bus"
  /usr/bin/python3 scripts/demo-pcs.py "$REGISTRY"
}

build
start_registry
registry_demo
daemon_demo
say "done"
