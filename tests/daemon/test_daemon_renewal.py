#!/usr/bin/python3
"""binding-ttl end to end: a registry whose bindings lapse after three
seconds, phonebindd renewing the bindings of attached phones.

Faults tried: a daemon that does not learn the TTL (/v1/info) or does not
renew (another client's claim would win after three seconds while the
phone is still attached and connected), renewals that wake once per phone
rather than once for all (counted in the debug log), and a phone unplugged
whose binding is renewed all the same (it must lapse and be taken).
"""
import re
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402

TTL = 3


class Renewal(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        self.scene.registry.stop()
        self.scene.registry.extra_args = ["--binding-ttl", f"{TTL}s"]
        self.scene.registry.start()
        self.scene.daemon.start()
        _, self.other = self.scene.registry.new_account()
        self.http = self.scene.registry.http()

    def tearDown(self):
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def claim_by_other(self, serial):
        return self.http.request("PUT", f"/v1/terminals/usb:18d1:{serial}/binding",
                                 token=self.other)[0]

    def test_attached_phones_stay_bound_and_unplugged_lapse(self):
        serials = [f"R58M41RENEW{n}" for n in range(3)]
        syspaths = {}
        for serial in serials:  # attached at different times
            syspaths[serial], path = self.scene.attach(serial=serial)
            self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                             ("connect", "new-binding"))
            time.sleep(0.4)
        self.assertIn(f"bindings lapse {TTL} s after", self.scene.daemon.read_log())
        started = time.monotonic()
        while time.monotonic() - started < 2.5 * TTL:  # well past the TTL
            for serial in serials:
                self.assertEqual(self.claim_by_other(serial), 409, serial)
            time.sleep(0.5)
        log = self.scene.daemon.read_log()
        wakes = re.findall(r"renewing (\d+) binding", log)
        # every second (a third of the TTL) for three phones: at most two
        # wake-ups per interval for all of them, not three; one wake-up
        # renews all three
        self.assertGreaterEqual(len(wakes), 5, log)
        self.assertIn("3", wakes, log)
        self.assertLessEqual(len(wakes), 2 * (2.5 * TTL / (TTL / 3)) + 3, log)
        self.assertEqual(len(self.scene.listener.decisions()), 3, "renewals announce nothing")

        self.scene.testbed.remove(syspaths[serials[0]])
        time.sleep(TTL + 1.5)
        status, body, _ = self.http.request("GET", f"/v1/terminals/usb:18d1:{serials[0]}",
                                            token=self.other)
        self.assertEqual(body["status"], "unbound")
        self.assertEqual(self.claim_by_other(serials[0]), 201)  # lapsed: taken over
        for serial in serials[1:]:
            self.assertEqual(self.claim_by_other(serial), 409, serial)


if __name__ == "__main__":
    unittest.main()
