"""Fake phones for phonebind's tests, through umockdev.

A Testbed stands in for /sys and udev: add_phone() creates a USB device
with the properties the project's udev rule would set and emits "add" to
listening monitors; remove() emits "remove". Processes that should see the
testbed must run under umockdev's preload (see ensure_umockdev()) and get
UMOCKDEV_DIR explicitly in their environment: Testbed.new() sets it with
C's setenv, which Python's os.environ does not see.
"""
import contextlib
import glob
import itertools
import os
import sys

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402


def ensure_umockdev():
    """Re-executes the calling test under umockdev-wrapper if needed."""
    if "umockdev" in os.environ.get("LD_PRELOAD", ""):
        return
    os.execvp("umockdev-wrapper", ["umockdev-wrapper", sys.executable] + sys.argv)


_shared = None
_counter = itertools.count(1)


class Testbed:
    """The process's one umockdev testbed. umockdev redirects through the
    process's UMOCKDEV_DIR, so a second testbed (or a finalized first one,
    which unsets it) breaks the others: every Testbed() shares one, and
    reset() empties it between tests."""

    def __init__(self):
        global _shared
        if _shared is None:
            _shared = UMockdev.Testbed.new()
        self.testbed = _shared
        self.counter = _counter

    def reset(self):
        self.testbed.clear()

    @property
    def root(self):
        return self.testbed.get_root_dir()

    def env(self, base=None):
        env = dict(base if base is not None else os.environ)
        env["UMOCKDEV_DIR"] = self.root
        return env

    def add_phone(self, serial="R58M41ABCDE", vendor="18d1", product="4ee1",
                  model="Pixel 7", vendor_name="Google", candidate=True, extra_props=(),
                  port=None):
        """Adds a USB phone; serial None leaves the serial out entirely.
        port: the name of the USB port ("1-4"), so that another phone can
        take the syspath of one removed; by default a port of its own."""
        n = next(self.counter)
        name = port or f"1-{n}"
        attrs = ["idVendor", vendor, "idProduct", product, "busnum", "1", "devnum", str(n),
                 "product", model, "manufacturer", vendor_name]
        props = ["DEVTYPE", "usb_device", "ID_VENDOR_ID", vendor, "ID_MODEL_ID", product,
                 "ID_MODEL", model.replace(" ", "_"), "ID_VENDOR", vendor_name,
                 "BUSNUM", "001", "DEVNUM", f"{n:03d}", "DEVNAME", f"/dev/bus/usb/001/{n:03d}",
                 "ID_USB_INTERFACES", ":060101:ff4201:"]
        if serial is not None:
            attrs += ["serial", serial]
            props += ["ID_SERIAL_SHORT", serial]
        if candidate:
            props += ["PHONEBIND_CANDIDATE", "1"]
        props += list(extra_props)
        return self.testbed.add_device("usb", name, None, attrs, props)

    def add_interface(self, parent, number=0):
        """A usb_interface child, as every phone has: must be ignored."""
        return self.testbed.add_device(
            "usb", f"{os.path.basename(parent)}:1.{number}", parent,
            ["bInterfaceClass", "06"], ["DEVTYPE", "usb_interface", "PHONEBIND_CANDIDATE", "1"])

    def remove(self, syspath):
        self.testbed.uevent(syspath, "remove")
        self.testbed.remove_device(syspath)

    @contextlib.contextmanager
    def lost_events(self):
        """Within it, uevents reach no listener, as when the kernel drops
        them (ENOBUFS) or the machine sleeps: umockdev sends to the sockets
        named event<N> in the testbed, so they are renamed away meanwhile."""
        hidden = []
        for path in glob.glob(os.path.join(self.root, "event[0-9]*")):
            os.rename(path, path + ".lost")
            hidden.append(path)
        try:
            yield
        finally:
            for path in hidden:
                os.rename(path + ".lost", path)

    def replug(self, syspath):
        """Remove then add the same device again (same serial, new event)."""
        self.testbed.uevent(syspath, "remove")
        self.testbed.uevent(syspath, "add")
