#!/usr/bin/python3
"""The benchmark scripts still run: each with tiny parameters, against the
programs of this build, and every line it ends with is a figure in the
agreed JSON shape. Says nothing about speed (benchmarks do, in docs/)."""
import json
import os
import subprocess
import unittest

import pbtest

BENCH = os.path.join(pbtest.SOURCE_DIR, "bench")


def run(script, *args):
    env = dict(os.environ, PYTHONPATH=os.path.join(pbtest.SOURCE_DIR, "tests", "support"))
    proc = subprocess.run(["/usr/bin/python3", os.path.join(BENCH, script)] + list(args),
                          capture_output=True, text=True, timeout=240, env=env)
    if proc.returncode != 0:
        raise AssertionError(proc.stdout + proc.stderr)
    figures = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    for figure in figures:
        if set(figure) - {"round"} != {"bench", "metric", "value", "unit"}:
            raise AssertionError(f"not a figure: {figure}")
    return {f["metric"]: f["value"] for f in figures if "round" not in f}


class BenchSmoke(unittest.TestCase):
    def test_registry_load(self):
        figures = run("registry-load.py", "--duration", "1", "--threads", "1",
                      "--connections", "4", "--rounds", "1")
        self.assertGreater(figures["lookup_throughput_threads1"], 0)
        self.assertGreater(figures["claim_throughput_threads1"], 0)
        self.assertIn("lookup_vs_nginx_ratio_threads1", figures)
        self.assertNotIn("lookup_errors_threads1", figures)
        self.assertNotIn("claim_errors_threads1", figures)

    def test_registry_load_pg(self):
        figures = run("registry-load-pg.py", "--duration", "1", "--instances", "1",
                      "--connections", "4", "--rounds", "1", "--fsync", "off")
        self.assertGreater(figures["lookup_throughput_instances1"], 0)
        self.assertGreater(figures["claim_throughput_instances1"], 0)
        self.assertGreater(figures["pgbench_claim_conns4_throughput_instances1"], 0)
        self.assertIn("claim_vs_pgbench_conns4_ratio_instances1", figures)
        self.assertGreater(figures["claim_database_cpu_per_request_instances1"], 0)
        self.assertGreater(figures["pgbench_claim_conns4_database_cpu_per_request_instances1"], 0)
        self.assertNotIn("lookup_errors_instances1", figures)
        self.assertNotIn("claim_errors_instances1", figures)

    def test_attach_storm(self):
        figures = run("attach-storm.py", "--sizes", "10")
        self.assertIn("known_n10_p50", figures)
        self.assertLess(figures["n10_peak_rss"], 1024)

    def test_peers(self):
        """The floor and phonebindd (and boltd, where bolt is installed):
        every daemon's medians and the ratios between them."""
        daemons = "phonebind,floor" + (",boltd" if os.path.exists("/usr/libexec/boltd") else "")
        figures = run("peers.py", "--sizes", "5", "--rounds", "1", "--daemons", daemons)
        for name in daemons.split(","):
            self.assertGreater(figures[f"{name}_known_n5_p50_median"], 0)
            self.assertLess(figures[f"{name}_known_n5_emission_median"],
                            figures[f"{name}_known_n5_all_decided_median"] + 1)
        self.assertIn("known_n5_p50_phonebind_vs_floor", figures)

    def test_idle_check(self):
        figures = run("idle-check.py", "--seconds", "1")
        self.assertIn("wakeups_without_watchdog", figures)


if __name__ == "__main__":
    unittest.main()
