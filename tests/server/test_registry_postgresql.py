#!/usr/bin/python3
"""Several phonebind-registry instances on one real PostgreSQL database.

Tried here:
- two instances, one database, one key: 200 claims of one terminal at once,
  spread over both, give exactly one 201; an account made on one is known
  to the other; a binding made or released through one is seen through the
  other at once, both ways, for a terminal the other had just seen unbound
  (no instance answers from what it remembers: no Bloom filter lies);
- a multi-host URI whose first host refuses: the next one serves;
- instances started at the same moment on a fresh database (the migration
  under the advisory lock), with one key, and with two keys of their own
  (exactly one of those may run);
- a third instance with another key, or with its key file missing, refuses
  to start (exit 1, naming the key file);
- a registry started while the database is down serves 503 and, once it is
  back, migrates, checks its key and serves; with another key it stops
  (exit 1) then; without a key file it refuses at once;
- faults: PostgreSQL stopped (a clean shutdown) and started again, and
  killed (SIGKILL of every server process) and started again: meanwhile
  503 with Retry-After at once (never a hang, never another answer), and
  recovery by itself, without a registry restart, every binding kept;
  the database stops answering (a lock held on the table): answered within
  the request timeout, 503 for a read.
"""
import http.client
import json
import os
import subprocess
import threading
import time
import unittest

import pbtest
import pgtest
import regsupport

TERMINAL = "/v1/terminals/usb:18d1:R58M41PGTEST"


def request(port, method, path, token=None, timeout=10):
    """(status, JSON body or None, headers) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {token}"} if token else {})
        resp = conn.getresponse()
        payload = resp.read()
        body = json.loads(payload) if payload else None
        return resp.status, body, dict(resp.getheaders())
    finally:
        conn.close()


class PostgreSQLCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pgtmp = pbtest.TempDir(prefix="phonebind-pg-")
        try:
            cls.pg = pgtest.start(cls.pgtmp)
        except BaseException:
            cls.pgtmp.cleanup()
            raise
        cls.databases = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        cls.pgtmp.cleanup()

    def setUp(self):
        self.tmp = pbtest.TempDir()
        type(self).databases += 1
        self.db = f"r{self.databases}"
        self.uri = self.pg.create_database(self.db)
        self.key = self.tmp.join("terminal-id.key")
        self.registries = []

    def tearDown(self):
        codes = []
        for registry in self.registries:
            running = registry.proc is not None and registry.proc.poll() is None
            code = registry.stop()
            if running:
                codes.append(code)
        self.tmp.cleanup()
        # those still running stop cleanly on SIGTERM (under ASan: no leak)
        self.assertEqual(codes, [0] * len(codes))

    def registry(self, key=None, start=True):
        # no rate-accounts: the race makes 100 accounts per instance from one address
        registry = pbtest.Registry(self.tmp, database=self.uri,
                                   extra_args=["--key-file", key or self.key,
                                               "--rate-accounts", "0"])
        self.registries.append(registry)
        return registry.start() if start else registry


class TwoInstances(PostgreSQLCase):
    def setUp(self):
        super().setUp()
        self.one = self.registry()
        self.two = self.registry()

    def test_racing_claims_over_both_one_winner(self):
        racers = 200
        tokens = [(self.one if i % 2 else self.two).new_account()[1] for i in range(racers)]
        barrier = threading.Barrier(racers)
        results = [None] * racers

        def claim(i):
            port = (self.one if i % 2 == 0 else self.two).port  # the other one than made it
            barrier.wait()
            results[i] = request(port, "PUT", TERMINAL + "/binding", tokens[i])[0]
        workers = [threading.Thread(target=claim, args=(i,)) for i in range(racers)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.assertEqual(results.count(201), 1, results)
        self.assertEqual(results.count(409), racers - 1, results)
        winner = tokens[results.index(201)]
        for registry in (self.one, self.two):
            self.assertEqual(request(registry.port, "GET", TERMINAL, winner)[1]["status"],
                             "bound-to-you")
        self.assertEqual(self.pg.psql("SELECT count(*) FROM bindings", database=self.db), "1")

    def test_accounts_and_bindings_seen_across_instances_at_once(self):
        _, mine = self.one.new_account()
        _, theirs = self.two.new_account()
        # an account made on one is accepted on the other
        self.assertEqual(request(self.two.port, "GET", TERMINAL, mine)[:2],
                         (200, {"status": "unbound"}))
        for maker, watcher in ((self.one, self.two), (self.two, self.one)):
            for _ in range(20):  # the watcher has seen it unbound, often
                self.assertEqual(request(watcher.port, "GET", TERMINAL, theirs)[1]["status"],
                                 "unbound")
            self.assertEqual(request(maker.port, "PUT", TERMINAL + "/binding", mine)[0], 201)
            self.assertEqual(request(watcher.port, "GET", TERMINAL, theirs)[1]["status"],
                             "bound-to-other")
            self.assertEqual(request(watcher.port, "GET", TERMINAL, mine)[1]["status"],
                             "bound-to-you")
            self.assertEqual(request(watcher.port, "PUT", TERMINAL + "/binding", theirs)[0], 409)
            self.assertEqual(request(watcher.port, "PUT", TERMINAL + "/binding", mine)[0], 200)
            # released through the other one: unbound on both at once
            self.assertEqual(request(watcher.port, "DELETE", TERMINAL + "/binding", mine)[0], 204)
            self.assertEqual(request(maker.port, "GET", TERMINAL, mine)[1]["status"], "unbound")
            self.assertEqual(request(maker.port, "DELETE", TERMINAL + "/binding", mine)[0], 404)


class MultiHost(PostgreSQLCase):
    def test_first_host_down(self):
        """Fault: the first host of a multi-host URI refuses connections
        (a primary gone); libpq goes on to the next, at start and for every
        thread's connections."""
        dead = pbtest.free_port()
        uri = self.uri.replace(self.pg.host_spec, f"127.0.0.1:{dead},{self.pg.host_spec}")
        self.assertIn(f":{dead},127.0.0.1:", uri)
        registry = pbtest.Registry(self.tmp, database=uri,
                                   extra_args=["--key-file", self.key, "--threads", "2"])
        self.registries.append(registry)
        registry.start()
        _, token = registry.new_account()
        for n in range(10):
            self.assertEqual(request(registry.port, "PUT", f"{TERMINAL}{n}/binding", token)[0], 201)
        self.assertIn(f"127.0.0.1:{dead},", registry.read_log())


class StartUp(PostgreSQLCase):
    def start_at_once(self, keys):
        """Starts one registry per key file at the same moment; returns
        them once each is serving or has exited."""
        registries = [self.registry(key=key, start=False) for key in keys]
        threads = []
        outcomes = {}

        def start(registry):
            try:
                registry.start()
                outcomes[registry.port] = "running"
            except RuntimeError as e:
                outcomes[registry.port] = str(e)
        for registry in registries:
            threads.append(threading.Thread(target=start, args=(registry,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return registries, outcomes

    def test_instances_started_at_once_migrate_once(self):
        regsupport.write_key(self.key, os.urandom(32))
        registries, outcomes = self.start_at_once([self.key] * 3)
        self.assertEqual(list(outcomes.values()), ["running"] * 3, outcomes)
        self.assertEqual(self.pg.psql("SELECT version FROM phonebind_schema", database=self.db),
                         "3")
        _, token = registries[0].new_account()
        self.assertEqual(request(registries[2].port, "PUT", TERMINAL + "/binding", token)[0], 201)

    def test_two_new_keys_at_once_only_one_runs(self):
        """Fault: two instances of a new deployment each made a key of
        their own. The check value is stored under the migration lock: the
        second sees the first's and refuses."""
        keys = [self.tmp.join("a.key"), self.tmp.join("b.key")]
        for key in keys:
            regsupport.write_key(key, os.urandom(32))
        registries, outcomes = self.start_at_once(keys)
        running = [port for port, outcome in outcomes.items() if outcome == "running"]
        self.assertEqual(len(running), 1, outcomes)
        refused = [outcome for outcome in outcomes.values() if outcome != "running"][0]
        self.assertIn("exited with 1", refused)
        self.assertIn("does not match the database's key check value", refused)

    def test_third_instance_with_another_key_refuses(self):
        self.registry()
        self.registry()
        other = self.tmp.join("other.key")
        regsupport.write_key(other, os.urandom(32))
        code, output = regsupport.run_to_exit(self.tmp, ["--key-file", other], database=self.uri)
        self.assertEqual(code, 1, output)
        self.assertIn(other, output)
        self.assertIn("does not match", output)
        # and one whose key file is missing (a new host without the key)
        missing = self.tmp.join("missing.key")
        code, output = regsupport.run_to_exit(self.tmp, ["--key-file", missing],
                                              database=self.uri)
        self.assertEqual(code, 1, output)
        self.assertIn(missing, output)
        self.assertFalse(os.path.exists(missing))
        self.assertNotIn(self.pg.password, output)


def start_unready(registry):
    """Starts a registry that cannot reach its database: returns once it
    listens and answers /healthz 503."""
    args = [pbtest.program("phonebind-registry"), "--listen", f"127.0.0.1:{registry.port}",
            "--database", registry.database] + registry.extra_args
    registry.log = open(registry.log_path, "ab")
    registry.proc = subprocess.Popen(args, stdout=registry.log, stderr=subprocess.STDOUT)

    def answers_503():
        if registry.proc.poll() is not None:
            raise RuntimeError(f"registry exited with {registry.proc.returncode}: "
                               + registry.read_log())
        try:
            return request(registry.port, "GET", "/healthz", timeout=2)[0] == 503
        except OSError:
            return False
    pbtest.wait_until(answers_503, what="the registry serving 503")
    return registry


class StartedWhileDown(PostgreSQLCase):
    """Fault: the database is down when the registry starts. It starts and
    serves 503 (with Retry-After) meanwhile, with the key file it has;
    once the database is back it migrates, checks the key, and serves."""

    def setUp(self):
        super().setUp()
        first = self.registry()
        _, self.token = first.new_account()
        self.assertEqual(request(first.port, "PUT", TERMINAL + "/binding", self.token)[0], 201)
        self.assertEqual(first.stop(), 0)
        self.registries.remove(first)
        self.pg.stop()

    def tearDown(self):
        if not self.pg.running:
            self.pg.start()
        super().tearDown()

    def test_serves_once_the_database_is_back(self):
        registry = start_unready(self.registry(start=False))
        status, body, headers = request(registry.port, "GET", TERMINAL, self.token)
        self.assertEqual((status, body["error"]), (503, "database-unavailable"))
        self.assertIn("Retry-After", headers)
        self.assertEqual(request(registry.port, "POST", "/v1/accounts")[0], 503)
        self.pg.start()
        pbtest.wait_until(lambda: request(registry.port, "GET", "/healthz")[0] == 200, timeout=15,
                          what="the registry serving")
        self.assertEqual(request(registry.port, "GET", TERMINAL, self.token)[1]["status"],
                         "bound-to-you")
        self.assertEqual(request(registry.port, "PUT", TERMINAL + "2/binding", self.token)[0], 201)
        self.assertIn("schema and terminal-id key checked", registry.read_log())

    def test_another_key_stops_it_once_the_database_is_back(self):
        other = self.tmp.join("other.key")
        regsupport.write_key(other, os.urandom(32))
        registry = start_unready(self.registry(key=other, start=False))
        self.pg.start()
        self.assertEqual(registry.proc.wait(20), 1)
        self.assertIn("another terminal-id key", registry.read_log())

    def test_no_key_file_refused_at_once(self):
        missing = self.tmp.join("missing.key")
        code, output = regsupport.run_to_exit(self.tmp, ["--key-file", missing],
                                              database=self.uri)
        self.assertEqual(code, 1, output)
        self.assertIn(missing, output)
        self.assertIn("cannot be reached", output)
        self.assertFalse(os.path.exists(missing))


class DatabaseFaults(PostgreSQLCase):
    def assert_unavailable(self, registry, method, path, token=None):
        started = time.monotonic()
        status, body, headers = request(registry.port, method, path, token)
        self.assertLess(time.monotonic() - started, 3, (method, path))
        self.assertEqual(status, 503, (method, path, body))
        self.assertEqual(body["error"], "database-unavailable")
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)

    def outage(self, take_down):
        registry = self.registry()
        _, token = registry.new_account()
        self.assertEqual(request(registry.port, "PUT", TERMINAL + "/binding", token)[0], 201)
        # this outage's lines only: on a busy machine the registry's first
        # connection at start has timed out too (and said so, once)
        before = len(registry.read_log())
        take_down()
        for _ in range(3):
            self.assert_unavailable(registry, "GET", "/healthz")
            self.assert_unavailable(registry, "GET", TERMINAL, token)
            self.assert_unavailable(registry, "PUT", TERMINAL.replace("PGTEST", "NEW") + "/binding",
                                    token)
            self.assert_unavailable(registry, "DELETE", TERMINAL + "/binding", token)
            self.assert_unavailable(registry, "POST", "/v1/accounts")
        self.pg.start()
        pbtest.wait_until(lambda: request(registry.port, "GET", "/healthz")[0] == 200, timeout=10,
                          what="the registry back on its database")
        self.assertEqual(request(registry.port, "GET", TERMINAL, token)[1]["status"],
                         "bound-to-you")
        self.assertEqual(request(registry.port, "PUT", TERMINAL.replace("PGTEST", "NEW")
                                 + "/binding", token)[0], 201)
        self.assertEqual(registry.proc.poll(), None)
        log = registry.read_log()
        self.assertEqual(log[before:].count("answering 503 until it is back"), 1, log)
        self.assertIn("connected again", log[before:])
        self.assertNotIn(self.pg.password, log)

    def test_stopped_and_started_again(self):
        self.outage(self.pg.stop)

    def test_killed_and_started_again(self):
        self.outage(self.pg.kill)

    def test_database_that_stops_answering(self):
        """Fault: a lock held on the bindings table; lookups queue behind it
        in the database. Each is answered when its 5 s run out (503, not a
        hang to the HTTP timeout), and the registry works again afterwards."""
        registry = self.registry()
        _, token = registry.new_account()
        db = self.db
        holder = subprocess.Popen(
            [os.path.join(pgtest.BIN, "psql"), "-X", "-q", "-h", self.pg.socket_dir, "-p",
             str(self.pg.port), "-U", pgtest.SUPERUSER, "-d", db, "-c",
             "BEGIN; LOCK TABLE bindings IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(7); COMMIT"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            pbtest.wait_until(lambda: self.pg.psql(
                "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock'"
                " AND relation = 'bindings'::regclass", database=db) == "1", what="the lock")
            started = time.monotonic()
            status, body, headers = request(registry.port, "GET", TERMINAL, token)
            waited = time.monotonic() - started
            self.assertEqual((status, body["error"]), (503, "database-unavailable"))
            self.assertIn("Retry-After", headers)
            self.assertGreater(waited, 4)
            self.assertLess(waited, 7)
        finally:
            holder.wait(15)
        pbtest.wait_until(lambda: request(registry.port, "GET", TERMINAL, token)[0] == 200,
                          timeout=10, what="lookups answered again")


if __name__ == "__main__":
    unittest.main()
