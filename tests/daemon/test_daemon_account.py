#!/usr/bin/python3
"""The account when the registry refuses its token, and the log during
an outage (issue 9, finding 4 and a smaller defect).

Faults tried:
- The registry's database reset under a running daemon: its shadow
  token gets 401. It used to read as pending/registry-unreachable forever,
  retried and logged at every retry, and never recovered. Now: phones are
  pending/account-refused, AccountState is "refused", the log says it once
  with what to do, no new identity is made on its own; ResetAccount()
  makes one and the phones are checked again.
- ResetAccount() of an account that is not refused, and of a configured
  account (NotShadowAccount).
- A configured account whose token is refused: AccountState "refused",
  the Account still the configured name, and never a silent shadow
  account in its place (no shadow account file, none requested).
- A registry outage with several phones waiting: one warning when it goes,
  one line when it is back, not one per phone and retry.
"""
import os
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import dbus  # noqa: E402

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402


class RefusedAccount(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene()
        pbtest.wait_until(lambda: self.account_state() == "ready", what="an account")

    def tearDown(self):
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def manager_property(self, name):
        obj = self.scene.listener.connection.get_object("org.phonebind1", "/org/phonebind1",
                                                       introspect=False)
        return str(obj.Get("org.phonebind1.Manager", name,
                           dbus_interface="org.freedesktop.DBus.Properties"))

    def account_state(self):
        return self.manager_property("AccountState")

    def test_refused_token_is_said_and_reset_on_request(self):
        account = self.manager_property("Account")
        self.scene.registry.reset()
        _, path = self.scene.attach(serial="R58M41REFUSED")
        self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                         ("pending", "account-refused"))
        self.assertEqual(self.account_state(), "refused")
        time.sleep(1.5)  # several retries, all refused
        log = self.scene.daemon.read_log()
        self.assertEqual(log.count("refused the token"), 1, log)
        self.assertIn("phonebindctl reset-account", log)
        self.assertEqual(len(self.scene.listener.decisions(path)), 1, "pending is said once")
        self.assertEqual(self.manager_property("Account"), account, "no new identity on its own")
        with open(os.path.join(self.scene.daemon.state_dir, "account")) as f:
            self.assertTrue(f.read().startswith(account + " "))

        self.scene.listener.manager().ResetAccount()
        self.assertEqual(self.scene.listener.wait_decision(path, count=2)[2:],
                         ("connect", "new-binding"))
        self.assertEqual(self.account_state(), "ready")
        self.assertNotEqual(self.manager_property("Account"), account)
        self.assertTrue(os.path.exists(os.path.join(self.scene.daemon.state_dir,
                                                    "account.refused")))

    def test_reset_needs_a_refused_account(self):
        with self.assertRaises(dbus.DBusException) as raised:
            self.scene.listener.manager().ResetAccount()
        self.assertEqual(raised.exception.get_dbus_name(),
                         "org.phonebind1.Error.AccountNotRefused")

    def test_outage_logged_once(self):
        self.scene.registry.stop()
        paths = [self.scene.attach(serial=f"R58M41OUT{n}")[1] for n in range(3)]
        for path in paths:
            self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                             ("pending", "registry-unreachable"))
        self.assertEqual(self.account_state(), "unreachable")
        time.sleep(1.5)  # retries at 0.1 .. 0.5 s: a dozen each
        self.scene.registry.start()
        for path in paths:
            self.assertEqual(self.scene.listener.wait_decision(path, count=2)[2:],
                             ("connect", "new-binding"))
        log = self.scene.daemon.read_log()
        warnings = [line for line in log.splitlines()
                    if "warning" in line and "registry" in line]
        self.assertEqual(len(warnings), 1, "\n".join(warnings))
        self.assertEqual(log.count("reachable again"), 1)
        self.assertEqual(self.account_state(), "ready")


class ConfiguredAccount(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        _, token = self.scene.registry.new_account()
        self.token_file = self.scene.tmp.join("token")
        with open(self.token_file, "w") as f:
            f.write(token + "\n")
        os.chmod(self.token_file, 0o600)
        self.scene.daemon.extra_args = ["--account", "pc-lab-7", "--token-file", self.token_file]
        self.scene.daemon.start()

    def tearDown(self):
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def test_configured_account_is_not_reset(self):
        self.scene.registry.reset()
        _, path = self.scene.attach(serial="R58M41CONF")
        self.assertEqual(self.scene.listener.wait_decision(path)[2:],
                         ("pending", "account-refused"))
        self.assertIn(self.token_file, self.scene.daemon.read_log())
        self.assertEqual(self.manager_property("AccountState"), "refused")
        self.assertEqual(self.manager_property("Account"), "pc-lab-7")
        time.sleep(1.0)  # retries, all refused: still no identity of its own
        self.assertFalse(os.path.exists(os.path.join(self.scene.daemon.state_dir, "account")))
        self.assertEqual(self.manager_property("Account"), "pc-lab-7")
        # the one the test made for the configuration, and no other
        self.assertEqual(self.scene.registry.read_log().count("created shadow account"), 1)
        with self.assertRaises(dbus.DBusException) as raised:
            self.scene.listener.manager().ResetAccount()
        self.assertEqual(raised.exception.get_dbus_name(),
                         "org.phonebind1.Error.NotShadowAccount")
        # the administrator's remedy: a valid token, then a reload
        _, token = self.scene.registry.new_account()
        with open(self.token_file, "w") as f:
            f.write(token + "\n")
        self.scene.daemon.proc.send_signal(1)  # SIGHUP
        self.assertEqual(self.scene.listener.wait_decision(path, count=2)[2:],
                         ("connect", "new-binding"))
        self.assertEqual(self.manager_property("AccountState"), "ready")

    def manager_property(self, name):
        return RefusedAccount.manager_property(self, name)


if __name__ == "__main__":
    unittest.main()
