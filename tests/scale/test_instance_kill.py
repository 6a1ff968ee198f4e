#!/usr/bin/python3
"""SIGKILL of one registry instance mid-load loses nothing: two instances
on one PostgreSQL database and one key, HAProxy in front; eight clients
claim 150 each of 600 terminals (about two clients race for each), through
instance 1, instance 2 and HAProxy in turn. Instance 1 is SIGKILLed once a
third of the claims are answered. Afterwards, through the survivor, every
claim answered 201 (by either instance, before or after the kill) is bound
to the account it was answered to, every claim answered 409 is bound to
someone else, and no terminal was answered 201 twice.

Fault tried: a registry instance SIGKILLed with claims in flight."""
import random
import signal
import sys
import unittest

import claimload
import haproxy
import pbtest
import pgcluster

WORKERS = 8
TERMINALS = [f"usb:18d1:KILL{n:04d}" for n in range(600)]
PER_WORKER = 150  # each wants a quarter of them: about two clients per terminal


@unittest.skipIf(pgcluster.available() or haproxy.available(),
                 pgcluster.available() or haproxy.available())
class InstanceKill(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.cluster = pgcluster.PgCluster(self.tmp, standby=False).start()
        self.registries = claimload.registries_on(self.tmp, self.cluster.uri(), 2)
        self.lb = haproxy.HaProxy(self.tmp, [r.port for r in self.registries]).start()

    def tearDown(self):
        self.lb.stop()
        codes = [r.stop() for r in self.registries]
        self.cluster.stop()
        self.tmp.cleanup()
        self.assertEqual(codes[1], 0, "the surviving instance stopped cleanly")

    def test_kill_one_instance_mid_load(self):
        survivor = self.registries[1].http()
        # accounts made on either instance are known to both
        tokens = []
        for i in range(WORKERS):
            status, body, _ = self.registries[i % 2].http().request("POST", "/v1/accounts")
            self.assertEqual(status, 201, body)
            tokens.append(body["token"])
        orders = []
        for w in range(WORKERS):
            orders.append(random.Random(w).sample(TERMINALS, PER_WORKER))
        targets = [("r1", self.registries[0].port), ("r2", self.registries[1].port),
                   ("lb", self.lb.port)]
        load = claimload.ClaimLoad(
            targets, tokens, lambda w, n: orders[w][n] if n < PER_WORKER else None).start()
        load.wait_for(lambda a: len(a) >= WORKERS * PER_WORKER // 3, 60 * pbtest.slowdown(),
                      "a third of the claims answered")
        killed_at = load.now()
        self.registries[0].stop(signal.SIGKILL)
        answers = load.finish(60 * pbtest.slowdown())

        print(f"answers: {claimload.summary(answers)}; r1 killed at {killed_at:.2f} s",
              file=sys.stderr)
        by_r1_before = [a for a in answers
                        if a.target == "r1" and a.status == 201 and a.sent + a.took < killed_at]
        after = [a for a in answers if a.status == 201 and a.sent > killed_at]
        self.assertTrue(by_r1_before, "instance 1 answered 201s before its kill")
        self.assertTrue(after, "201s were answered after the kill")
        self.assertTrue([a for a in answers if a.target == "r1" and a.status is None],
                        "requests to the killed instance failed (it was really killed)")

        winners = {}
        for a in answers:
            if a.status is None or (a.target == "lb" and a.status in (502, 503, 504)):
                continue  # unknown outcome: the instance died under it
            self.assertIn(a.status, (201, 409), a)
            if a.status == 201:
                self.assertNotIn(a.terminal, winners, f"two 201s for {a.terminal}")
                winners[a.terminal] = a.token
            else:
                self.assertEqual(a.error, "bound-to-other", a)
        self.assertGreater(len(winners), len(TERMINALS) // 2)
        self.assertTrue([a for a in answers if a.status == 409], "claims raced")
        for a in answers:
            if a.status == 201:
                self.assertEqual(claimload.status_of(survivor, a.terminal, a.token),
                                 "bound-to-you", a)
            elif a.status == 409:
                self.assertEqual(claimload.status_of(survivor, a.terminal, a.token),
                                 "bound-to-other", a)


if __name__ == "__main__":
    unittest.main()
