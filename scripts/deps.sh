#!/bin/sh
# Installs every Debian package that the build, the tests, the demo, the
# benchmarks and the packaging checks need. Idempotent; quiet when all is
# there. Debian 12, as root (or through sudo).
set -eu

PACKAGES="
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
  libevent-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev libjansson-dev
  libsystemd-dev libudev-dev libpq-dev libcmocka-dev
  umockdev libumockdev-dev gir1.2-umockdev-1.0
  libmtp-common
  python3 python3-gi python3-dbus python3-dbusmock
  dbus sqlite3 curl postgresql systemd udev polkitd
  iproute2
  scdoc man-db debhelper dpkg-dev fakeroot lintian
  wrk nginx-light hyperfine strace valgrind openssl
  haproxy
  libglib2.0-dev libnotify-dev
  xvfb dunst libnotify-bin imagemagick fonts-dejavu-core desktop-file-utils
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii'; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing >/dev/null
