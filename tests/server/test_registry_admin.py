#!/usr/bin/python3
"""phonebind-registry admin on SQLite: every command with its JSON and
exit status, while the registry serves (the command goes to it over its
admin socket) and while it is stopped (the command opens the database).

Faults tried: a command that misses or misreports a binding (show, stats
against what HTTP says), a release or a move that leaves the binding
where it was, a revocation that a cached token outlives (the next request
after the command must be 401, on every thread), a named account whose
token does not work or whose name can be taken twice, an admin action
missing from the log or logging a raw identifier, a command on a mistyped
database path that creates one, a wrong key accepted, usage errors that
exit 0.
"""
import json
import os
import stat
import subprocess
import time
import unittest

import pbtest
import regsupport

SERIALS = ["R58M41ADMONE", "R58M41ADMTWO", "R58M41ADMTHREE"]
IMEI = "imei:490154203237518"


def terminal(serial):
    return serial if serial.startswith("imei:") else f"usb:18d1:{serial}"


class Admin(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.registry = pbtest.Registry(self.tmp, extra_args=["--threads", "2"]).start()
        self.http = self.registry.http()
        self.a_id, self.a = self.registry.new_account()
        self.b_id, self.b = self.registry.new_account()

    def tearDown(self):
        if self.registry.proc:
            self.assertEqual(self.registry.stop(), 0, self.registry.read_log())
        self.tmp.cleanup()

    def admin(self, *words, database=None):
        proc = subprocess.run(
            [pbtest.program("phonebind-registry"), "admin", *words, "--database",
             database or self.registry.database],
            capture_output=True, text=True, timeout=30)
        lines = proc.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, (proc.stdout, proc.stderr))
        return proc.returncode, json.loads(lines[0]), proc.stderr

    def claim(self, serial, token):
        return self.http.request("PUT", f"/v1/terminals/{terminal(serial)}/binding",
                                 token=token)[0]

    def status(self, serial, token):
        return self.http.request("GET", f"/v1/terminals/{terminal(serial)}", token=token)

    def test_show_release_stats(self):
        self.assertEqual(self.claim(SERIALS[0], self.a), 201)
        self.assertEqual(self.claim(IMEI, self.b), 201)
        before = int(time.time())
        code, out, _ = self.admin("show", terminal(SERIALS[0]))
        self.assertEqual(code, 0)
        self.assertEqual(set(out), {"terminal", "owner", "created", "renewed"})
        self.assertEqual((out["terminal"], out["owner"]), (terminal(SERIALS[0]), self.a_id))
        self.assertLessEqual(abs(out["created"] - before), 5)
        self.assertGreaterEqual(out["renewed"], out["created"])
        self.assertEqual(self.admin("show", IMEI)[1]["owner"], self.b_id)
        code, out, _ = self.admin("show", terminal(SERIALS[1]))
        self.assertEqual((code, out["error"]), (4, "not-bound"))
        self.assertEqual(self.admin("stats"), (0, {"bindings": 2, "accounts": 2}, ""))

        code, out, _ = self.admin("release", IMEI)
        self.assertEqual((code, out["owner"], out["released"]), (0, self.b_id, True))
        self.assertEqual(self.status(IMEI, self.b)[1]["status"], "unbound")
        self.assertEqual(self.admin("release", IMEI)[0], 4)
        self.assertEqual(self.admin("stats")[1]["bindings"], 1)
        self.assertEqual(self.claim(IMEI, self.a), 201)  # free for anyone now

        log = self.registry.read_log()
        self.assertRegex(log, r"admin: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: uid 0 \(root\)")
        self.assertRegex(log, r"ran release terminal [0-9a-f]{16}: released \(it was ")
        self.assertNotIn("490154203237518", log)  # never the IMEI
        self.assertNotIn(SERIALS[0], log)

    def test_revocation_refuses_the_next_request(self):
        self.assertEqual(self.claim(SERIALS[0], self.a), 201)
        for _ in range(8):  # its token cached on both threads
            self.assertEqual(self.status(SERIALS[0], self.a)[0], 200)
        started = time.monotonic()
        code, out, _ = self.admin("revoke", self.a_id)
        self.assertEqual((code, out), (0, {"account": self.a_id, "revoked": True}))
        for _ in range(8):
            self.assertEqual(self.status(SERIALS[0], self.a)[0], 401)
        self.assertLess(time.monotonic() - started, 2.0)
        self.assertEqual(self.status(SERIALS[0], self.b)[1]["status"], "bound-to-other")
        self.assertEqual(self.admin("revoke", self.a_id)[0], 0)  # again: still revoked
        self.assertEqual(self.admin("revoke", "sa-nosuchaccount")[0], 4)
        self.assertEqual(self.admin("stats")[1]["accounts"], 1)
        # a revoked account's binding stays until released
        self.assertEqual(self.admin("show", terminal(SERIALS[0]))[1]["owner"], self.a_id)
        self.assertEqual(self.admin("release", terminal(SERIALS[0]))[0], 0)

    def test_create_account(self):
        code, out, _ = self.admin("create-account", "alice@example.org")
        self.assertEqual(code, 0)
        self.assertEqual(out["account"], "alice@example.org")
        self.assertRegex(out["token"], r"^[0-9a-f]{64}$")
        self.assertEqual(self.claim(SERIALS[0], out["token"]), 201)
        self.assertEqual(self.admin("show", terminal(SERIALS[0]))[1]["owner"], "alice@example.org")
        self.assertEqual(self.admin("create-account", "alice@example.org")[0], 5)
        for bad in ("sa-mine", "two words", "", "x" * 64, "é"):
            self.assertEqual(self.admin("create-account", bad)[0], 2, bad)
        self.assertNotIn(out["token"], self.registry.read_log())

    def test_move_bindings(self):
        for serial in SERIALS[:2]:
            self.assertEqual(self.claim(serial, self.a), 201)
        self.assertEqual(self.claim(SERIALS[2], self.b), 201)
        _, alice, _ = self.admin("create-account", "alice")
        code, out, _ = self.admin("move-bindings", self.a_id, "alice")
        self.assertEqual((code, out), (0, {"from": self.a_id, "to": "alice", "moved": 2}))
        for serial in SERIALS[:2]:
            self.assertEqual(self.status(serial, alice["token"])[1]["status"], "bound-to-you")
            self.assertEqual(self.status(serial, self.a)[1]["status"], "bound-to-other")
            # alice's PC renews them with sequences of its own
            self.assertEqual(self.http.request(
                "PUT", f"/v1/terminals/{terminal(serial)}/binding", token=alice["token"],
                headers={"Phonebind-Seq": "5"})[0], 200)
        self.assertEqual(self.status(SERIALS[2], self.b)[1]["status"], "bound-to-you")
        self.assertEqual(self.admin("move-bindings", "nobody", "alice")[0], 4)
        self.assertEqual(self.admin("move-bindings", "alice", "alice")[0], 2)
        self.admin("revoke", self.b_id)
        self.assertEqual(self.admin("move-bindings", "alice", self.b_id)[0], 4)  # revoked

    def test_usage(self):
        proc = subprocess.run([pbtest.program("phonebind-registry"), "admin", "--database",
                               self.registry.database], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(self.admin("frobnicate")[0], 2)
        self.assertEqual(self.admin("show")[0], 2)
        self.assertEqual(self.admin("show", "a", "b")[0], 2)
        self.assertEqual(self.admin("show", "usb:18d1:" + "X" * 300)[0], 2)
        self.assertEqual(self.admin("release", "usb:18d1:A\nB")[0], 2)
        self.assertEqual(self.admin("stats", "extra")[0], 2)
        proc = subprocess.run([pbtest.program("phonebind-registry"), "frobnicate"],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)

    def test_new_key(self):
        path = self.tmp.join("deployment.key")
        self.assertEqual(self.admin("new-key", path), (0, {"key_file": path}, ""))
        st = os.stat(path)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_size), (0o600, 32))
        with open(path, "rb") as f:
            key = f.read()
        self.assertEqual(self.admin("new-key", path)[0], 5)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), key, "never replaced")

    def test_while_stopped(self):
        self.assertEqual(self.claim(SERIALS[0], self.a), 201)
        self.assertEqual(self.registry.stop(), 0)
        self.assertFalse(os.path.exists(self.registry.database + "-admin.sock"))
        code, out, err = self.admin("show", terminal(SERIALS[0]))
        self.assertEqual((code, out["owner"]), (0, self.a_id))
        self.assertRegex(err, r"admin: [0-9T:Z-]+: uid 0 \(root\) ran show terminal [0-9a-f]{16}")
        self.assertEqual(self.admin("revoke", self.a_id)[0], 0)
        self.assertEqual(self.admin("stats")[1], {"bindings": 1, "accounts": 1})
        # a mistyped path: no database, no key made there
        missing = self.tmp.join("elsewhere", "registry.db")
        os.mkdir(os.path.dirname(missing))
        self.assertEqual(self.admin("stats", database=missing)[0], 1)
        self.assertEqual(os.listdir(os.path.dirname(missing)), [])
        # another key than the database's
        os.rename(self.tmp.join("terminal-id.key"), self.tmp.join("kept.key"))
        regsupport.write_key(self.tmp.join("terminal-id.key"), bytes(32))
        code, _, err = self.admin("show", terminal(SERIALS[0]))
        self.assertEqual(code, 1)
        self.assertIn("does not match", err)
        os.rename(self.tmp.join("kept.key"), self.tmp.join("terminal-id.key"))
        self.registry.start()  # and the revocation held
        self.assertEqual(self.status(SERIALS[0], self.a)[0], 401)


if __name__ == "__main__":
    unittest.main()
