#!/usr/bin/python3
"""The registry serving HTTPS itself: --tls-cert and --tls-key (issue 12).

Certificates come from a CA of the test's own (openssl, in a temporary
directory). Faults tried:
- a client that offers TLS 1.1 at most: refused (TLS 1.2 is the floor);
- plain HTTP sent to the HTTPS port: no answer, nothing served in clear;
- a certificate without its key, and a key that is not the
  certificate's: the registry refuses to start (exit status 1, a message);
- SIGHUP after the files were replaced: new connections, on every HTTP
  thread, get the new certificate while a connection opened before goes
  on with the old one, and the listening socket is never closed;
- SIGHUP with a broken certificate file: the one loaded before stays in
  use;
- handshakes that fail (plain HTTP, a client that gives up, junk) under
  max-connections 2: each gives its place back (a leaked count would
  leave the listener resting for good).
"""
import http.client
import os
import shutil
import signal
import socket
import ssl
import unittest
import warnings

import pbcerts
import pbtest
import regsupport


class RegistryTls(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.ca = pbcerts.CertAuthority(self.tmp)
        self.cert, self.key = self.tmp.join("served.pem"), self.tmp.join("served.key")
        self.install(*self.ca.issue("first"))
        self.registry = None

    def tearDown(self):
        if self.registry:
            self.assertEqual(self.registry.stop(), 0, self.registry.read_log())
        self.tmp.cleanup()

    def install(self, cert, key):
        """What the registry's files hold from now on (as an administrator
        replaces them: a new file renamed over the old one)."""
        for source, target in ((cert, self.cert), (key, self.key)):
            shutil.copy(source, target + ".new")
            os.rename(target + ".new", target)

    def start(self, *args):
        self.registry = pbtest.Registry(self.tmp, extra_args=args,
                                        tls=(self.cert, self.key, self.ca.client_context()))
        return self.registry.start()

    def connect(self):
        """A keep-alive HTTPS connection that verifies against our CA."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.registry.port, timeout=5,
                                           context=self.ca.client_context())
        conn.connect()
        return conn

    @staticmethod
    def get(conn, path="/healthz"):
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status

    @staticmethod
    def peer_pem(conn):
        return ssl.DER_cert_to_PEM_cert(conn.sock.getpeercert(binary_form=True))

    def test_serves_https_with_tls12_at_least(self):
        self.start()
        status, body, _ = self.registry.http().request("GET", "/healthz")
        self.assertEqual((status, body), (200, {"status": "ok"}))
        for version, accepted in ((ssl.TLSVersion.TLSv1_1, False),
                                  (ssl.TLSVersion.TLSv1_2, True),
                                  (ssl.TLSVersion.TLSv1_3, True)):
            with self.subTest(version=version):
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.load_verify_locations(self.ca.cert)
                context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer TLS 1.1
                with warnings.catch_warnings():  # deprecated: the point of the test
                    warnings.simplefilter("ignore", DeprecationWarning)
                    context.minimum_version = ssl.TLSVersion.TLSv1
                    context.maximum_version = version
                try:
                    with socket.create_connection(("127.0.0.1", self.registry.port), 5) as raw:
                        with context.wrap_socket(raw, server_hostname="localhost") as tls:
                            got = tls.version()
                except ssl.SSLError as error:
                    self.assertFalse(accepted, error)
                    self.assertIn("PROTOCOL_VERSION", str(error).upper())
                else:
                    self.assertTrue(accepted, got)

    def test_plain_http_gets_nothing(self):
        self.start()
        with socket.create_connection(("127.0.0.1", self.registry.port), 5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertNotIn(b"200", s.recv(4096))

    def test_failed_handshakes_free_their_place(self):
        self.start("--max-connections", "2")
        for payload in (b"GET / HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x00\x05junk", b"") * 5:
            with socket.create_connection(("127.0.0.1", self.registry.port), 5) as s:
                s.sendall(payload)
                s.settimeout(0.3)
                try:
                    s.recv(100)
                except (socket.timeout, ConnectionResetError):
                    pass
        conns = [self.connect(), self.connect()]
        for conn in conns:
            self.assertEqual(self.get(conn), 200)
            conn.close()

    def test_refuses_to_start_without_a_matching_key(self):
        _, other_key = self.ca.issue("other")
        for args, message in ((["--tls-cert", self.cert], "tls-key is missing"),
                              (["--tls-key", self.key], "tls-cert is missing"),
                              (["--tls-cert", self.cert, "--tls-key", other_key],
                               "key values mismatch"),
                              (["--tls-cert", self.tmp.join("missing.pem"), "--tls-key", self.key],
                               "cannot load TLS certificate")):
            with self.subTest(args=args):
                code, output = regsupport.run_to_exit(self.tmp, args)
                self.assertEqual(code, 1, output)
                self.assertIn(message, output)

    def test_sighup_reloads_for_new_connections_only(self):
        first = pbcerts.pem_of(self.cert)
        self.start("--threads", "2")
        old = self.connect()
        self.assertEqual(self.get(old), 200)
        self.install(*self.ca.issue("second"))
        second = pbcerts.pem_of(self.cert)
        self.assertNotEqual(first, second)
        self.registry.proc.send_signal(signal.SIGHUP)
        pbtest.wait_until(lambda: "TLS certificate reloaded" in self.registry.read_log(),
                          what="the reload")
        # several connections at once: the two threads' listeners both get some
        fresh = [self.connect() for _ in range(8)]
        for conn in fresh:
            self.assertEqual(self.peer_pem(conn), second)
            self.assertEqual(self.get(conn), 200)
            conn.close()
        self.assertEqual(self.peer_pem(old), first)
        self.assertEqual(self.get(old), 200, "the connection from before goes on")
        old.close()

    def test_sighup_with_a_broken_file_keeps_the_old_certificate(self):
        first = pbcerts.pem_of(self.cert)
        self.start()
        with open(self.cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
        self.registry.proc.send_signal(signal.SIGHUP)
        pbtest.wait_until(lambda: "TLS reload failed" in self.registry.read_log(),
                          what="the failed reload")
        conn = self.connect()
        self.assertEqual(self.peer_pem(conn), first)
        self.assertEqual(self.get(conn), 200)
        conn.close()


if __name__ == "__main__":
    unittest.main()
