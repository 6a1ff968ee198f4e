#!/usr/bin/python3
"""N fake phones (umockdev) attached in one burst to phonebindd on a
private bus, with the real registry on loopback. For each phone: the time
from its uevent to its Decision signal, for the remote path (new phones)
and the local path (the same phones replugged). Also the daemon's peak RSS,
its memory at start and after the phones, and its CPU time per decision.
N = 1 is fifty phones one at a time (each after the previous one was
decided), for a distribution rather than a single sample.

Every phone's sysfs entries are made before the burst and only the
uevents are emitted in it (stormlib.py); the time the harness takes to
emit them is reported beside every burst (`…_emission`)."""
import argparse
import os
import subprocess
import sys
import time

import fakephone
fakephone.ensure_umockdev()

import benchlib  # noqa: E402
import stormlib  # noqa: E402
import targets  # noqa: E402

BENCH = "attach-storm"


class Perf(stormlib.NoHooks):
    """perf record of the daemon during each phase, into DIR."""

    def __init__(self, directory):
        self.directory = directory
        self.proc = None

    def begin(self, phase, pid):
        # dwarf: the distribution's libraries have no frame pointers
        self.proc = subprocess.Popen(["perf", "record", "-q", "--call-graph", "dwarf,16384",
                                      "-F", "2000", "-p", str(pid), "-o",
                                      os.path.join(self.directory, f"{phase}.perf.data")])
        time.sleep(0.5)  # perf attaches asynchronously

    def end(self, phase, pid):
        self.proc.send_signal(2)
        self.proc.wait(30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--perf", metavar="DIR", help="perf record each phase into DIR")
    args = parser.parse_args()
    print(f"# attach-storm on {benchlib.machine()}", file=sys.stderr)
    hooks = Perf(args.perf) if args.perf else stormlib.NoHooks()
    with stormlib.raised_dgram_qlen():
        for n in [int(s) for s in args.sizes.split(",")]:
            target = targets.Phonebind(args.max_in_flight)
            for metric, (value, unit) in stormlib.measure(target, n, hooks).items():
                benchlib.emit(BENCH, metric, value, unit)


if __name__ == "__main__":
    main()
