#!/usr/bin/python3
"""An upgrade of phonebindd over the store its previous version wrote
(schema 1, fixtures/store-v1-pc.sql), with that version's store key and
shadow account in the state directory.

Faults tried: a migration that loses a record or its times (each phone
the old store knew must be connect/known at once, with its FirstSeen as
recorded), one that leaves the store unwritable or at the old version (a
new phone's binding must be recorded and known after a restart; the
version must be 2), and one that would trust the old record over the
registry (a phone the registry gave to another client meanwhile is
connect/known, then keep-existing/revoked, as before the upgrade).
"""
import os
import sqlite3
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "store-v1-pc.sql")
KEY = bytes([1, 2, 3]) + bytes(29)
OURS = {"R58M41UPGONE": ("18d1", 1700000000), "RF8N20UPGTWO": ("04e8", 1700000100)}
TAKEN = "R58M41UPGOLD"  # in the old store, but another client's on the registry now


def write_secret(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class StoreUpgrade(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        account, token = self.scene.registry.new_account()
        _, other = self.scene.registry.new_account()
        http = self.scene.registry.http()
        for serial, (vendor, _) in OURS.items():
            self.assertEqual(http.request("PUT", f"/v1/terminals/usb:{vendor}:{serial}/binding",
                                          token=token)[0], 201)
        self.assertEqual(http.request("PUT", f"/v1/terminals/usb:18d1:{TAKEN}/binding",
                                      token=other)[0], 201)
        state = self.scene.daemon.state_dir
        os.mkdir(state, 0o700)
        write_secret(os.path.join(state, "account"), f"{account} {token}\n".encode())
        write_secret(os.path.join(state, "store.key"), KEY)
        self.store = os.path.join(state, "store.db")
        db = sqlite3.connect(self.store)
        with open(FIXTURE) as f:
            db.executescript(f.read())
        db.close()
        self.account = account

    def tearDown(self):
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def first_seen(self, path):
        return int(self.scene.listener.properties(path)["FirstSeen"])

    def test_every_record_answers_as_before(self):
        self.scene.daemon.start()
        listener = self.scene.listener
        for serial, (vendor, first_seen) in OURS.items():
            _, path = self.scene.attach(serial=serial, vendor=vendor)
            self.assertEqual(listener.wait_decision(path)[2:], ("connect", "known"), serial)
            self.assertEqual(self.first_seen(path), first_seen, serial)
        _, taken = self.scene.attach(serial=TAKEN)
        self.assertEqual(listener.wait_decision(taken)[2:], ("connect", "known"))
        self.assertEqual(listener.wait_decision(taken, count=2)[2:],
                         ("keep-existing", "revoked"))
        _, new = self.scene.attach(serial="R58M41UPGNEW")
        self.assertEqual(listener.wait_decision(new)[2:], ("connect", "new-binding"))
        log = self.scene.daemon.read_log()
        self.assertIn(f"account {self.account}", log)  # the old shadow account, kept
        self.assertNotIn("degraded", log)
        self.assertEqual(self.scene.daemon.stop(), 0, log)

        db = sqlite3.connect(self.store)
        try:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 2)
            self.assertEqual(db.execute("SELECT count(*) FROM terminals").fetchone()[0], 3)
            db.execute("SELECT count(*) FROM releases").fetchone()
        finally:
            db.close()

        # the migrated store keeps what it records: known after a restart
        self.scene.testbed.reset()
        before = len(listener.decisions(new))
        self.scene.daemon.start()
        _, again = self.scene.attach(serial="R58M41UPGNEW")
        self.assertEqual(again, new)  # the same handle: the same store key
        self.assertEqual(listener.wait_decision(new, count=before + 1)[2:], ("connect", "known"))

if __name__ == "__main__":
    unittest.main()
