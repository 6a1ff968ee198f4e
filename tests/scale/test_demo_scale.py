#!/usr/bin/python3
"""scripts/demo-scale.py (what scripts/demo-scale.sh runs after building)
still tells its story: run against this build, it prints for PC A two
phones connected as new bindings (the second after instance r1's SIGKILL),
for PC B both kept elsewhere, a third phone pending while the primary is
dead and connected after the promotion, and HAProxy's view of r1 going
down and coming back. Nothing is faked: the demo starts its own
PostgreSQL pair, registries, HAProxy, buses and daemons.

Faults tried (by the demo): an instance SIGKILLed, the primary SIGKILLed."""
import os
import re
import subprocess
import unittest

import haproxy
import pbtest
import pgcluster


@unittest.skipIf(pgcluster.available() or haproxy.available(),
                 pgcluster.available() or haproxy.available())
class DemoScale(unittest.TestCase):
    def test_demo_tells_its_story(self):
        env = dict(os.environ, PHONEBIND_BUILD_DIR=pbtest.BUILD_DIR)
        proc = subprocess.run(["/usr/bin/python3",
                               os.path.join(pbtest.SOURCE_DIR, "scripts", "demo-scale.py")],
                              capture_output=True, text=True, env=env,
                              timeout=150 * pbtest.slowdown())
        out = proc.stdout
        self.assertEqual(proc.returncode, 0, out + proc.stderr)
        decisions = re.findall(
            r"(PC [AB]) desktop client got: Decision\(\S+, ([a-z-]+), ([a-z-]+)\)", out)
        self.assertEqual(decisions, [
            ("PC A", "connect", "new-binding"),
            ("PC A", "connect", "new-binding"),
            ("PC B", "keep-existing", "bound-elsewhere"),
            ("PC B", "keep-existing", "bound-elsewhere"),
            ("PC B", "pending", "registry-unreachable"),
            ("PC B", "connect", "new-binding"),
        ], out)
        self.assertIn("HAProxy sees: r1 DOWN, r2 UP", out)
        self.assertIn("HAProxy sees: r1 DOWN, r2 DOWN", out)
        self.assertIn("HAProxy sees: r1 UP, r2 UP", out)
        self.assertIn("503, Retry-After: 1", out)
        self.assertIn("bindings on the promoted standby: 3", out)


if __name__ == "__main__":
    unittest.main()
