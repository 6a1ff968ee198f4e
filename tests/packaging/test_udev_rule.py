#!/usr/bin/python3
"""udev-rules/70-phonebind.rules run by udev itself: `udevadm test` (the
real rules engine of systemd 252, with the distribution's rules and hwdb
around it) on USB devices that umockdev makes from the table in
devices.json, each with its `descriptors` attribute, so that usb_id sets
ID_USB_INTERFACES and the hwdb (usb.ids, libmtp's ID_MTP_DEVICE) answers
as on a real machine. The shipped rule is bind-mounted over an empty
/etc/udev/rules.d, /run is a tmpfs, both in a mount namespace of the
test's own (unshare): nothing outside it changes, no udevd is involved.

Checked: every phone of the table marked (PHONEBIND_CANDIDATE=1, the
systemd tag, SYSTEMD_WANTS=phonebindd.service) on add, change and bind,
every other device not, and that udev saw the interfaces the table gives.
Faults tried: remove (never marked), a phone's interface and a stick's
block device (not USB devices), a phone without descriptors (no
ID_USB_INTERFACES: marked only through the hwdb), the rule without its
ACTION=="remove" guard (then a removed phone is marked: this test sees
it), a table whose interfaces never reach udev (checked per device).

Replaces the evaluator of the rule's syntax that this file used to be:
udevadm test does all it did, with the real engine and the real rules
before and after ours.
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

SOURCE = os.environ.get("PHONEBIND_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
RULE = os.path.join(SOURCE, "udev-rules", "70-phonebind.rules")
DEVICES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "devices.json")
LIBMTP_HWDB = "/lib/udev/hwdb.d/69-libmtp.hwdb"
MARKING_ACTIONS = ("add", "change", "bind")

# In the namespace: an empty rules.d with the rule under test bound into
# it, a private /run (udevadm test writes the device's database there),
# then one udevadm test per "ACTION SYSPATH" argument, each answer after a
# line of its own. Each starts without a database: udev would carry the
# properties of the last event over (a remove event shows what add set),
# and what is tested is what the rules set on each action alone.
NAMESPACE_SCRIPT = r"""
set -e
rule=$1
shift
mount -t tmpfs tmpfs /etc/udev/rules.d
: >/etc/udev/rules.d/70-phonebind.rules
mount --bind "$rule" /etc/udev/rules.d/70-phonebind.rules
mount -t tmpfs tmpfs /run
for run; do
  rm -rf /run/udev
  echo "=== $run"
  umockdev-wrapper udevadm test --action="${run%% *}" "${run#* }" 2>/dev/null || echo "=== failed $?"
done
"""


def descriptors(device):
    """The sysfs `descriptors` file of a device: its device descriptor,
    then each configuration with its interfaces and two bulk endpoints
    each (usb_id reads the interface descriptors among them)."""
    configurations = device["configurations"]
    data = struct.pack("<BBHBBBBHHHBBBB", 18, 1, 0x0200, int(device.get("class", "00"), 16), 0,
                       0, 64, int(device["vendor"], 16), int(device["product"], 16), 0x0440,
                       1, 2, 3, len(configurations))
    for number, interfaces in enumerate(configurations, 1):
        body = b""
        for index, triple in enumerate(interfaces):
            klass, subclass, protocol = (int(triple[i:i + 2], 16) for i in (0, 2, 4))
            body += struct.pack("<BBBBBBBBB", 9, 4, index, 0, 2, klass, subclass, protocol, 0)
            for address in (0x81 + index, 0x01 + index):
                body += struct.pack("<BBBBHB", 7, 5, address, 2, 512, 0)
        data += struct.pack("<BBHBBBBB", 9, 2, 9 + len(body), len(interfaces), number, 0, 0x80,
                            250) + body
    return data


def expected_interfaces(device):
    """ID_USB_INTERFACES as usb_id writes it: every interface of every
    configuration, in order, each once."""
    seen = []
    for interfaces in device["configurations"]:
        for triple in interfaces:
            if triple not in seen:
                seen.append(triple)
    return ":" + ":".join(seen) + ":"


class Testbed:
    """The devices of the table (and a few others) in one umockdev
    testbed, which udevadm sees through umockdev-wrapper."""

    def __init__(self):
        self.testbed = UMockdev.Testbed.new()
        self.count = 0

    def add_usb(self, device, with_descriptors=True):
        self.count += 1
        vendor, product = device["vendor"], device["product"]
        attrs = ["idVendor", vendor, "idProduct", product, "bcdDevice", "0440",
                 "bDeviceClass", device.get("class", "00"), "bDeviceSubClass", "00",
                 "bDeviceProtocol", "00", "bNumConfigurations", str(len(device["configurations"])),
                 "bConfigurationValue", "1", "busnum", "1", "devnum", str(self.count),
                 "manufacturer", device["manufacturer"], "product", device["model"],
                 "serial", f"SERIAL{self.count:04d}"]
        props = ["DEVTYPE", "usb_device", "BUSNUM", "001", "DEVNUM", f"{self.count:03d}",
                 "PRODUCT", f"{int(vendor, 16):x}/{int(product, 16):x}/440", "TYPE", "0/0/0"]
        syspath = self.testbed.add_device("usb", f"1-{self.count}", None, attrs, props)
        if with_descriptors:
            self.testbed.set_attribute_binary(syspath, "descriptors", descriptors(device))
        return syspath

    def add_child(self, subsystem, name, parent, attrs, props):
        """A device below parent in sysfs (umockdev checks a parent's path
        through its preload, which this process does not run under)."""
        relative = os.path.relpath(parent, "/sys/devices")
        return self.testbed.add_device(subsystem, f"{relative}/{name}", None, attrs, props)

    def env(self):
        return dict(os.environ, UMOCKDEV_DIR=self.testbed.get_root_dir())


def udev(testbed, runs, rule=RULE):
    """Runs udevadm test for each (action, syspath): {(action, syspath):
    the device's properties afterwards}."""
    unshare = ["unshare", "--mount"] if os.geteuid() == 0 else \
        ["unshare", "--map-root-user", "--mount"]
    args = [f"{action} {syspath}" for action, syspath in runs]
    proc = subprocess.run(unshare + ["sh", "-c", NAMESPACE_SCRIPT, "sh", rule] + args,
                          env=testbed.env(), capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"udevadm test could not run: {proc.stderr}")
    results, current = {}, None
    for line in proc.stdout.splitlines():
        if line.startswith("=== failed"):
            raise AssertionError(f"udevadm test failed for {current}: {line}")
        if line.startswith("=== "):
            action, syspath = line[4:].split(" ", 1)
            current = (action, syspath)
            results[current] = {}
        elif current and "=" in line and not line.startswith(" "):
            key, value = line.split("=", 1)
            results[current][key] = value
    missing = [run for run in runs if run not in results]
    if missing:
        raise AssertionError(f"no answer for {missing}: {proc.stdout[-2000:]}")
    return results


def marked(props):
    return props.get("PHONEBIND_CANDIDATE") == "1"


class UdevRule(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(LIBMTP_HWDB):
            raise AssertionError(f"{LIBMTP_HWDB} missing: scripts/deps.sh installs libmtp-common")
        with open(DEVICES) as f:
            cls.devices = json.load(f)["devices"]
        cls.testbed = Testbed()
        cls.syspaths = [cls.testbed.add_usb(device) for device in cls.devices]
        runs = [(action, syspath) for device, syspath in zip(cls.devices, cls.syspaths)
                for action in (MARKING_ACTIONS + ("remove",) if device["expect"] else ("add",))]
        cls.results = udev(cls.testbed, runs)

    def test_the_table_reaches_udev(self):
        """usb_id read each device's descriptors, and usb.ids named it: what
        the rule sees is what the table says."""
        for device, syspath in zip(self.devices, self.syspaths):
            props = self.results[("add", syspath)]
            self.assertEqual(props.get("ID_USB_INTERFACES"), expected_interfaces(device),
                             device["name"])
            self.assertEqual(props.get("ID_VENDOR_ID"), device["vendor"], device["name"])
            self.assertIn("ID_VENDOR_FROM_DATABASE", props, device["name"])

    def test_phones_marked_on_every_action_but_remove(self):
        phones = [(d, s) for d, s in zip(self.devices, self.syspaths) if d["expect"]]
        self.assertGreaterEqual(len(phones), 15)
        for device, syspath in phones:
            for action in MARKING_ACTIONS:
                props = self.results[(action, syspath)]
                self.assertTrue(marked(props), f"{device['name']} on {action}")
                self.assertIn(":systemd:", props.get("TAGS", ""), device["name"])
                self.assertIn("phonebindd.service", props.get("SYSTEMD_WANTS", "").split(),
                              device["name"])
            self.assertFalse(marked(self.results[("remove", syspath)]),
                             f"{device['name']} marked on remove")

    def test_other_devices_not_marked(self):
        others = [(d, s) for d, s in zip(self.devices, self.syspaths) if not d["expect"]]
        self.assertGreaterEqual(len(others), 8)
        for device, syspath in others:
            props = self.results[("add", syspath)]
            self.assertFalse(marked(props), device["name"])
            self.assertNotIn("phonebindd.service", props.get("SYSTEMD_WANTS", ""),
                             device["name"])

    def test_libmtp_hwdb_marks_a_vendor_specific_mtp_phone(self):
        """The Samsung entry has no interface the rule names: libmtp's hwdb
        (ID_MTP_DEVICE) is what marks it."""
        index = next(i for i, d in enumerate(self.devices) if d["vendor"] == "04e8"
                     and "ff4201" not in d["configurations"][0]
                     and "ff0000" in d["configurations"][0])
        props = self.results[("add", self.syspaths[index])]
        self.assertEqual(props.get("ID_MTP_DEVICE"), "1")
        self.assertTrue(marked(props))


class UdevRuleFaults(unittest.TestCase):
    def setUp(self):
        self.testbed = Testbed()
        self.tmp = tempfile.mkdtemp(prefix="phonebind-udev-")
        self.addCleanup(shutil.rmtree, self.tmp)
        with open(DEVICES) as f:
            self.devices = {d["name"]: d for d in json.load(f)["devices"]}
        self.pixel = self.devices["Pixel, MTP + adb"]

    def test_interfaces_and_block_devices_are_not_phones(self):
        phone = self.testbed.add_usb(self.pixel)
        interface = self.testbed.add_child(
            "usb", "1-1:1.0", phone, ["bInterfaceClass", "06", "bInterfaceSubClass", "01",
                                      "bInterfaceProtocol", "01"],
            ["DEVTYPE", "usb_interface", "INTERFACE", "6/1/1", "PRODUCT", "18d1/4ee2/440"])
        stick = self.testbed.add_usb(self.devices["SanDisk Cruzer Blade USB stick"])
        block = self.testbed.add_child("block", "host0/sdb", stick, ["size", "30031872"],
                                       ["DEVTYPE", "disk", "DEVNAME", "sdb"])
        results = udev(self.testbed, [("add", phone), ("add", interface), ("add", block)])
        self.assertTrue(marked(results[("add", phone)]))
        self.assertFalse(marked(results[("add", interface)]))
        self.assertFalse(marked(results[("add", block)]))

    def test_without_descriptors_only_the_hwdb_can_mark(self):
        """No descriptors: usb_id sets no ID_USB_INTERFACES. A Pixel in
        charging + adb mode (4ee7, not in libmtp's hwdb) is then not
        marked; the same Pixel in MTP mode (4ee1, in it) still is."""
        adb_only = self.testbed.add_usb(self.devices["Pixel, charging + adb"], False)
        mtp = self.testbed.add_usb(self.devices["Pixel, MTP (file transfer)"], False)
        results = udev(self.testbed, [("add", adb_only), ("add", mtp)])
        self.assertNotIn("ID_USB_INTERFACES", results[("add", adb_only)])
        self.assertFalse(marked(results[("add", adb_only)]))
        self.assertTrue(marked(results[("add", mtp)]))

    def test_a_rule_without_its_remove_guard_is_caught(self):
        """On remove, udev's own rules import nothing (no usb_id, no hwdb):
        an iPhone, marked by its ids, is what a rule without the guard
        marks."""
        broken = os.path.join(self.tmp, "70-phonebind.rules")
        with open(RULE) as f, open(broken, "w") as out:
            out.writelines(line for line in f if not line.startswith('ACTION=="remove"'))
        phone = self.testbed.add_usb(self.devices["iPhone 5 to 15 (four configurations)"])
        self.assertTrue(marked(udev(self.testbed, [("remove", phone)], broken)[("remove", phone)]))
        self.assertFalse(marked(udev(self.testbed, [("remove", phone)])[("remove", phone)]))


if __name__ == "__main__":
    unittest.main()
