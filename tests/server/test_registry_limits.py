#!/usr/bin/python3
"""The registry's abuse limits (issue 12): rate-accounts, rate-requests,
max-connections, and running out of file descriptors.

Faults tried:
- one client address asking for shadow accounts beyond rate-accounts:
  429 with Retry-After, another address unhindered, served again once
  Retry-After has passed;
- one account's terminal calls beyond rate-requests (GET, PUT and
  DELETE alike): 429 with Retry-After, another account unhindered; an
  unknown token is still 401, not a 429 that would tell it apart;
- more idle connections than max-connections: the one over waits
  unanswered until one closes, then is answered;
- connections that end every way (closed at once, junk, a 400 that
  closes, half a request cut off, keep-alive closed by the client) each
  give their place back: a count that leaked would leave the listener
  resting for good under max-connections 2;
- a flood of connections under a low `ulimit -n` (prlimit): accept()
  fails with EMFILE; the registry must not spin (its CPU time over 2 s
  stays low), must say so once, and must serve again after;
- junk values for the limits: exit status 2.
"""
import os
import socket
import subprocess
import time
import unittest

import pbtest
import regsupport


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post_account_from(port, source):
    """POST /v1/accounts from the loopback address source: (status, Retry-After)."""
    with socket.create_connection(("127.0.0.1", port), 5, source_address=(source, 0)) as s:
        s.sendall(b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                  b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:])
    return int(head[0].split()[1]), headers.get("Retry-After")


class Limits(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        self.registry = None

    def tearDown(self):
        if self.registry:
            self.assertEqual(self.registry.stop(), 0, self.registry.read_log())
        self.tmp.cleanup()

    def start(self, *args, wrapper=()):
        self.registry = pbtest.Registry(self.tmp, extra_args=args, wrapper=wrapper).start()
        return self.registry.http()

    def test_rate_accounts_per_client_address(self):
        self.start("--rate-accounts", "60")  # bursts of 60, then one a second
        port = self.registry.port
        started, granted = time.monotonic(), 0
        while (answer := post_account_from(port, "127.0.0.1"))[0] == 201:
            granted += 1
            self.assertLess(granted, 200, "no limit")
        elapsed = time.monotonic() - started  # one more a second came meanwhile
        self.assertEqual(answer, (429, "1"))
        self.assertTrue(60 <= granted <= 60 + elapsed + 1, (granted, elapsed))
        self.assertEqual(post_account_from(port, "127.0.0.2")[0], 201, "another address")
        time.sleep(1.1)
        self.assertEqual(post_account_from(port, "127.0.0.1")[0], 201, "after Retry-After")

    def test_rate_requests_per_account(self):
        http = self.start("--rate-requests", "5")  # one every 12 s after the burst
        _, mine = self.registry.new_account()
        _, theirs = self.registry.new_account()
        terminal = "/v1/terminals/usb:18d1:R58M41LIMIT"
        calls = [("GET", terminal), ("PUT", terminal + "/binding"),
                 ("DELETE", terminal + "/binding"), ("GET", terminal), ("GET", terminal)]
        for method, path in calls:
            self.assertNotEqual(http.request(method, path, token=mine)[0], 429, (method, path))
        conn = http.connection()
        conn.request("PUT", terminal + "/binding", headers={"Authorization": f"Bearer {mine}"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        self.assertEqual(resp.status, 429, body)
        self.assertEqual(resp.getheader("Retry-After"), "12")
        self.assertIn(b"too-many-requests", body)
        self.assertEqual(http.request("GET", terminal, token=theirs)[0], 200, "another account")
        self.assertEqual(http.request("GET", terminal, token="f" * 64)[0], 401)

    def test_max_connections(self):
        self.start("--max-connections", "3")
        idle = [socket.create_connection(("127.0.0.1", self.registry.port), 5) for _ in range(3)]
        time.sleep(0.2)  # all three accepted
        over = socket.create_connection(("127.0.0.1", self.registry.port), 5)
        over.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        over.settimeout(1.0)
        with self.assertRaises(socket.timeout, msg="answered beyond max-connections"):
            over.recv(100)
        idle.pop().close()
        over.settimeout(5)
        self.assertTrue(over.recv(100).startswith(b"HTTP/1.1 200"))
        for s in idle + [over]:
            s.close()

    def test_every_way_a_connection_ends_frees_its_place(self):
        self.start("--max-connections", "2")
        port = self.registry.port
        endings = [b"", b"junk\r\n\r\n", b"GET /healthz HTTP/1.1\r\nContent-Length: 1\r\n"
                   b"Content-Length: 2\r\n\r\nab", b"PUT /v1/terminals/usb:18d1:X1/binding HTTP/1.1\r\n"
                   b"Content-Length: 100\r\n\r\n{", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"]
        for _ in range(5):
            for ending in endings:
                with socket.create_connection(("127.0.0.1", port), 5) as s:
                    s.sendall(ending)
                    s.settimeout(0.2)
                    try:
                        s.recv(4096)
                    except socket.timeout:
                        pass
        http = self.registry.http(timeout=5)
        for _ in range(2):  # each on a connection of its own, both places free again
            pbtest.wait_until(lambda: http.request("GET", "/healthz")[0] == 200, timeout=5,
                              what="a free place")
        both = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(2)]
        for s in both:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for s in both:
            s.settimeout(5)
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200"))
            s.close()

    def test_out_of_file_descriptors_does_not_spin(self):
        self.start(wrapper=["prlimit", "--nofile=48", "--"])
        pid = self.registry.proc.pid
        flood = [socket.create_connection(("127.0.0.1", self.registry.port), 5)
                 for _ in range(150)]
        time.sleep(0.5)  # accepted until EMFILE
        before = cpu_seconds(pid)
        time.sleep(2)
        spent = cpu_seconds(pid) - before
        self.assertLess(spent, 0.3, f"{spent} s of CPU in 2 s: a busy loop")
        log = self.registry.read_log()
        self.assertEqual(log.count("cannot accept connections: Too many open files"), 1, log)
        for s in flood:
            s.close()
        http = self.registry.http(timeout=2)

        def serves():
            try:
                return http.request("GET", "/healthz")[0] == 200
            except OSError:
                return False
        pbtest.wait_until(serves, timeout=10, what="the registry serving again")

    def test_junk_values_refused(self):
        for args in (["--rate-accounts", "-1"], ["--rate-requests", "many"],
                     ["--max-connections", "0"], ["--rate-accounts", ""],
                     ["--max-connections", "99999999999999999999"]):
            with self.subTest(args=args):
                code, output = regsupport.run_to_exit(self.tmp, args)
                self.assertEqual(code, 2, output)
                self.assertIn("must be a number", output)


if __name__ == "__main__":
    unittest.main()
