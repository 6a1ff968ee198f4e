#!/usr/bin/python3
"""The PostgreSQL harness the scale tests stand on (tests/support/pgcluster.py)
does what they rely on: the standby is synchronous (with it stopped, a
commit on the primary does not return; started again, the commit
completes), a row the primary reported committed is on the standby, and
after the primary's SIGKILL and the standby's promotion the standby holds
every committed row and accepts writes while the old primary's port refuses
connections.

Faults tried: the standby gone (the primary must wait), the primary's
machine dying (SIGKILL of every process of it)."""
import os
import socket
import subprocess
import time
import unittest

import pbtest
import pgcluster

ROWS = 20


@unittest.skipIf(pgcluster.available(), pgcluster.available())
class PgClusterHarness(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.cluster = pgcluster.PgCluster(self.tmp).start()
        self.primary, self.standby = self.cluster.primary, self.cluster.standby

    def tearDown(self):
        self.cluster.stop()
        self.tmp.cleanup()

    def sql(self, server, text):
        return server.psql(text, database=pgcluster.DATABASE, user=pgcluster.ROLE)

    def test_synchronous_then_failover(self):
        self.sql(self.primary, "CREATE TABLE claims (n integer PRIMARY KEY)")
        for n in range(ROWS):
            self.sql(self.primary, f"INSERT INTO claims VALUES ({n})")
        pbtest.wait_until(lambda: self.sql(self.standby, "SELECT count(*) FROM claims")
                          == str(ROWS), 5, what="the standby to replay the rows")

        # Synchronous: without the standby a commit waits for it.
        self.standby.stop()
        waiting = subprocess.Popen(
            [os.path.join(pgcluster.PG_BIN, "psql"), "-X", "-q", "-h", self.primary.socket_dir,
             "-p", str(self.primary.port), "-U", pgcluster.ROLE, "-d", pgcluster.DATABASE,
             "-c", f"INSERT INTO claims VALUES ({ROWS})"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(2)
        self.assertIsNone(waiting.poll(), "a commit returned with no synchronous standby")
        self.assertEqual(self.sql(self.primary, "SELECT count(*) FROM claims"), str(ROWS),
                         "a commit not yet acknowledged by the standby is visible")
        self.standby.start()
        self.assertEqual(waiting.wait(30), 0, waiting.stdout.read())
        waiting.stdout.close()
        self.cluster.wait_synchronous()

        # Failover: every committed row is on the promoted standby.
        self.cluster.failover()
        self.assertEqual(self.sql(self.standby, "SELECT count(*) FROM claims"), str(ROWS + 1))
        self.assertIs(self.cluster.writer(), self.standby)
        self.sql(self.standby, f"INSERT INTO claims VALUES ({ROWS + 1})")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.primary.port), timeout=2).close()
        self.assertIn("target_session_attrs=read-write", self.cluster.uri())
        self.assertIn(f"127.0.0.1:{self.primary.port},127.0.0.1:{self.standby.port}",
                      self.cluster.uri())


if __name__ == "__main__":
    unittest.main()
