"""The daemons a burst is measured on, each on a private dbus-daemon of
its own standing in for the system bus, all fed by one umockdev testbed:

- phonebindd with the real registry on loopback (its Decision signal);
- boltd, Debian's bolt, the peer: Thunderbolt devices under one domain
  and host, as bolt's own integration tests build them (its DeviceAdded
  signal is its decision; DeviceRemoved its detach);
- the floor (floor.c): a libudev monitor and one sd-bus signal per
  uevent, the cost of the input and the output alone; floor2, two
  signals per uevent, as phonebindd's contract has.

Each offers: name, interfaces (for the listener), the members meaning
decided and detached, start() (returns once the daemon listens for
uevents), pid, address, testbed, create(i) -> (key, syspath) making the
i-th device's sysfs entries (the same key for i in both phases of a run),
keys(lines, phase) -> {key: ns} checking each signal, and stop().

The harness runs under umockdev's preload (fakephone.ensure_umockdev), and
each daemon inherits it; UMOCKDEV_DIR is passed explicitly."""
import os
import subprocess
import time
import uuid

import fakephone
import pbdaemon
import pbtest
import stormlib

# What udev's hwdb adds to a Pixel's uevent on a real system (usb:v18D1*,
# usb:v18D1p4EE1*); without them phonebindd reads the names from sysfs,
# which a real udev spares it for most phones.
HWDB_PROPS = ["ID_VENDOR_FROM_DATABASE", "Google Inc.",
              "ID_MODEL_FROM_DATABASE", "Nexus/Pixel Device (MTP)"]


def add_phone(testbed, serial):
    """A Pixel as udev shows it (the same input for phonebindd and the floor)."""
    return testbed.add_phone(serial=serial, extra_props=HWDB_PROPS)


class Phonebind:
    name = "phonebind"
    interfaces = ["org.phonebind1.Manager"]
    decided, detached = "Decision", "TerminalDetached"
    EXPECTED = {"new": ("connect", "new-binding"), "known": ("connect", "known")}

    def __init__(self, max_in_flight=32, wrapper=(), serial_prefix="STORM", build_dir=None):
        """build_dir: another build's phonebindd (a tree before a change),
        with this tree's registry and harness."""
        self.max_in_flight = max_in_flight
        self.wrapper = list(wrapper)
        self.serial_prefix = serial_prefix
        self.build_dir = build_dir
        self.scene = None

    def start(self):
        # info: the log a real deployment writes (a line per attach and decision)
        self.scene = pbdaemon.Scene(start_daemon=False,
                                    daemon_args=["--max-in-flight", str(self.max_in_flight)],
                                    daemon_env={"PHONEBIND_LOG_LEVEL": "info"})
        # The scene's own listener (Python) would wake on every signal of
        # a burst, beside the daemon on two cores: only the bench's listens.
        self.scene.listener.close()
        self.scene.daemon.wrapper = self.wrapper
        ours = pbtest.BUILD_DIR
        pbtest.BUILD_DIR = self.build_dir or ours  # where Daemon.start finds phonebindd
        try:
            self.scene.daemon.start(wait=False)
        finally:
            pbtest.BUILD_DIR = ours
        self.scene.daemon.wait_ready(timeout=60 if self.wrapper else 10)
        pbtest.wait_until(lambda: "account sa-" in self.scene.daemon.read_log(),
                          timeout=60 if self.wrapper else 10, what="account")
        self.testbed = self.scene.testbed
        self.address = self.scene.bus.address
        self.pid = self.scene.daemon.proc.pid
        self.serial_of = {}
        self.prefix = f"{self.serial_prefix}{os.getpid() % 10000:04d}{int(time.time()) % 10000:04d}X"

    def create(self, i):
        serial = f"{self.prefix}{i:05d}"
        return serial, add_phone(self.testbed, serial)

    def keys(self, lines, phase):
        decided = {}
        reader = None
        try:
            for ns, _, path, decision, reason in lines:
                if (decision, reason) != self.EXPECTED[phase]:
                    raise RuntimeError(f"{path}: {decision}/{reason} in the {phase} phase")
                if path not in self.serial_of:
                    reader = reader or pbdaemon.Listener(self.scene.bus)
                    self.serial_of[path] = str(reader.properties(path)["Serial"])
                decided[self.serial_of[path]] = int(ns)
        finally:
            if reader:
                reader.close()
        return decided

    def stop(self):
        try:
            self.scene.stop()
        finally:
            self.scene.cleanup()


class _OwnBus:
    """A private bus and the shared testbed, for a daemon of someone else."""

    def _start_bus(self):
        self.tmp = pbtest.TempDir(prefix=f"phonebind-bench-{self.name}-")
        self.bus = pbtest.PrivateBus(self.tmp).start()
        self.testbed = fakephone.Testbed()
        self.address = self.bus.address
        self.log_path = self.tmp.join(f"{self.name}.log")
        self.log = open(self.log_path, "wb")
        return self.testbed.env(self.bus.env())

    def _spawn(self, argv, env, **kwargs):
        self.proc = subprocess.Popen(self.wrapper + argv, env=env, stderr=self.log, **kwargs)
        self.pid = self.proc.pid

    def stop(self):
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                self.proc.wait(30)
            self.bus.stop()
        finally:
            self.log.close()
            self.testbed.reset()
            self.tmp.cleanup()


class Bolt(_OwnBus):
    name = "boltd"
    interfaces = ["org.freedesktop.bolt1.Manager"]
    decided, detached = "DeviceAdded", "DeviceRemoved"
    BOLTD = "/usr/libexec/boltd"
    PREFIX = "/org/freedesktop/bolt/devices/"

    def __init__(self, wrapper=()):
        self.wrapper = list(wrapper)
        self.uids = {}

    def start(self):
        env = self._start_bus()
        bed = self.testbed.testbed
        # security "user": a new device is shown, not authorized; nothing stored
        domain = bed.add_device("thunderbolt", "domain0", None, ["security", "user"],
                                ["DEVTYPE", "thunderbolt_domain"])
        self.host = bed.add_device(
            "thunderbolt", "0-0", domain,
            ["device_name", "Laptop", "device", "0x23", "vendor_name", "GNOME.org", "vendor",
             "0x23", "authorized", "1", "unique_id", str(uuid.uuid4())],
            ["DEVTYPE", "thunderbolt_device"])
        store = self.tmp.join("bolt-store")
        for sub in ("devices", "domains", "keys"):
            os.makedirs(os.path.join(store, sub))
        env["BOLT_DBPATH"] = store
        self._spawn([self.BOLTD], env, stdout=self.log)
        pbtest.wait_until(self._host_listed, timeout=60 if self.wrapper else 10, what="boltd")

    def _host_listed(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"boltd exited with {self.proc.returncode}")
        out = subprocess.run(["busctl", f"--address={self.address}", "--timeout=1", "call",
                              "org.freedesktop.bolt", "/org/freedesktop/bolt",
                              "org.freedesktop.bolt1.Manager", "ListDevices"],
                             capture_output=True, text=True)
        return out.returncode == 0 and out.stdout.startswith("ao 1 ")

    def create(self, i):
        uid = self.uids.setdefault(i, str(uuid.uuid4()))
        name = f"Dock {i}"
        return uid, self.testbed.testbed.add_device(
            "thunderbolt", f"0-{i + 1}", self.host,
            ["authorized", "0", "device", "0x1", "device_name", name, "vendor", "0x2",
             "vendor_name", "GNOME.org", "unique_id", uid, "key", ""],
            ["DEVTYPE", "thunderbolt_device"])

    def keys(self, lines, phase):
        # bolt names a device's object after its unique id, '-' as '_'
        return {line[2][len(self.PREFIX):].replace("_", "-"): int(line[0]) for line in lines
                if line[2].startswith(self.PREFIX)}


class Floor(_OwnBus):
    name = "floor"
    interfaces = ["org.phonebind1.Floor"]
    decided, detached = "Decision", "Detached"
    options = []

    def __init__(self, wrapper=()):
        self.wrapper = list(wrapper)
        self.serials = {}

    def start(self):
        env = self._start_bus()
        self._spawn([stormlib.bench_program("phonebind-floor")] + self.options, env,
                    stdout=subprocess.PIPE)
        if self.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"the floor did not start: see {self.log_path}")

    def create(self, i):
        serial = self.serials.setdefault(i, f"FLOOR{os.getpid() % 10000:04d}X{i:05d}")
        syspath = add_phone(self.testbed, serial)
        return syspath, syspath

    def keys(self, lines, phase):
        return {line[3]: int(line[0]) for line in lines}

    def stop(self):
        try:
            super().stop()
        finally:
            self.proc.stdout.close()


class Floor2(Floor):
    """The floor with phonebindd's two signals per phone (Attached, then
    Decision): what the contract's shape costs by itself."""
    name = "floor2"
    options = ["--attached"]
