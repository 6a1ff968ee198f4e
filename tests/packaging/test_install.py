#!/usr/bin/python3
"""A staged install (DESTDIR) holds every file a package needs, in the
directories the system's pkg-config names; the installed units pass
`systemd-analyze verify` and score within the targets of
`systemd-analyze security --offline=true`; the man pages render without
warnings. Faults tried: a file missing from the install, a unit that does
not verify, a hardening regression (score above the target)."""
import json
import os
import re
import subprocess
import unittest

import pbtest

# systemd-analyze security exposure targets (issue 4; lower is better)
SCORE_TARGETS = {"phonebindd.service": 2.0, "phonebind-registry.service": 1.5}


def cache():
    values = {}
    with open(os.path.join(pbtest.BUILD_DIR, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^([A-Za-z_]+):[A-Z]+=(.*)$", line.strip())
            if m:
                values[m.group(1)] = m.group(2)
    return values


def install_staged(root):
    """`cmake --install` of this build into DESTDIR=root."""
    subprocess.run(["cmake", "--install", pbtest.BUILD_DIR], env=dict(os.environ, DESTDIR=root),
                   check=True, stdout=subprocess.DEVNULL)


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = pbtest.TempDir()
        cls.root = cls.tmp.join("root")
        install_staged(cls.root)
        cls.cache = cache()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def staged(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def expected(self):
        c = self.cache
        prefix = c["CMAKE_INSTALL_PREFIX"]
        man = os.path.join(prefix, "share/man")
        return [
            f"{prefix}/sbin/phonebindd", f"{prefix}/sbin/phonebind-registry",
            f"{prefix}/bin/phonebindctl",
            f"{prefix}/{c['CMAKE_INSTALL_LIBEXECDIR']}/phonebind/identity",
            f"{prefix}/{c['CMAKE_INSTALL_LIBEXECDIR']}/phonebind/identity-android",
            f"{prefix}/{c['CMAKE_INSTALL_LIBEXECDIR']}/phonebind/identity-ios",
            f"{prefix}/{c['CMAKE_INSTALL_LIBEXECDIR']}/phonebind/identity-common.sh",
            f"{c['SYSTEMD_SYSTEM_UNIT_DIR']}/phonebindd.service",
            f"{c['SYSTEMD_SYSTEM_UNIT_DIR']}/phonebind-registry.service",
            f"{c['SYSUSERS_DIR']}/phonebind.conf",
            f"{c['UDEV_DIR']}/rules.d/70-phonebind.rules",
            f"{c['DBUS_SYSTEM_POLICY_DIR']}/org.phonebind1.conf",
            f"{c['DBUS_SYSTEM_BUS_SERVICES_DIR']}/org.phonebind1.service",
            f"{c['DBUS_INTERFACES_DIR']}/org.phonebind1.xml",
            f"{c['POLKIT_ACTIONS_DIR']}/org.phonebind1.policy",
            f"{c['PHONEBIND_SYSCONFDIR']}/phonebindd.conf",
            f"{c['PHONEBIND_SYSCONFDIR']}/registry.conf",
            f"{man}/man8/phonebindd.8", f"{man}/man8/phonebind-registry.8",
            f"{man}/man1/phonebindctl.1", f"{man}/man5/phonebindd.conf.5",
            f"{prefix}/bin/phonebind-notify", self.autostart(),
            f"{man}/man1/phonebind-notify.1",
        ]

    def autostart(self):
        """The XDG autostart file, under the system configuration directory."""
        sysconfdir = os.path.dirname(self.cache["PHONEBIND_SYSCONFDIR"])
        return f"{sysconfdir}/xdg/autostart/phonebind-notify.desktop"

    def test_autostart_file_is_valid_and_names_the_program(self):
        path = self.staged(self.autostart())
        proc = subprocess.run(["desktop-file-validate", path], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout.strip(), "", proc.stdout)
        with open(path) as f:
            text = f.read()
        self.assertIn(f"Exec={self.cache['CMAKE_INSTALL_PREFIX']}/bin/phonebind-notify\n", text)

    def test_every_file_is_installed(self):
        for path in self.expected():
            self.assertTrue(os.path.isfile(self.staged(path)), f"missing: {path}")
        libexec = self.cache["CMAKE_INSTALL_LIBEXECDIR"]
        for program in ("sbin/phonebindd", "sbin/phonebind-registry", "bin/phonebindctl",
                        "bin/phonebind-notify", f"{libexec}/phonebind/identity",
                        f"{libexec}/phonebind/identity-android",
                        f"{libexec}/phonebind/identity-ios"):
            path = self.staged(os.path.join(self.cache["CMAKE_INSTALL_PREFIX"], program))
            self.assertTrue(os.access(path, os.X_OK), program)

    def unit_copy(self, name):
        """The installed unit with ExecStart pointing at the staged binary."""
        unit_dir = self.cache["SYSTEMD_SYSTEM_UNIT_DIR"]
        with open(self.staged(f"{unit_dir}/{name}")) as f:
            text = f.read()
        prefix = self.cache["CMAKE_INSTALL_PREFIX"]
        self.assertIn(f"ExecStart={prefix}/sbin/", text)
        text = text.replace(f"ExecStart={prefix}/", f"ExecStart={self.staged(prefix)}/")
        path = self.tmp.join(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_units_verify(self):
        env = dict(os.environ, MANPATH=self.staged(
            os.path.join(self.cache["CMAKE_INSTALL_PREFIX"], "share/man")) + ":")
        for name in SCORE_TARGETS:
            proc = subprocess.run(["systemd-analyze", "verify", self.unit_copy(name)],
                                  capture_output=True, text=True, env=env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stderr.strip(), "", f"{name}: {proc.stderr}")

    def test_security_scores(self):
        for name, target in SCORE_TARGETS.items():
            proc = subprocess.run(["systemd-analyze", "security", "--offline=true",
                                   self.unit_copy(name)], capture_output=True, text=True)
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", proc.stdout)
            self.assertIsNotNone(m, proc.stdout + proc.stderr)
            score = float(m.group(1))
            print(f"{name}: exposure {score} (target <= {target})")
            self.assertLessEqual(score, target, name)

    def test_helper_reaches_usb_devices(self):
        """The identity helper's adb opens /dev/bus/usb: the unit's device
        list holds USB devices (major usb_device) read-write and nothing
        else but the pseudo-devices, and no PrivateDevices= hides them.
        Fault tried: PrivateDevices=yes back (adb would see no phone)."""
        unit = self.unit_copy("phonebindd.service")
        proc = subprocess.run(["systemd-analyze", "security", "--offline=true", "--json=short",
                               unit], capture_output=True, text=True, check=True)
        rows = {row["name"]: row for row in json.loads(proc.stdout)}
        self.assertFalse(rows["PrivateDevices="]["set"], "PrivateDevices= hides /dev/bus/usb")
        acl = rows["DeviceAllow="]["description"].split(": ", 1)[1].split()
        self.assertIn("char-usb_device:rw", acl)
        self.assertEqual([a for a in acl if a not in ("char-usb_device:rw", "char-rtc:r")], [])
        with open(unit) as f:
            self.assertIn("\nDevicePolicy=closed\n", f.read())

    def test_sysusers_user_may_open_adb_devices(self):
        """systemd-sysusers, in a root of its own, makes the phonebind user
        and puts it in plugdev (Debian's adb rules' group for phones).
        Fault tried: the m line gone (the user in no group but its own)."""
        root = self.tmp.join("sysroot")
        os.makedirs(os.path.join(root, "etc"), exist_ok=True)
        conf = self.staged(f"{self.cache['SYSUSERS_DIR']}/phonebind.conf")
        subprocess.run(["systemd-sysusers", f"--root={root}", conf], check=True,
                       capture_output=True)
        with open(os.path.join(root, "etc", "passwd")) as f:
            self.assertRegex(f.read(), r"(?m)^phonebind:x:\d+:\d+:")
        with open(os.path.join(root, "etc", "group")) as f:
            groups = {line.split(":")[0]: line.strip().split(":")[3].split(",") for line in f}
        self.assertIn("phonebind", groups["plugdev"])

    def test_man_pages_render_cleanly(self):
        man = self.staged(os.path.join(self.cache["CMAKE_INSTALL_PREFIX"], "share/man"))
        pages = [os.path.join(d, f) for d, _, files in os.walk(man) for f in files]
        self.assertEqual(len(pages), len([p for p in self.expected() if "/share/man/" in p]))
        for page in pages:
            proc = subprocess.run(["man", "--warnings", "-l", page], capture_output=True,
                                  text=True, env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual(proc.returncode, 0, page)
            self.assertEqual(proc.stderr, "", page)
            self.assertIn("NAME", proc.stdout)


if __name__ == "__main__":
    unittest.main()
