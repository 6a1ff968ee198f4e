#!/usr/bin/python3
"""The listening address belongs to one registry process, and SIGTERM
stops every HTTP thread.

Faults tried: a second registry started on the address of a running one
(with SO_REUSEPORT the kernel split connections between the two databases,
so one token was alternately 200 and 401); SIGTERM to a registry with four
threads while clients keep it busy (it must exit 0, promptly).
"""
import threading
import time
import unittest

import pbtest
import regsupport

TERMINAL = "/v1/terminals/usb:18d1:R58M41LISTEN"


class RegistryListen(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()

    def tearDown(self):
        self.tmp.cleanup()

    def test_second_registry_on_the_same_address_refused(self):
        first = pbtest.Registry(self.tmp, extra_args=["--threads", "2"]).start()
        try:
            _, token = first.new_account()
            http = first.http()
            self.assertEqual(http.request("PUT", TERMINAL + "/binding", token=token)[0], 201)
            other = pbtest.TempDir()
            try:
                code, output = regsupport.run_to_exit(other, ["--threads", "2"],
                                                      port=first.port)
            finally:
                other.cleanup()
            self.assertEqual(code, 1, output)
            self.assertIn("address already in use", output)
            self.assertIn(str(first.port), output)
            # every connection still reaches the first registry's database
            for _ in range(50):
                status, body, _ = http.request("GET", TERMINAL, token=token)
                self.assertEqual((status, body), (200, {"status": "bound-to-you"}))
        finally:
            self.assertEqual(first.stop(), 0)

    def test_sigterm_with_four_threads_under_load(self):
        registry = pbtest.Registry(self.tmp, extra_args=["--threads", "4"]).start()
        _, token = registry.new_account()
        stop = threading.Event()
        answered = [0] * 4

        def client(i):
            http = registry.http(timeout=5)
            while not stop.is_set():
                try:
                    http.request("PUT", f"/v1/terminals/usb:18d1:LOAD{i}x{answered[i]}/binding",
                                 token=token)
                    answered[i] += 1
                except OSError:
                    pass  # refused or cut once the registry stops
        clients = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for c in clients:
            c.start()
        try:
            pbtest.wait_until(lambda: min(answered) >= 20, timeout=30, what="load on all clients")
            started = time.monotonic()
            self.assertEqual(registry.stop(timeout=10), 0)
            self.assertLess(time.monotonic() - started, 5)
        finally:
            stop.set()
            for c in clients:
                c.join()
            registry.stop()
        self.assertIn("stopped", registry.read_log())


if __name__ == "__main__":
    unittest.main()
