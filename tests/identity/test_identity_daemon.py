#!/usr/bin/python3
"""phonebindd running the shipped identity helper (identity/identity, the
command a deployment names as identity-helper) for a fake phone, with the
stand-ins for adb and ideviceinfo on its PATH answering as phones do.

Faults tried: an Android phone with a placeholder serial that first
answers "unauthorized" twice (pending/awaiting-trust, asked again, then
identified by its IMEI), one that refuses as Android 10 does
(unidentified), and an iPhone under identifier = imei whose pairing
dialog is pending at first. Each time: the helper was asked about the
right device (adb's -s usb:<port> from PHONEBIND_SYSPATH, the iPhone's
UDID), the registry holds the IMEI-based identifier, and the IMEI is in
no log line.
"""
import os
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402

IMEI = "490154203237518"
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
HELPER = os.path.join(pbtest.SOURCE_DIR, "identity", "identity")
UDID_USB = "00008030001A2D3E0E38802E"


class DaemonRunsTheHelper(unittest.TestCase):
    def scene(self, answers, *args):
        """answers: {file name in the stand-in's answer folder: text}."""
        tmp = pbtest.TempDir()
        self.addCleanup(tmp.cleanup)
        answer_dir = tmp.join("answers")
        os.makedirs(answer_dir)
        for name, text in answers.items():
            with open(os.path.join(answer_dir, name), "w") as f:
                f.write(text)
        self.logs = {"adb": tmp.join("adb.log"), "ios": tmp.join("ideviceinfo.log")}
        env = {
            "PATH": os.path.join(FIXTURES, "bin") + ":" + os.environ["PATH"],
            "STATE_DIRECTORY": tmp.join("helper-state"),
            "FAKE_ADB_DIR": answer_dir, "FAKE_ADB_LOG": self.logs["adb"],
            "FAKE_IDEVICEINFO_DIR": answer_dir, "FAKE_IDEVICEINFO_LOG": self.logs["ios"],
        }
        os.makedirs(env["STATE_DIRECTORY"])
        scene = pbdaemon.Scene(start_daemon=False, daemon_env=env, daemon_args=[
            "--identity-helper", f"{HELPER} --wait 0", "--helper-timeout", "4000", *args])
        scene.daemon.start()
        self.addCleanup(self.finish, scene)
        return scene

    def finish(self, scene):
        self.assertEqual(scene.stop(), 0, scene.daemon.read_log())
        scene.cleanup()

    def calls(self, tool):
        if not os.path.exists(self.logs[tool]):
            return []
        with open(self.logs[tool]) as f:
            return [line.split(" | ")[0].rstrip("\n") for line in f]

    def assert_bound_by_imei(self, scene):
        _, token = scene.registry.new_account()
        self.assertEqual(scene.registry.http().request(
            "GET", f"/v1/terminals/imei:{IMEI}", token=token)[1]["status"], "bound-to-other")
        self.assertNotIn(IMEI, scene.daemon.read_log())

    def parcel(self, name):
        with open(os.path.join(FIXTURES, "adb", name, "shell.out")) as f:
            return f.read()

    def test_android_trusts_after_two_asks(self):
        scene = self.scene({"get-state.1.out": "unauthorized\n",
                            "get-state.2.out": "unauthorized\n",
                            "get-state.out": "device\n", "shell.out": self.parcel("ok")})
        mark = scene.listener.mark()
        syspath, provisional = scene.attach(serial="0123456789ABCDEF")
        self.assertEqual(scene.listener.wait_decision(provisional)[2:],
                         ("pending", "awaiting-trust"))
        own = scene.listener.wait_attached(after=mark + 1)
        self.assertEqual(scene.listener.wait_decision(own)[2:], ("connect", "new-binding"))
        self.assertEqual([d[2:] for d in scene.listener.decisions(provisional)],
                         [("pending", "awaiting-trust")])
        port = os.path.basename(syspath)
        self.assertEqual(self.calls("adb").count(f"adb -s usb:{port} get-state"), 3)
        self.assertEqual(self.calls("adb").count("adb kill-server"), 3)
        self.assert_bound_by_imei(scene)

    def test_android_10_refusal_leaves_it_unidentified(self):
        scene = self.scene({"get-state.out": "device\n",
                            "shell.out": self.parcel("android10-refused")})
        _, path = scene.attach(serial="0123456789ABCDEF")
        self.assertEqual(scene.listener.wait_decision(path)[2:], ("unidentified", "no-identifier"))
        self.assertIn("does not meet the requirements", scene.daemon.read_log())

    def test_iphone_pairing_pending_then_trusted(self):
        with open(os.path.join(FIXTURES, "ideviceinfo", "pairing-pending", "answer.err")) as f:
            pending = f.read()
        scene = self.scene({"answer.1.err": pending, "answer.1.status": "255\n",
                            "answer.out": IMEI + "\n"}, "--identifier", "imei")
        mark = scene.listener.mark()
        _, provisional = scene.attach(serial=UDID_USB, vendor="05ac", product="12a8",
                                      model="iPhone", vendor_name="Apple Inc.")
        self.assertEqual(scene.listener.wait_decision(provisional)[2:],
                         ("pending", "awaiting-trust"))
        own = scene.listener.wait_attached(after=mark + 1)
        self.assertEqual(scene.listener.wait_decision(own)[2:], ("connect", "new-binding"))
        self.assertEqual(set(self.calls("ios")), {
            "ideviceinfo -u 00008030-001A2D3E0E38802E -k InternationalMobileEquipmentIdentity"})
        self.assertEqual(self.calls("adb"), [])
        self.assert_bound_by_imei(scene)


if __name__ == "__main__":
    unittest.main()
