#!/usr/bin/python3
"""The demo's second half: two PCs' daemons, each on a private bus standing
in for its system bus, a simulated phone (umockdev), and what a desktop
client on each PC receives: the signals, and the text phonebind-notify
shows (run with --print beside each daemon). Called by demo.sh with the
registry's URL."""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "support"))
os.environ.setdefault("PHONEBIND_BUILD_DIR",
                      os.path.join(os.path.dirname(__file__), "..", "build"))

import fakephone  # noqa: E402
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402


def say(text):
    print(f"\n== {text}", flush=True)


class Notifier:
    """phonebind-notify --print on one PC's bus: the lines it would show."""

    def __init__(self, bus):
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
        env["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
        self.lines, self.shown = [], 0
        self.proc = subprocess.Popen([os.path.join(pbtest.BUILD_DIR, "notify", "phonebind-notify"),
                                      "--print"], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.proc.stderr.readline()  # "watching ...": subscribed
        threading.Thread(target=lambda: self.lines.extend(
            line.rstrip() for line in self.proc.stdout), daemon=True).start()

    def new_lines(self, wait=1.0):
        """What it showed since the last call, given a moment to show it."""
        deadline = time.monotonic() + wait
        while len(self.lines) == self.shown and time.monotonic() < deadline:
            time.sleep(0.05)
        lines, self.shown = self.lines[self.shown:], len(self.lines)
        return lines

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


def show(listener, pc, since, notifier):
    for event in listener.events[since:]:
        print(f"   {pc} desktop client got: {event[0]}({', '.join(event[1:])})", flush=True)
    for line in notifier.new_lines() or ["(no notification)"]:
        print(f"   {pc} notification: {line}", flush=True)


def main():
    registry_url = sys.argv[1]
    tmp = pbtest.TempDir(prefix="phonebind-demo-pcs-")
    testbed = fakephone.Testbed()
    pcs = []
    try:
        for name in ("PC A", "PC B"):
            bus = pbtest.PrivateBus(tmp).start()
            listener = pbdaemon.Listener(bus)
            daemon = pbdaemon.Daemon(tmp, bus, testbed, registry_url,
                                     name=name.replace(" ", "-").lower(),
                                     env={"PHONEBIND_LOG_LEVEL": "info"})
            pcs.append((name, bus, listener, daemon, Notifier(bus)))

        name, _, listener, daemon, notifier = pcs[0]
        say(f"{name}: phonebindd starts on its own bus")
        daemon.start()
        say("a phone is plugged into PC A (simulated: Google Pixel 7, serial R58M41DEMO77)")
        mark = listener.mark()
        testbed.add_phone(serial="R58M41DEMO77")
        listener.wait_decision()
        time.sleep(0.2)
        show(listener, name, mark, notifier)

        name, _, listener, daemon, notifier = pcs[1]
        say(f"{name}, another PC, sees the same phone (its phonebindd starts with the phone attached)")
        daemon.start()
        listener.wait_decision()
        time.sleep(0.2)
        show(listener, name, 0, notifier)

        say("PC A's log (journald-style, no raw identifiers):")
        for line in pcs[0][3].read_log().splitlines():
            print("   " + line)
    finally:
        for _, bus, listener, daemon, notifier in pcs:
            notifier.stop()
            daemon.stop()
            listener.close()
            bus.stop()
        testbed.reset()
        tmp.cleanup()


if __name__ == "__main__":
    main()
