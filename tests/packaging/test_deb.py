#!/usr/bin/python3
"""The Debian packages build from a copy of the tree with
`dpkg-buildpackage -us -uc -b` (packaging/debian as debian/) and lintian
finds no errors in them. Faults tried: a file the build installs that no
package ships (dh_missing fails the build), lintian errors."""
import glob
import os
import shutil
import subprocess
import unittest

import pbtest


class DebianPackages(unittest.TestCase):
    def test_build_and_lintian(self):
        tmp = pbtest.TempDir()
        try:
            tree = tmp.join("phonebind-0.1.0")
            files = subprocess.run(["git", "-C", pbtest.SOURCE_DIR, "ls-files", "-co",
                                    "--exclude-standard"], capture_output=True, text=True,
                                   check=True).stdout.split()
            for name in files:
                source = os.path.join(pbtest.SOURCE_DIR, name)
                if not os.path.isfile(source):
                    continue
                os.makedirs(os.path.dirname(os.path.join(tree, name)), exist_ok=True)
                shutil.copy2(source, os.path.join(tree, name))
            shutil.copytree(os.path.join(tree, "packaging", "debian"), os.path.join(tree, "debian"))
            # The distribution's compiler and flags, whatever build runs this
            # test (the sanitizer build sets CC=clang; dwz cannot read clang
            # 14's DWARF 5).
            env = {k: v for k, v in os.environ.items()
                   if k not in ("CC", "CXX", "CFLAGS", "LDFLAGS", "ASAN_OPTIONS",
                                "UBSAN_OPTIONS")}
            proc = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=tree,
                                  capture_output=True, text=True, timeout=540, env=env)
            self.assertEqual(proc.returncode, 0, proc.stdout[-3000:] + proc.stderr[-3000:])
            debs = sorted(glob.glob(tmp.join("*.deb")))
            names = [os.path.basename(d).split("_")[0] for d in debs]
            self.assertIn("phonebind", names)
            self.assertIn("phonebind-registry", names)
            contents = subprocess.run(["dpkg-deb", "-c", [d for d in debs if "/phonebind_" in d][0]],
                                      capture_output=True, text=True, check=True).stdout
            for path in ("usr/sbin/phonebindd", "usr/bin/phonebindctl",
                         "usr/libexec/phonebind/identity", "usr/libexec/phonebind/identity-common.sh",
                         "lib/udev/rules.d/70-phonebind.rules", "org.phonebind1.policy",
                         "lib/systemd/system/phonebindd.service", "sysusers.d/phonebind.conf"):
                self.assertIn(path, contents)
            lint = subprocess.run(["lintian", "--fail-on", "error"] + debs,
                                  capture_output=True, text=True, timeout=300)
            print(lint.stdout)
            self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
            self.assertNotIn("\nE: ", "\n" + lint.stdout)
        finally:
            tmp.cleanup()


if __name__ == "__main__":
    unittest.main()
