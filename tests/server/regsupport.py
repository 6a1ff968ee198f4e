"""Helpers the registry's own integration tests share (beside pbtest).

A registry that must refuse to start is run to its exit here: pbtest's
Registry.start() waits for /healthz and would only time out.
"""
import hashlib
import hmac
import os
import sqlite3
import subprocess

import pbtest

KEY_CHECK_TEXT = b"phonebind terminal-id key check v1"


def run_to_exit(tmp, extra_args, database=None, port=None, timeout=10.0):
    """Runs phonebind-registry until it exits by itself; returns (exit
    status, everything it wrote). A registry still running at the timeout
    is killed and the test fails: it should have refused to start."""
    args = [pbtest.program("phonebind-registry"), "--listen",
            f"127.0.0.1:{port or pbtest.free_port()}",
            "--database", database or tmp.join("registry.db")] + list(extra_args)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        raise AssertionError("the registry kept running: " + output.decode(errors="replace"))
    return proc.returncode, output.decode(errors="replace")


def key_check_value(key):
    """The check value the database keeps of a terminal-id key."""
    return hmac.new(key, KEY_CHECK_TEXT, hashlib.sha256).digest()


def stored_key_check(database):
    """The database's key check value, or None when it has none."""
    db = sqlite3.connect(database)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            return None
        row = db.execute("SELECT value FROM meta WHERE name = 'terminal-key-check'").fetchone()
        return row[0] if row else None
    finally:
        db.close()


def write_key(path, key, mode=0o600):
    with open(path, "wb") as f:
        f.write(key)
    os.chmod(path, mode)


class SQLiteBackend:
    """Each test's registry on a database file of its own (the default)."""

    name = "sqlite"

    def start(self):
        pass

    def stop(self):
        pass

    def registry(self, tmp, extra_args=(), **kwargs):
        return pbtest.Registry(tmp, extra_args=extra_args, **kwargs)

    def stored_files(self, registry):
        import glob
        # the database, its -wal and -shm; not the admin socket beside them
        return [path for path in glob.glob(registry.database + "*") if os.path.isfile(path)]


class PostgreSQLBackend:
    """One real PostgreSQL server for a test class (pgtest), a fresh
    database in it for each registry; the key in the test's directory."""

    name = "postgresql"

    def __init__(self):
        self.pg = None
        self.tmp = None
        self.databases = 0

    def start(self):
        import pgtest
        self.tmp = pbtest.TempDir(prefix="phonebind-pg-")
        self.pg = pgtest.start(self.tmp)

    def stop(self):
        if self.pg:
            self.pg.stop()
        if self.tmp:
            self.tmp.cleanup()

    def registry(self, tmp, extra_args=(), database=None, **kwargs):
        if database is None:
            self.databases += 1
            database = self.pg.create_database(f"t{self.databases}")
        return pbtest.Registry(tmp, database=database,
                               extra_args=["--state-dir", tmp.path] + list(extra_args), **kwargs)

    def stored_files(self, registry):
        return self.pg.stored_files()


BACKENDS = {"sqlite": SQLiteBackend, "postgresql": PostgreSQLBackend}


def for_each_backend(cases, namespace):
    """Makes, from a mixin class of test cases that use self.backend, one
    unittest.TestCase per backend in namespace (a module's globals()):
    <Cases>SQLite and <Cases>PostgreSQL, the same cases on both. A test
    class gets one backend (for PostgreSQL one server) for all its tests."""
    import unittest
    for name, backend_class in BACKENDS.items():
        suffix = "SQLite" if name == "sqlite" else "PostgreSQL"

        @classmethod
        def set_up_class(cls, backend_class=backend_class):
            cls.backend = backend_class()
            try:
                cls.backend.start()
            except BaseException:
                cls.backend.stop()
                raise

        @classmethod
        def tear_down_class(cls):
            cls.backend.stop()

        case = type(cases.__name__ + suffix, (cases, unittest.TestCase),
                    {"setUpClass": set_up_class, "tearDownClass": tear_down_class})
        case.__module__ = namespace["__name__"]
        namespace[case.__name__] = case
