#!/usr/bin/python3
"""One simulated PC of the invariant test: its own umockdev testbed,
private bus and phonebindd, and a recorder of what the daemon says, driven
by JSON lines on stdin and answering one JSON line on stdout per command.

A process of its own because umockdev allows one working testbed per
process and names its fake uevent socket after the fd number: two daemons
in one testbed steal each other's events (DESIGN.md, "Testing without a
phone").

    pc_agent.py DIR NAME REGISTRY_URL [DAEMON_ARG...]

Commands, {"cmd": NAME, ...}; answers {"ok": true, ...} or
{"ok": false, "error": "..."}:
  attach serial   plug in a phone (vendor 18d1) with that serial
  detach serial   unplug it
  forget serial   Forget(o) as root, in the background (the call may race
  retry serial    anything); Retry(o) likewise. Outcomes are in history
  kill_daemon     SIGKILL phonebindd
  start_daemon    start it again on the same state directory, wait for ready
  decisions       every Decision so far per phone serial, in order: [t, decision, reason]
  history         everything recorded so far (see Recorder, calls, plugs)
  account_token   the shadow account from the state directory's file
  stop            stop the daemon (SIGTERM), answer its exit code, exit
Times are time.monotonic(): CLOCK_MONOTONIC, one clock for every process.
"""
import json
import os
import sys
import threading
import time

import fakephone
fakephone.ensure_umockdev()

import dbus  # noqa: E402

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402

BUS_NAME = "org.phonebind1"
PROPERTIES = "org.freedesktop.DBus.Properties"
CALL_TIMEOUT = 30.0


class Dir:
    """What PrivateBus and Daemon need of a pbtest.TempDir, for a
    directory the test made (and removes)."""

    def __init__(self, path):
        os.makedirs(path, exist_ok=True)
        self.path = path

    def join(self, *parts):
        return os.path.join(self.path, *parts)


class PcDaemon(pbdaemon.Daemon):
    """A daemon that is killed and started again."""

    def wait_ready(self, timeout=30):
        super().wait_ready(timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        self.proc.kill()
        code = self.proc.wait(10)
        self.proc = None
        self.log.close()
        return code


class Recorder(pbdaemon.Listener):
    """The Listener, also noting for each signal when it came and which
    daemon (unique bus name) sent it: a killed daemon's last signals may
    arrive after it died, and are its, not its successor's."""

    def __init__(self, bus, on_path):
        self.records = []
        self.on_path = on_path
        super().__init__(bus)
        for member in ("TerminalAttached", "TerminalDetached", "Decision"):
            self.add_receiver(self._recorder(member), signal_name=member,
                              dbus_interface=pbdaemon.MANAGER, sender_keyword="sender")
        self.connection.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "GetId", "", [])

    def _recorder(self, member):
        def record(*args, sender=None):
            entry = {"t": time.monotonic(), "kind": member, "path": str(args[0]),
                     "sender": str(sender)}
            if member == "Decision":
                entry["decision"], entry["reason"] = str(args[1]), str(args[2])
            with self.lock:
                self.records.append(entry)
            self.on_path(entry["path"])
        return record

    def owner(self):
        try:
            return str(self.connection.call_blocking(
                "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "GetNameOwner", "s", [BUS_NAME], timeout=5))
        except dbus.DBusException:
            return None


class Pc:
    def __init__(self, directory, name, registry_url, daemon_args):
        self.name = name
        self.dir = Dir(directory)
        self.bus = pbtest.PrivateBus(self.dir).start()
        self.testbed = fakephone.Testbed()
        self.lock = threading.Lock()
        self.paths = {}      # object path → serial
        self.attached = {}   # serial → syspath, what is plugged in now
        self.plugs = []      # {"t", "kind": attach|detach, "serial"}
        self.daemons = []    # {"t", "kind": start|kill, "owner"|"code"}
        self.calls = []      # {"id", "method", "serial", "path", "start", "end", "error"}
        self.recorder = Recorder(self.bus, self._saw_path)
        self.daemon = PcDaemon(self.dir, self.bus, self.testbed, registry_url, name=name,
                               extra_args=daemon_args)
        self.owner = None
        self.start_daemon()

    # --- object path → serial -------------------------------------------------------

    def _saw_path(self, path):
        """Asks the daemon for the Serial of a path not known yet (without
        blocking: see call()). The object exists only while the phone is
        attached, so some stay unknown until the phone comes back."""
        with self.lock:
            if path in self.paths:
                return

        def resolved(serial):
            with self.lock:
                self.paths.setdefault(path, str(serial))
        self.recorder.connection.call_async(
            BUS_NAME, path, PROPERTIES, "Get", "ss", [pbdaemon.TERMINAL, "Serial"], resolved,
            lambda e: None, timeout=5)

    def _map_attached(self, serial, since, timeout=5.0):
        """The path of the phone just plugged in: the first TerminalAttached
        since then of a path not known to be another phone's."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.daemon.alive():
            with self.recorder.lock:
                fresh = [r["path"] for r in self.recorder.records
                         if r["kind"] == "TerminalAttached" and r["t"] >= since]
            with self.lock:
                for path in fresh:
                    if self.paths.get(path, serial) == serial:
                        self.paths[path] = serial
                        return path
            time.sleep(0.01)
        return None

    def path_of(self, serial):
        with self.lock:
            for path, known in self.paths.items():
                if known == serial:
                    return path
        return "/org/phonebind1/terminal/unknown"

    # --- commands -----------------------------------------------------------------------

    def attach(self, serial):
        if serial in self.attached:
            raise ValueError(f"{serial} is already attached here")
        t = time.monotonic()
        self.attached[serial] = self.testbed.add_phone(serial=serial, vendor="18d1")
        with self.lock:
            self.plugs.append({"t": t, "kind": "attach", "serial": serial})
        return {"t": t, "path": self._map_attached(serial, t)}

    def detach(self, serial):
        syspath = self.attached.pop(serial)
        t = time.monotonic()
        self.testbed.remove(syspath)
        with self.lock:
            self.plugs.append({"t": t, "kind": "detach", "serial": serial})
        return {"t": t}

    def call(self, method, serial):
        """Sent at once and answered in the recorder's loop: a blocking call
        would hold libdbus's I/O path, and a second call made meanwhile
        would wait in this process instead of racing the first at the
        daemon."""
        path = self.path_of(serial)
        with self.lock:
            call = {"id": len(self.calls), "method": method, "serial": serial, "path": path,
                    "start": time.monotonic(), "end": None, "error": None}
            self.calls.append(call)

        def answered(error=None):
            with self.lock:
                call["end"], call["error"] = time.monotonic(), error

        connection = self.recorder.connection
        connection.call_async(BUS_NAME, "/org/phonebind1", pbdaemon.MANAGER, method, "o",
                              [dbus.ObjectPath(path)], lambda *reply: answered(),
                              lambda e: answered(e.get_dbus_name() or "unknown"),
                              timeout=CALL_TIMEOUT)
        connection.flush()
        return {"call": call["id"], "t": call["start"]}

    def kill_daemon(self):
        code = self.daemon.kill()
        with self.lock:
            self.daemons.append({"t": time.monotonic(), "kind": "kill", "code": code})
        self.owner = None
        return {"code": code}

    def start_daemon(self):
        t = time.monotonic()
        self.daemon.start()
        self.owner = self.recorder.owner()
        with self.lock:
            self.daemons.append({"t": t, "kind": "start", "owner": self.owner})
        with self.recorder.lock:
            paths = {r["path"] for r in self.recorder.records}
        for path in paths:
            self._saw_path(path)
        return {"t": t, "owner": self.owner}

    def history(self):
        with self.recorder.lock:
            records = [dict(r) for r in self.recorder.records]
        with self.lock:
            return {"name": self.name, "events": records, "paths": dict(self.paths),
                    "plugs": list(self.plugs), "daemons": list(self.daemons),
                    "calls": [dict(c) for c in self.calls], "owner": self.owner,
                    "alive": self.daemon.alive(), "attached": sorted(self.attached),
                    "returncode": self.daemon.proc.poll() if self.daemon.proc else None,
                    "now": time.monotonic()}

    def decisions(self):
        with self.recorder.lock:
            records = [r for r in self.recorder.records if r["kind"] == "Decision"]
        with self.lock:
            paths = dict(self.paths)
        found = {}
        for r in records:
            serial = paths.get(r["path"], r["path"])  # a path not resolved yet stays a path
            found.setdefault(serial, []).append([r["t"], r["decision"], r["reason"]])
        return {"decisions": found}

    def account_token(self):
        try:
            with open(self.dir.join(f"state-{self.name}", "account")) as f:
                account, token = f.read().split()
        except (OSError, ValueError):
            return {"account": None, "token": None}
        return {"account": account, "token": token}

    def stop(self):
        code = self.daemon.stop() if self.daemon.proc else None
        self.recorder.close()
        self.bus.stop()
        self.testbed.reset()
        return {"code": code}


def main():
    # Answers go to a descriptor of their own: anything else that writes to
    # stdout (a library, a warning) must not break the protocol.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    directory, name, registry_url = sys.argv[1:4]
    try:
        pc = Pc(directory, name, registry_url, sys.argv[4:])
        answers.write(json.dumps({"ok": True, "ready": name}) + "\n")
    except Exception as e:  # noqa: BLE001 — reported to the test, which fails
        answers.write(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}) + "\n")
        return 1
    commands = {
        "attach": lambda c: pc.attach(c["serial"]),
        "detach": lambda c: pc.detach(c["serial"]),
        "forget": lambda c: pc.call("Forget", c["serial"]),
        "retry": lambda c: pc.call("Retry", c["serial"]),
        "kill_daemon": lambda c: pc.kill_daemon(),
        "start_daemon": lambda c: pc.start_daemon(),
        "decisions": lambda c: pc.decisions(),
        "history": lambda c: pc.history(),
        "account_token": lambda c: pc.account_token(),
        "stop": lambda c: pc.stop(),
    }
    for line in sys.stdin:
        command = json.loads(line)
        try:
            answer = dict(commands[command["cmd"]](command), ok=True)
        except Exception as e:  # noqa: BLE001 — the test decides what it means
            answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        answers.write(json.dumps(answer) + "\n")
        if command["cmd"] == "stop":
            return 0
    pc.stop()  # the test went away
    return 0


if __name__ == "__main__":
    sys.exit(main())
