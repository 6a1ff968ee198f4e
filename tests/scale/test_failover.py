#!/usr/bin/python3
"""Failover with nothing lost: two registries on a PostgreSQL primary with
a synchronous standby, reached through the multi-host URI
(target_session_attrs=read-write). Four clients claim new terminals
through both instances; the primary's machine dies (SIGKILL of all its
processes) with claims running; after 1.5 s the standby is promoted
(pg_ctl promote). Without a restart, both instances answer 201 again.
Checked: every answer is 201 or 503 (or 500 outcome-unknown for a claim
whose statement was on the wire when the primary died; no other error, no
dropped connection, no request past the timeout); every 503 and 500
carries Retry-After and a JSON error; no request sent and answered within the outage is 201;
the outage did give 503s; every claim answered 201, before or after, is
bound to its owner on the promoted standby; each instance's log says once
that it lost the database and once that it has it again, and never shows
the password.

Faults tried: the primary killed under load, then the new primary found
by itself."""
import time
import sys
import unittest

import claimload
import pbtest
import pgcluster

WORKERS = 4
OUTAGE = 1.5 * pbtest.slowdown()  # long enough for claims to be answered within it


@unittest.skipIf(pgcluster.available(), pgcluster.available())
class Failover(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.cluster = pgcluster.PgCluster(self.tmp).start()
        self.registries = claimload.registries_on(self.tmp, self.cluster.uri(), 2)

    def tearDown(self):
        codes = [r.stop() for r in self.registries]
        self.cluster.stop()
        self.tmp.cleanup()
        self.assertEqual(codes, [0, 0], "both instances ran through and stopped cleanly")

    def test_primary_killed_standby_promoted(self):
        tokens = [self.registries[0].new_account()[1] for _ in range(WORKERS)]
        targets = [(f"r{i + 1}", r.port) for i, r in enumerate(self.registries)]
        load = claimload.ClaimLoad(targets, tokens,
                                   lambda w, n: f"usb:18d1:FO{w}N{n:06d}").start()
        load.wait_for(lambda a: sum(x.status == 201 for x in a) >= 40 and load.now() > 0.5,
                      30 * pbtest.slowdown(), "claims before")
        self.cluster.primary.kill()
        killed_at = load.now()  # every process of it gone
        time.sleep(OUTAGE)
        promoting_at = load.now()
        self.cluster.standby.promote()

        def recovered(answers):
            return all(any(a.target == name and a.status == 201 and a.sent > promoting_at
                           for a in answers) for name, _ in targets)
        load.wait_for(recovered, 30 * pbtest.slowdown(),
                      "201s from both instances after the promotion")
        time.sleep(0.3)
        answers = load.stop()
        print(f"answers: {claimload.summary(answers)}; primary killed at {killed_at:.2f} s, "
              f"promotion from {promoting_at:.2f} s, last answer at {load.now():.2f} s",
              file=sys.stderr)
        for registry in self.registries:
            self.assertIsNone(registry.proc.poll(), "the instance kept running")

        for a in answers:
            self.assertIn(a.status, (201, 503, 500), a)
            if a.status == 500:
                # a claim whose statement was sent when the primary died:
                # its outcome is unknown, and the registry says so
                self.assertEqual(a.error, "outcome-unknown", a)
                self.assertLess(a.sent, promoting_at, a)
            if a.status != 201:
                self.assertRegex(a.retry_after or "", r"^[1-9][0-9]*$", a)
                self.assertIsInstance(a.error, str, a)
        in_outage = [a for a in answers
                     if a.sent > killed_at and a.sent + a.took < promoting_at]
        self.assertTrue(in_outage, "claims were sent during the outage")
        self.assertEqual([a for a in in_outage if a.status == 201], [],
                         "a claim answered 201 while no primary could commit it")
        self.assertTrue([a for a in in_outage if a.status == 503])

        won = [a for a in answers if a.status == 201]
        self.assertTrue([a for a in won if a.sent + a.took < killed_at])
        self.assertTrue([a for a in won if a.sent > promoting_at])
        http = self.registries[0].http()
        for a in won:
            self.assertEqual(claimload.status_of(http, a.terminal, a.token), "bound-to-you", a)
        for registry in self.registries:
            log = registry.read_log()
            self.assertNotIn(self.cluster.password, log)
            # said once each, however many connections and requests failed
            self.assertEqual(log.count("connection lost"), 1, log)
            self.assertEqual(log.count("connected again"), 1, log)


if __name__ == "__main__":
    unittest.main()
