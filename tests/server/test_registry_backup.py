#!/usr/bin/python3
"""phonebind-registry admin backup on SQLite, and a restore.

A backup is taken while claims keep arriving; it is restored into a
fresh state directory with the registry's key, and every binding the
backup holds answers as before (to its owner and to others), with the
tokens of the time. Restored with another key it is refused (the check
value in the backup), and restored without one too.

Faults tried: a backup that is not a consistent database (integrity
check), that misses bindings committed before it began, that overwrites
a file, that a running registry cannot make (the file is the registry's
alone); a restore that a wrong key is accepted for.
"""
import os
import shutil
import sqlite3
import subprocess
import threading
import unittest

import pbtest
import regsupport


def phone(n):
    return f"/v1/terminals/usb:18d1:R58M41BAK{n:04d}"


class Backup(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        os.mkdir(self.tmp.join("live"))
        self.registry = pbtest.Registry(self.tmp, database=self.tmp.join("live", "registry.db"))
        self.registry.start()
        self.http = self.registry.http()

    def tearDown(self):
        if self.registry.proc:
            self.assertEqual(self.registry.stop(), 0, self.registry.read_log())
        self.tmp.cleanup()

    def admin(self, *words):
        proc = subprocess.run([pbtest.program("phonebind-registry"), "admin", *words,
                               "--database", self.registry.database],
                              capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stdout + proc.stderr

    def test_backup_while_serving_and_restore(self):
        owners = {}
        accounts = [self.registry.new_account()[1] for _ in range(3)]
        for n in range(60):
            token = accounts[n % 3]
            self.assertEqual(self.http.request("PUT", phone(n) + "/binding", token=token)[0], 201)
            owners[n] = token
        stop = threading.Event()
        later = []

        def keep_claiming():  # claims go on during the backup
            http, n = self.registry.http(), 1000
            while not stop.is_set():
                if http.request("PUT", phone(n) + "/binding", token=accounts[0])[0] == 201:
                    later.append(n)
                n += 1
        thread = threading.Thread(target=keep_claiming)
        thread.start()
        try:
            backup = self.tmp.join("registry-backup.db")
            code, output = self.admin("backup", backup)
        finally:
            stop.set()
            thread.join()
        self.assertEqual(code, 0, output)
        self.assertIn('"backup":"%s"' % backup, output)
        self.assertGreater(len(later), 0)
        self.assertEqual(self.admin("backup", backup)[0], 5)  # never over a file

        db = sqlite3.connect(backup)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            rows = db.execute("SELECT count(*) FROM bindings").fetchone()[0]
        finally:
            db.close()
        self.assertGreaterEqual(rows, 60)
        self.assertLessEqual(rows, 60 + len(later))

        # restore: a fresh directory, the backup as its database, the key
        os.mkdir(self.tmp.join("restored"))
        database = self.tmp.join("restored", "registry.db")
        shutil.copy(backup, database)
        shutil.copy(self.tmp.join("live", "terminal-id.key"), self.tmp.join("restored"))
        self.assertEqual(self.registry.stop(), 0)
        restored = pbtest.Registry(self.tmp, database=database).start()
        try:
            http = restored.http()
            for n, owner in owners.items():
                other = accounts[(accounts.index(owner) + 1) % 3]
                self.assertEqual(http.request("GET", phone(n), token=owner)[1]["status"],
                                 "bound-to-you", n)
                self.assertEqual(http.request("GET", phone(n), token=other)[1]["status"],
                                 "bound-to-other", n)
                self.assertEqual(http.request("PUT", phone(n) + "/binding", token=other)[0], 409)
        finally:
            self.assertEqual(restored.stop(), 0, restored.read_log())

    def test_restore_with_another_key_refused(self):
        _, token = self.registry.new_account()
        self.assertEqual(self.http.request("PUT", phone(1) + "/binding", token=token)[0], 201)
        backup = self.tmp.join("b.db")
        self.assertEqual(self.admin("backup", backup)[0], 0)
        os.mkdir(self.tmp.join("wrong"))
        database = self.tmp.join("wrong", "registry.db")
        shutil.copy(backup, database)
        key = self.tmp.join("wrong", "terminal-id.key")
        regsupport.write_key(key, os.urandom(32))
        code, output = regsupport.run_to_exit(self.tmp, [], database=database)
        self.assertEqual(code, 1, output)
        self.assertIn(key, output)
        self.assertIn("does not match", output)
        os.unlink(key)  # and with no key at all: refused, none made
        code, output = regsupport.run_to_exit(self.tmp, [], database=database)
        self.assertEqual(code, 1, output)
        self.assertFalse(os.path.exists(key))


if __name__ == "__main__":
    unittest.main()
