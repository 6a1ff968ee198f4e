#!/usr/bin/python3
"""The identity helpers (identity/, installed in /usr/libexec/phonebind)
against stand-ins for adb and ideviceinfo on PATH that answer as the real
tools do (fixtures/README.md says where each answer comes from).

Each test is one answer a phone can give, and checks the helper's whole
reply: its exit status (0 with the IMEI, 75 "not yet", 69 tool missing,
1 no IMEI), that standard output holds the IMEI and nothing else, that no
message carries the IMEI (or the digits of a wrong one), and what it
asked the tool. Faults tried: a wrong check digit, Android 10's refusal,
a phone without an IMEI or without telephony, adb unauthorized (adb 29
and older), offline, no device, no permission on the USB device, a phone
still settling, a second helper holding adb, iOS pairing pending (both
error formats), passcode, denied trust, no device, no IMEI, the tool not
installed, no device named.
"""
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
import unittest

SOURCE = os.environ.get("PHONEBIND_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
HELPERS = os.path.join(SOURCE, "identity")
STANDINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "bin")
IMEI = "490154203237518"
WRONG = "490154203237519"
SYSPATH = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4"
UDID_USB = "00008030001A2D3E0E38802E"  # a new-style UDID as the USB serial shows it
# what the helpers and the stand-ins use, and nothing else: a helper that
# needs another tool fails here before it fails on a user's machine
TOOLS = ("sed", "awk", "flock", "sleep", "mkdir", "grep", "cat", "rm", "wc")


class Helpers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phonebind-identity-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.tools = os.path.join(self.tmp, "tools")
        os.mkdir(self.tools)
        for tool in TOOLS:
            os.symlink(shutil.which(tool), os.path.join(self.tools, tool))
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state)
        self.adb_log = os.path.join(self.tmp, "adb.log")
        self.ios_log = os.path.join(self.tmp, "ideviceinfo.log")

    def run_helper(self, helper="identity", vendor="18d1", adb="ok", ios="ok", wait=0,
                   serial="0123456789ABCDEF", syspath=SYSPATH, standins=True):
        env = {
            "PATH": (STANDINS + ":" if standins else "") + self.tools,
            "LC_ALL": "C", "STATE_DIRECTORY": self.state,
            "PHONEBIND_SYSPATH": syspath, "PHONEBIND_DEVNODE": "/dev/bus/usb/001/004",
            "PHONEBIND_VENDOR": vendor, "PHONEBIND_PRODUCT": "4ee2",
            "PHONEBIND_SERIAL": serial, "PHONEBIND_BUSNUM": "1", "PHONEBIND_DEVNUM": "4",
            "FAKE_ADB_SCENARIO": adb, "FAKE_ADB_LOG": self.adb_log,
            "FAKE_IDEVICEINFO_SCENARIO": ios, "FAKE_IDEVICEINFO_LOG": self.ios_log,
        }
        started = time.monotonic()
        proc = subprocess.run([os.path.join(HELPERS, helper), "--wait", str(wait)], env=env,
                              capture_output=True, text=True, timeout=30)
        proc.elapsed = time.monotonic() - started
        if proc.returncode == 0:
            self.assertEqual(proc.stdout, IMEI + "\n")
        else:
            self.assertEqual(proc.stdout, "", "no answer but the IMEI on standard output")
        for digits in (IMEI, WRONG, IMEI[:8]):
            self.assertNotIn(digits, proc.stderr, "an IMEI in a message")
        return proc

    def calls(self, log):
        if not os.path.exists(log):
            return []
        with open(log) as f:
            return [line.rstrip("\n") for line in f]

    def reset_logs(self):
        for log in (self.adb_log, self.ios_log):
            for name in (log, log + ".count", log + ".server"):
                if os.path.exists(name):
                    os.remove(name)

    def adb_calls(self):
        return [c.split(" | ")[0] for c in self.calls(self.adb_log)]

    def assert_adb_tidy(self):
        """The server was started before and stopped after every question."""
        calls = self.adb_calls()
        self.assertEqual(calls[0], "adb start-server")
        self.assertEqual(calls[-1], "adb kill-server")
        self.assertFalse(os.path.exists(self.adb_log + ".server"), "adb server left running")
        self.assertNotIn("without a server", "\n".join(calls))

    # Android

    def test_android_imei(self):
        proc = self.run_helper()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.adb_calls(), [
            "adb start-server", "adb -s usb:1-4 get-state",
            "adb -s usb:1-4 shell service call iphonesubinfo 1 s16 com.android.shell",
            "adb kill-server"])
        # adb's key (what the phone's "always allow" remembers) in the state
        # directory; a server port of its own, not a desktop user's 5037
        for line in self.calls(self.adb_log):
            self.assertTrue(line.endswith(f"HOME={self.state}/adb PORT=5039"), line)
        self.assertEqual(self.calls(self.ios_log), [])

    def test_android_wrong_check_digit(self):
        proc = self.run_helper(adb="bad-luhn")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not a valid IMEI", proc.stderr)
        self.assert_adb_tidy()

    def test_android_10_refusal_is_an_answer(self):
        proc = self.run_helper(adb="android10-refused")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("refused: getDeviceId: The user 2000 does not meet the requirements",
                      proc.stderr)
        self.assert_adb_tidy()

    def test_android_without_imei(self):
        for scenario, said in (("null-imei", "no IMEI"),
                               ("no-service", "Service iphonesubinfo does not exist")):
            proc = self.run_helper(adb=scenario)
            self.assertEqual(proc.returncode, 1, scenario)
            self.assertIn(said, proc.stderr, scenario)

    def test_android_unauthorized_is_not_yet(self):
        for scenario in ("unauthorized", "unauthorized-old-adb"):
            self.reset_logs()
            proc = self.run_helper(adb=scenario)
            self.assertEqual(proc.returncode, 75, scenario + proc.stderr)
            self.assertIn("not allowed USB debugging", proc.stderr)
            self.assertEqual(self.adb_calls().count("adb -s usb:1-4 get-state"), 1)
            self.assertNotIn("shell", " ".join(self.adb_calls()), "asked before allowed")
            self.assert_adb_tidy()

    def test_android_unauthorized_waits_for_the_person(self):
        """--wait 1: asks every half second for a second before "not yet"."""
        proc = self.run_helper(adb="unauthorized", wait=1)
        self.assertEqual(proc.returncode, 75)
        self.assertEqual(self.adb_calls().count("adb -s usb:1-4 get-state"), 3)
        self.assertGreaterEqual(proc.elapsed, 1.0)

    def test_android_settling_then_allowed(self):
        """Not found, authorizing, unauthorized, then allowed: the IMEI."""
        proc = self.run_helper(adb="settling", wait=2)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.adb_calls().count("adb -s usb:1-4 get-state"), 4)

    def test_android_offline_is_not_yet(self):
        self.assertEqual(self.run_helper(adb="offline").returncode, 75)

    def test_android_no_device(self):
        proc = self.run_helper(adb="no-device")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("does not see the phone", proc.stderr)
        self.assert_adb_tidy()

    def test_android_no_permission_on_the_usb_device(self):
        proc = self.run_helper(adb="no-permissions")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("may not open the phone's USB device", proc.stderr)

    def test_android_by_serial_without_syspath(self):
        proc = self.run_helper(syspath="", serial="R58M41ABCDE")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("adb -s R58M41ABCDE get-state", self.adb_calls())

    def test_android_no_device_named(self):
        proc = self.run_helper(syspath="", serial="")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no device given", proc.stderr)
        self.assertEqual(self.adb_calls(), [])

    def test_android_second_helper_waits_for_adb(self):
        """adb held by another helper (its lock taken): "not yet" after the
        wait, without touching the other's server."""
        os.makedirs(os.path.join(self.state, "adb"))
        with open(os.path.join(self.state, "adb", "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            proc = self.run_helper()
        self.assertEqual(proc.returncode, 75)
        self.assertIn("another identity helper", proc.stderr)
        self.assertEqual(self.adb_calls(), [])
        self.assertGreaterEqual(proc.elapsed, 1.0)

    def test_android_adb_missing(self):
        proc = self.run_helper(standins=False)
        self.assertEqual(proc.returncode, 69)
        self.assertIn("adb is not installed (package adb)", proc.stderr)

    # iOS

    def test_ios_imei(self):
        proc = self.run_helper(vendor="05ac", serial=UDID_USB)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.calls(self.ios_log), [
            "ideviceinfo -u 00008030-001A2D3E0E38802E -k InternationalMobileEquipmentIdentity"])
        self.assertEqual(self.adb_calls(), [])

    def test_ios_old_style_udid_is_the_serial(self):
        udid = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
        self.assertEqual(self.run_helper(vendor="05ac", serial=udid).returncode, 0)
        self.assertIn(f"-u {udid} ", self.calls(self.ios_log)[0])

    def test_ios_wrong_check_digit(self):
        proc = self.run_helper(vendor="05ac", ios="bad-luhn", serial=UDID_USB)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not a valid IMEI", proc.stderr)

    def test_ios_not_trusted_yet(self):
        for scenario in ("pairing-pending", "pairing-pending-old", "password-protected"):
            proc = self.run_helper(vendor="05ac", ios=scenario, serial=UDID_USB)
            self.assertEqual(proc.returncode, 75, scenario + proc.stderr)
            self.assertIn("does not trust this PC yet", proc.stderr)

    def test_ios_trusted_while_waiting(self):
        proc = self.run_helper(vendor="05ac", ios="trusted-while-waiting", serial=UDID_USB,
                               wait=1)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(self.calls(self.ios_log)), 2)

    def test_ios_trust_denied(self):
        proc = self.run_helper(vendor="05ac", ios="user-denied", serial=UDID_USB)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("User denied pairing (-18)", proc.stderr)

    def test_ios_no_device(self):
        proc = self.run_helper(vendor="05ac", ios="no-device", serial=UDID_USB, wait=1)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("usbmuxd does not see the iPhone", proc.stderr)
        self.assertEqual(len(self.calls(self.ios_log)), 3, "asked again while waiting")

    def test_ios_without_imei(self):
        proc = self.run_helper(vendor="05ac", ios="no-imei", serial=UDID_USB)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no IMEI", proc.stderr)

    def test_ios_ideviceinfo_missing(self):
        proc = self.run_helper(vendor="05ac", serial=UDID_USB, standins=False)
        self.assertEqual(proc.returncode, 69)
        self.assertIn("ideviceinfo is not installed (package libimobiledevice-utils)",
                      proc.stderr)

    # the dispatcher

    def test_dispatcher_chooses_by_vendor(self):
        for vendor, tool in (("05ac", "ios"), ("05AC", "ios"), ("18d1", "adb"),
                             ("04e8", "adb"), ("2717", "adb"), ("12d1", "adb")):
            self.reset_logs()
            proc = self.run_helper(vendor=vendor, serial=UDID_USB)
            self.assertEqual(proc.returncode, 0, vendor + proc.stderr)
            self.assertEqual(bool(self.calls(self.ios_log)), tool == "ios", vendor)
            self.assertEqual(bool(self.adb_calls()), tool == "adb", vendor)

    def test_dispatcher_without_vendor(self):
        proc = self.run_helper(vendor="")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no device given", proc.stderr)
        self.assertEqual(self.adb_calls() + self.calls(self.ios_log), [])

    def test_luhn_table(self):
        """The check digit test itself, through the helper, on known
        numbers: valid ones answered, every one-digit change refused."""
        valid = ("490154203237518", "356938035643809", "000000000000000")
        script = ('. "$1/identity-common.sh"; shift; for n; do '
                  'identity_imei_valid "$n" && echo "$n"; done; true')
        changed = [v[:i] + str((int(v[i]) + 1) % 10) + v[i + 1:] for v in valid for i in range(15)]
        out = subprocess.run(["/bin/sh", "-c", script, "sh", HELPERS, *valid, *changed,
                              "49015420323751", "4901542032375180", "49015420323751a", ""],
                             capture_output=True, text=True, check=True).stdout.split()
        self.assertEqual(out, list(valid))


if __name__ == "__main__":
    unittest.main()
