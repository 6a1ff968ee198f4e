#!/usr/bin/python3
"""The D-Bus files: the policy, the activation file, the polkit action and
the introspection parse; the policy holds on a real dbus-daemon started
with Debian's system-bus defaults plus our policy file.

The policy names the user `phonebind`, which a test machine need not have
(creating it would change the real system): the test's copy names `daemon`
(uid 1, on every Debian) instead; nothing else is changed. Faults tried:
another user (nobody) and root trying to own org.phonebind1, nobody calling
a method the policy does not open (Properties.Set)."""
import os
import subprocess
import textwrap
import unittest
import xml.etree.ElementTree as ET

import pbtest

DBUS_DIR = os.path.join(pbtest.SOURCE_DIR, "dbus")
OWNER_UID = 1  # "daemon"

SYSTEM_DEFAULTS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""

OWNER = textwrap.dedent("""
    import sys, dbus, dbus.service, dbus.mainloop.glib
    from gi.repository import GLib
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(sys.argv[1])
    class Manager(dbus.service.Object):
        @dbus.service.method("org.phonebind1.Manager", out_signature="ao")
        def ListTerminals(self): return dbus.Array([], signature="o")
        @dbus.service.method("org.phonebind1.Manager", in_signature="o")
        def Forget(self, path): pass
        @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="ss",
                             out_signature="v")
        def Get(self, iface, name): return "0.1"
        @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="ssv")
        def Set(self, iface, name, value): pass
    Manager(bus, "/org/phonebind1")
    name = dbus.service.BusName("org.phonebind1", bus, do_not_queue=True)
    print("owned", flush=True)
    GLib.MainLoop().run()
""")


def as_user(uid, command, **kwargs):
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
                          + command, capture_output=True, text=True, timeout=20,
                          env={"PATH": os.environ["PATH"]}, **kwargs)


class PolicyFiles(unittest.TestCase):
    def test_files_parse(self):
        policy = ET.parse(os.path.join(DBUS_DIR, "org.phonebind1.conf")).getroot()
        owners = [p.get("user") for p in policy.findall("policy")
                  if p.find("allow[@own='org.phonebind1']") is not None]
        self.assertEqual(owners, ["phonebind"])
        action = ET.parse(os.path.join(DBUS_DIR, "org.phonebind1.policy")).getroot().find(
            "action[@id='org.phonebind1.manage']")
        self.assertEqual(action.find("defaults/allow_active").text, "auth_admin_keep")
        self.assertEqual(action.find("annotate[@key='org.freedesktop.policykit.owner']").text,
                         "unix-user:phonebind")
        node = ET.parse(os.path.join(DBUS_DIR, "org.phonebind1.xml")).getroot()
        manager = node.find("interface[@name='org.phonebind1.Manager']")
        self.assertEqual(sorted(m.get("name") for m in manager.findall("method")),
                         ["Forget", "ListTerminals", "ResetAccount", "Retry"])
        self.assertEqual(sorted(s.get("name") for s in manager.findall("signal")),
                         ["Decision", "TerminalAttached", "TerminalDetached"])
        terminal = node.find("interface[@name='org.phonebind1.Terminal']")
        self.assertEqual(len(terminal.findall("property")), 9)
        with open(os.path.join(DBUS_DIR, "org.phonebind1.service")) as f:
            activation = f.read()
        self.assertIn("Name=org.phonebind1", activation)
        self.assertIn("SystemdService=phonebindd.service", activation)


class PolicyOnBus(unittest.TestCase):
    def setUp(self):
        self.tmp = pbtest.TempDir()
        with open(os.path.join(DBUS_DIR, "org.phonebind1.conf")) as f:
            policy = f.read().replace('user="phonebind"', 'user="daemon"')
        policy_path = self.tmp.join("org.phonebind1.conf")
        with open(policy_path, "w") as f:
            f.write(policy)
        self.bus = pbtest.PrivateBus(self.tmp, config=SYSTEM_DEFAULTS.replace(
            "{policy}", policy_path)).start()
        self.owner = None

    def tearDown(self):
        if self.owner:
            self.owner.terminate()
            self.owner.wait(5)
            self.owner.stdout.close()
            self.owner.stderr.close()
        self.bus.stop()
        self.tmp.cleanup()

    def own(self, uid):
        return subprocess.Popen(
            ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
             "/usr/bin/python3", "-c", OWNER, self.bus.address],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1"})

    def busctl(self, uid, *args):
        return as_user(uid, ["busctl", f"--address={self.bus.address}"] + list(args))

    def test_only_the_service_user_owns_the_name(self):
        for uid in (65534, 0):
            intruder = self.own(uid)
            out, err = intruder.communicate(timeout=20)
            self.assertNotEqual(intruder.returncode, 0, f"uid {uid} owned it")
            self.assertIn("AccessDenied", err)
        self.owner = self.own(OWNER_UID)
        self.assertEqual(self.owner.stdout.readline().strip(), "owned")

    def test_everyone_reads_and_calls_the_manager(self):
        self.owner = self.own(OWNER_UID)
        self.assertEqual(self.owner.stdout.readline().strip(), "owned")
        manager = ["org.phonebind1", "/org/phonebind1", "org.phonebind1.Manager"]
        proc = self.busctl(65534, "call", *manager, "ListTerminals")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # Forget passes the bus; the daemon authorizes it through polkit
        proc = self.busctl(65534, "call", *manager, "Forget", "o", "/org/phonebind1/terminal/x")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.busctl(65534, "call", "org.phonebind1", "/org/phonebind1",
                           "org.freedesktop.DBus.Properties", "Get", "ss",
                           "org.phonebind1.Manager", "Version")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.busctl(65534, "call", "org.phonebind1", "/org/phonebind1",
                           "org.freedesktop.DBus.Properties", "Set", "ssv",
                           "org.phonebind1.Manager", "Version", "s", "9")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("denied", proc.stderr.lower())


if __name__ == "__main__":
    unittest.main()
