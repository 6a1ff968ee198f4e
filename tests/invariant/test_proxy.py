#!/usr/bin/python3
"""The invariant test's delaying proxy against a small HTTP server: what
it passes on, what it holds, and that a held request lands even after its
client gave up."""
import http.client
import http.server
import socket
import threading
import time
import unittest

import pbtest
import delayproxy as proxy


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Upstream.seen.append((time.monotonic(), self.command, self.path, body))
        answer = f'{{"method":"{self.command}"}}'.encode()
        self.send_response(201 if self.command == "PUT" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


class DelayingProxy(unittest.TestCase):
    def setUp(self):
        Upstream.seen = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.proxy = None

    def tearDown(self):
        if self.proxy:
            self.proxy.stop()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def start(self, hold):
        self.proxy = proxy.DelayingProxy(self.server.server_port, seed=1, hold=hold,
                                         long_hold=(0.6, 0.6), short_hold=(0.6, 0.6)).start()
        return http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=5)

    def test_passes_requests_on_a_kept_connection(self):
        conn = self.start(hold={})
        for method in ("GET", "PUT", "DELETE"):
            conn.request(method, "/v1/x", body=b"{}" if method == "PUT" else None)
            answer = conn.getresponse()
            self.assertEqual(answer.read(), f'{{"method":"{method}"}}'.encode())
            self.assertEqual(answer.status, 201 if method == "PUT" else 200)
        conn.close()
        self.assertEqual([s[1:] for s in Upstream.seen],
                         [("GET", "/v1/x", b""), ("PUT", "/v1/x", b"{}"),
                          ("DELETE", "/v1/x", b"")])

    def test_held_request_lands_after_the_client_left(self):
        conn = self.start(hold={"PUT": (1.0, 0.0)})
        conn.timeout = 0.1
        sent = time.monotonic()
        conn.request("PUT", "/v1/late", body=b"")
        with self.assertRaises(socket.timeout):
            conn.getresponse()
        conn.close()
        self.assertEqual(Upstream.seen, [], "still held")
        self.assertTrue(self.proxy.drain(timeout=5))
        self.assertEqual([s[1:3] for s in Upstream.seen], [("PUT", "/v1/late")])
        self.assertGreaterEqual(Upstream.seen[0][0] - sent, 0.55)
        pbtest.wait_until(lambda: self.proxy.snapshot()[0].get("client_gone"), timeout=5,
                          what="the answer found nobody")
        self.assertEqual(self.proxy.stats()["held_late"], 1)

    def test_drain_stops_holding(self):
        conn = self.start(hold={"GET": (1.0, 0.0)})
        self.proxy.drain()
        began = time.monotonic()
        conn.request("GET", "/v1/now")
        self.assertEqual(conn.getresponse().status, 200)
        self.assertLess(time.monotonic() - began, 0.5)
        conn.close()

    def test_upstream_down(self):
        conn = self.start(hold={})
        self.server.shutdown()
        self.server.server_close()
        self.server = None
        conn.request("GET", "/v1/gone")
        answer = conn.getresponse()
        answer.read()
        self.assertEqual(answer.status, 503)
        self.assertEqual(self.proxy.snapshot()[0]["status"], "refused")
        conn.request("GET", "/v1/gone")  # the client's connection still works
        self.assertEqual(conn.getresponse().status, 503)
        conn.close()

    def test_junk_closes_only_that_connection(self):
        self.start(hold={})
        with socket.create_connection(("127.0.0.1", self.proxy.port), timeout=5) as junk:
            junk.sendall(b"NOT HTTP\r\n\r\n")
            self.assertEqual(junk.recv(100), b"")
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=5)
        conn.request("GET", "/v1/after")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()


if __name__ == "__main__":
    unittest.main()
