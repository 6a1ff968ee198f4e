"""What attach-storm and peers share: bursts of uevents into one daemon,
each device timed from its uevent to that daemon's signal for it.

Every device's sysfs entries are made first, out of the daemon's sight,
and only then are the uevents emitted, one umockdev_testbed_uevent each:
a burst measures the daemon, not umockdev writing files (which took 0.52
of the 0.54 s of a burst of 1000 when add_device did both). umockdev has
no public "add without uevent" in its GObject API (add_devicev sends the
"add" itself, to every socket named event<N> in the testbed), so the
sockets are renamed out of its pattern while the devices are made. The
time the harness takes to emit the uevents is reported beside every
burst figure: a burst cannot be decided faster than it is emitted.

Both ends are time-stamped by one listener of our own in C (listener.c):
the uevent as umockdev sends it (a socket of the listener's among the
daemon's), the signal as a client receives it. umockdev's uevent call
takes 0.1-0.25 ms in Python before it sends, and a fast daemon answers
before it has returned: neither side of the call is the uevent's time.

A target is a daemon with its bus and its input (targets.py): phonebindd,
boltd or the floor."""
import collections
import contextlib
import glob
import os
import select
import signal
import subprocess
import sys
import time

import benchlib
import pbtest

QLEN = "/proc/sys/net/unix/max_dgram_qlen"


def bench_program(name):
    """A program of bench/ built in this tree (phonebind-floor, the listener)."""
    path = os.path.join(pbtest.BUILD_DIR, "bench", name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{name} is not built in {pbtest.BUILD_DIR}/bench")
    return path


class SignalLog:
    """The listener process and the lines it wrote: [ns, member, args...],
    member "uevent" for the uevents (args: action, devpath)."""

    def __init__(self, address, testbed_root, interfaces):
        # Not under umockdev's preload: its uevent socket is a plain one.
        self.proc = subprocess.Popen([bench_program("phonebind-bench-listener"), address,
                                      testbed_root] + list(interfaces), stdout=subprocess.PIPE,
                                     env={"PATH": os.environ["PATH"]})
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.pending = b""
        self.lines = []
        self.counts = collections.Counter()
        self._read_until(lambda: self.counts["ready"] > 0, 10)
        self.lines.clear()
        self.probe = probe_first(testbed_root, f"event{self.proc.pid}")  # its uevent socket

    def _read_until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"listener: {dict(self.counts)} so far")
            select.select([self.fd], [], [], left)
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                raise RuntimeError("the listener exited")
            *complete, self.pending = (self.pending + chunk).split(b"\n")
            for raw in complete:
                line = raw.decode().split()
                self.lines.append(line)
                self.counts[self._kind(line)] += 1

    @staticmethod
    def _kind(line):
        if line[0] == "ready":
            return "ready"
        return f"uevent {line[2]}" if line[1] == "uevent" else line[1]

    def wait(self, member, count, timeout):
        self._read_until(lambda: self.counts[member] >= count, timeout)

    def wait_uevents(self, action, count, timeout):
        """Until count uevents of action are in: the listener writes them
        when it next sees a signal or is told to (SIGUSR1, resent in case
        it came just before the listener went back to waiting)."""
        deadline = time.monotonic() + timeout
        while self.counts[f"uevent {action}"] < count:
            self.proc.send_signal(signal.SIGUSR1)
            try:
                self._read_until(lambda: self.counts[f"uevent {action}"] >= count, 0.05)
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise

    def mark(self):
        return len(self.lines)

    def since(self, mark, member):
        return [line for line in self.lines[mark:] if line[1] == member]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # blocked writing to a pipe nobody reads any more
            self.proc.wait(5)
        self.proc.stdout.close()


@contextlib.contextmanager
def uevents_unseen(root):
    """Within it, umockdev's add_device finds no listener to send its "add"
    to: the testbed's sockets event<N> are renamed hidden-event<N> (a
    suffix would not do: umockdev's pattern is event[0-9]*)."""
    hidden = []
    for path in glob.glob(os.path.join(root, "event[0-9]*")):
        moved = os.path.join(root, "hidden-" + os.path.basename(path))
        os.rename(path, moved)
        hidden.append((path, moved))
    try:
        yield
    finally:
        for path, moved in hidden:
            os.rename(moved, path)


_warned = set()


def probe_first(root, probe):
    """umockdev sends a uevent to the sockets in directory order (glob,
    unsorted), one at a time, each send taking tens of microseconds: the
    listener's socket must come first, or a fast daemon answers before the
    uevent's time stamp is taken. Directories list their newest entry
    first (tmpfs here) or their oldest, or go by a hash of the name: the
    probe is renamed (a bound socket stays bound), then the others, then
    the probe under other names, until it leads. Returns its name."""
    def order():
        return [os.path.basename(p) for p in glob.glob(os.path.join(root, "event[0-9]*"))]

    def rename(old, new):
        os.rename(os.path.join(root, old), os.path.join(root, new))

    candidates = [probe, probe] + [f"event{900000000 + k}" for k in range(64)]
    for attempt, name in enumerate(candidates):
        names = order()
        if not names or names[0] == probe:
            return probe
        if attempt == 1:  # the others made newest
            for other in names:
                if other != probe:
                    rename(other, "hidden-" + other)
                    rename("hidden-" + other, other)
            continue
        rename(probe, "hidden-" + probe)
        rename("hidden-" + probe, name)
        probe = name
    if root not in _warned:
        _warned.add(root)
        print(f"# warning: umockdev sends to the daemon before the listener in {root}: "
              "latencies are understated by up to one send", file=sys.stderr)
    return probe


@contextlib.contextmanager
def raised_dgram_qlen(value=4096):
    """umockdev's uevent socket queue is net.unix.max_dgram_qlen (10 by
    default; on overflow umockdev 0.17 kills the sender): raised for the
    run and restored after. Needs root."""
    with open(QLEN) as f:
        old = f.read().strip()
    try:
        with open(QLEN, "w") as f:
            f.write(str(value))
    except OSError as e:
        raise SystemExit(f"cannot raise {QLEN} ({e}); run as root")
    try:
        yield
    finally:
        with open(QLEN, "w") as f:
            f.write(old)


# One by one: the next device this long after the last one's signal, so
# that each finds the daemon idle (phonebindd confirms a known phone with
# the registry after its signal), as phones plugged by hand do.
PACE = 0.02

Burst = collections.namedtuple("Burst", "latencies all_decided emission cpu")


def burst(target, log, count, phase, one_by_one=False, timeout=120):
    """Makes count devices' sysfs entries unseen, then emits their "add"
    uevents at once (or, one_by_one, each after the last was decided).
    A device's latency runs from its uevent to its signal, both as the
    listener saw them; all_decided from the first uevent to the last
    signal; emission is the harness's time to emit them all.
    Returns the Burst and the devices [(key, syspath)]."""
    bed = target.testbed
    with uevents_unseen(bed.root):
        devices = [target.create(i) for i in range(count)]
    log.probe = probe_first(bed.root, log.probe)
    mark, base = log.mark(), log.counts[target.decided]
    uevents = log.counts["uevent add"]
    start = time.monotonic_ns()
    for n, (key, syspath) in enumerate(devices, 1):
        bed.testbed.uevent(syspath, "add")
        if one_by_one:
            log.wait(target.decided, base + n, timeout)
            time.sleep(PACE)
    emitted = time.monotonic_ns()
    log.wait(target.decided, base + count, timeout)
    cpu = benchlib.cpu_seconds(target.pid)
    log.wait_uevents("add", uevents + count, timeout)
    key_of = {syspath[len("/sys"):]: key for key, syspath in devices}
    sent = {key_of[devpath]: int(ns) for ns, _, action, devpath in log.since(mark, "uevent")
            if action == "add" and devpath in key_of}
    decided = target.keys(log.since(mark, target.decided), phase)
    missing = set(key_of.values()) - set(decided) or set(key_of.values()) - set(sent)
    if missing:
        raise RuntimeError(f"{target.name}: no uevent or signal for {sorted(missing)[:3]}…")
    latencies = [(decided[key] - t) / 1e6 for key, t in sent.items()]
    first, last = min(sent.values()), max(decided[key] for key in sent)
    return Burst(latencies, (last - first) / 1e9, (emitted - start) / 1e9, cpu), devices


def unplug(target, log, devices, timeout=120):
    """Every device's "remove" uevent, then (once the daemon said each is
    gone) its sysfs entries: what the kernel does, in that order."""
    bed = target.testbed
    base = log.counts[target.detached]
    for _, syspath in devices:
        bed.testbed.uevent(syspath, "remove")
    log.wait(target.detached, base + len(devices), timeout)
    for _, syspath in devices:
        bed.testbed.remove_device(syspath)


class NoHooks:
    """Called around each phase (profilers: --perf, --callgrind)."""

    def begin(self, phase, pid):
        pass

    def end(self, phase, pid):
        pass


class Callgrind(NoHooks):
    """The daemon under callgrind (instruction counts are what is stable
    on a shared machine): each phase dumped on its own, once the daemon has
    gone idle (a known phone's confirmation with the registry comes after
    its signal), and what came before it (start-up, the unplugging) apart.
    Dumps go to DIR/<daemon>.<pid>.<n>; totals() reads them back."""

    def __init__(self, directory, name):
        self.directory, self.name = directory, name
        os.makedirs(directory, exist_ok=True)

    def wrapper(self):
        return ["valgrind", "--tool=callgrind", "--quiet",
                f"--callgrind-out-file={self.directory}/{self.name}.%p"]

    def begin(self, phase, pid):
        self._dump(f"before-{phase}", pid)

    def end(self, phase, pid):
        wait_idle(pid)
        self._dump(phase, pid)

    def _dump(self, label, pid):
        subprocess.run(["callgrind_control", "-d", label, str(pid)], check=True,
                       capture_output=True, timeout=60)

    def totals(self):
        """{label: instructions} of every dump of this daemon."""
        found = {}
        for path in glob.glob(os.path.join(self.directory, f"{self.name}.*.*")):
            label, total = None, None
            with open(path) as f:
                for line in f:
                    if line.startswith("desc: Trigger: Client Request: ") or \
                            line.startswith("desc: Trigger: dump "):
                        label = line.rsplit(" ", 1)[1].strip()
                    elif line.startswith("totals:"):
                        total = int(line.split()[1])
            if label and total is not None:
                found[label] = total
        return found


def wait_idle(pid, quiet=1.0, timeout=300):
    """Until the process has used no CPU for quiet seconds."""
    deadline = time.monotonic() + timeout
    last, since = benchlib.cpu_seconds(pid), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.2)
        now = benchlib.cpu_seconds(pid)
        if now != last:
            last, since = now, time.monotonic()


def measure(target, n, hooks=NoHooks(), timeout=120):
    """One run of a target: started, a burst of n new devices (n = 1: 50
    one by one), all unplugged, the same n again, stopped. Returns
    {metric: (value, unit)} in attach-storm's names."""
    figures = {}
    target.start()
    log = SignalLog(target.address, target.testbed.root, target.interfaces)
    try:
        pid = target.pid
        at_start = benchlib.proc_status(pid)
        cpu0 = benchlib.cpu_seconds(pid)
        one_by_one = n == 1
        count = 50 if one_by_one else n
        hooks.begin(f"new_n{n}", pid)
        new, devices = burst(target, log, count, "new", one_by_one, timeout)
        hooks.end(f"new_n{n}", pid)
        after_new = benchlib.proc_status(pid)
        report(figures, f"new_n{n}", new, one_by_one, (new.cpu - cpu0) / count)
        unplug(target, log, devices, timeout)
        cpu1 = benchlib.cpu_seconds(pid)
        hooks.begin(f"known_n{n}", pid)
        known, _ = burst(target, log, count, "known", one_by_one, timeout)
        hooks.end(f"known_n{n}", pid)
        report(figures, f"known_n{n}", known, one_by_one, (known.cpu - cpu1) / count)
        final = benchlib.proc_status(pid)
        figures[f"n{n}_peak_rss"] = (final["VmHWM"] / 1024, "MiB")
        figures[f"n{n}_rss_at_start"] = (at_start["VmRSS"] / 1024, "MiB")
        figures[f"n{n}_rss_anon_at_start"] = (at_start["RssAnon"] / 1024, "MiB")
        figures[f"n{n}_rss_anon"] = (final["RssAnon"] / 1024, "MiB")
        figures[f"n{n}_rss_anon_growth"] = (
            (after_new["RssAnon"] - at_start["RssAnon"]) / 1024, "MiB")
    finally:
        log.stop()
        target.stop()
    return figures


def report(figures, prefix, result, one_by_one, cpu_per_device):
    figures[f"{prefix}_p50"] = (benchlib.percentile(result.latencies, 50), "ms")
    figures[f"{prefix}_p99"] = (benchlib.percentile(result.latencies, 99), "ms")
    figures[f"{prefix}_max"] = (max(result.latencies), "ms")
    if not one_by_one:
        figures[f"{prefix}_all_decided"] = (result.all_decided, "s")
        figures[f"{prefix}_emission"] = (result.emission, "s")
    # /proc's 10 ms ticks: good to ±0.2 ms for 50 or 100 devices
    figures[f"{prefix}_cpu_per_decision"] = (cpu_per_device * 1000, "ms")
