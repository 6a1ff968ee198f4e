#!/usr/bin/python3
"""The registry's HTTP threads under Helgrind: each thread's evhttp and
listener must be touched by that thread alone.

Faults tried: SIGTERM with --threads 2, after both threads served requests.
The main thread used to remove the other threads' listeners itself
(evhttp_del_accept_socket on another thread's evhttp is not thread-safe:
a listener freed while its thread was accepting), and freed its signal
events after their event base. Helgrind reports both; suppressed are only
benign libevent internals (helgrind.supp). Skipped where valgrind is not
installed or the build uses sanitizers (valgrind cannot run those).
"""
import os
import shutil
import signal
import subprocess
import unittest

import pbtest

HERE = os.path.dirname(os.path.abspath(__file__))


def sanitized_build():
    try:
        with open(os.path.join(pbtest.BUILD_DIR, "CMakeCache.txt")) as f:
            return "PHONEBIND_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


class RegistryThreads(unittest.TestCase):
    def setUp(self):
        if shutil.which("valgrind") is None:
            self.skipTest("valgrind is not installed")
        if sanitized_build():
            self.skipTest("valgrind cannot run a sanitizer build")
        self.tmp = pbtest.TempDir()

    def tearDown(self):
        self.tmp.cleanup()

    def test_sigterm_with_two_threads_under_helgrind(self):
        report = self.tmp.join("helgrind.txt")
        wrapper = ["valgrind", "--tool=helgrind", "--error-exitcode=99",
                   f"--suppressions={HERE}/helgrind.supp", f"--log-file={report}"]
        registry = pbtest.Registry(self.tmp, extra_args=["--threads", "2"],
                                   wrapper=wrapper).start(timeout=120)
        _, token = registry.new_account()
        http = registry.http(timeout=60)
        for n in range(20):  # each on a new connection, which either thread may accept
            terminal = f"/v1/terminals/usb:18d1:HELGRIND{n}"
            self.assertEqual(http.request("PUT", terminal + "/binding", token=token)[0], 201)
            self.assertEqual(http.request("GET", terminal, token=token)[0], 200)
        code = registry.stop(signal.SIGTERM, timeout=120)
        with open(report) as f:
            text = f.read()
        self.assertIn("ERROR SUMMARY: 0 errors", text, text)
        self.assertEqual(code, 0, text)


if __name__ == "__main__":
    unittest.main()
