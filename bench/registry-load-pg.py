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
  ceiling of an HTTP server here, as registry-load uses it;
- the lookups again through HAProxy in front of the instances, as a
  deployment runs them (one wrk, one address).

Reports medians, the ratios of the medians (claims ÷ pgbench, lookups ÷
nginx, two instances ÷ one) and the machine. PostgreSQL runs alone (no
standby: the bench is of the registry against its database) with fsync on
unless --fsync off."""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

import benchlib
import haproxy
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


def tree(pid):
    """A process and its children (a postmaster and its backends, nginx
    and its workers)."""
    return [pid] + pgtest.children_of(pid) if pid else []


def _cpu_or_none(pid):
    try:
        return benchlib.cpu_seconds(pid)
    except (OSError, IndexError):
        return None  # gone meanwhile


class CpuSampler:
    """CPU seconds of groups of processes over a step, sampled every 50 ms
    from a thread: a process that starts during the step (pgbench's
    backends) counts from 0, one that ends counts to its last sample."""

    def __init__(self, groups):
        self.groups = groups  # name -> callable returning pids
        self.first, self.last = {}, {}
        self.stopping = threading.Event()

    def _sample(self, initial):
        for name, pids in self.groups.items():
            for pid in pids():
                cpu = _cpu_or_none(pid)
                if cpu is None:
                    continue
                if initial:
                    self.first[(name, pid)] = cpu
                self.last[(name, pid)] = cpu

    def _loop(self):
        while not self.stopping.wait(0.05):
            self._sample(False)

    def measure(self, step):
        """Runs step(); its result, {group: CPU seconds}, the machine's busy share."""
        self._sample(True)
        busy_before = machine_busy()
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            result = step()
        finally:
            self.stopping.set()
            thread.join()
        self._sample(False)
        after = machine_busy()
        cpu = {name: 0.0 for name in self.groups}
        for (name, pid), last in self.last.items():
            cpu[name] += last - self.first.get((name, pid), 0.0)
        busy = (after[0] - busy_before[0]) / max(1, after[1] - busy_before[1])
        return result, cpu, busy


def start_registries(tmp, database, count):
    key = tmp.join("terminal-id.key")
    registries = []
    for _ in range(count):
        registries.append(pbtest.Registry(tmp, database=database, extra_args=[
            "--threads", "1", "--key-file", key, "--log-level", "error",
            "--rate-requests", "0"]).start(timeout=30))  # one token's throughput is measured
    return registries


class Rounds:
    """Every step's figures of one instance count: samples[kind] is a list
    of (rate, latencies, errors, {group: µs per request}, busy share)."""

    def __init__(self, instances, duration):
        self.instances, self.duration = instances, duration
        self.samples = {}

    def step(self, kind, groups, run):
        rate_lat_err, cpu, busy = CpuSampler(groups).measure(run)
        requests = max(1.0, rate_lat_err[0] * self.duration)
        per_request = {name: seconds * 1e6 / requests for name, seconds in cpu.items()}
        self.samples.setdefault(kind, []).append(rate_lat_err + (per_request, busy))
        cpu_text = ", ".join(f"{name} {us:.1f} us" for name, us in per_request.items())
        print(f"# instances {self.instances}: {kind} {rate_lat_err[0]:.0f}/s; CPU per request: "
              f"{cpu_text}; machine {busy:.0%} busy", file=sys.stderr)


def run(instances, duration, connections, rounds, cluster, tmp):
    server = cluster.primary
    registries = start_registries(tmp, cluster.uri(), instances)
    nginx, nginx_url = start_nginx(tmp.path, instances)
    lb = haproxy.HaProxy(tmp, [r.port for r in registries], name=f"bench{instances}").start()
    figures = Rounds(instances, duration)
    database = {"database": lambda: tree(server.pid())}
    at_registry = dict(database, registry=lambda: [r.proc.pid for r in registries])
    try:
        account, token = registries[0].new_account()
        urls = [r.url for r in registries]
        variables = {"account": account, "now": int(time.time() * 1000)}
        db_connections = registry_connections(server)
        for _ in range(rounds):
            for kind in ("lookup", "claim"):
                figures.step(kind, at_registry,
                             lambda: wrk_each(urls, f"{kind}.lua", duration, token, connections))
                db_connections = max(db_connections, registry_connections(server))
            figures.step("nginx", {"nginx": lambda: tree(nginx.pid)},
                         lambda: wrk(nginx_url, "lookup.lua", duration, token, connections))
            # as a deployment has it: one address, HAProxy spreading the load
            figures.step("lookup_via_haproxy", dict(at_registry, haproxy=lambda: [lb.proc.pid]),
                         lambda: wrk(lb.url, "lookup.lua", duration, token, connections))
            # The statements over the registries' own connections, and over
            # as many as wrk keeps requests in flight (the registry
            # pipelines those over its few: the database sees them all)
            for kind in ("claim", "lookup"):
                for clients in sorted({db_connections, connections}):
                    figures.step(f"pgbench_{kind}_conns{clients}", database,
                                 lambda: pgbench(server, f"{kind}.sql", duration, clients,
                                                 variables))
    finally:
        lb.stop()
        for registry in registries:
            registry.stop()
        nginx.terminate()
        nginx.wait(5)
    return report(figures, db_connections, connections)


def report(figures, db_connections, connections):
    suffix = f"instances{figures.instances}"
    throughput = {}
    for kind, runs in figures.samples.items():
        throughput[kind] = benchlib.median([r[0] for r in runs])
        name = f"{kind}_{{}}_{suffix}"
        unit = "tps" if kind.startswith("pgbench") else "req/s"
        benchlib.emit(BENCH, name.format("throughput"), throughput[kind], unit)
        for p in runs[0][1]:
            benchlib.emit(BENCH, name.format(f"p{p}" if p != "avg" else "latency_avg"),
                          benchlib.median([r[1][p] for r in runs]), "ms")
        errors = sum(r[2] for r in runs)
        if errors and kind in ("lookup", "claim"):
            print(f"{kind}: {errors} non-2xx answers", file=sys.stderr)
            benchlib.emit(BENCH, name.format("errors"), errors, "responses")
        for group in runs[0][3]:
            benchlib.emit(BENCH, name.format(f"{group}_cpu_per_request"),
                          benchlib.median([r[3][group] for r in runs]), "us")
        benchlib.emit(BENCH, name.format("machine_busy"), benchlib.median([r[4] for r in runs]),
                      "ratio")
    benchlib.emit(BENCH, f"database_connections_{suffix}", db_connections, "connections")
    for kind in ("claim", "lookup"):
        for clients in sorted({db_connections, connections}):
            benchlib.emit(BENCH, f"{kind}_vs_pgbench_conns{clients}_ratio_{suffix}",
                          throughput[kind] / throughput[f"pgbench_{kind}_conns{clients}"],
                          "ratio")
    benchlib.emit(BENCH, f"lookup_vs_nginx_ratio_{suffix}",
                  throughput["lookup"] / throughput["nginx"], "ratio")
    return throughput


def storage(server):
    """Bytes per binding on disk, indexes and TOAST included, over what the
    claims left in the table (VACUUM first, as autovacuum would)."""
    server.psql("VACUUM ANALYZE bindings", database=pgcluster.DATABASE)
    rows, size = server.psql("SELECT count(*), pg_total_relation_size('bindings') FROM bindings",
                             database=pgcluster.DATABASE).split("|")
    benchlib.emit(BENCH, "bindings_stored", int(rows), "rows")
    benchlib.emit(BENCH, "bytes_per_binding", int(size) / max(1, int(rows)), "bytes")


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
        storage(cluster.primary)
    finally:
        cluster.stop()
        tmp.cleanup()
    if 1 in results and 2 in results:
        for kind in ("lookup", "claim"):
            benchlib.emit(BENCH, f"{kind}_2_vs_1_instances_ratio",
                          results[2][kind] / results[1][kind], "ratio")


if __name__ == "__main__":
    main()
