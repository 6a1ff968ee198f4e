#!/usr/bin/python3
"""Fencing of PUT and DELETE with Phonebind-Seq, and tombstones, on both
backends (SQLite's fence.c, PostgreSQL's plpgsql functions): the same cases.

Faults tried: a PUT that was delayed on the wire past the DELETE that came
after it (it must not bind the phone again: the invariant's scenario of a
Forget racing a claim), the same request sent twice (libcurl may resend),
a DELETE of a binding that never reached the registry (its tombstone must
still fence the late PUT), a restart between the DELETE and the late PUT
(tombstones are stored), sequences of two accounts kept apart, and junk in
the header (400 bad-seq).
"""
import http.client
import json
import unittest

import pbtest
import regsupport

TERMINAL = "/v1/terminals/usb:18d1:R58M41FENCE"
BINDING = TERMINAL + "/binding"


class RegistryFencingCases:
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.registry = self.backend.registry(self.tmp).start()
        self.http = self.registry.http()
        _, self.mine = self.registry.new_account()
        _, self.theirs = self.registry.new_account()

    def tearDown(self):
        self.assertEqual(self.registry.stop(), 0)
        self.tmp.cleanup()

    def send(self, method, seq=None, token=None, path=BINDING):
        headers = {} if seq is None else {"Phonebind-Seq": str(seq)}
        return self.http.request(method, path, token=token or self.mine, headers=headers)[:2]

    def status(self, token=None):
        return self.http.request("GET", TERMINAL, token=token or self.mine)[1]["status"]

    def assert_stale(self, answer, seq):
        status, body = answer
        self.assertEqual(status, 409, body)
        self.assertEqual(body["error"], "stale")
        self.assertEqual(body["seq"], seq)
        self.assertIn("message", body)

    def test_late_put_after_delete_of_unbound_binds_nothing(self):
        """PUT seq 5 delayed; DELETE seq 6 answered 404 (the PUT had not
        arrived); then the PUT seq 5 arrives: stale, nothing bound."""
        self.assertEqual(self.send("DELETE", 6)[0], 404)
        self.assert_stale(self.send("PUT", 5), 6)
        self.assertEqual(self.status(), "unbound")
        # a newer claim of the same account binds it
        self.assertEqual(self.send("PUT", 7)[0], 201)
        self.assertEqual(self.status(), "bound-to-you")

    def test_late_put_after_delete_of_binding_binds_nothing(self):
        self.assertEqual(self.send("PUT", 4)[0], 201)
        self.assertEqual(self.send("DELETE", 6)[0], 204)
        self.assert_stale(self.send("PUT", 5), 6)
        self.assertEqual(self.status(), "unbound")
        self.assert_stale(self.send("DELETE", 5), 6)

    def test_equal_sequence_is_the_same_request_again(self):
        self.assertEqual(self.send("PUT", 10)[0], 201)
        self.assertEqual(self.send("PUT", 10), (200, {"status": "bound-to-you"}))
        # an equal seq on our binding was the PUT's, not a DELETE's
        self.assert_stale(self.send("DELETE", 10), 10)
        self.assertEqual(self.status(), "bound-to-you")
        self.assertEqual(self.send("DELETE", 11)[0], 204)
        # the DELETE sent again: it is unbound now, so 404, changing nothing
        self.assertEqual(self.send("DELETE", 11)[0], 404)
        # the PUT of seq 11 is not this account's latest request: stale
        self.assert_stale(self.send("PUT", 11), 11)
        self.assertEqual(self.status(), "unbound")

    def test_sequences_are_per_account(self):
        self.assertEqual(self.send("PUT", 100, token=self.theirs)[0], 201)
        status, body = self.send("PUT", 1)
        self.assertEqual((status, body["error"]), (409, "bound-to-other"))
        self.assertEqual(self.send("DELETE", 2)[0], 403)
        # our DELETE's tombstone fences our own older PUT, not theirs
        self.assert_stale(self.send("PUT", 1), 2)
        self.assertEqual(self.send("DELETE", 101, token=self.theirs)[0], 204)
        self.assertEqual(self.send("PUT", 3)[0], 201)
        self.assertEqual(self.status(), "bound-to-you")

    def test_without_header_as_before_and_sequence_kept(self):
        self.assertEqual(self.send("PUT", 8)[0], 201)
        self.assertEqual(self.send("PUT")[0], 200)  # a renew keeps seq 8
        self.assert_stale(self.send("PUT", 7), 8)
        self.assertEqual(self.send("DELETE")[0], 204)  # tombstone with seq 8
        self.assert_stale(self.send("PUT", 7), 8)
        self.assertEqual(self.send("PUT")[0], 201)  # takes the tombstone's 8
        self.assert_stale(self.send("DELETE", 8), 8)
        self.assertEqual(self.send("DELETE", 9)[0], 204)

    def test_tombstone_survives_restart(self):
        self.assertEqual(self.send("PUT", 20)[0], 201)
        self.assertEqual(self.send("DELETE", 21)[0], 204)
        self.assertEqual(self.send("DELETE", 30, path=BINDING.replace("FENCE", "OTHER"))[0], 404)
        self.assertEqual(self.registry.stop(), 0)
        self.registry.start()
        self.assert_stale(self.send("PUT", 20), 21)
        self.assert_stale(self.send("PUT", 29, path=BINDING.replace("FENCE", "OTHER")), 30)
        self.assertEqual(self.status(), "unbound")

    def test_largest_sequence(self):
        largest = 2 ** 64 - 1
        self.assertEqual(self.send("PUT", largest - 1)[0], 201)
        self.assertEqual(self.send("DELETE", largest)[0], 204)
        self.assert_stale(self.send("PUT", largest - 1), largest)
        self.assertEqual(self.send("DELETE", largest)[0], 404)

    def raw(self, method, header_lines):
        conn = http.client.HTTPConnection("127.0.0.1", self.registry.port, timeout=10)
        try:
            conn.putrequest(method, BINDING)
            conn.putheader("Authorization", f"Bearer {self.mine}")
            for name, value in header_lines:
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"null")
        finally:
            conn.close()

    def test_malformed_sequence(self):
        for junk in ("-1", "+1", "1e3", "0", "0x10", " ", "", "1 2", "12a",
                     "18446744073709551616", "99999999999999999999", "000000000000000000001"):
            for method in ("PUT", "DELETE"):
                status, body = self.raw(method, [("Phonebind-Seq", junk)])
                self.assertEqual((status, body["error"]), (400, "bad-seq"), (method, junk))
        status, body = self.raw("PUT", [("Phonebind-Seq", "5"), ("Phonebind-Seq", "5")])
        self.assertEqual((status, body["error"]), (400, "bad-seq"))
        status, body = self.raw("PUT", [("phonebind-seq", "5"), ("PHONEBIND-SEQ", "6")])
        self.assertEqual((status, body["error"]), (400, "bad-seq"))
        self.assertEqual(self.status(), "unbound")
        # leading zeros within 20 digits are still the number
        self.assertEqual(self.raw("PUT", [("Phonebind-Seq", "007")])[0], 201)
        self.assert_stale(self.send("PUT", 6), 7)


class FenceAlikeOnBothBackends(unittest.TestCase):
    """The rules are written twice (fence.c for SQLite, plpgsql for
    PostgreSQL): random PUTs, DELETEs and lookups of two accounts on two
    terminals, with and without sequences drawn from a few values (so
    equal, lower and higher ones all come up), sent to a registry on each
    backend; every answer must be the same."""

    STEPS = 400

    def test_same_answers(self):
        import random
        seed = random.randrange(1 << 32)
        rng = random.Random(seed)
        tmp = pbtest.TempDir()
        pg_backend = regsupport.PostgreSQLBackend()
        registries = []
        try:
            pg_backend.start()
            registries = [regsupport.SQLiteBackend().registry(tmp).start(),
                          pg_backend.registry(tmp).start()]
            tokens = [[r.new_account()[1] for _ in range(2)] for r in registries]
            for step in range(self.STEPS):
                method = rng.choice(["PUT", "PUT", "DELETE", "GET"])
                who = rng.randrange(2)
                terminal = f"/v1/terminals/usb:18d1:DIFF{rng.randrange(2)}"
                headers = {}
                if method != "GET" and rng.random() < 0.85:
                    headers["Phonebind-Seq"] = str(rng.choice([1, 2, 3, 5, 8, 2 ** 63, 2 ** 64 - 1]))
                path = terminal if method == "GET" else terminal + "/binding"
                answers = [r.http().request(method, path, token=tokens[i][who],
                                            headers=headers)[:2]
                           for i, r in enumerate(registries)]
                self.assertEqual(answers[0], answers[1],
                                 f"seed {seed} step {step}: {method} {path} {headers} by {who}")
        finally:
            for r in registries:
                r.stop()
            pg_backend.stop()
            tmp.cleanup()


regsupport.for_each_backend(RegistryFencingCases, globals())

if __name__ == "__main__":
    unittest.main()
