#!/usr/bin/python3
"""N fake phones (umockdev) attached in one burst to phonebindd on a
private bus, with the real registry on loopback. For each phone: the time
from its uevent to its Decision signal, for the remote path (new phones)
and the local path (the same phones replugged). Also the daemon's peak RSS,
its anonymous memory growth over the first burst and its CPU time per
decision. N = 1 is fifty phones one at a time (each after the previous one
was decided), for a distribution rather than a single sample.

The uevent time is taken when umockdev's add_device returns: it writes the
sysfs attributes first and sends the uevent last. umockdev's uevent socket
queue is net.unix.max_dgram_qlen (10 by default; on overflow umockdev 0.17
kills the sender): raised for the run and restored after."""
import argparse
import os
import subprocess
import sys
import time

import fakephone
fakephone.ensure_umockdev()

import benchlib  # noqa: E402
import pbdaemon  # noqa: E402
import pbtest  # noqa: E402

BENCH = "attach-storm"
QLEN = "/proc/sys/net/unix/max_dgram_qlen"
HERE = os.path.dirname(os.path.abspath(__file__))


class SignalLog:
    """The listener process and what it wrote."""

    def __init__(self, bus):
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "listener.py"),
                                      bus.address], stdout=subprocess.PIPE,
                                     env={"PATH": os.environ["PATH"]})
        self.fd = self.proc.stdout.fileno()
        self.pending = b""
        self.lines = []
        self.read_until(lambda lines: lines and lines[0] == ["ready"], timeout=10)
        self.lines.clear()

    def read_until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        os.set_blocking(self.fd, False)
        while not predicate(self.lines):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.lines)} signals so far")
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                time.sleep(0.002)
                continue
            *complete, self.pending = (self.pending + chunk).split(b"\n")
            self.lines.extend(line.decode().split() for line in complete)

    def decisions(self):
        return [l for l in self.lines if l[1] == "Decision"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


def serial_of(listener, path):
    return str(listener.properties(path)["Serial"])


def burst(scene, log, serials, expect_reason, one_by_one=False):
    """Attaches all phones at once (or, one_by_one, each after the last was
    decided); returns latencies (ms), timings (s), the syspaths and the
    daemon's CPU seconds when the last was decided (before the lookups
    here that map object paths back to serials, which cost it CPU too)."""
    start_decisions = len(log.decisions())
    sent = {}
    for count, serial in enumerate(serials, 1):
        syspath = scene.testbed.add_phone(serial=serial)
        sent[serial] = (time.monotonic_ns(), syspath)
        if one_by_one:
            log.read_until(lambda lines: len([l for l in lines if l[1] == "Decision"])
                           >= start_decisions + count, timeout=30)
    log.read_until(lambda lines: len([l for l in lines if l[1] == "Decision"])
                   >= start_decisions + len(serials), timeout=120)
    cpu = benchlib.cpu_seconds(scene.daemon.proc.pid)
    decided = log.decisions()[start_decisions:]
    by_path = {l[2]: (int(l[0]), l[3], l[4]) for l in decided}
    latencies = []
    for path, (t, decision, reason) in by_path.items():
        serial = serial_of(scene.listener, path)
        if (decision, reason) != expect_reason:
            raise RuntimeError(f"{serial}: {decision}/{reason}, expected {expect_reason}")
        latencies.append((t - sent[serial][0]) / 1e6)
    first = min(t for t, _ in sent.values())
    last = max(t for t, _, _ in by_path.values())
    emitted = max(t for t, _ in sent.values())
    timing = {"all_decided": (last - first) / 1e9, "emitted": (emitted - first) / 1e9}
    return latencies, timing, [s for _, s in sent.values()], cpu


class Profile:
    """perf record of the daemon during one phase, when --perf DIR is set."""

    def __init__(self, directory, name, pid):
        self.proc = None
        if directory:
            # dwarf: the distribution's libraries have no frame pointers
            self.proc = subprocess.Popen(["perf", "record", "-q", "--call-graph", "dwarf,16384",
                                          "-F", "2000", "-p", str(pid), "-o",
                                          os.path.join(directory, f"{name}.perf.data")])
            time.sleep(0.5)  # perf attaches asynchronously

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.send_signal(2)
            self.proc.wait(30)


def report(prefix, latencies, timing):
    benchlib.emit(BENCH, f"{prefix}_p50", benchlib.percentile(latencies, 50), "ms")
    benchlib.emit(BENCH, f"{prefix}_p99", benchlib.percentile(latencies, 99), "ms")
    benchlib.emit(BENCH, f"{prefix}_max", max(latencies), "ms")
    if len(latencies) > 1 and not prefix.endswith("_n1"):
        # first uevent to last Decision; and how long the harness itself
        # took to emit the burst, which bounds it from below
        benchlib.emit(BENCH, f"{prefix}_all_decided", timing["all_decided"], "s")
        benchlib.emit(BENCH, f"{prefix}_harness_emit", timing["emitted"], "s")


def run(n, max_in_flight, perf_dir):
    # info: the log a real deployment writes (a line per attach and decision)
    scene = pbdaemon.Scene(start_daemon=False,
                           daemon_args=["--max-in-flight", str(max_in_flight)],
                           daemon_env={"PHONEBIND_LOG_LEVEL": "info"})
    log = SignalLog(scene.bus)
    try:
        scene.daemon.start()
        pid = scene.daemon.proc.pid
        pbtest.wait_until(lambda: "account sa-" in scene.daemon.read_log(), what="account")
        before = benchlib.proc_status(pid)
        cpu0 = benchlib.cpu_seconds(pid)
        # one phone: 50 single attaches, for a distribution
        one_by_one = n == 1
        serials = [f"STORM{n:04d}X{i:05d}" for i in range(50 if one_by_one else n)]
        with Profile(perf_dir, f"new_n{n}", pid):
            latencies, timing, syspaths, cpu1 = burst(scene, log, serials,
                                                    ("connect", "new-binding"), one_by_one)
        after = benchlib.proc_status(pid)
        report(f"new_n{n}", latencies, timing)
        benchlib.emit(BENCH, f"new_n{n}_cpu_per_decision", (cpu1 - cpu0) / len(serials) * 1000,
                      "ms")
        for syspath in syspaths:  # unplug all, then the same phones again
            scene.testbed.remove(syspath)
        log.read_until(lambda lines: len([l for l in lines if l[1] == "TerminalDetached"])
                       >= len(serials), timeout=120)
        cpu2 = benchlib.cpu_seconds(pid)
        with Profile(perf_dir, f"known_n{n}", pid):
            latencies, timing, _, cpu3 = burst(scene, log, serials, ("connect", "known"),
                                             one_by_one)
        report(f"known_n{n}", latencies, timing)
        benchlib.emit(BENCH, f"known_n{n}_cpu_per_decision", (cpu3 - cpu2) / len(serials) * 1000,
                      "ms")
        final = benchlib.proc_status(pid)
        benchlib.emit(BENCH, f"n{n}_peak_rss", final["VmHWM"] / 1024, "MiB")
        benchlib.emit(BENCH, f"n{n}_rss_anon_growth", (after["RssAnon"] - before["RssAnon"]) / 1024,
                      "MiB")
    finally:
        log.stop()
        scene.stop()
        scene.cleanup()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--perf", metavar="DIR", help="perf record each phase into DIR")
    args = parser.parse_args()
    print(f"# attach-storm on {benchlib.machine()}", file=sys.stderr)
    with open(QLEN) as f:
        old_qlen = f.read().strip()
    try:
        with open(QLEN, "w") as f:
            f.write("4096")
    except OSError as e:
        sys.exit(f"attach-storm: cannot raise {QLEN} ({e}); run as root")
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            run(n, args.max_in_flight, args.perf)
    finally:
        with open(QLEN, "w") as f:
            f.write(old_qlen)


if __name__ == "__main__":
    main()
