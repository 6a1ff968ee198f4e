#!/usr/bin/python3
"""Requests a proxy and the registry could read two ways (issue 12), sent
over raw sockets to the real registry.

Faults tried (each must be 400 bad-framing and close the connection, so
that nothing after the first request on it is read):
- Content-Length: 2 then Content-Length: 40 (taken as 201 before);
- the same Content-Length twice;
- Content-Length with Transfer-Encoding: chunked;
- Transfer-Encoding other than chunked, or twice;
- "Content-Length : N" (a space before the colon: evhttp saw no length);
- a smuggling attempt: a second request inside a body that a proxy
  taking the last Content-Length would forward as one: never answered.
And the plain requests (one Content-Length; chunked alone) still work.

Debian's libevent (2.1.12-stable-8+deb12u1, with upstream's later
security fixes) refuses Content-Length beside Transfer-Encoding and a
repeated Transfer-Encoding itself, with an HTML 400 of its own, before
the registry's check sees them: either refusal passes here.
"""
import socket
import unittest

import pbtest


class Framing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = pbtest.TempDir()
        cls.registry = pbtest.Registry(cls.tmp).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.registry.stop()
        cls.tmp.cleanup()
        assert code == 0, code

    def exchange(self, head, body=b""):
        """Sends one request as bytes; returns every answer until the
        registry closes the connection (or 2 s pass)."""
        with socket.create_connection(("127.0.0.1", self.registry.port), 5) as s:
            s.sendall(head.replace(b"\n", b"\r\n") + b"\r\n" + body)
            s.settimeout(2)
            answer = b""
            try:
                while chunk := s.recv(4096):
                    answer += chunk
            except socket.timeout:
                answer += b"<still open>"
        return answer

    def assert_refused(self, answer, ours=True):
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)
        if ours:
            self.assertIn(b'"error":"bad-framing"', answer)
        self.assertIn(b"Connection: close", answer)
        self.assertEqual(answer.count(b"HTTP/1.1"), 1, answer)
        self.assertFalse(answer.endswith(b"<still open>"), answer)

    def test_ambiguous_requests_refused(self):
        account = b"POST /v1/accounts HTTP/1.1\nHost: x\n"
        chunked = b"2\r\n{}\r\n0\r\n\r\n"
        for head, body, ours in (
                (account + b"Content-Length: 2\nContent-Length: 40\n", b"{}" + b" " * 38, True),
                (account + b"Content-Length: 2\nContent-Length: 2\n", b"{}", True),
                (account + b"Content-Length: 7\nTransfer-Encoding: chunked\n", chunked, False),
                (account + b"Transfer-Encoding: chunked\nContent-Length: 7\n", chunked, False),
                (account + b"Transfer-Encoding: gzip, chunked\n", chunked, True),
                (account + b"Transfer-Encoding: chunked\nTransfer-Encoding: chunked\n", chunked,
                 False),
                (account + b"Content-Length : 2\n", b"{}", True),
                (account + b"Content-Length: +2\n", b"{}", True)):
            with self.subTest(head=head):
                self.assert_refused(self.exchange(head, body), ours)

    def test_smuggled_request_never_answered(self):
        """A proxy that takes the last Content-Length forwards this as one
        request with a 45-byte body; evhttp would read the first (0) and
        take the body for a second request: a lookup with no token the
        proxy never saw."""
        inner = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        head = (b"POST /v1/accounts HTTP/1.1\nHost: x\nContent-Length: 0\n"
                b"Content-Length: %d\n" % len(inner))
        answer = self.exchange(head, inner)
        self.assert_refused(answer)
        self.assertNotIn(b'"status":"ok"', answer)

    def test_plain_requests_still_served(self):
        answer = self.exchange(b"POST /v1/accounts HTTP/1.1\nHost: x\nContent-Length: 2\n"
                               b"Connection: close\n", b"{}")
        self.assertTrue(answer.startswith(b"HTTP/1.1 201 "), answer)
        answer = self.exchange(b"POST /v1/accounts HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n"
                               b"Connection: close\n", b"2\r\n{}\r\n0\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 201 "), answer)


if __name__ == "__main__":
    unittest.main()
