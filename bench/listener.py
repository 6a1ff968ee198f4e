#!/usr/bin/python3
"""Records phonebindd's signals with CLOCK_MONOTONIC timestamps, one line
each: "<ns> <member> <path> [decision reason]". A process of its own, so
the harness that makes uevents does not slow the listener."""
import sys
import time

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.bus.BusConnection(sys.argv[1])
out = sys.stdout


def handler(*args, **kwargs):
    now = time.monotonic_ns()
    out.write(" ".join([str(now), kwargs["member"]] + [str(a) for a in args]) + "\n")
    out.flush()


bus.add_signal_receiver(handler, dbus_interface="org.phonebind1.Manager", member_keyword="member")
bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "GetId", "", [])
print("ready", flush=True)
GLib.MainLoop().run()
