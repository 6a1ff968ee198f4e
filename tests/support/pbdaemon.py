"""phonebindd under test: started on a private bus with a fake-phone
testbed and a state directory of its own, and a listener that records what
a desktop client would receive (TerminalAttached, TerminalDetached,
Decision) in the order it arrives."""
import os
import subprocess
import threading
import time

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

import pbtest

MANAGER = "org.phonebind1.Manager"
TERMINAL = "org.phonebind1.Terminal"

dbus.mainloop.glib.threads_init()
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)


class Daemon:
    def __init__(self, tmp, bus, testbed, registry_url, name="pc", extra_args=(), env=None,
                 wrapper=()):
        """wrapper: a command the daemon's command line is appended to."""
        self.tmp, self.bus, self.testbed = tmp, bus, testbed
        self.wrapper = list(wrapper)
        self.registry_url = registry_url
        self.state_dir = tmp.join(f"state-{name}")
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.log_path = tmp.join(f"phonebindd-{name}.log")
        self.proc = None

    def start(self, wait=True):
        env = self.testbed.env(self.bus.env())
        env["PHONEBIND_LOG_LEVEL"] = "debug"
        env.update(self.extra_env)
        args = self.wrapper + pbtest.under_valgrind(self.tmp, "phonebindd") + [
            pbtest.program("phonebindd"), "--registry", self.registry_url, "--state-dir",
            self.state_dir, "--retry-initial", "0.1", "--retry-max", "0.5", "--config",
            "/dev/null"] + self.extra_args
        self.log = open(self.log_path, "ab")
        self.log_offset = self.log.tell()  # where this start's lines begin
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        timeout *= pbtest.slowdown()
        """Until this start says it is ready: the log is appended to, and an
        earlier start's "ready:" must not count."""
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"phonebindd exited with {self.proc.returncode}:\n"
                                   + self.read_log())
            return "ready:" in self.read_log(since_start=True)
        pbtest.wait_until(ready, timeout, what="phonebindd ready")

    def read_log(self, since_start=False):
        with open(self.log_path, "rb") as f:
            if since_start:
                f.seek(self.log_offset)
            return f.read().decode(errors="replace")

    def stop(self, timeout=10):
        code = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            code = self.proc.wait(timeout * pbtest.slowdown())
        elif self.proc:
            code = self.proc.returncode
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
        pbtest.check_valgrind(code, self.tmp, "phonebindd")
        return code


_loop_lock = threading.Lock()
_loop_thread = None


def glib_thread():
    """The process's one GLib loop, in a thread of its own, started once.
    dbus-python dispatches every connection through the default main
    context: a loop per listener meant two threads iterating one context,
    and a connection closed under the other thread's dispatch killed it
    ("D-Bus connection does not have a Connection instance")."""
    global _loop_thread
    with _loop_lock:
        if _loop_thread is None:
            _loop_thread = threading.Thread(target=GLib.MainLoop().run, daemon=True,
                                            name="glib")
            _loop_thread.start()
    return _loop_thread


def in_glib_thread(fn, timeout=10):
    """Runs fn in the GLib thread and waits for it; its exception is raised here."""
    done = threading.Event()
    failed = []

    def run():
        try:
            fn()
        except Exception as error:  # noqa: BLE001 - handed to the caller
            failed.append(error)
        finally:
            done.set()
        return False
    glib_thread()
    GLib.idle_add(run)
    if not done.wait(timeout):
        raise TimeoutError("the GLib thread did not run the call")
    if failed:
        raise failed[0]


class Listener:
    """Collects the daemon's signals on the private bus in the GLib thread."""

    def __init__(self, bus):
        self.events = []
        self.lock = threading.Condition()
        # Made in the GLib thread: a connection's watches join the main
        # context as it is made, and libdbus aborts ("watch != NULL") when
        # that races with the loop's dispatch in another thread.
        in_glib_thread(lambda: self._connect(bus.address))
        # Round trip so the match rules are in place before anything happens.
        self.connection.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "GetId", "", [])

    def _connect(self, address):
        self.connection = dbus.bus.BusConnection(address)
        for member in ("TerminalAttached", "TerminalDetached", "Decision"):
            self.connection.add_signal_receiver(
                self._handler(member), signal_name=member, dbus_interface=MANAGER)

    def add_receiver(self, handler, **match):
        """connection.add_signal_receiver, in the GLib thread (see __init__)."""
        in_glib_thread(lambda: self.connection.add_signal_receiver(handler, **match))

    def _handler(self, member):
        def handle(*args):
            with self.lock:
                self.events.append((member,) + tuple(str(a) for a in args))
                self.lock.notify_all()
        return handle

    def wait_for(self, predicate, timeout=10, what="signal"):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {what} within {timeout}s; got {self.events}")
                self.lock.wait(left)

    def decisions(self, path=None):
        with self.lock:
            return [e for e in self.events
                    if e[0] == "Decision" and (path is None or e[1] == path)]

    def wait_decision(self, path=None, timeout=10, count=1):
        self.wait_for(lambda e: len(self.decisions(path)) >= count, timeout,
                      what=f"{count} Decision(s) for {path}")
        return self.decisions(path)[count - 1]

    def wait_attached(self, timeout=10, after=0):
        """The object path of the next TerminalAttached after `after` events."""
        def attached(e):
            with_index = [x for x in self.events[after:] if x[0] == "TerminalAttached"]
            return bool(with_index)
        self.wait_for(attached, timeout, what="TerminalAttached")
        return [x for x in self.events[after:] if x[0] == "TerminalAttached"][0][1]

    def mark(self):
        with self.lock:
            return len(self.events)

    def manager(self):
        return dbus.Interface(self.connection.get_object("org.phonebind1", "/org/phonebind1"),
                              MANAGER)

    def properties(self, path, interface=TERMINAL):
        obj = self.connection.get_object("org.phonebind1", path, introspect=False)
        return obj.GetAll(interface, dbus_interface="org.freedesktop.DBus.Properties")

    def close(self):
        in_glib_thread(self.connection.close)


class Scene:
    """A private bus, the real registry, a testbed, a listener and one PC's
    daemon: what most daemon tests start with. stop() returns the daemon's
    exit code, which tests check is 0: no crash, no leak under ASan."""

    def __init__(self, start_daemon=True, daemon_args=(), daemon_env=None):
        self.tmp = pbtest.TempDir()
        self.bus = pbtest.PrivateBus(self.tmp).start()
        self.registry = pbtest.Registry(self.tmp).start()
        self.testbed = __import__("fakephone").Testbed()
        self.listener = Listener(self.bus)
        self.daemon = Daemon(self.tmp, self.bus, self.testbed, self.registry.url,
                             extra_args=daemon_args, env=daemon_env)
        if start_daemon:
            self.daemon.start()

    def attach(self, **phone):
        """Adds a phone; returns (syspath, object path of its terminal)."""
        mark = self.listener.mark()
        syspath = self.testbed.add_phone(**phone)
        return syspath, self.listener.wait_attached(after=mark)

    def stop(self):
        try:
            code = self.daemon.stop()
        finally:
            self.listener.close()
            self.registry.stop()
            self.bus.stop()
        return code

    def cleanup(self):
        self.testbed.reset()
        self.tmp.cleanup()
