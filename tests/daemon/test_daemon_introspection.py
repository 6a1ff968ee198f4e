#!/usr/bin/python3
"""The interface file shipped for clients (dbus/org.phonebind1.xml) says
what the running daemon exports: the same methods with the same
arguments, signals, properties with their types, and the same promise
about change signals (EmitsChangedSignal). Fault it catches: a member
added to the daemon but not to the file, or a property flagged as
signalled that the daemon never signals (LastSeen and Attached were)."""
import os
import unittest
import xml.etree.ElementTree as ET

import fakephone
fakephone.ensure_umockdev()

import pbdaemon  # noqa: E402
import pbtest  # noqa: E402

EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"


def describe(interface):
    """Members of an <interface> as comparable data."""
    def args(member):
        return [(a.get("type"), a.get("direction", "out" if member.tag == "signal" else "in"))
                for a in member.findall("arg")]
    properties = {}
    for prop in interface.findall("property"):
        emits = {a.get("name"): a.get("value") for a in prop.findall("annotation")}.get(EMITS,
                                                                                      "true")
        properties[prop.get("name")] = (prop.get("type"), prop.get("access"), emits)
    return {
        "methods": {m.get("name"): args(m) for m in interface.findall("method")},
        "signals": {s.get("name"): args(s) for s in interface.findall("signal")},
        "properties": properties,
    }


class Introspection(unittest.TestCase):
    def setUp(self):
        self.scene = pbdaemon.Scene()

    def tearDown(self):
        self.assertEqual(self.scene.stop(), 0, self.scene.daemon.read_log())
        self.scene.cleanup()

    def live(self, path, name):
        obj = self.scene.listener.connection.get_object("org.phonebind1", path, introspect=False)
        xml = ET.fromstring(obj.Introspect(dbus_interface="org.freedesktop.DBus.Introspectable"))
        return describe(xml.find(f"interface[@name='{name}']"))

    def test_shipped_file_matches_the_daemon(self):
        _, path = self.scene.attach(serial="R58M41INTRO")
        self.scene.listener.wait_decision(path)
        shipped = ET.parse(os.path.join(pbtest.SOURCE_DIR, "dbus", "org.phonebind1.xml"))
        for name, object_path in (("org.phonebind1.Manager", "/org/phonebind1"),
                                  ("org.phonebind1.Terminal", path)):
            with self.subTest(interface=name):
                interface = shipped.getroot().find(f"interface[@name='{name}']")
                self.assertEqual(describe(interface), self.live(object_path, name))


if __name__ == "__main__":
    unittest.main()
