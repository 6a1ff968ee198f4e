#!/usr/bin/python3
"""A database of schema version 1 (fixtures/registry-v1.sql) under this
registry.

Faults tried: an upgrade that loses or reassigns a binding (every binding
must answer as before, to its owner and to others), an upgrade that does
not adopt the key it was made with (the check value must be stored), and
a version 1 database with bindings whose key file is missing (refused:
there is no check value yet, but the bindings were made with some key).
"""
import os
import sqlite3
import unittest

import pbtest
import regsupport

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "registry-v1.sql")
KEY = bytes(range(0x40, 0x60))
ALICE = "a1" * 32
BOB = "b0" * 32
OWNERS = {"usb:18d1:R58M41V1ONE": ALICE, "imei:490154203237518": ALICE,
          "usb:04e8:RF8N20V1BOB": BOB}


class RegistryMigration(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.database = self.tmp.join("registry.db")
        db = sqlite3.connect(self.database)
        with open(FIXTURE) as f:
            db.executescript(f.read())
        db.close()

    def tearDown(self):
        self.tmp.cleanup()

    def test_every_binding_answers_as_before(self):
        regsupport.write_key(self.tmp.join("terminal-id.key"), KEY)
        registry = pbtest.Registry(self.tmp).start()
        http = registry.http()
        try:
            for terminal, owner in OWNERS.items():
                other = BOB if owner == ALICE else ALICE
                path = f"/v1/terminals/{terminal}"
                self.assertEqual(http.request("GET", path, token=owner)[1]["status"],
                                 "bound-to-you", terminal)
                self.assertEqual(http.request("GET", path, token=other)[1]["status"],
                                 "bound-to-other", terminal)
                self.assertEqual(http.request("PUT", path + "/binding", token=other)[0], 409)
                self.assertEqual(http.request("PUT", path + "/binding", token=owner)[0], 200)
                self.assertEqual(http.request("DELETE", path + "/binding", token=other)[0], 403)
        finally:
            self.assertEqual(registry.stop(), 0)
        self.assertEqual(regsupport.stored_key_check(self.database),
                         regsupport.key_check_value(KEY))
        db = sqlite3.connect(self.database)
        try:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 2)
            # times are milliseconds from version 2 on
            self.assertEqual(db.execute("SELECT min(created_at) FROM accounts").fetchone()[0],
                             1700000000000)
        finally:
            db.close()

    def test_without_its_key_refused(self):
        key = self.tmp.join("terminal-id.key")
        code, output = regsupport.run_to_exit(self.tmp, [], database=self.database)
        self.assertEqual(code, 1, output)
        self.assertIn(key, output)
        self.assertFalse(os.path.exists(key))


if __name__ == "__main__":
    unittest.main()
