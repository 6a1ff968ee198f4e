#!/usr/bin/python3
"""phonebind-registry on PostgreSQL under wrk, with 1 and 2 instances (one
HTTP thread each) on one database: lookups (GET /v1/terminals/{id}, a
distinct unbound id each) and claims (PUT …/binding, a new id each, so
every one is an insert). Two instances get one wrk each at the same time,
the connections shared out. In the same run, in alternating rounds:

- pgbench running the registry's own statements (bench/pgbench/*.sql, the
  same SQL as server/'s PostgreSQL backend) over as many connections as the
  registries held to the database: the database's own ceiling for them;
- nginx answering a fixed body with as many workers as instances: the
  ceiling of an HTTP server here, as registry-load uses it.

Reports medians, the ratios of the medians (claims ÷ pgbench, lookups ÷
nginx, two instances ÷ one) and the machine. PostgreSQL runs alone (no
standby: the bench is of the registry against its database) with fsync on
unless --fsync off."""
import argparse
import os
import re
import subprocess
import sys
import time

import benchlib
import pbtest
import pgcluster
import pgtest
from httpload import start_nginx, wrk, wrk_each

BENCH = "registry-load-pg"
HERE = os.path.dirname(os.path.abspath(__file__))


def pgbench(server, script, duration, connections, variables):
    """pgbench over TCP as the registry's role, prepared statements, one
    thread (as wrk has one): transactions per second and average ms."""
    args = [os.path.join(pgcluster.PG_BIN, "pgbench"), "-n", "-M", "prepared", "-j", "1",
            "-c", str(connections), "-T", str(duration), "-h", "127.0.0.1", "-p",
            str(server.port), "-U", pgcluster.ROLE, "-f", os.path.join(HERE, "pgbench", script)]
    for name, value in variables.items():
        args += ["-D", f"{name}={value}"]
    args.append(pgcluster.DATABASE)
    env = dict(os.environ, PGPASSWORD=server.password)
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench {script} failed:\n{proc.stdout}{proc.stderr}")
    tps = float(re.search(r"^tps = ([0-9.]+)", proc.stdout, re.M).group(1))
    latency = float(re.search(r"^latency average = ([0-9.]+) ms", proc.stdout, re.M).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", proc.stdout)
    return tps, {"avg": latency}, int(failed.group(1)) if failed else 0


def registry_connections(server):
    """How many connections the registries hold to the database now."""
    return int(server.psql("SELECT count(*) FROM pg_stat_activity "
                           f"WHERE usename = '{pgcluster.ROLE}' AND backend_type = 'client backend'"))


def machine_busy():
    """(busy, total) jiffies of every CPU, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


class CpuMeter:
    """CPU seconds the registries and the database spend, and how busy the
    machine is, over one round."""

    def __init__(self, registries, server):
        self.registries, self.server = registries, server

    def pids(self):
        pid = self.server.pid()
        return [r.proc.pid for r in self.registries], [pid] + pgtest.children_of(pid)

    def read(self):
        registry_pids, db_pids = self.pids()
        return (sum(benchlib.cpu_seconds(p) for p in registry_pids),
                sum(_cpu_or_zero(p) for p in db_pids), machine_busy())

    def since(self, before, requests):
        """µs of registry and database CPU per request, machine busy share."""
        after = self.read()
        busy = (after[2][0] - before[2][0]) / max(1, after[2][1] - before[2][1])
        return ((after[0] - before[0]) * 1e6 / max(1, requests),
                (after[1] - before[1]) * 1e6 / max(1, requests), busy)


def _cpu_or_zero(pid):
    try:
        return benchlib.cpu_seconds(pid)
    except OSError:
        return 0.0  # a backend that ended meanwhile


def start_registries(tmp, database, count):
    key = tmp.join("terminal-id.key")
    registries = []
    for _ in range(count):
        registries.append(pbtest.Registry(tmp, database=database, extra_args=[
            "--threads", "1", "--key-file", key, "--log-level", "error",
            "--rate-requests", "0"]).start(timeout=30))  # one token's throughput is measured
    return registries


def run(instances, duration, connections, rounds, cluster, tmp):
    server = cluster.primary
    registries = start_registries(tmp, cluster.uri(), instances)
    nginx, nginx_url = start_nginx(tmp.path, instances)
    samples = {k: [] for k in ("lookup", "claim", "nginx", "pgbench_claim", "pgbench_lookup")}
    db_connections = 0
    meter = CpuMeter(registries, server)
    cpu = {k: [] for k in ("lookup", "claim", "pgbench_claim", "pgbench_lookup")}
    try:
        account, token = registries[0].new_account()
        urls = [r.url for r in registries]
        variables = {"account": account, "now": int(time.time() * 1000)}
        for _ in range(rounds):
            for kind in ("lookup", "claim"):
                before = meter.read()
                samples[kind].append(wrk_each(urls, f"{kind}.lua", duration, token, connections))
                cpu[kind].append(meter.since(before, samples[kind][-1][0] * duration))
                db_connections = max(db_connections, registry_connections(server))
                print(f"# instances {instances}: {kind} {samples[kind][-1][0]:.0f} req/s, "
                      f"{db_connections} database connections, CPU per request: registry "
                      f"{cpu[kind][-1][0]:.1f} us, database {cpu[kind][-1][1]:.1f} us; "
                      f"machine {cpu[kind][-1][2]:.0%} busy", file=sys.stderr)
            samples["nginx"].append(wrk(nginx_url, "lookup.lua", duration, token, connections))
            for kind in ("claim", "lookup"):
                before = meter.read()
                samples[f"pgbench_{kind}"].append(
                    pgbench(server, f"{kind}.sql", duration, db_connections, variables))
                cpu[f"pgbench_{kind}"].append(
                    meter.since(before, samples[f"pgbench_{kind}"][-1][0] * duration))
            print(f"# instances {instances}: nginx {samples['nginx'][-1][0]:.0f} req/s, "
                  f"pgbench claim {samples['pgbench_claim'][-1][0]:.0f} tps, "
                  f"lookup {samples['pgbench_lookup'][-1][0]:.0f} tps", file=sys.stderr)
    finally:
        for registry in registries:
            registry.stop()
        nginx.terminate()
        nginx.wait(5)
    return report(instances, samples, cpu, db_connections)


def report(instances, samples, cpu, db_connections):
    throughput = {kind: benchlib.median([s[0] for s in runs]) for kind, runs in samples.items()}
    suffix = f"instances{instances}"
    for kind in ("lookup", "claim", "nginx"):
        name = f"nginx_fixed_{{}}_workers{instances}" if kind == "nginx" else f"{kind}_{{}}_{suffix}"
        benchlib.emit(BENCH, name.format("throughput"), throughput[kind], "req/s")
        for p in ("50", "99"):
            benchlib.emit(BENCH, name.format(f"p{p}"),
                          benchlib.median([s[1][p] for s in samples[kind]]), "ms")
        errors = sum(s[2] for s in samples[kind])
        if errors and kind != "nginx":
            print(f"{kind}: {errors} non-2xx answers", file=sys.stderr)
            benchlib.emit(BENCH, name.format("errors"), errors, "responses")
    for kind in ("claim", "lookup"):
        name = f"pgbench_{kind}_{{}}_{suffix}"
        benchlib.emit(BENCH, name.format("throughput"), throughput[f"pgbench_{kind}"], "tps")
        benchlib.emit(BENCH, name.format("latency_avg"),
                      benchlib.median([s[1]["avg"] for s in samples[f"pgbench_{kind}"]]), "ms")
    for kind, runs in cpu.items():
        for i, what in enumerate(("registry_cpu_per_request", "database_cpu_per_request")):
            if i == 0 and kind.startswith("pgbench"):
                continue
            benchlib.emit(BENCH, f"{kind}_{what}_{suffix}",
                          benchlib.median([r[i] for r in runs]), "us")
        benchlib.emit(BENCH, f"{kind}_machine_busy_{suffix}",
                      benchlib.median([r[2] for r in runs]), "ratio")
    benchlib.emit(BENCH, f"database_connections_{suffix}", db_connections, "connections")
    benchlib.emit(BENCH, f"claim_vs_pgbench_ratio_{suffix}",
                  throughput["claim"] / throughput["pgbench_claim"], "ratio")
    benchlib.emit(BENCH, f"lookup_vs_pgbench_ratio_{suffix}",
                  throughput["lookup"] / throughput["pgbench_lookup"], "ratio")
    benchlib.emit(BENCH, f"lookup_vs_nginx_ratio_{suffix}",
                  throughput["lookup"] / throughput["nginx"], "ratio")
    return throughput


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--instances", default="1,2")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fsync", choices=("on", "off"), default="on")
    args = parser.parse_args()
    reason = pgcluster.available()
    if reason:
        sys.exit(f"registry-load-pg: {reason}")
    print(f"# registry-load-pg on {benchlib.machine()}, fsync {args.fsync}", file=sys.stderr)
    tmp = pbtest.TempDir(prefix="phonebind-bench-pg-")
    cluster = pgcluster.PgCluster(tmp, fsync=args.fsync == "on", standby=False)
    results = {}
    try:
        cluster.start()
        for instances in [int(n) for n in args.instances.split(",")]:
            results[instances] = run(instances, args.duration, args.connections, args.rounds,
                                     cluster, tmp)
    finally:
        cluster.stop()
        tmp.cleanup()
    if 1 in results and 2 in results:
        for kind in ("lookup", "claim"):
            benchlib.emit(BENCH, f"{kind}_2_vs_1_instances_ratio",
                          results[2][kind] / results[1][kind], "ratio")


if __name__ == "__main__":
    main()
