#!/usr/bin/python3
"""Two PCs, one phone: the seed's rule that one phone is bound to at most
one client, and the privileged methods that change a binding.

Faults tried: a second PC (own bus, state, account) seeing a phone the
first one holds; Forget while the registry is down (must fail and change
nothing); a local binding the registry no longer backs (revoked); Forget
and Retry from a caller that is not root, with no polkit on the bus
(denied) and with a polkit that allows or denies (python3-dbusmock's
polkitd template); Forget of an unknown terminal.
"""
import os
import subprocess
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import dbus  # noqa: E402

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402

SERIAL = "R58M41SHARED"


def as_nobody(bus, *busctl_args):
    """busctl on the private bus as uid 65534; returns (exit code, output)."""
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "busctl",
         f"--address={bus.address}"] + list(busctl_args),
        capture_output=True, text=True, timeout=20, env={"PATH": os.environ["PATH"]})
    return proc.returncode, proc.stdout + proc.stderr


class TwoPcs(unittest.TestCase):
    """PC B has its own bus, state and shadow account and uses the same
    registry. It shares PC A's fake hardware (umockdev allows one testbed
    per process) and starts only when A has decided, so it meets the phone
    at its coldplug."""

    def setUp(self):
        self.a = pbdaemon.Scene()
        self.b = None

    def start_b(self):
        self.b_bus = pbtest.PrivateBus(self.a.tmp).start()
        self.b_listener = pbdaemon.Listener(self.b_bus)
        self.b = pbdaemon.Daemon(self.a.tmp, self.b_bus, self.a.testbed, self.a.registry.url,
                                 name="pc-b").start()

    def tearDown(self):
        try:
            if self.b:
                self.assertEqual(self.b.stop(), 0, self.b.read_log())
                self.b_listener.close()
                self.b_bus.stop()
        finally:
            self.assertEqual(self.a.stop(), 0, self.a.daemon.read_log())
            self.a.cleanup()

    def test_second_pc_refused_until_forgotten(self):
        _, a_path = self.a.attach(serial=SERIAL)
        self.assertEqual(self.a.listener.wait_decision(a_path)[2:], ("connect", "new-binding"))
        self.start_b()
        b_decision = self.b_listener.wait_decision()
        b_path = b_decision[1]
        self.assertEqual(b_decision[2:], ("keep-existing", "bound-elsewhere"))

        self.a.listener.manager().Forget(dbus.ObjectPath(a_path))  # we are root
        self.assertEqual(self.a.listener.wait_decision(a_path, count=2)[2:],
                         ("released", "forgotten"))
        time.sleep(0.3)
        self.assertEqual(len(self.a.listener.decisions(a_path)), 2,
                         "not bound again until re-attached or retried")

        self.b_listener.manager().Retry(dbus.ObjectPath(b_path))
        self.assertEqual(self.b_listener.wait_decision(b_path, count=2)[2:],
                         ("connect", "new-binding"))
        self.a.listener.manager().Retry(dbus.ObjectPath(a_path))
        self.assertEqual(self.a.listener.wait_decision(a_path, count=3)[2:],
                         ("keep-existing", "bound-elsewhere"))

    def test_forget_with_registry_down_changes_nothing(self):
        _, path = self.a.attach(serial=SERIAL)
        self.a.listener.wait_decision(path)
        self.a.registry.stop()
        with self.assertRaises(dbus.DBusException) as raised:
            self.a.listener.manager().Forget(dbus.ObjectPath(path))
        self.assertEqual(raised.exception.get_dbus_name(),
                         "org.phonebind1.Error.RegistryUnreachable")
        self.assertEqual(len(self.a.listener.decisions(path)), 1)
        self.a.registry.start()
        self.start_b()  # still A's: B is refused
        self.assertEqual(self.b_listener.wait_decision()[2:], ("keep-existing", "bound-elsewhere"))
        with self.assertRaises(dbus.DBusException) as raised:
            self.a.listener.manager().Forget(dbus.ObjectPath("/org/phonebind1/terminal/none"))
        self.assertEqual(raised.exception.get_dbus_name(), "org.phonebind1.Error.NoSuchTerminal")

    def test_local_binding_contradicted_is_revoked(self):
        a_sys, path = self.a.attach(serial=SERIAL)
        self.a.listener.wait_decision(path)
        self.a.testbed.remove(a_sys)
        # behind A's back: its binding released and another client's made
        with open(os.path.join(self.a.daemon.state_dir, "account")) as f:
            a_token = f.read().split()[1]
        http = self.a.registry.http()
        binding = f"/v1/terminals/usb:18d1:{SERIAL}/binding"
        self.assertEqual(http.request("DELETE", binding, token=a_token)[0], 204)
        self.assertEqual(http.request("PUT", binding, token=self.a.registry.new_account()[1])[0],
                         201)
        # A sees the phone again: local hit at once, then the confirm revokes it
        _, path = self.a.attach(serial=SERIAL)
        self.assertEqual(self.a.listener.wait_decision(path, count=2)[2:], ("connect", "known"))
        self.assertEqual(self.a.listener.wait_decision(path, count=3)[2:],
                         ("keep-existing", "revoked"))
        self.assertEqual(self.a.daemon.stop(), 0)
        self.a.registry.stop()
        self.a.daemon.start()  # the local record was dropped: no local hit any more
        self.assertEqual(self.a.listener.wait_decision(path, count=4)[2:],
                         ("pending", "registry-unreachable"))
        self.a.registry.start()
        self.assertEqual(self.a.listener.wait_decision(path, count=5)[2:],
                         ("keep-existing", "bound-elsewhere"))


class Authorization(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene()
        _, self.path = self.scene.attach(serial=SERIAL)
        self.scene.listener.wait_decision(self.path)
        self.polkit = None

    def tearDown(self):
        if self.polkit:
            self.stop_polkit()
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def call(self, method):
        return as_nobody(self.scene.bus, "call", "org.phonebind1", "/org/phonebind1",
                         "org.phonebind1.Manager", method, "o", self.path)

    def start_polkit(self, allowed):
        """python3-dbusmock's polkitd on the private bus, allowing `allowed`.
        Driven with busctl: a second dbus-python connection would share the
        listener thread's GLib loop."""
        self.polkit = subprocess.Popen(
            ["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "polkitd"],
            env=self.scene.bus.env({"PATH": os.environ["PATH"]}),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def set_allowed():
            return subprocess.run(
                ["busctl", f"--address={self.scene.bus.address}", "call",
                 "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                 "org.freedesktop.DBus.Mock", "SetAllowed", "as", str(len(allowed))] + allowed,
                capture_output=True, timeout=10).returncode == 0
        pbtest.wait_until(set_allowed, what="mock polkitd")

    def mock_polkit_method(self, code):
        """Replaces the mock's CheckAuthorization with `code` (dbusmock:
        args in, ret out)."""
        subprocess.run(
            ["busctl", f"--address={self.scene.bus.address}", "call",
             "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
             "org.freedesktop.DBus.Mock", "AddMethod", "sssss",
             "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", "(sa{sv})sa{ss}us",
             "(bba{ss})", code], check=True, capture_output=True, timeout=10)

    def stop_polkit(self):
        self.polkit.terminate()
        self.polkit.wait(5)
        self.polkit = None

    def test_reads_are_open_to_everyone(self):
        code, out = as_nobody(self.scene.bus, "call", "org.phonebind1", "/org/phonebind1",
                              "org.phonebind1.Manager", "ListTerminals")
        self.assertEqual(code, 0, out)
        self.assertIn(self.path, out)
        code, out = as_nobody(self.scene.bus, "get-property", "org.phonebind1", self.path,
                              "org.phonebind1.Terminal", "Decision")
        self.assertEqual((code, out.strip()), (0, 's "connect"'))

    def test_no_polkit_denies_non_root(self):
        for method in ("Forget", "Retry"):
            code, out = self.call(method)
            self.assertNotEqual(code, 0)
            self.assertIn("Access denied", out)
        self.assertEqual(len(self.scene.listener.decisions(self.path)), 1, "nothing changed")

    def test_polkit_decides_for_non_root(self):
        self.start_polkit([])
        code, out = self.call("Retry")
        self.assertNotEqual(code, 0, out)
        self.stop_polkit()
        self.start_polkit(["org.phonebind1.manage"])
        code, out = self.call("Retry")
        self.assertEqual(code, 0, out)
        self.assertEqual(self.scene.listener.wait_decision(self.path, count=2)[2:],
                         ("connect", "known"))
        code, out = self.call("Forget")
        self.assertEqual(code, 0, out)
        self.assertEqual(self.scene.listener.wait_decision(self.path, count=3)[2:],
                         ("released", "forgotten"))

    def test_interaction_only_when_the_caller_allows_it(self):
        """An admin-only action (auth_admin_keep): polkit can say yes only
        after asking. Without the message's interactive flag the daemon
        asks polkit not to prompt and answers InteractiveAuthorizationRequired
        (the caller may retry with the flag); with it, polkit may prompt."""
        self.start_polkit([])
        # yes only when allowed to prompt (args[3] is the flags), else "challenge"
        self.mock_polkit_method("ret = (bool(args[3] & 1), not (args[3] & 1), {})")
        code, out = self.call_retry(interactive=False)
        self.assertNotEqual(code, 0, out)
        self.assertIn("needs authentication", out)  # busctl shows the message only
        self.assertEqual(len(self.scene.listener.decisions(self.path)), 1, "nothing changed")
        code, out = self.call_retry(interactive=True)
        self.assertEqual(code, 0, out)
        self.assertEqual(self.scene.listener.wait_decision(self.path, count=2)[2:],
                         ("connect", "known"))

    def test_challenge_after_interaction_is_a_plain_no(self):
        """Fault: no agent to ask (polkit still says "challenge" although
        interaction was allowed): access denied, not a request to retry."""
        self.start_polkit([])
        self.mock_polkit_method("ret = (False, True, {})")
        code, out = self.call_retry(interactive=True)
        self.assertNotEqual(code, 0, out)
        self.assertIn("Access denied", out)

    def test_reset_account_is_privileged(self):
        """ResetAccount, like Forget and Retry: refused to an unauthorized
        caller, then (polkit allowing) carried out: here the account is
        not refused, so the daemon's own answer comes back."""
        code, out = as_nobody(self.scene.bus, "call", "org.phonebind1", "/org/phonebind1",
                              "org.phonebind1.Manager", "ResetAccount")
        self.assertNotEqual(code, 0)
        self.assertIn("Access denied", out)
        self.start_polkit(["org.phonebind1.manage"])
        code, out = as_nobody(self.scene.bus, "call", "org.phonebind1", "/org/phonebind1",
                              "org.phonebind1.Manager", "ResetAccount")
        self.assertNotEqual(code, 0)
        self.assertIn("has not refused", out)

    def test_a_slow_polkit_blocks_nothing(self):
        """Fault: polkit takes 2 s to answer. The check is asynchronous
        (polkit's, and the bus driver's word on the caller's uid before
        it): meanwhile other calls are answered and a new phone decided."""
        self.start_polkit(["org.phonebind1.manage"])
        self.mock_polkit_method("__import__('time').sleep(2); ret = (True, False, {})")
        slow = subprocess.Popen(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "busctl",
             f"--address={self.scene.bus.address}", "--timeout=10", "call", "org.phonebind1",
             "/org/phonebind1", "org.phonebind1.Manager", "Retry", "o", self.path],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PATH": os.environ["PATH"]})
        try:
            time.sleep(0.3)  # the check is with polkit now
            started = time.monotonic()
            self.scene.listener.manager().ListTerminals()
            _, other = self.scene.attach(serial="R58M41WHILE")
            self.assertEqual(self.scene.listener.wait_decision(other)[2:],
                             ("connect", "new-binding"))
            self.assertLess(time.monotonic() - started, 1.5, "the loop waited for polkit")
            self.assertIsNone(slow.poll(), "polkit answered sooner than it was told to")
        finally:
            self.assertEqual(slow.wait(10), 0)

    def call_retry(self, interactive):
        flag = "yes" if interactive else "no"
        return as_nobody(self.scene.bus, f"--allow-interactive-authorization={flag}", "call",
                         "org.phonebind1", "/org/phonebind1", "org.phonebind1.Manager", "Retry",
                         "o", self.path)


if __name__ == "__main__":
    unittest.main()
