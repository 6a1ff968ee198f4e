#!/usr/bin/python3
"""The registry's terminal-id key and the database's check value of it.

Faults tried: a restore of the database alone (the key file missing: a new
key would silently unbind every phone), a key that is not the database's,
a key file others may read or its group may write, a key in another place
(--key-file, key-file =), and a first start killed right after it wrote the
key (the directory must be fsynced after the rename, or the key may vanish
while the database that trusts it stays).
"""
import os
import re
import shutil
import signal
import subprocess
import unittest

import pbtest
import regsupport

TERMINAL = "/v1/terminals/usb:18d1:R58M41KEYTEST"


class RegistryKey(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.key = self.tmp.join("terminal-id.key")

    def tearDown(self):
        self.tmp.cleanup()

    def bind_one(self, extra_args=()):
        """A registry with one binding, stopped again; the owner's token."""
        registry = pbtest.Registry(self.tmp, extra_args=extra_args).start()
        _, token = registry.new_account()
        self.assertEqual(registry.http().request("PUT", TERMINAL + "/binding", token=token)[0],
                         201)
        self.assertEqual(registry.stop(), 0)
        return token

    def assert_refused(self, args, *phrases):
        code, output = regsupport.run_to_exit(self.tmp, args)
        self.assertEqual(code, 1, output)
        for phrase in phrases:
            self.assertIn(phrase, output)
        return output

    def test_fresh_start_creates_key_and_check_value(self):
        self.bind_one()
        self.assertEqual(os.stat(self.key).st_mode & 0o777, 0o600)
        with open(self.key, "rb") as f:
            key = f.read()
        self.assertEqual(len(key), 32)
        self.assertEqual(regsupport.stored_key_check(self.tmp.join("registry.db")),
                         regsupport.key_check_value(key))

    def test_database_restored_without_its_key_refuses_to_start(self):
        """Fault: only registry.db restored. Before the check value the
        registry made a new key, and the owner's phone read as unbound to
        everyone (B's claim 201)."""
        token = self.bind_one()
        shutil.move(self.key, self.tmp.join("saved.key"))
        self.assert_refused([], self.key)
        self.assertFalse(os.path.exists(self.key), "no key may be made for this database")
        shutil.move(self.tmp.join("saved.key"), self.key)
        registry = pbtest.Registry(self.tmp).start()
        try:
            self.assertEqual(registry.http().request("GET", TERMINAL, token=token)[1]["status"],
                             "bound-to-you")
        finally:
            self.assertEqual(registry.stop(), 0)

    def test_key_that_does_not_match_refuses_to_start(self):
        self.bind_one()
        regsupport.write_key(self.key, os.urandom(32))
        output = self.assert_refused([], self.key)
        self.assertIn("does not match", output)

    def test_key_file_option_and_setting(self):
        elsewhere = self.tmp.join("keys")
        os.mkdir(elsewhere, 0o700)
        key = os.path.join(elsewhere, "custom.key")
        token = self.bind_one(["--key-file", key])
        self.assertTrue(os.path.exists(key))
        self.assertFalse(os.path.exists(self.key))
        config = self.tmp.join("registry.conf")
        with open(config, "w") as f:
            f.write(f"[registry]\nkey-file = {key}\n")
        registry = pbtest.Registry(self.tmp, extra_args=["--config", config]).start()
        try:
            self.assertEqual(registry.http().request("GET", TERMINAL, token=token)[1]["status"],
                             "bound-to-you")
        finally:
            self.assertEqual(registry.stop(), 0)
        self.assertFalse(os.path.exists(self.key))
        # without it the default place is used, which has no key: refused
        self.assert_refused([], self.key)

    def test_key_file_mode(self):
        """Fault: a key others may read (anyone could then link hashed
        identifiers to phones) or its group may change."""
        self.bind_one()
        for mode in (0o644, 0o604, 0o602, 0o620, 0o660):
            os.chmod(self.key, mode)
            output = self.assert_refused([], self.key, "chmod")
            self.assertIn(f"{mode:04o}", output)
        for mode in (0o600, 0o400, 0o640, 0o440):
            os.chmod(self.key, mode)
            registry = pbtest.Registry(self.tmp).start()
            self.assertEqual(registry.stop(), 0)

    def test_key_of_wrong_size_refused(self):
        self.bind_one()
        regsupport.write_key(self.key, b"short")
        self.assert_refused([], self.key)

    def test_key_written_durably(self):
        """The first start writes the key to a temporary file, fsyncs it,
        renames it into place and then fsyncs the directory: without that
        last step a crash can lose the rename, and with it the key."""
        if shutil.which("strace") is None:
            self.skipTest("strace is not installed")
        probe = subprocess.run(["strace", "-f", "-o", "/dev/null", "true"], capture_output=True)
        if probe.returncode != 0:
            self.skipTest("strace cannot trace here: " + probe.stderr.decode(errors="replace"))
        trace = self.tmp.join("strace.txt")
        # LeakSanitizer cannot run under ptrace: without it in an ASan build
        asan = os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        wrapper = ["env", f"ASAN_OPTIONS={asan}", "strace", "-f", "-y", "-o", trace, "-e",
                   "trace=rename,renameat,renameat2,link,linkat,fsync,fdatasync"]
        registry = pbtest.Registry(self.tmp, wrapper=wrapper).start(timeout=30)
        # SIGTERM to strace would only detach it: stop the registry itself
        with open(f"/proc/{registry.proc.pid}/task/{registry.proc.pid}/children") as f:
            child = int(f.read().split()[0])
        os.kill(child, signal.SIGTERM)
        self.assertEqual(registry.stop(), 0)
        with open(trace) as f:
            calls = f.readlines()
        directory = os.path.realpath(self.tmp.path)
        key = os.path.join(directory, "terminal-id.key")
        steps = []  # (thread, step) in the order strace saw them
        for line in calls:
            thread = line.split()[0]
            if re.search(r"\b(rename|renameat2?|link|linkat)\(", line) and f'"{key}"' in line:
                steps.append((thread, "rename"))
            elif re.search(r"\bf(data)?sync\(\d+<" + re.escape(key) + r"\.tmp", line):
                steps.append((thread, "fsync-file"))
            elif re.search(r"\bf(data)?sync\(\d+<" + re.escape(directory) + r">\)", line):
                steps.append((thread, "fsync-dir"))
            elif re.search(r"\bf(data)?sync\(", line):
                steps.append((thread, "fsync-other"))
        self.assertIn("rename", [step for _, step in steps], "".join(calls))
        first = [step for _, step in steps].index("rename")
        thread = steps[first][0]
        mine = [step for t, step in steps if t == thread]
        at = mine.index("rename")
        self.assertEqual(mine[at - 1], "fsync-file", steps)
        # the directory's fsync comes next, not some later write's (SQLite
        # fsyncs the directory too when it creates its files)
        self.assertEqual(mine[at + 1:at + 2], ["fsync-dir"], steps)

if __name__ == "__main__":
    unittest.main()
