#!/usr/bin/python3
"""Malformed and hostile input leaves phonebind-registry healthy.

Faults tried: a body over the limit (413), a 1 MiB body, raw garbage on the
socket, a request cut off half-way, a client that connects and says nothing,
oversized headers, SIGTERM while a slow client holds a connection, and a
full file system.
"""
import os
import socket
import time
import unittest

import pbtest


class RegistryFaults(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.registry = pbtest.Registry(self.tmp).start()
        self.http = self.registry.http()
        self.account, self.token = self.registry.new_account()

    def tearDown(self):
        self.registry.stop()
        self.tmp.cleanup()

    def assert_healthy(self):
        self.assertEqual(self.http.request("GET", "/healthz")[0], 200)
        # and it still does real work
        status, _, _ = self.http.request("PUT", f"/v1/terminals/usb:18d1:H{time.monotonic_ns()}"
                                         "/binding", token=self.token)
        self.assertEqual(status, 201)

    def raw(self, data, read=True):
        with socket.create_connection(("127.0.0.1", self.registry.port), timeout=5) as s:
            s.sendall(data)
            if not read:
                return b""
            chunks = []
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except (ConnectionResetError, socket.timeout):
                pass
            return b"".join(chunks)

    def test_body_over_limit(self):
        status, body, _ = self.http.request("POST", "/v1/accounts",
                                            raw_body=b'{"pad":"' + b"x" * 5000 + b'"}')
        self.assertEqual(status, 413)
        self.assertEqual(body["error"], "too-large")
        try:
            status = self.http.request("POST", "/v1/accounts", raw_body=b"x" * (1 << 20))[0]
            self.assertEqual(status, 413)
        except (ConnectionResetError, BrokenPipeError):
            pass  # evhttp may close the connection before reading it all
        self.assert_healthy()

    def test_garbage_on_socket(self):
        reply = self.raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
        self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1.1 400"), reply[:40])
        self.raw(b"GET /healthz HTTP/9.9\r\n\r\n")
        self.raw(b"\r\n" * 100)
        self.assert_healthy()

    def test_oversized_headers(self):
        reply = self.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20000 +
                         b"\r\n\r\n")
        self.assertFalse(reply.startswith(b"HTTP/1.1 200"))
        self.assert_healthy()

    def test_half_sent_and_silent_clients(self):
        silent = socket.create_connection(("127.0.0.1", self.registry.port))
        half = socket.create_connection(("127.0.0.1", self.registry.port))
        half.sendall(b"PUT /v1/terminals/x/binding HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"a\"")
        self.assert_healthy()  # neither blocks anyone else
        half.close()
        silent.close()
        self.assert_healthy()

    def test_sigterm_with_a_connection_open(self):
        half = socket.create_connection(("127.0.0.1", self.registry.port))
        half.sendall(b"GET /healthz HTTP/1.1\r\n")
        started = time.monotonic()
        self.assertEqual(self.registry.stop(), 0)
        self.assertLess(time.monotonic() - started, 5)
        half.close()
        self.assertIn("stopped", self.registry.read_log())
        self.registry.start()  # the database closed cleanly and reopens
        self.assert_healthy()


class FullDisk(unittest.TestCase):
    """Fault: the registry's file system fills up. Claims that cannot be
    stored are refused (503 storage-full), never answered 201; bindings
    made before stay bound and answer lookups; the server stays up."""

    def setUp(self):
        self.tmp = pbtest.TempDir()
        directory = self.tmp.join("small")
        wrapper = pbtest.small_filesystem(directory, "400k")
        if wrapper is None:
            self.skipTest("no mount namespace here for a small file system")
        self.registry = pbtest.Registry(self.tmp, database=os.path.join(directory, "r.db"),
                                        wrapper=wrapper).start()
        self.http = self.registry.http()

    def tearDown(self):
        self.registry.stop()
        self.tmp.cleanup()

    def test_claims_refused_when_full_and_nothing_lost(self):
        _, token = self.registry.new_account()
        bound = []
        for n in range(20000):
            terminal = f"usb:18d1:FULL{n:06d}"
            status, body, _ = self.http.request("PUT", f"/v1/terminals/{terminal}/binding",
                                                token=token)
            if status != 201:
                break
            bound.append(terminal)
        self.assertEqual((status, body["error"]), (503, "storage-full"), body)
        self.assertGreater(len(bound), 20)  # each commit appends 4 KiB to the WAL
        status, body, _ = self.http.request("PUT", f"/v1/terminals/{terminal}/binding",
                                            token=token)
        self.assertEqual(status, 503)
        self.assertEqual(self.http.request("GET", f"/v1/terminals/{terminal}",
                                           token=token)[1]["status"], "unbound")
        for terminal in bound[:5] + bound[-5:]:
            self.assertEqual(self.http.request("GET", f"/v1/terminals/{terminal}",
                                               token=token)[1]["status"], "bound-to-you")
        self.assertEqual(self.http.request("GET", "/healthz")[0], 200)
        self.assertIn("storage failed", self.registry.read_log())


if __name__ == "__main__":
    unittest.main()
