#!/usr/bin/python3
"""The HAProxy harness the scale tests and demo stand on
(tests/support/haproxy.py): requests are spread over both instances; an
instance SIGKILLed is out within a few health checks and every request goes to the
other; with both gone HAProxy itself answers 503 with Retry-After and a
JSON error; an instance started again on its port is back in.

Two registries on SQLite files of their own stand behind it here: what is
checked is the balancer, not shared storage (tests/scale/test_*_pg.py put
it in front of instances sharing PostgreSQL).

Faults tried: an instance killed (SIGKILL), every instance killed."""
import http.client
import signal
import os
import unittest

import haproxy
import pbtest


@unittest.skipIf(haproxy.available(), haproxy.available())
class HaProxyHarness(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        # one state directory each: the admin socket is a registry's own
        for i in range(2):
            os.makedirs(self.tmp.join(f"r{i}"))
        self.registries = [pbtest.Registry(self.tmp, database=self.tmp.join(f"r{i}", "r.db")).start()
                           for i in range(2)]
        self.lb = haproxy.HaProxy(self.tmp, [r.port for r in self.registries]).start()

    def tearDown(self):
        self.lb.stop()
        for registry in self.registries:
            registry.stop()
        self.tmp.cleanup()

    def owner_of(self, token):
        """Which live instance made the account: the other does not know
        the token."""
        known = [i for i, r in enumerate(self.registries)
                 if r.proc and r.http().request("GET", "/v1/terminals/usb:18d1:PROBE1", token=token)[0] == 200]
        self.assertEqual(len(known), 1, known)
        return known[0]

    def new_account(self):
        status, body, _ = self.lb.http().request("POST", "/v1/accounts")
        self.assertEqual(status, 201, body)
        return body["token"]

    def test_spread_kill_and_all_down(self):
        owners = [self.owner_of(self.new_account()) for _ in range(6)]
        self.assertEqual(sorted(owners), [0, 0, 0, 1, 1, 1], "round robin over both")

        self.registries[0].stop(signal.SIGKILL)
        self.lb.wait_states({"r1": "DOWN", "r2": "UP"}, timeout=3 * pbtest.slowdown())
        owners = [self.owner_of(self.new_account()) for _ in range(4)]
        self.assertEqual(owners, [1] * 4, "everything to the live instance")

        self.registries[1].stop(signal.SIGKILL)
        self.lb.wait_states({"r2": "DOWN"}, timeout=3 * pbtest.slowdown())
        for path in ("/healthz", "/v1/accounts"):
            status, body, _ = self.lb.http().request("GET" if path == "/healthz" else "POST",
                                                     path)
            self.assertEqual(status, 503, body)
            self.assertEqual(body["error"], "unavailable")
        conn = http.client.HTTPConnection("127.0.0.1", self.lb.port, timeout=5)
        conn.request("GET", "/healthz")
        answer = conn.getresponse()
        self.assertEqual(answer.getheader("Retry-After"), "1")
        conn.close()

        self.registries[0].start()
        self.lb.wait_states({"r1": "UP"}, timeout=5 * pbtest.slowdown())
        self.assertEqual(self.owner_of(self.new_account()), 0)


if __name__ == "__main__":
    unittest.main()
