#!/usr/bin/python3
"""packaging/rpm/phonebind.spec ships exactly what the build installs.
rpmbuild needs Fedora's macro packages, which Debian does not have, so the
spec's %files are expanded here with this build's own directories (the
paths rpm's macros stand for) and compared with a staged install both
ways. Faults tried: a file the build installs that no %files lists
(rpmbuild would stop on "installed but unpackaged"), a %files entry that
matches nothing (rpmbuild: "file not found"), a scriptlet for a unit no
subpackage ships, a source the spec names that the tree lacks."""
import fnmatch
import os
import re
import subprocess
import unittest

import pbtest
from test_install import cache, install_staged

SPEC = os.path.join(pbtest.SOURCE_DIR, "packaging", "rpm", "phonebind.spec")


def macros(c):
    prefix = c["CMAKE_INSTALL_PREFIX"]
    return {
        "_bindir": f"{prefix}/bin", "_sbindir": f"{prefix}/sbin",
        "_datadir": f"{prefix}/share", "_mandir": f"{prefix}/share/man",
        "_libexecdir": f"{prefix}/{c.get('CMAKE_INSTALL_LIBEXECDIR', 'libexec')}",
        "_sysconfdir": os.path.dirname(c["PHONEBIND_SYSCONFDIR"]),
        "_unitdir": c["SYSTEMD_SYSTEM_UNIT_DIR"], "_sysusersdir": c["SYSUSERS_DIR"],
        "_udevrulesdir": f"{c['UDEV_DIR']}/rules.d", "name": "phonebind",
    }


def parse(spec_text):
    """{subpackage: [file patterns]}, [scriptlet lines], {SourceN: value}."""
    files, scriptlets, sources, section = {}, [], {}, None
    for line in spec_text.splitlines():
        line = line.strip()
        m = re.match(r"^(Source\d*):\s*(\S+)", line)
        if m:
            sources[m.group(1)] = m.group(2)
        if line.startswith("%files"):
            section = line.split()[1] if len(line.split()) > 1 else ""
            files[section] = []
            continue
        if line.startswith("%") and re.match(r"^%(pre|post|preun|postun|changelog)\b", line):
            section = None
        if section is not None and line and not line.startswith(("%license", "%doc", "#")):
            files[section].append(re.sub(r"^%config(\([^)]*\))?\s+", "", line))
        if re.match(r"^%systemd_(post|preun|postun\S*)\s", line):
            scriptlets.append(line)
    return files, scriptlets, sources


def expand(text, values):
    text = re.sub(r"%\{(\w+)\}", lambda m: values[m.group(1)], text)
    # a directory entry (trailing slash) ships the directory and all in it
    return text + "*" if text.endswith("/") else text


class RpmSpec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = pbtest.TempDir()
        cls.root = cls.tmp.join("root")
        install_staged(cls.root)
        cls.installed = sorted("/" + os.path.relpath(os.path.join(d, f), cls.root)
                               for d, _, names in os.walk(cls.root) for f in names)
        with open(SPEC) as f:
            files, cls.scriptlets, cls.sources = parse(f.read())
        values = macros(cache())
        cls.files = {package: [expand(p, values) for p in patterns]
                     for package, patterns in files.items()}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_installed_file_is_packaged_once(self):
        for path in self.installed:
            owners = [package for package, patterns in self.files.items()
                      if any(fnmatch.fnmatch(path, p) for p in patterns)]
            self.assertEqual(len(owners), 1, f"{path} is in %files of {owners or 'none'}")

    def test_every_files_entry_matches_something(self):
        for package, patterns in self.files.items():
            for pattern in patterns:
                self.assertTrue(any(fnmatch.fnmatch(p, pattern) for p in self.installed),
                                f"%files {package or '(main)'}: {pattern} matches nothing")

    def test_scriptlets_name_shipped_units(self):
        units = {os.path.basename(p) for p in self.installed if p.endswith(".service")}
        self.assertTrue(self.scriptlets)
        for line in self.scriptlets:
            self.assertIn(line.split()[1], units, line)

    def test_sources_exist_in_the_tree(self):
        tracked = subprocess.run(["git", "-C", pbtest.SOURCE_DIR, "ls-files"],
                                 capture_output=True, text=True, check=True).stdout.split()
        for tag, value in self.sources.items():
            if tag == "Source0":
                continue  # the release tarball itself
            self.assertTrue(any(os.path.basename(t) == value for t in tracked),
                            f"{tag}: {value} is not in the tree")


if __name__ == "__main__":
    unittest.main()
