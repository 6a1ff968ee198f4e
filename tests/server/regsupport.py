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
