#!/usr/bin/python3
"""phonebindd from attach to Decision, with fake phones (umockdev), a
private bus and the real registry.

Faults tried: a phone attached before the daemon starts (coldplug), the
phone's own usb_interface events and a USB device without the rule's mark
(both must be ignored), unplug and replug, the registry gone at replug
(the local check must decide alone), a restart, and serials that cannot
tell phones apart (placeholder, missing, empty, 400 bytes, with a comma).
"""
import glob
import time
import unittest

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402


class Attach(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene()
        self.listener = self.scene.listener

    def tearDown(self):
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def test_new_phone_connects_once_and_detaches(self):
        syspath, path = self.scene.attach(serial="R58M41NEW01")
        decision = self.listener.wait_decision(path)
        self.assertEqual(decision[2:], ("connect", "new-binding"))
        props = self.listener.properties(path)
        self.assertEqual(props["Decision"], "connect")
        self.assertEqual(props["Reason"], "new-binding")
        self.assertEqual(props["Serial"], "R58M41NEW01")
        self.assertEqual(props["Vendor"], "Google")
        self.assertTrue(props["Attached"])
        self.assertEqual(len(props["Id"]), 16)
        self.assertGreater(props["FirstSeen"], 1700000000)
        self.assertIn(path, [str(p) for p in self.listener.manager().ListTerminals()])
        time.sleep(0.3)
        self.assertEqual(len(self.listener.decisions(path)), 1, "exactly one Decision per attach")
        self.scene.testbed.remove(syspath)
        self.listener.wait_for(lambda e: e == ("TerminalDetached", path), what="detach")
        self.assertEqual(list(self.listener.manager().ListTerminals()), [])

    def test_interfaces_and_unmarked_devices_are_ignored(self):
        syspath, path = self.scene.attach(serial="R58M41IFACE")
        self.listener.wait_decision(path)
        mark = self.listener.mark()
        self.scene.testbed.add_interface(syspath)
        self.scene.testbed.add_phone(serial="KEYBOARD001", vendor="046d", candidate=False)
        time.sleep(0.5)
        self.assertEqual(self.listener.events[mark:], [])
        self.assertEqual(len(self.listener.manager().ListTerminals()), 1)

    def test_introspection_lists_terminals_only_under_their_directory(self):
        paths = []
        for serial in ("R58M41INTRO1", "R58M41INTRO2"):
            _, path = self.scene.attach(serial=serial)
            paths.append(path)

        def introspect(path):
            obj = self.listener.connection.get_object("org.phonebind1", path, introspect=False)
            return str(obj.Introspect(dbus_interface="org.freedesktop.DBus.Introspectable"))

        directory = introspect("/org/phonebind1/terminal")
        for path in paths:
            self.assertIn(f'<node name="{path.rsplit("/", 1)[1]}"/>', directory)
        own = introspect(paths[0])
        self.assertIn("org.phonebind1.Terminal", own)
        self.assertNotIn("<node name=", own, "a terminal has no children")

    def test_hostile_descriptor_strings_are_shown_safely(self):
        """Fault: USB strings with invalid UTF-8 (D-Bus refuses it), an
        escape sequence and a newline that would forge a log line."""
        testbed = self.scene.testbed
        syspath = testbed.add_phone(serial=None, candidate=False)
        raw = testbed.testbed
        raw.set_attribute_binary(syspath, "product", b"Pix\xffel\nphonebindd: forged")
        raw.set_attribute_binary(syspath, "manufacturer", b"Evil\x1b]0;owned\x07")
        raw.set_attribute_binary(syspath, "serial", b"SER\xfe\x01")
        raw.set_property(syspath, "PHONEBIND_CANDIDATE", "1")
        mark = self.listener.mark()
        raw.uevent(syspath, "bind")
        path = self.listener.wait_attached(after=mark)
        self.assertEqual(self.listener.wait_decision(path)[2:], ("unidentified", "no-identifier"))
        props = self.listener.properties(path)
        self.assertEqual(props["Model"], "Pix?el?phonebindd: forged")
        self.assertEqual(props["Vendor"], "Evil?]0;owned?")
        self.assertEqual(props["Serial"], "SER??")
        for line in self.scene.daemon.read_log().splitlines():
            self.assertFalse(line.startswith("phonebindd: forged"), "a forged log line")
            self.assertNotIn("\x1b", line)

    def test_replug_with_registry_down_is_known_locally(self):
        syspath, path = self.scene.attach(serial="R58M41KNOWN")
        self.assertEqual(self.listener.wait_decision(path)[2:], ("connect", "new-binding"))
        self.scene.testbed.remove(syspath)
        self.listener.wait_for(lambda e: e == ("TerminalDetached", path), what="detach")
        self.scene.registry.stop()
        syspath, path2 = self.scene.attach(serial="R58M41KNOWN")
        self.assertEqual(path2, path, "the handle is stable across replugs")
        self.assertEqual(self.listener.wait_decision(path, count=2)[2:], ("connect", "known"))
        time.sleep(0.5)  # the background confirm fails silently
        self.assertEqual(len(self.listener.decisions(path)), 2)
        self.scene.registry.start()

    def test_unusable_serials_are_unidentified(self):
        for serial in ("0123456789ABCDEF", None, "", "A" * 400, "1234567890ABCDEF", "ab,cd123"):
            _, path = self.scene.attach(serial=serial)
            self.assertEqual(self.listener.wait_decision(path)[2:],
                             ("unidentified", "no-identifier"), repr(serial))

    def test_restart_keeps_bindings_and_coldplugs(self):
        _, path = self.scene.attach(serial="R58M41RESTART")
        self.assertEqual(self.listener.wait_decision(path)[2:], ("connect", "new-binding"))
        self.assertEqual(self.scene.daemon.stop(), 0)
        self.scene.registry.stop()
        self.scene.daemon.start()  # the phone is still attached: coldplug, local hit
        self.assertEqual(self.listener.wait_decision(path, count=2)[2:], ("connect", "known"))
        self.scene.registry.start()

    def test_no_raw_identifiers_in_store_or_log(self):
        _, path = self.scene.attach(serial="R58M41PRIVATE")
        self.listener.wait_decision(path)
        for name in glob.glob(self.scene.daemon.state_dir + "/store.db*"):
            with open(name, "rb") as f:
                self.assertNotIn(b"usb:18d1:R58M41PRIVATE", f.read())


class Coldplug(unittest.TestCase):
    def test_phone_attached_before_start(self):
        scene = pbdaemon.Scene(start_daemon=False)
        try:
            scene.testbed.add_phone(serial="R58M41COLD")
            scene.daemon.start()
            decision = scene.listener.wait_decision()
            self.assertEqual(decision[2:], ("connect", "new-binding"))
            self.assertEqual([str(p) for p in scene.listener.manager().ListTerminals()],
                             [decision[1]])
        finally:
            self.assertEqual(scene.stop(), 0)
            scene.cleanup()


if __name__ == "__main__":
    unittest.main()
