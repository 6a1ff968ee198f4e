#!/usr/bin/python3
"""Forget and Retry against requests still on the wire, and Forgets whose
answer is lost (issue 9, finding 3; DESIGN.md "Contract, second part",
Forget).

A delaying proxy (tests/support/delayproxy.py) stands between the daemon and
the real registry and holds chosen requests, then delivers them late,
even after the daemon gave up on them. Faults tried:
- Forget while the background confirmation (PUT) of a known phone is held:
  the daemon used to send DELETE at once; the late PUT then bound the
  phone again behind released/forgotten. Forget must wait for the answer.
- Forget after that PUT timed out at the daemon (so there is nothing left
  to wait for) while it is still held: only fencing (Phonebind-Seq) keeps
  the late PUT from binding: it must get 409 stale.
- A Forget whose DELETE's answer is lost: ReleaseUnconfirmed, the phone
  pending/releasing, Forget and Retry Busy, the DELETE repeated until the
  registry answers, then released/forgotten.
- The same with the daemon stopped and the phone unplugged before the
  registry answered: the release is taken up again after the restart.
- A release still unconfirmed when the registry's database is reset: its
  DELETE meets 401; after ResetAccount the release of the old account is
  dropped and the phone released (the new account holds nothing), not
  left pending/releasing for ever.
- Retry while a claim is held: Retry cut it short and checked again
  (keep-existing, another client held the phone), and when that client
  let go, the late claim bound the phone to the PC that said
  keep-existing. Retry must wait for the claim's answer.
"""
import os
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import dbus  # noqa: E402

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402

from delayproxy import DelayingProxy  # noqa: E402

SERIAL = "R58M41FORGET"
TERMINAL = f"/v1/terminals/usb:18d1:{SERIAL}"


class ForgetRaces(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene(start_daemon=False)
        self.proxy = DelayingProxy(self.scene.registry.port, seed=1, hold={}).start()

    def tearDown(self):
        self.proxy.stop()
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def start_daemon(self, timeout_ms=5000):
        self.scene.daemon.registry_url = self.proxy.url
        self.scene.daemon.extra_args = ["--registry-timeout", str(timeout_ms)]
        self.scene.daemon.start()

    def token(self):
        with open(os.path.join(self.scene.daemon.state_dir, "account")) as f:
            return f.read().split()[1]

    def registry_status(self):
        status, body, _ = self.scene.registry.http().request("GET", TERMINAL, token=self.token())
        self.assertEqual(status, 200)
        return body["status"]

    def bind_then_replug(self):
        """Binds the phone, unplugs it and plugs it in again: a local hit,
        connect/known at once, and a background confirmation (PUT)."""
        syspath, path = self.scene.attach(serial=SERIAL)
        self.assertEqual(self.scene.listener.wait_decision(path)[2:], ("connect", "new-binding"))
        self.scene.testbed.remove(syspath)
        self.scene.listener.wait_for(lambda e: e == ("TerminalDetached", path), what="detach")
        return path

    def hold(self, method, seconds):
        self.proxy.hold = {method: (1.0, 0.0)}
        self.proxy.long_hold = (seconds, seconds)

    def forget(self, path):
        return self.scene.listener.manager().Forget(dbus.ObjectPath(path), timeout=20)

    def test_forget_waits_for_the_confirmation_on_the_wire(self):
        self.start_daemon()
        path = self.bind_then_replug()
        self.hold("PUT", 1.0)
        self.scene.attach(serial=SERIAL)
        self.assertEqual(self.scene.listener.wait_decision(path, count=2)[2:], ("connect", "known"))
        self.forget(path)  # the confirmation is held in the proxy right now
        self.assertEqual(self.scene.listener.wait_decision(path, count=3)[2:],
                         ("released", "forgotten"))
        self.assertTrue(self.proxy.drain())
        self.assertEqual(self.registry_status(), "unbound",
                         "the confirmation landed after the release and bound the phone again")

    def test_a_put_the_daemon_gave_up_on_is_fenced(self):
        self.start_daemon(timeout_ms=300)
        path = self.bind_then_replug()
        self.hold("PUT", 1.5)  # longer than the daemon waits
        self.scene.attach(serial=SERIAL)
        self.assertEqual(self.scene.listener.wait_decision(path, count=2)[2:], ("connect", "known"))
        pbtest.wait_until(lambda: self.proxy.stats()["held_now"] > 0, what="a held PUT")
        time.sleep(0.4)  # the daemon has given up on it
        self.forget(path)
        self.assertEqual(self.scene.listener.wait_decision(path, count=3)[2:],
                         ("released", "forgotten"))
        self.assertTrue(self.proxy.drain())
        late = [r for r in self.proxy.snapshot() if r["method"] == "PUT" and r["hold"] > 0]
        self.assertTrue(late and all(r.get("status") == 409 for r in late),
                        f"late PUTs must be refused as stale: {late}")
        self.assertEqual(self.registry_status(), "unbound")

    def test_lost_answer_is_repeated_until_settled(self):
        self.start_daemon(timeout_ms=300)
        path = self.bind_then_replug()
        _, path = self.scene.attach(serial=SERIAL)
        self.scene.listener.wait_decision(path, count=2)
        time.sleep(0.3)  # its confirmation answered
        self.hold("DELETE", 1.0)
        with self.assertRaises(dbus.DBusException) as raised:
            self.forget(path)
        self.assertEqual(raised.exception.get_dbus_name(),
                         "org.phonebind1.Error.ReleaseUnconfirmed")
        self.assertEqual(self.scene.listener.wait_decision(path, count=3)[2:],
                         ("pending", "releasing"))
        for method in ("Forget", "Retry"):
            with self.assertRaises(dbus.DBusException) as raised:
                getattr(self.scene.listener.manager(), method)(dbus.ObjectPath(path))
            self.assertEqual(raised.exception.get_dbus_name(), "org.phonebind1.Error.Busy")
        self.proxy.set_holding(False)
        self.assertEqual(self.scene.listener.wait_decision(path, count=4)[2:],
                         ("released", "forgotten"))
        self.assertTrue(self.proxy.drain())
        self.assertEqual(self.registry_status(), "unbound")
        time.sleep(0.5)  # nothing claimed it again
        self.assertEqual(len(self.scene.listener.decisions(path)), 4)
        self.assertEqual(self.registry_status(), "unbound")

    def test_pending_release_survives_restart_and_unplug(self):
        self.start_daemon(timeout_ms=300)
        self.bind_then_replug()
        syspath, path = self.scene.attach(serial=SERIAL)
        self.scene.listener.wait_decision(path, count=2)
        time.sleep(0.3)
        self.hold("DELETE", 60)  # never delivered: the proxy goes away first
        with self.assertRaises(dbus.DBusException) as raised:
            self.forget(path)
        self.assertEqual(raised.exception.get_dbus_name(),
                         "org.phonebind1.Error.ReleaseUnconfirmed")
        self.scene.testbed.remove(syspath)
        self.scene.listener.wait_for(lambda e: e == ("TerminalDetached", path) and
                                     self.scene.listener.events.count(e) == 2, what="detach")
        self.assertEqual(self.scene.daemon.stop(), 0, self.scene.daemon.read_log())
        self.proxy.stop()
        self.assertEqual(self.registry_status(), "bound-to-you", "no DELETE reached it yet")

        self.scene.daemon.registry_url = self.scene.registry.url
        self.scene.daemon.start()
        log = self.scene.daemon.read_log
        pbtest.wait_until(lambda: "binding released" in log(since_start=True),
                          what="the release settled")
        self.assertEqual(self.registry_status(), "unbound")
        self.assertIn("not confirmed before the last stop", self.scene.daemon.read_log())
        # settled: the local record is gone too, so the phone is new again
        _, path = self.scene.attach(serial=SERIAL)
        self.assertEqual(self.scene.listener.wait_decision(path, count=4)[2:],
                         ("connect", "new-binding"))


    def test_release_of_a_refused_account_ends(self):
        self.start_daemon(timeout_ms=300)
        self.bind_then_replug()
        _, path = self.scene.attach(serial=SERIAL)
        self.scene.listener.wait_decision(path, count=2)
        time.sleep(0.3)
        self.hold("DELETE", 60)
        with self.assertRaises(dbus.DBusException):
            self.forget(path)
        self.scene.registry.reset()
        self.proxy.set_holding(False)  # the repeated DELETE meets a registry that knows nobody
        pbtest.wait_until(lambda: "refused the token" in self.scene.daemon.read_log(),
                          what="the refusal")
        self.assertEqual(self.scene.listener.decisions(path)[-1][2:], ("pending", "releasing"))
        self.scene.listener.manager().ResetAccount()
        self.assertEqual(self.scene.listener.wait_decision(path, count=4)[2:],
                         ("released", "forgotten"))
        self.assertEqual(self.registry_status(), "unbound")

    def test_retry_waits_for_the_claim_on_the_wire(self):
        self.start_daemon()
        self.hold("PUT", 1.5)
        _, path = self.scene.attach(serial=SERIAL)  # unbound: its claim is held
        pbtest.wait_until(lambda: self.proxy.stats()["held_now"] > 0, what="a held claim")
        http = self.scene.registry.http()
        _, other = self.scene.registry.new_account()
        self.assertEqual(http.request("PUT", TERMINAL + "/binding", token=other)[0], 201)
        self.scene.listener.manager().Retry(dbus.ObjectPath(path))
        # (after the held claim's 409, race-lost, when Retry waits for it)
        self.scene.listener.wait_for(
            lambda e: e == ("Decision", path, "keep-existing", "bound-elsewhere"),
            what="keep-existing from the new check")
        self.assertEqual(http.request("DELETE", TERMINAL + "/binding", token=other)[0], 204)
        self.assertTrue(self.proxy.drain())
        self.assertNotEqual(self.registry_status(), "bound-to-you",
                            "a claim cut short by Retry bound the phone behind keep-existing")
        self.assertEqual(self.scene.listener.decisions(path)[-1][2], "keep-existing")


if __name__ == "__main__":
    unittest.main()
