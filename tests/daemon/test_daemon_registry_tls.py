#!/usr/bin/python3
"""The real daemon against the real registry serving HTTPS (issue 12).

A CA of the test's own (openssl, in the test's temporary directory) signs
the registry's certificates; the daemon trusts it through registry-ca.

Faults tried, each must leave the phone pending/registry-unreachable,
with the verification's reason in the log once (a warning), not once per
retry, and nothing bound on the registry:
- a certificate from another CA than the one the daemon trusts;
- an expired certificate;
- a certificate for another host name than the URL's;
- a pinned public key (registry-pin) that is not the certificate's.
And the good case: the right CA (and the right pin) gets a decision.
"""
import ssl
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbcerts  # noqa: E402
import pbdaemon  # noqa: E402
import pbtest  # noqa: E402


class DaemonOverTls(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        self.ca = pbcerts.CertAuthority(self.scene.tmp, "ca")
        self.scene.registry.stop()  # its plain HTTP twin gives way

    def tearDown(self):
        try:
            self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        finally:
            self.scene.cleanup()

    def serve(self, cert, key):
        """The registry on HTTPS with cert; the daemon (not started yet)
        pointed at it, trusting our CA."""
        context = ssl.create_default_context()
        context.check_hostname = False  # the test's own /healthz takes any certificate
        context.verify_mode = ssl.CERT_NONE
        self.registry = pbtest.Registry(self.scene.tmp, tls=(cert, key, context)).start()
        self.scene.registry = self.registry
        daemon = self.scene.daemon
        daemon.registry_url = self.registry.url
        daemon.extra_args += ["--registry-ca", self.ca.cert]

    def attach_and_decide(self, serial):
        self.scene.daemon.start()
        _, path = self.scene.attach(serial=serial)
        return self.scene.listener.wait_decision(path)[2:]

    def assert_refused(self, serial, reason):
        self.assertEqual(self.attach_and_decide(serial), ("pending", "registry-unreachable"))
        time.sleep(1.5)  # several retries (retry-max 0.5 s)
        log = self.scene.daemon.read_log()
        warnings = [line for line in log.splitlines()
                    if ": warning: " in line and reason in line]
        self.assertEqual(len(warnings), 1, log)
        self.assertGreaterEqual(log.count(reason), 2, "it was retried: " + log)
        self.assertEqual(self.registry.stop(), 0)
        self.assertNotIn("created shadow account", self.registry.read_log())

    def test_good_certificate(self):
        cert, key = self.ca.issue("registry")
        self.serve(cert, key)
        self.scene.daemon.extra_args += ["--registry-pin", pbcerts.spki_pin(cert)]
        self.assertEqual(self.attach_and_decide("R58M41TLSGOOD"), ("connect", "new-binding"))

    def test_certificate_of_another_ca(self):
        other = pbcerts.CertAuthority(self.scene.tmp, "other-ca")
        cert, key = other.issue("registry")
        self.serve(cert, key)
        self.assert_refused("R58M41OTHERCA", "unable to get local issuer certificate")

    def test_expired_certificate(self):
        cert, key = self.ca.issue("registry", days=-1)
        self.serve(cert, key)
        self.assert_refused("R58M41EXPIRED", "certificate has expired")

    def test_wrong_host_name(self):
        cert, key = self.ca.issue("registry", hosts=("registry.example", "10.20.30.40"))
        self.serve(cert, key)
        self.assert_refused("R58M41WRONGHOST", "no alternative certificate subject name matches target host name")

    def test_pin_that_does_not_match(self):
        cert, key = self.ca.issue("registry")
        _, other_key = self.ca.issue("other")
        self.serve(cert, key)
        self.scene.daemon.extra_args += ["--registry-pin", pbcerts.spki_pin(other_key)]
        self.assert_refused("R58M41BADPIN", "public key does not match pinned public key")


if __name__ == "__main__":
    unittest.main()
