#!/usr/bin/python3
"""phonebindd when the registry misbehaves, and when its own store is bad.

Faults tried: the registry down when a new phone arrives (pending, then
exactly one more Decision when it returns), a registry that answers
garbage (a real HTTP server on loopback sending junk), a registry that
accepts connections and never answers (timeout), a corrupt store file and
an unwritable state directory (the daemon runs degraded and still decides
correctly through the registry), a full one.
"""
import http.server
import os
import socket
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402


class GarbageHandler(http.server.BaseHTTPRequestHandler):
    def _junk(self):
        body = b"<html>not the registry</html>"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _junk

    def log_message(self, *args):
        pass


class RegistryFaults(unittest.TestCase):
    def tearDown(self):
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def test_registry_down_then_back(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        self.scene.daemon.start()
        # the daemon has its shadow account; now the registry goes away
        pbtest.wait_until(lambda: "account sa-" in self.scene.daemon.read_log(), what="account")
        self.scene.registry.stop()
        _, path = self.scene.attach(serial="R58M41DOWN")
        self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                         ("pending", "registry-unreachable"))
        time.sleep(1.2)  # several retries fail: no more Decisions
        self.assertEqual(len(self.scene.listener.decisions(path)), 1)
        self.scene.registry.start()
        self.assertEqual(self.scene.listener.wait_decision(path, count=2)[2:],
                         ("connect", "new-binding"))
        time.sleep(0.3)
        self.assertEqual(len(self.scene.listener.decisions(path)), 2)

    def test_garbage_registry(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        with pbtest.http_server(GarbageHandler) as url:
            self.scene.daemon.registry_url = url
            self.scene.daemon.start()
            _, path = self.scene.attach(serial="R58M41JUNK")
            self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                             ("pending", "registry-unreachable"))
            self.assertIn("cannot obtain a shadow account", self.scene.daemon.read_log())

    def test_silent_registry(self):
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        self.scene = pbdaemon.Scene(start_daemon=False, daemon_args=["--registry-timeout", "300"])
        try:
            self.scene.daemon.registry_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
            self.scene.daemon.start()
            _, path = self.scene.attach(serial="R58M41SILENT")
            self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                             ("pending", "registry-unreachable"))
        finally:
            silent.close()

    def test_corrupt_store_runs_degraded(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        os.makedirs(self.scene.daemon.state_dir, mode=0o700)
        with open(os.path.join(self.scene.daemon.state_dir, "store.db"), "wb") as f:
            f.write(b"garbage " * 1000)
        self.scene.daemon.start()
        self.assertIn("running degraded", self.scene.daemon.read_log())
        _, path = self.scene.attach(serial="R58M41DEGRADED")
        self.assertEqual(self.scene.listener.wait_decision(path)[2:], ("connect", "new-binding"))
        # a phone bound elsewhere is still refused: degraded never binds wrongly
        _, other = self.scene.registry.new_account()
        self.scene.registry.http().request("PUT", "/v1/terminals/usb:18d1:R58M41TAKEN/binding",
                                           token=other)
        _, path = self.scene.attach(serial="R58M41TAKEN")
        self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                         ("keep-existing", "bound-elsewhere"))
        with open(os.path.join(self.scene.daemon.state_dir, "store.db"), "rb") as f:
            self.assertTrue(f.read().startswith(b"garbage "), "the corrupt file is left alone")

    def test_full_state_directory(self):
        """Fault: the state directory's file system fills up. Bindings the
        store cannot record are still decided through the registry, and a
        phone whose record was lost is restored from it on replug."""
        self.scene = pbdaemon.Scene(start_daemon=False)
        wrapper = pbtest.small_filesystem(self.scene.daemon.state_dir, "64k")
        if wrapper is None:
            self.skipTest("no mount namespace here for a small file system")
        self.scene.daemon.wrapper = wrapper
        self.scene.daemon.start()
        for n in range(40):
            syspath, path = self.scene.attach(serial=f"R58M41FULL{n:02d}")
            self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                             ("connect", "new-binding"))
            if "cannot record the binding locally" in self.scene.daemon.read_log():
                break
        else:
            self.fail("the store never ran out of space")
        self.scene.testbed.remove(syspath)
        self.scene.listener.wait_for(lambda e: e == ("TerminalDetached", path), what="detach")
        _, path = self.scene.attach(serial=f"R58M41FULL{n:02d}")
        self.assertEqual(self.scene.listener.wait_decision(path, count=2)[2:],
                         ("connect", "restored"))


if __name__ == "__main__":
    unittest.main()
