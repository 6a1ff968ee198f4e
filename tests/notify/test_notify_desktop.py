#!/usr/bin/python3
"""phonebind-notify on a desktop: the real phonebindd on a private bus
standing in for the system bus, the real registry, simulated phones
(umockdev) driving real decisions, and a real notification server (dunst)
on a private session bus and an X server of its own (Xvfb). `dunstctl
history` reads back what was shown; a screenshot of the screen goes to
the build tree (tests/notify/artefacts/) for a person to look at.

Faults tried: a Decision signal forged by another program on the bus
(ignored), a new phone (connected), a phone another PC's account holds
(bound elsewhere), a known phone re-attached (nothing shown by default,
shown with show-known in a notify.conf), a phone that does not trust this
PC yet (the identity helper's exit status 75), taken off the screen when
it trusts it, a registry that is down (waiting), then back (the wait
replaced by the outcome), and a phone whose model is markup (shown
literally, never as markup)."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARTEFACTS = os.path.join(pbtest.BUILD_DIR, "tests", "notify", "artefacts")
IMEI = "490154203237518"
EVIL = "<b>iPhone</b> 15 & Co"

# pbtest's permissive bus as a session bus: no service activation, so
# nothing but the test's dunst can own org.freedesktop.Notifications
SESSION_BUS_CONFIG = pbtest.PrivateBus.CONFIG.replace("<type>system</type>",
                                                      "<type>session</type>")


class Desktop:
    """An X server (Xvfb), a session bus without service activation, and
    dunst on both: a person's desktop, minus the person."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("LD_PRELOAD", "UMOCKDEV_DIR", "DBUS_SESSION_BUS_ADDRESS",
                                 "DISPLAY", "XDG_RUNTIME_DIR")}
        home = tmp.join("home")
        for sub in ("config", "config-dirs", "runtime"):
            os.makedirs(os.path.join(home, sub), mode=0o700)
        # nobody's settings but the test's: not the user's, not /etc/xdg's
        self.env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
                        XDG_CONFIG_DIRS=os.path.join(home, "config-dirs"),
                        XDG_RUNTIME_DIR=os.path.join(home, "runtime"))

    def start(self):
        self.start_x()
        self.session = pbtest.PrivateBus(self.tmp, config=SESSION_BUS_CONFIG).start()
        self.env["DBUS_SESSION_BUS_ADDRESS"] = self.session.address
        self.spawn(["dunst", "-config", os.path.join(HERE, "dunstrc")], "dunst")
        pbtest.wait_until(self.dunst_ready, 10, what="dunst on the session bus")
        return self

    def start_x(self):
        """Xvfb on a display it picks itself (-displayfd): no clash with
        other tests' servers."""
        read, write = os.pipe()
        self.spawn(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x720x24",
                    "-nolisten", "tcp", "-noreset"], "xvfb", pass_fds=(write,))
        os.close(write)
        with os.fdopen(read) as f:
            display = f.readline().strip()
        if not display:
            raise RuntimeError("Xvfb did not start: " + self.log("xvfb"))
        self.env["DISPLAY"] = f":{display}"

    def spawn(self, args, name, **kwargs):
        log = open(self.tmp.join(f"{name}.log"), "ab")
        proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                **kwargs)
        log.close()
        self.procs.append(proc)
        return proc

    def log(self, name):
        with open(self.tmp.join(f"{name}.log"), errors="replace") as f:
            return f.read()

    def dunstctl(self, *args):
        return subprocess.run(["dunstctl"] + list(args), env=self.env, capture_output=True,
                              text=True, timeout=10, check=True).stdout

    def dunst_ready(self):
        try:
            return "dunst" in self.dunstctl("debug")
        except subprocess.CalledProcessError:
            return False

    def count(self, which):
        return int(self.dunstctl("count", which).strip())

    def wait_displayed(self, n, what):
        pbtest.wait_until(lambda: self.count("displayed") == n, 10 * pbtest.slowdown(), what=what)

    def history(self):
        """What dunst showed, oldest first: {summary, body, ...} each."""
        data = json.loads(self.dunstctl("history"))["data"][0]
        entries = [{k: v["data"] for k, v in entry.items()} for entry in data]
        return sorted(entries, key=lambda e: e["id"])

    def screenshot(self, path):
        subprocess.run(["import", "-window", "root", path], env=self.env, check=True,
                       timeout=20)

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        if getattr(self, "session", None):
            self.session.stop()


class Notifier:
    """phonebind-notify as a session would start it, or with --print."""

    def __init__(self, desktop, system_bus, name, args=()):
        env = dict(desktop.env, DBUS_SYSTEM_BUS_ADDRESS=system_bus.address,
                   PHONEBIND_LOG_LEVEL="debug")
        self.name, self.tmp = name, desktop.tmp
        self.log_path = self.tmp.join(f"{name}.log")
        self.lines = []
        self.cond = threading.Condition()
        log = open(self.log_path, "ab")
        program = os.path.join(pbtest.BUILD_DIR, "notify", "phonebind-notify")
        self.proc = subprocess.Popen(pbtest.under_valgrind(self.tmp, name) + [program]
                                     + list(args), env=env, stdout=subprocess.PIPE, stderr=log,
                                     text=True)
        log.close()
        threading.Thread(target=self.read, daemon=True).start()
        pbtest.wait_until(lambda: "watching" in self.log() or self.proc.poll() is not None,
                          10 * pbtest.slowdown(), what=f"{name} watching")
        if self.proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {self.proc.returncode}: {self.log()}")

    def read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_lines(self, n, what):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.lines) >= n, 10 * pbtest.slowdown()):
                raise TimeoutError(f"{self.name}: no {what}; printed {self.lines}\n{self.log()}")
            return self.lines[n - 1]

    def stop(self):
        """Exit status after SIGTERM: 0, or a sanitizer's or memcheck's failure."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(10 * pbtest.slowdown())
        pbtest.check_valgrind(code, self.tmp, self.name)
        return code


class NotifyDesktop(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        self.addCleanup(self.scene.cleanup)
        tmp = self.scene.tmp
        # The phone without a usable serial trusts this PC once the test
        # says so (the file exists): before that, the helper answers as for
        # adb's "unauthorized" or an iPhone's pending pairing (status 75).
        self.trusted = tmp.join("trusted")
        helper = tmp.join("helper.sh")
        with open(helper, "w") as f:
            f.write(f"#!/bin/sh\n[ -e {self.trusted} ] || exit 75\necho {IMEI}\n")
        os.chmod(helper, 0o755)
        self.scene.daemon.extra_args += ["--identity-helper", helper]
        self.scene.daemon.start()
        self.desktop = Desktop(tmp)
        self.addCleanup(self.desktop.stop)
        self.desktop.start()
        self.notifier = Notifier(self.desktop, self.scene.bus, "notifier")
        with open(tmp.join("show-known.conf"), "w") as f:
            f.write("[notify]\nshow-known = yes\n")
        self.printer = Notifier(self.desktop, self.scene.bus, "printer",
                                ["--print", "--config", tmp.join("show-known.conf")])

    def tearDown(self):
        os.makedirs(ARTEFACTS, exist_ok=True)
        for name in ("notifier", "printer", "dunst", "phonebindd-pc"):
            path = self.scene.tmp.join(f"{name}.log")
            if os.path.exists(path):
                shutil.copy(path, os.path.join(ARTEFACTS, f"{name}.log"))
        self.assertEqual(self.notifier.stop(), 0, self.notifier.log())
        self.assertEqual(self.printer.stop(), 0, self.printer.log())
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())

    def decide(self, expected, **phone):
        """Attaches a phone and waits for its decision; (syspath, object path)."""
        listener = self.scene.listener
        mark = listener.mark()
        syspath, path = self.scene.attach(**phone)
        decision = listener.wait_for(
            lambda e: e[0] == "Decision" and e[1] == path and listener.events.index(e) >= mark,
            timeout=10 * pbtest.slowdown(), what=f"the decision for {path}")
        self.assertEqual(decision[2:], expected)
        return syspath, path

    def test_what_a_person_sees(self):
        d, printed, listener = self.desktop, self.printer, self.scene.listener
        # a Decision forged by another program on the system bus: not from
        # the owner of org.phonebind1, so not shown (the next line printed
        # and the first notification are the real phone's)
        subprocess.run(["busctl", f"--address={self.scene.bus.address}", "emit",
                        "/org/phonebind1", "org.phonebind1.Manager", "Decision", "oss",
                        "/org/phonebind1/terminal/forged", "connect", "new-binding"],
                       check=True, timeout=10)
        # a new phone: bound to this PC
        pixel, _ = self.decide(("connect", "new-binding"), serial="R58M41NOTIFY1")
        printed.wait_lines(1, "line for the new phone")
        d.wait_displayed(1, "the new phone's notification")

        # a phone another PC holds: that PC's account claimed it first
        _, other = self.scene.registry.new_account()
        self.assertEqual(self.scene.registry.http().request(
            "PUT", "/v1/terminals/usb:04e8:R58M41OTHER2/binding", token=other)[0], 201)
        self.decide(("keep-existing", "bound-elsewhere"), serial="R58M41OTHER2", vendor="04e8",
                    product="6860", model="Galaxy S23", vendor_name="Samsung")
        printed.wait_lines(2, "line for the phone bound elsewhere")
        d.wait_displayed(2, "the bound-elsewhere notification")

        # the first phone again: known, quiet unless show-known (the printer's)
        self.scene.testbed.remove(pixel)
        self.decide(("connect", "known"), serial="R58M41NOTIFY1")
        printed.wait_lines(3, "line for the known phone (show-known)")

        # the registry down: a wait
        self.scene.registry.stop()
        _, waiting = self.decide(("pending", "registry-unreachable"), serial="R58M41WAIT03",
                                 model="Pixel 8")
        printed.wait_lines(4, "line for the registry down")
        # 3, not 4: the known phone's decision, which came first, showed nothing
        d.wait_displayed(3, "the registry-unreachable notification")

        # a phone that has not trusted this PC yet, whose model is markup
        mark = listener.mark()
        _, provisional = self.decide(("pending", "awaiting-trust"), serial="0123456789ABCDEF",
                                     vendor="05ac", product="12a8", model=EVIL,
                                     vendor_name="Apple Inc.")
        printed.wait_lines(5, "line for the phone awaiting trust")
        d.wait_displayed(4, "the awaiting-trust notification")
        time.sleep(0.3)  # dunst draws after it counts
        os.makedirs(ARTEFACTS, exist_ok=True)
        shot = os.path.join(ARTEFACTS, "notifications.png")
        d.screenshot(shot)
        self.assertGreater(os.path.getsize(shot), 1000)

        # the registry back: the wait's notification becomes the outcome
        self.scene.registry.start()
        self.assertEqual(listener.wait_decision(waiting, count=2)[2:], ("connect", "new-binding"))
        printed.wait_lines(6, "line for the registry back")
        pbtest.wait_until(lambda: f"{waiting}: connect/new-binding shown" in self.notifier.log(),
                          10 * pbtest.slowdown(), what="the outcome shown")
        self.assertEqual(d.count("displayed"), 4)

        # the phone trusts this PC: its wait is taken off the screen (the
        # provisional object is detached), and it is decided as itself
        open(self.trusted, "w").close()
        own = listener.wait_attached(after=mark + 1)
        self.assertEqual(listener.wait_decision(own)[2:], ("connect", "new-binding"))
        printed.wait_lines(7, "line for the phone that trusts this PC now")
        pbtest.wait_until(lambda: d.count("history") == 1, 10 * pbtest.slowdown(),
                          what="the awaiting-trust notification closed")
        d.wait_displayed(4, "the trusted phone's notification")

        d.dunstctl("close-all")
        shown = d.history()
        with open(os.path.join(ARTEFACTS, "history.json"), "w") as f:
            json.dump(shown, f, indent=2, ensure_ascii=False)
        new_binding = "It is bound to this PC now and connects here from now on."
        self.assertEqual([(e["summary"], e["body"]) for e in shown], [
            ("Pixel 7 connected to this PC", new_binding),
            ("Galaxy S23 belongs to another PC",
             "It stays bound to the PC it was bound to first and is not connected here. "
             "Release it there (phonebindctl forget) to use it on this PC."),
            # "Waiting for the registry", replaced on screen under its id
            ("Pixel 8 connected to this PC", new_binding),
            # the summary is plain text: as it is; the body escaped
            ("Unlock the phone and accept 'Trust this computer'",
             "&lt;b&gt;iPhone&lt;/b&gt; 15 &amp; Co has not trusted this PC yet, so it cannot "
             "be identified. (On Android, allow USB debugging.)"),
            (f"{EVIL} connected to this PC", new_binding),
        ])
        self.assertEqual([e["category"] for e in shown],
                         ["device.added", "device.error", "device.added", "device", "device.added"])
        self.assertEqual({e["appname"] for e in shown}, {"phonebind"})
        # dunst's own rendering: the model's markup is text, not bold
        self.assertIn("\n&lt;b&gt;iPhone&lt;/b&gt; 15 &amp; Co has", shown[3]["message"])
        self.assertIn("&lt;b&gt;iPhone&lt;/b&gt; 15 &amp; Co connected", shown[4]["message"])

        self.assertEqual(printed.lines, [
            "Pixel 7 connected to this PC: " + new_binding,
            "Galaxy S23 belongs to another PC: It stays bound to the PC it was bound to first "
            "and is not connected here. Release it there (phonebindctl forget) to use it on "
            "this PC.",
            "Pixel 7 connected to this PC: It was bound to this PC before.",
            "Waiting for the registry: Pixel 8 connects once the registry can be asked whether "
            "it belongs to another PC. phonebind keeps trying.",
            f"Unlock the phone and accept 'Trust this computer': {EVIL} has not trusted this "
            "PC yet, so it cannot be identified. (On Android, allow USB debugging.)",
            "Pixel 8 connected to this PC: " + new_binding,
            f"{EVIL} connected to this PC: " + new_binding,
        ])


if __name__ == "__main__":
    unittest.main()
