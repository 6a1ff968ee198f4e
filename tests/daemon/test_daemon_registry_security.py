#!/usr/bin/python3
"""What the daemon trusts of the network and shows to local users (issue 12).

Faults tried:
- a plain http:// registry off this machine (the token in clear text on
  the wire): refused at start unless allow-insecure-registry = yes; run in
  a network namespace of its own (`unshare --net`), so nothing can leave
  the machine even if the check failed;
- registry-pin with an http:// registry (a pin that could never apply);
- credentials in the registry URL: RegistryUrl and the log show them
  masked;
- hide-serials = yes: an unprivileged caller reads an empty Serial, root
  the real one;
- a registry that answers 429 with Retry-After: 2: the daemon waits that
  long before it asks again, not its own 0.1 s backoff.
"""
import http.server
import json
import os
import subprocess
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402


def in_own_network(command):
    """command in a network namespace with only a loopback (none when the
    machine allows no namespace: then the test is skipped)."""
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        raise unittest.SkipTest("no network namespace here")
    return ["unshare", "--net", "/bin/sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + command


class InsecureRegistry(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene(start_daemon=False)

    def tearDown(self):
        self.scene.stop()
        self.scene.cleanup()

    def run_daemon(self, *args):
        daemon = self.scene.daemon
        command = in_own_network([pbtest.program("phonebindd"), "--state-dir", daemon.state_dir,
                                  "--config", "/dev/null"] + list(args))
        return subprocess.run(command, env=self.scene.testbed.env(self.scene.bus.env()),
                              capture_output=True, text=True, timeout=20)

    def test_plain_http_off_loopback_refused(self):
        for args in (["--registry", "http://10.20.30.40:8470"],
                     ["--registry", "http://10.20.30.40:8470", "--allow-insecure-registry=no"],
                     ["--registry", "http://registry.invalid:8470"]):
            with self.subTest(args=args):
                result = self.run_daemon(*args)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn("refusing the registry", result.stderr)
                self.assertIn("allow-insecure-registry", result.stderr)

    def test_pin_needs_https(self):
        result = self.run_daemon("--registry", "http://127.0.0.1:8470", "--registry-pin",
                                 "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("registry-pin needs an https:// registry", result.stderr)

    def test_allowed_when_the_administrator_says(self):
        """Started with allow-insecure-registry: it runs (the registry is
        unreachable in its namespace: pending) and stops cleanly."""
        self.scene.daemon.registry_url = "http://10.20.30.40:8470"
        self.scene.daemon.wrapper = in_own_network([])
        self.scene.daemon.extra_args = ["--allow-insecure-registry", "--registry-timeout", "300"]
        self.scene.daemon.start()
        self.assertIn("ready:", self.scene.daemon.read_log())
        self.assertEqual(self.scene.daemon.stop(), 0, self.scene.daemon.read_log())


class WhatLocalUsersSee(unittest.TestCase):
    def tearDown(self):
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def as_nobody(self, *busctl_args):
        proc = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "busctl",
             f"--address={self.scene.bus.address}"] + list(busctl_args),
            capture_output=True, text=True, timeout=20, env={"PATH": os.environ["PATH"]})
        return proc.returncode, proc.stdout.strip()

    def test_registry_url_without_credentials(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        port = self.scene.registry.port
        self.scene.daemon.registry_url = f"http://pc-user:s3cret-word@127.0.0.1:{port}"
        self.scene.daemon.start()
        code, out = self.as_nobody("get-property", "org.phonebind1", "/org/phonebind1",
                                   "org.phonebind1.Manager", "RegistryUrl")
        self.assertEqual((code, out), (0, f's "http://****@127.0.0.1:{port}"'))
        self.assertNotIn("s3cret-word", self.scene.daemon.read_log())

    def test_hide_serials(self):
        self.scene = pbdaemon.Scene(daemon_args=["--hide-serials"])
        _, path = self.scene.attach(serial="R58M41HIDDEN")
        self.scene.listener.wait_decision(path)
        code, out = self.as_nobody("get-property", "org.phonebind1", path,
                                   "org.phonebind1.Terminal", "Serial")
        self.assertEqual((code, out), (0, 's ""'))
        self.assertEqual(str(self.scene.listener.properties(path)["Serial"]), "R58M41HIDDEN")
        code, out = self.as_nobody("get-property", "org.phonebind1", path,
                                   "org.phonebind1.Terminal", "Model")
        self.assertEqual((code, out), (0, 's "Pixel 7"'), "the rest stays open")


class Throttled(http.server.BaseHTTPRequestHandler):
    """Accounts as the registry makes them; every terminal call 429."""
    times = []

    def do_POST(self):
        self._json(201, {"account": "sa-throttled", "token": "t" * 64})

    def do_GET(self):
        if self.path == "/v1/info":  # the renewer's question, not a terminal call
            self._json(404, {"error": "not-found", "message": "no such resource"})
            return
        Throttled.times.append(time.monotonic())
        self._json(429, {"error": "too-many-requests", "message": "slow down"},
                   {"Retry-After": "2"})

    do_PUT = do_GET

    def _json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class RetryAfter(unittest.TestCase):
    def test_retry_after_is_the_next_backoff(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        try:
            with pbtest.http_server(Throttled) as url:
                self.run_against(url)
        finally:
            self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
            self.scene.cleanup()

    def run_against(self, url):
        self.scene.daemon.registry_url = url
        self.scene.daemon.start()
        Throttled.times.clear()
        _, path = self.scene.attach(serial="R58M41SLOWDOWN")
        self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                         ("pending", "registry-unreachable"))
        pbtest.wait_until(lambda: len(Throttled.times) >= 3, timeout=10, what="three lookups")
        gaps = [b - a for a, b in zip(Throttled.times, Throttled.times[1:])]
        self.assertTrue(all(gap >= 1.9 for gap in gaps), gaps)


if __name__ == "__main__":
    unittest.main()
