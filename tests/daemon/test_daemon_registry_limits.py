#!/usr/bin/python3
"""The real daemon against the real registry's abuse limits (issue 12).

Fault tried: this PC's address has used up rate-accounts (20 a minute:
Retry-After 2-3 s) when phonebindd asks for its shadow account. The
registry answers 429 with Retry-After; the daemon must wait that long
before it asks again (its own backoff here is 0.1-0.5 s, which would
have asked four times or more meanwhile), say so once, and get its
account on the next try; a phone attached meanwhile is pending, then
decided.
"""
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402


class ThrottledAccount(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        self.scene.registry.stop()
        self.scene.registry = pbtest.Registry(
            self.scene.tmp, extra_args=["--rate-accounts", "20", "--log-level", "debug"]).start()
        self.scene.daemon.registry_url = self.scene.registry.url

    def tearDown(self):
        try:
            self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        finally:
            self.scene.cleanup()

    def test_retry_after_of_the_real_registry(self):
        while self.scene.registry.http().request("POST", "/v1/accounts")[0] == 201:
            pass  # this address's burst, used up
        refused_before = self.scene.registry.read_log().count("/v1/accounts -> 429")
        started = time.monotonic()
        self.scene.daemon.start()
        _, path = self.scene.attach(serial="R58M41THROTTLED")
        first = self.scene.listener.wait_decision(path)[2:]
        decision = self.scene.listener.wait_decision(path, count=2 if first[0] == "pending" else 1,
                                                     timeout=10 * pbtest.slowdown())
        waited = time.monotonic() - started
        self.assertEqual(decision[2:], ("connect", "new-binding"))
        # pending while it waited, unless (under memcheck) the daemon's start
        # outlasted Retry-After and the account was in before the phone
        self.assertIn(first, (("pending", "registry-unreachable"), ("connect", "new-binding")))
        self.assertGreaterEqual(waited, 1.5, "asked again before Retry-After")
        log = self.scene.registry.read_log()
        self.assertEqual(log.count("/v1/accounts -> 429") - refused_before, 1, log)
        daemon_log = self.scene.daemon.read_log()
        self.assertEqual(daemon_log.count("warning: cannot obtain a shadow account"), 1,
                         daemon_log)
        self.assertIn("too many requests", daemon_log)


if __name__ == "__main__":
    unittest.main()
