#!/usr/bin/python3
"""phonebind-registry's HTTP API against the real server on loopback, on
both backends (SQLite, and a real PostgreSQL server): the same cases.

Faults tried: missing and unknown tokens (401; also one digit off, a
prefix, a longer one, right after the right token), a release by a stranger
(403), unknown paths (404), wrong methods (405), a second claim (409), a
body that is not a JSON object (400), restarts (bindings must survive), and
the database files searched for raw identifiers (privacy: SQLite's files,
PostgreSQL's data directory after a checkpoint).
"""
import os
import unittest

import pbtest
import regsupport

IMEI = "490154203237518"
SERIAL = "R58M41QWERTY"


class RegistryApiCases:
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.registry = self.backend.registry(self.tmp).start()
        self.http = self.registry.http()

    def tearDown(self):
        self.assertEqual(self.registry.stop(), 0)
        self.tmp.cleanup()

    def test_accounts_are_unique_and_body_is_optional(self):
        accounts = {self.registry.new_account()[0] for _ in range(20)}
        self.assertEqual(len(accounts), 20)
        status, body, _ = self.http.request("POST", "/v1/accounts", body={"label": "pc"})
        self.assertEqual(status, 201)
        self.assertEqual(len(body["token"]), 64)
        for raw in (b"[1,2]", b"not json", b'"string"', b"{"):
            status, body, _ = self.http.request("POST", "/v1/accounts", raw_body=raw)
            self.assertEqual(status, 400, raw)
            self.assertEqual(body["error"], "bad-json")

    def test_binding_lifecycle(self):
        _, mine = self.registry.new_account()
        _, theirs = self.registry.new_account()
        path = f"/v1/terminals/imei:{IMEI}"
        self.assertEqual(self.http.request("GET", path, token=mine)[1], {"status": "unbound"})
        self.assertEqual(self.http.request("PUT", path + "/binding", token=mine)[0], 201)
        self.assertEqual(self.http.request("PUT", path + "/binding", token=mine)[0], 200)
        status, body, _ = self.http.request("PUT", path + "/binding", token=theirs)
        self.assertEqual(status, 409)
        self.assertEqual(body["status"], "bound-to-other")
        self.assertEqual(body["error"], "bound-to-other")
        self.assertIn("message", body)
        self.assertEqual(self.http.request("GET", path, token=mine)[1]["status"], "bound-to-you")
        self.assertEqual(self.http.request("GET", path, token=theirs)[1]["status"],
                         "bound-to-other")
        self.assertEqual(self.http.request("DELETE", path + "/binding", token=theirs)[0], 403)
        self.assertEqual(self.http.request("DELETE", path + "/binding", token=mine)[0], 204)
        self.assertEqual(self.http.request("DELETE", path + "/binding", token=mine)[0], 404)
        self.assertEqual(self.http.request("PUT", path + "/binding", token=theirs)[0], 201)

    def test_authentication(self):
        path = f"/v1/terminals/usb:18d1:{SERIAL}"
        self.assertEqual(self.http.request("GET", path)[0], 401)
        self.assertEqual(self.http.request("GET", path, token="0" * 64)[0], 401)
        status, body, _ = self.http.request("PUT", path + "/binding",
                                            headers={"Authorization": "Basic Zm9vOmJhcg=="})
        self.assertEqual(status, 401)
        self.assertEqual(body["error"], "unauthorized")
        # The registry remembers the last token's hash per thread: a token
        # one digit off, or a prefix of it, right after it must not pass.
        _, token = self.registry.new_account()
        self.assertEqual(self.http.request("GET", path, token=token)[0], 200)
        wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
        self.assertEqual(self.http.request("GET", path, token=wrong)[0], 401)
        self.assertEqual(self.http.request("GET", path, token=token)[0], 200)
        self.assertEqual(self.http.request("GET", path, token=token[:-1])[0], 401)
        self.assertEqual(self.http.request("GET", path, token=token + "0")[0], 401)

    def test_unknown_paths_and_methods(self):
        _, token = self.registry.new_account()
        for path in ("/", "/v1", "/v1/terminals/", "/v1/terminals/x/other", "/v2/accounts"):
            status, body, _ = self.http.request("GET", path, token=token)
            self.assertEqual(status, 404, path)
            self.assertEqual(body["error"], "not-found")
        for method, path in (("GET", "/v1/accounts"), ("DELETE", "/v1/terminals/x"),
                             ("POST", "/v1/terminals/x/binding"), ("PATCH", "/healthz")):
            status, body, _ = self.http.request(method, path, token=token)
            self.assertEqual(status, 405, (method, path))
            self.assertEqual(body["error"], "method-not-allowed")

    def test_bad_identifiers(self):
        _, token = self.registry.new_account()
        longest = "usb:18d1:" + "ab" * 63  # a serial of 126 bytes, the most there is
        for path in ("/v1/terminals/a%zz", "/v1/terminals/a%0", "/v1/terminals/a%00b",
                     "/v1/terminals/" + "x" * 300, "/v1/terminals/a%0Ab/binding",
                     # outside the grammar (issue 12: %20 was 200 unbound)
                     "/v1/terminals/%20", "/v1/terminals/x", "/v1/terminals/x/binding",
                     "/v1/terminals/usb:18D1:R58M41", "/v1/terminals/usb:18d1:unknown",
                     "/v1/terminals/usb:18d1:%20R58M41", "/v1/terminals/imei:490154203237519",
                     "/v1/terminals/" + longest + "a"):
            method = "PUT" if path.endswith("/binding") else "GET"
            status, body, _ = self.http.request(method, path, token=token)
            self.assertEqual(status, 400, path)
            self.assertEqual(body["error"], "bad-terminal-id")
        for terminal in (longest, f"imei:{IMEI}", "usb:05ac:00008030-001A2D3C3E0B802E"):
            self.assertEqual(self.http.request("GET", "/v1/terminals/" + terminal, token=token)[0],
                             200, terminal)

    def test_bindings_survive_restart_and_no_raw_ids_are_stored(self):
        account, mine = self.registry.new_account()
        _, theirs = self.registry.new_account()
        ids = [f"imei:{IMEI}", f"usb:18d1:{SERIAL}"]
        for terminal in ids:
            self.assertEqual(
                self.http.request("PUT", f"/v1/terminals/{terminal}/binding", token=mine)[0], 201)
        self.assertEqual(self.registry.stop(), 0)
        self.registry.start()
        for terminal in ids:
            status, _, _ = self.http.request("PUT", f"/v1/terminals/{terminal}/binding",
                                             token=theirs)
            self.assertEqual(status, 409)
            self.assertEqual(self.http.request("GET", f"/v1/terminals/{terminal}",
                                               token=mine)[1]["status"], "bound-to-you")
        files = self.backend.stored_files(self.registry)
        self.assertTrue(files)
        seen_account = False
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            seen_account = seen_account or account.encode() in data
            for secret in (IMEI, SERIAL, mine):
                self.assertNotIn(secret.encode(), data, f"{secret} found in {path}")
        # the search reads what is stored: the account id is, in the clear
        self.assertTrue(seen_account)
        log = self.registry.read_log()
        for secret in (IMEI, SERIAL, mine):
            self.assertNotIn(secret, log)
        key = os.path.join(self.tmp.path, "terminal-id.key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)

    def test_health_and_metrics_use_route_templates(self):
        _, token = self.registry.new_account()
        self.http.request("GET", f"/v1/terminals/imei:{IMEI}", token=token)
        self.http.request("PUT", f"/v1/terminals/imei:{IMEI}/binding", token=token)
        status, body, _ = self.http.request("GET", "/healthz")
        self.assertEqual((status, body), (200, {"status": "ok"}))
        status, _, raw = self.http.request("GET", "/metrics")
        text = raw.decode()
        self.assertEqual(status, 200)
        self.assertIn('phonebind_registry_requests_total{route="/v1/terminals/{id}",status="200"} 1',
                      text)
        self.assertIn('phonebind_registry_claims_total{outcome="bound"} 1', text)
        self.assertIn("phonebind_registry_request_duration_seconds_bucket", text)
        self.assertNotIn(IMEI, text)


regsupport.for_each_backend(RegistryApiCases, globals())

if __name__ == "__main__":
    unittest.main()
