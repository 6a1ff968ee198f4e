#!/usr/bin/python3
"""binding-ttl over HTTP (DESIGN.md "Lifecycle"), with a TTL of two
seconds: GET /v1/info tells it; a binding its owner stops renewing lapses
(unbound to everyone, another's claim is 201); one renewed every half
second stays its owner's; the lapse survives a restart (times are in the
database); the setting is refused when malformed.

Faults tried: a lapsed binding still answered bound, or not taken by a
claim; a renewal that does not keep the binding; /v1/info that does not
say the TTL (or a TTL of 0 when none is set).
"""
import time
import unittest

import pbtest
import regsupport

TTL = 2
PHONE = "/v1/terminals/usb:18d1:R58M41LAPSE"


class BindingTtl(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.registry = pbtest.Registry(self.tmp, extra_args=["--binding-ttl", f"{TTL}s"]).start()
        self.http = self.registry.http()
        _, self.a = self.registry.new_account()
        _, self.b = self.registry.new_account()

    def tearDown(self):
        self.assertEqual(self.registry.stop(), 0, self.registry.read_log())
        self.tmp.cleanup()

    def status(self, token):
        return self.http.request("GET", PHONE, token=token)[1]["status"]

    def claim(self, token):
        return self.http.request("PUT", PHONE + "/binding", token=token)[0]

    def test_info_tells_the_ttl(self):
        status, body, _ = self.http.request("GET", "/v1/info")
        self.assertEqual(status, 200)
        self.assertEqual(body["binding_ttl"], TTL)
        self.assertTrue(body["version"])
        self.assertEqual(self.http.request("POST", "/v1/info")[0], 405)

    def test_unrenewed_binding_lapses_and_is_taken(self):
        self.assertEqual(self.claim(self.a), 201)
        self.assertEqual(self.claim(self.b), 409)
        time.sleep(TTL + 0.5)
        self.assertEqual(self.status(self.a), "unbound")
        self.assertEqual(self.status(self.b), "unbound")
        self.assertEqual(self.claim(self.b), 201)
        self.assertEqual(self.status(self.a), "bound-to-other")
        self.assertEqual(self.claim(self.a), 409)

    def test_renewal_keeps_it(self):
        self.assertEqual(self.claim(self.a), 201)
        deadline = time.monotonic() + 2 * TTL + 0.5
        while time.monotonic() < deadline:
            time.sleep(0.5)
            self.assertEqual(self.claim(self.a), 200)
            self.assertEqual(self.status(self.b), "bound-to-other")
            self.assertEqual(self.claim(self.b), 409)

    def test_lapse_survives_a_restart(self):
        self.assertEqual(self.claim(self.a), 201)
        self.assertEqual(self.registry.stop(), 0)
        time.sleep(TTL + 0.5)
        self.registry.start()
        self.assertEqual(self.status(self.b), "unbound")
        self.assertEqual(self.claim(self.b), 201)


class TtlSetting(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()

    def tearDown(self):
        self.tmp.cleanup()

    def test_default_is_never(self):
        registry = pbtest.Registry(self.tmp).start()
        try:
            self.assertEqual(registry.http().request("GET", "/v1/info")[1]["binding_ttl"], 0)
        finally:
            self.assertEqual(registry.stop(), 0)

    def test_units(self):
        for text, seconds in (("90d", 90 * 86400), ("12h", 43200), ("30m", 1800), ("45", 45)):
            registry = pbtest.Registry(self.tmp, extra_args=["--binding-ttl", text]).start()
            try:
                self.assertEqual(registry.http().request("GET", "/v1/info")[1]["binding_ttl"],
                                 seconds, text)
            finally:
                self.assertEqual(registry.stop(), 0)

    def test_malformed_refused(self):
        for text in ("", "12x", "h", "-1d", "1.5h", "99999999999999999999d"):
            code, output = regsupport.run_to_exit(self.tmp, ["--binding-ttl", text])
            self.assertEqual(code, 2, (text, output))
            self.assertIn("binding-ttl", output)


if __name__ == "__main__":
    unittest.main()
