#!/usr/bin/python3
"""Identification through the identity helper (the seed's auxiliary
application) when the USB serial cannot tell phones apart.

Faults tried: a placeholder serial with a helper that answers (identified
by IMEI, and the IMEI never in a log line or the store), a helper that
fails, one that prints garbage, one that hangs (killed at the timeout),
and the seed's embodiment `identifier = imei`, where a good serial does not
count and a phone without an IMEI stays unidentified; a phone that does
not trust this PC yet (the helper's exit status 75) is pending/awaiting-trust
under a provisional object until the helper can read it, then decided under
its own.
"""
import glob
import os
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402

IMEI = "490154203237518"


class Identity(unittest.TestCase):
    def scene(self, helper_body, *args):
        scene = pbdaemon.Scene(start_daemon=False)
        helper = scene.tmp.join("helper.sh")
        with open(helper, "w") as f:
            f.write("#!/bin/sh\n" + helper_body + "\n")
        os.chmod(helper, 0o755)
        scene.daemon.extra_args += ["--identity-helper", helper, "--helper-timeout", "500"] + \
            list(args)
        scene.daemon.start()
        self.addCleanup(self.finish, scene)
        return scene

    def finish(self, scene):
        self.assertEqual(scene.stop(), 0, scene.daemon.read_log())
        scene.cleanup()

    def decide(self, scene, serial):
        _, path = scene.attach(serial=serial)
        return scene.listener.wait_decision(path)[2:]

    def test_helper_imei_identifies_placeholder_serial(self):
        scene = self.scene(f'[ "$PHONEBIND_SERIAL" = 0123456789ABCDEF ] && echo {IMEI}')
        self.assertEqual(self.decide(scene, "0123456789ABCDEF"), ("connect", "new-binding"))
        # the registry got the IMEI-based identifier
        _, token = scene.registry.new_account()
        status, body, _ = scene.registry.http().request("GET", f"/v1/terminals/imei:{IMEI}",
                                                        token=token)
        self.assertEqual(body["status"], "bound-to-other")
        self.assertNotIn(IMEI, scene.daemon.read_log())
        for name in glob.glob(scene.daemon.state_dir + "/*"):
            with open(name, "rb") as f:
                self.assertNotIn(IMEI.encode(), f.read(), name)

    def test_helper_failures_leave_the_phone_unidentified(self):
        for body in ("exit 1", "echo not-an-imei", f"echo {IMEI[:-1]}9", "sleep 30"):
            scene = self.scene(body)
            started = time.monotonic()
            self.assertEqual(self.decide(scene, "0123456789ABCDEF"),
                             ("unidentified", "no-identifier"), body)
            self.assertLess(time.monotonic() - started, 5)
            self.finish(scene)
            self._cleanups.clear()

    def test_good_serial_does_not_run_the_helper(self):
        marker = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"pb-helper-ran-{os.getpid()}")
        scene = self.scene(f"touch {marker}; echo {IMEI}")
        self.assertEqual(self.decide(scene, "R58M41SERIAL"), ("connect", "new-binding"))
        self.assertFalse(os.path.exists(marker), "the helper ran for a usable serial")
        _, token = scene.registry.new_account()
        self.assertEqual(scene.registry.http().request(
            "GET", "/v1/terminals/usb:18d1:R58M41SERIAL", token=token)[1]["status"],
            "bound-to-other")

    def test_identifier_imei_mode(self):
        scene = self.scene(f'[ "$PHONEBIND_SERIAL" = R58M41WITHIMEI ] && echo {IMEI}',
                           "--identifier", "imei")
        self.assertEqual(self.decide(scene, "R58M41WITHIMEI"), ("connect", "new-binding"))
        self.assertEqual(self.decide(scene, "R58M41NOIMEI"), ("unidentified", "no-identifier"))

    def test_awaiting_trust_until_the_phone_trusts_this_pc(self):
        # Fault tried: the phone answers "unauthorized" twice (the person has
        # not accepted the trust dialog yet), then tells its IMEI.
        count = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"pb-trust-{os.getpid()}")
        self.addCleanup(lambda: os.path.exists(count) and os.unlink(count))
        scene = self.scene(f'n=$(cat {count} 2>/dev/null || echo 0); echo $((n + 1)) > {count}\n'
                           f'[ "$n" -ge 2 ] && echo {IMEI} && exit 0\nexit 75')
        mark = scene.listener.mark()
        _, provisional = scene.attach(serial="0123456789ABCDEF")
        self.assertEqual(scene.listener.wait_decision(provisional)[2:],
                         ("pending", "awaiting-trust"))
        own = scene.listener.wait_attached(after=mark + 1)
        self.assertNotEqual(own, provisional)
        self.assertEqual(scene.listener.wait_decision(own)[2:], ("connect", "new-binding"))
        scene.listener.wait_for(lambda e: e == ("TerminalDetached", provisional),
                                what="the provisional object detached")
        # pending said once, however often the helper was asked
        self.assertEqual([d[2:] for d in scene.listener.decisions(provisional)],
                         [("pending", "awaiting-trust")])
        with open(count) as f:
            self.assertEqual(f.read().strip(), "3")
        _, token = scene.registry.new_account()
        self.assertEqual(scene.registry.http().request(
            "GET", f"/v1/terminals/imei:{IMEI}", token=token)[1]["status"], "bound-to-other")
        self.assertNotIn(IMEI, scene.daemon.read_log())


if __name__ == "__main__":
    unittest.main()
