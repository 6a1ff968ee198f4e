#!/usr/bin/python3
"""phonebindctl against the real phonebindd on a private bus, with a fake
phone (umockdev) and the real registry.

Faults tried: no daemon on the bus (exit 3 and a clear message), an
unknown and an ambiguous terminal (exit 4), a caller that is not
authorized (exit 5), usage errors (exit 2); and the happy paths: list,
info, status, forget, retry, monitor seeing a hot-plug, all with --json
parsed here.
"""
import json
import os
import subprocess
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402


def ctl(bus, *args, user=None, timeout=20):
    command = [pbtest.program("phonebindctl"), f"--address={bus.address}"] + list(args)
    if user:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + command
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env={"PATH": os.environ["PATH"]})
    return proc.returncode, proc.stdout, proc.stderr


class WithoutDaemon(unittest.TestCase):
    def test_not_running_and_usage(self):
        tmp = pbtest.TempDir()
        bus = pbtest.PrivateBus(tmp).start()
        try:
            code, out, err = ctl(bus, "list")
            self.assertEqual(code, 3)
            self.assertIn("phonebindd is not running", err)
            code, out, _ = ctl(bus, "--json", "status")
            self.assertEqual(code, 3)
            self.assertEqual(json.loads(out), {"running": False})
            self.assertEqual(ctl(bus, "frobnicate")[0], 2)
            self.assertEqual(ctl(bus, "info")[0], 2)
            code, out, _ = ctl(bus, "--help")
            self.assertEqual(code, 0)
            self.assertIn("Exit status", out)
        finally:
            bus.stop()
            tmp.cleanup()


class WithDaemon(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene()
        self.bus = self.scene.bus

    def tearDown(self):
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def test_list_info_status(self):
        _, path = self.scene.attach(serial="R58M41CTL01")
        self.scene.listener.wait_decision(path)
        handle = path.rsplit("/", 1)[1]
        code, out, _ = ctl(self.bus, "list")
        self.assertEqual(code, 0)
        self.assertIn(handle[:8], out)
        self.assertNotIn(handle, out, "tables shorten Ids")
        self.assertIn("connect", out)
        code, out, _ = ctl(self.bus, "--json", "list")
        terminals = json.loads(out)
        self.assertEqual(len(terminals), 1)
        self.assertEqual(terminals[0]["id"], handle)
        self.assertEqual(terminals[0]["decision"], "connect")
        self.assertEqual(terminals[0]["reason"], "new-binding")
        self.assertEqual(terminals[0]["serial"], "R58M41CTL01")
        code, out, _ = ctl(self.bus, "--json", "--redact", "info", handle[:5])
        self.assertEqual(code, 0)
        info = json.loads(out)
        self.assertEqual(info["serial"], "*******TL01")
        self.assertEqual(info["path"], path)
        code, out, _ = ctl(self.bus, "info", path)
        self.assertEqual(code, 0)
        self.assertIn("Decision: connect", out)
        code, out, _ = ctl(self.bus, "--json", "status")
        status = json.loads(out)
        self.assertTrue(status["running"])
        self.assertEqual(status["attached"], 1)
        self.assertEqual(status["registry"], self.scene.registry.url)
        self.assertTrue(status["account"].startswith("sa-"))
        self.assertEqual(ctl(self.bus, "info", "zzzz")[0], 4)

    def test_forget_retry_and_authorization(self):
        _, path = self.scene.attach(serial="R58M41CTL02")
        self.scene.listener.wait_decision(path)
        handle = path.rsplit("/", 1)[1]
        code, _, err = ctl(self.bus, "forget", handle, user=65534)
        self.assertEqual(code, 5, err)
        self.assertEqual(ctl(self.bus, "forget", handle)[0], 0)  # root
        self.assertEqual(self.scene.listener.wait_decision(path, count=2)[2:],
                         ("released", "forgotten"))
        self.assertEqual(ctl(self.bus, "retry", handle)[0], 0)
        self.assertEqual(self.scene.listener.wait_decision(path, count=3)[2:],
                         ("connect", "new-binding"))
        self.assertEqual(ctl(self.bus, "retry", "nosuch")[0], 4)

    def test_monitor_sees_hotplug(self):
        command = [pbtest.program("phonebindctl"), f"--address={self.bus.address}", "--json",
                   "monitor"]
        monitor = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)  # let it subscribe
            syspath, path = self.scene.attach(serial="R58M41CTL03")
            self.scene.listener.wait_decision(path)
            self.scene.testbed.remove(syspath)
            self.scene.listener.wait_for(lambda e: e[0] == "TerminalDetached", what="detach")
            time.sleep(0.3)
        finally:
            monitor.terminate()
            out, _ = monitor.communicate(5)
        events = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([e["event"] for e in events],
                         ["TerminalAttached", "Decision", "TerminalDetached"])
        self.assertEqual(events[1]["decision"], "connect")
        self.assertEqual(events[1]["reason"], "new-binding")
        self.assertEqual(events[0]["id"], path.rsplit("/", 1)[1])


if __name__ == "__main__":
    unittest.main()
