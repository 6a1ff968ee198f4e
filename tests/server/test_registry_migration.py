#!/usr/bin/python3
"""Databases of earlier schemas under this registry: version 1
(fixtures/registry-v1.sql) and the previous one, version 2
(fixtures/registry-v2.sql, below).

Faults tried: an upgrade that loses or reassigns a binding (every binding
must answer as before, to its owner and to others), an upgrade that does
not adopt the key it was made with (the check value must be stored), and
a version 1 database with bindings whose key file is missing (refused:
there is no check value yet, but the bindings were made with some key).
"""
import os
import sqlite3
import time
import unittest

import pbtest
import regsupport

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "registry-v1.sql")
KEY = bytes(range(0x40, 0x60))
ALICE = "a1" * 32
BOB = "b0" * 32
OWNERS = {"usb:18d1:R58M41V1ONE": ALICE, "imei:490154203237518": ALICE,
          "usb:04e8:RF8N20V1BOB": BOB}


def answers_as_before(test, http, terminal, owner, other):
    """The terminal is owner's to owner and another's to other, whose
    claim is refused; returns its path."""
    path = f"/v1/terminals/{terminal}"
    test.assertEqual(http.request("GET", path, token=owner)[1]["status"], "bound-to-you", terminal)
    test.assertEqual(http.request("GET", path, token=other)[1]["status"], "bound-to-other",
                     terminal)
    test.assertEqual(http.request("PUT", path + "/binding", token=other)[0], 409)
    return path


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
                path = answers_as_before(self, http, terminal, owner, other)
                self.assertEqual(http.request("PUT", path + "/binding", token=owner)[0], 200)
                self.assertEqual(http.request("DELETE", path + "/binding", token=other)[0], 403)
        finally:
            self.assertEqual(registry.stop(), 0)
        self.assertEqual(regsupport.stored_key_check(self.database),
                         regsupport.key_check_value(KEY))
        db = sqlite3.connect(self.database)
        try:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 3)
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


FIXTURE_V2 = os.path.join(os.path.dirname(FIXTURE), "registry-v2.sql")
V2_ALICE, V2_BOB = "a2" * 32, "b2" * 32
V2_OWNERS = {"usb:18d1:R58M41V2ONE": (V2_ALICE, 1764000000000001),
             "imei:490154203237518": (V2_ALICE, 0),
             "usb:04e8:RF8N20V2BOB": (V2_BOB, 1764000000000777)}
V2_GONE = ("usb:18d1:R58M41V2GONE", 1764000000000500)  # alice's tombstone


class RegistryMigrationV2(unittest.TestCase):
    """The previous schema (version 2, before revocation) under this
    registry. Faults tried: a binding lost or reassigned, a sequence or a
    tombstone lost (a late request of its account must still be stale),
    accounts that read as revoked after the new column, a key check value
    not carried over (another key must be refused)."""

    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.database = self.tmp.join("registry.db")
        db = sqlite3.connect(self.database)
        with open(FIXTURE_V2) as f:
            db.executescript(f.read())
        # the tombstone as if released just now: older than a week it is purged at start
        db.execute("UPDATE tombstones SET released_at = ?", (int(time.time() * 1000),))
        db.commit()
        db.close()

    def tearDown(self):
        self.tmp.cleanup()

    def test_every_binding_and_fence_answers_as_before(self):
        regsupport.write_key(self.tmp.join("terminal-id.key"), KEY)
        registry = pbtest.Registry(self.tmp).start()
        http = registry.http()
        try:
            for terminal, (owner, seq) in V2_OWNERS.items():
                other = V2_BOB if owner == V2_ALICE else V2_ALICE
                path = answers_as_before(self, http, terminal, owner, other)
                if seq:  # the binding's sequence still fences its owner
                    status, body, _ = http.request("PUT", path + "/binding", token=owner,
                                                   headers={"Phonebind-Seq": str(seq - 1)})
                    self.assertEqual((status, body["seq"]), (409, seq), terminal)
                self.assertEqual(http.request("PUT", path + "/binding", token=owner,
                                              headers={"Phonebind-Seq": str(seq + 1)})[0], 200)
            terminal, seq = V2_GONE
            status, body, _ = http.request("PUT", f"/v1/terminals/{terminal}/binding",
                                           token=V2_ALICE,
                                           headers={"Phonebind-Seq": str(seq - 1)})
            self.assertEqual((status, body["error"], body["seq"]), (409, "stale", seq))
        finally:
            self.assertEqual(registry.stop(), 0)
        db = sqlite3.connect(self.database)
        try:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 3)
            self.assertEqual(db.execute(
                "SELECT count(*) FROM accounts WHERE revoked_at IS NULL").fetchone()[0], 2)
        finally:
            db.close()

    def test_another_key_refused(self):
        regsupport.write_key(self.tmp.join("terminal-id.key"), bytes(32))
        code, output = regsupport.run_to_exit(self.tmp, [], database=self.database)
        self.assertEqual(code, 1, output)
        self.assertIn("does not match", output)


if __name__ == "__main__":
    unittest.main()
