#!/usr/bin/python3
"""phonebindd with nothing attached makes no periodic wakeups beyond the
watchdog. Counts the daemon's voluntary context switches (each wakeup from
epoll_wait is one) over a window, with no watchdog and with a 20 s one
(a keep-alive every 10 s), after start-up has settled."""
import argparse
import sys
import time

import fakephone
fakephone.ensure_umockdev()

import benchlib  # noqa: E402
import pbdaemon  # noqa: E402

BENCH = "idle-check"


def wakeups(seconds, env):
    scene = pbdaemon.Scene(start_daemon=False, daemon_env=env)
    try:
        scene.daemon.start()
        time.sleep(1.0)  # start-up: shadow account, coldplug
        pid = scene.daemon.proc.pid
        before = benchlib.proc_status(pid)["voluntary_ctxt_switches"]
        time.sleep(seconds)
        after = benchlib.proc_status(pid)["voluntary_ctxt_switches"]
        return after - before
    finally:
        scene.stop()
        scene.cleanup()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    print(f"# idle-check on {benchlib.machine()}, {args.seconds:g} s each", file=sys.stderr)
    plain = wakeups(args.seconds, {"PHONEBIND_LOG_LEVEL": "info"})
    benchlib.emit(BENCH, "wakeups_without_watchdog", plain, "wakeups")
    watched = wakeups(args.seconds, {"PHONEBIND_LOG_LEVEL": "info", "WATCHDOG_USEC": "20000000"})
    benchlib.emit(BENCH, "wakeups_with_20s_watchdog", watched, "wakeups")
    benchlib.emit(BENCH, "watchdog_keepalives_expected", args.seconds // 10, "wakeups")


if __name__ == "__main__":
    main()
