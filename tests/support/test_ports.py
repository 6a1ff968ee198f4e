#!/usr/bin/python3
"""The harness takes its ports safely (pbtest.Registry, haproxy.HaProxy,
pgtest.PostgreSQL).

free_port() only names a port free at that instant: with tests running in
parallel (ctest -j2, other suites on the machine) another program may bind
it before ours does. Seen: a registry exiting "address already in use" in
setUp, and a harness that took whoever answered on the port for its own.

Faults tried: the picked port taken by a stand-in that answers every GET
with 200 (another registry's /healthz, as far as a poll can tell): start()
must pick another port and serve from its own process; a port the caller
gave, or one it served on before (a restart), found taken must fail the
start, never move or hand back the stand-in.
"""
import http.server
import os
import unittest
import urllib.parse

import haproxy
import pbtest


class AnswersEverything(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class TakenPort(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.addCleanup(self.tmp.cleanup)
        stand_in = pbtest.http_server(AnswersEverything)
        self.taken = urllib.parse.urlsplit(stand_in.__enter__()).port
        self.addCleanup(stand_in.__exit__, None, None, None)
        self.picks = []
        original = pbtest.free_port

        def first_the_taken_one():
            """free_port() as a race makes it: the first pick is taken."""
            self.picks.append(self.taken if not self.picks else original())
            return self.picks[-1]
        pbtest.free_port = first_the_taken_one
        self.addCleanup(setattr, pbtest, "free_port", original)

    def test_registry_picks_another_port(self):
        registry = pbtest.Registry(self.tmp)
        self.assertEqual(registry.port, self.taken)
        registry.start()
        self.addCleanup(registry.stop)
        self.assertNotEqual(registry.port, self.taken)
        self.assertTrue(pbtest.listens_on(registry.proc.pid, registry.port))
        account, token = registry.new_account()  # the stand-in makes none
        self.assertTrue(account and token)
        with open(self.tmp.join(f"registry-{self.taken}.log")) as f:
            self.assertIn("address already in use", f.read())

    def test_registry_on_a_given_port_fails(self):
        registry = pbtest.Registry(self.tmp, port=self.taken)
        with self.assertRaisesRegex(RuntimeError, "address already in use"):
            registry.start()
        registry.stop()

    def test_registry_restarted_keeps_its_port(self):
        """Clients know the port once it served there: a restart that
        finds it taken fails rather than move."""
        registry = pbtest.Registry(self.tmp).start()
        port = registry.port
        registry.stop()
        squatter = http.server.HTTPServer(("127.0.0.1", port), AnswersEverything)
        self.addCleanup(squatter.server_close)
        with self.assertRaisesRegex(RuntimeError, "address already in use"):
            registry.start()
        self.assertEqual(registry.port, port)
        registry.stop()

    @unittest.skipIf(haproxy.available(), haproxy.available())
    def test_haproxy_picks_another_port(self):
        registry = pbtest.Registry(self.tmp).start()
        self.addCleanup(registry.stop)
        self.picks.clear()  # HaProxy's own first pick is the taken one
        lb = haproxy.HaProxy(self.tmp, [registry.port])
        self.assertEqual(lb.port, self.taken)
        lb.start()
        self.addCleanup(lb.stop)
        self.assertNotEqual(lb.port, self.taken)
        status, body, _ = lb.http().request("POST", "/v1/accounts")
        self.assertEqual(status, 201, body)

    def test_postgresql_picks_another_port(self):
        import pgtest
        if not os.path.isfile(os.path.join(pgtest.BIN, "postgres")):
            self.skipTest("PostgreSQL is not installed")
        pg = pgtest.PostgreSQL(self.tmp)
        self.addCleanup(pg.stop)
        self.assertNotEqual(pg.port, self.taken)
        self.assertEqual(self.picks[0], self.taken)
        self.assertTrue(pbtest.listens_on(pg.pid(), pg.port))
        self.assertIn("Address already in use", pg.read_log())


if __name__ == "__main__":
    unittest.main()
