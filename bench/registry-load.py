#!/usr/bin/python3
"""Throughput and latency of phonebind-registry (SQLite) under wrk: lookups
(GET /v1/terminals/{id}, distinct ids) and claims (PUT …/binding, a new id
each, so every one is a real insert), with 1 and 2 HTTP threads; and, in
the same run, nginx answering a fixed JSON body with as many workers, as the
ceiling of an HTTP server on this machine, in alternating rounds. Reports
medians and the ratio of the medians."""
import argparse
import sys

import benchlib
import pbtest
from httpload import start_nginx, wrk

BENCH = "registry-load"


def run(threads, duration, connections, rounds):
    """Alternates registry and nginx rounds so that both see the same
    machine; reports the medians and the ratio of the medians."""
    tmp = pbtest.TempDir(prefix="phonebind-bench-")
    # no rate-requests: one token's throughput is what is measured
    registry = pbtest.Registry(tmp, extra_args=["--threads", str(threads), "--log-level", "error",
                                                "--rate-requests", "0"]).start()
    nginx, nginx_url = start_nginx(tmp.path, threads)
    samples = {"lookup": [], "claim": [], "nginx": []}
    try:
        _, token = registry.new_account()
        for _ in range(rounds):
            for kind, url, script in (("lookup", registry.url, "lookup.lua"),
                                      ("claim", registry.url, "claim.lua"),
                                      ("nginx", nginx_url, "lookup.lua")):
                samples[kind].append(wrk(url, script, duration, token, connections))
                print(f"# threads {threads}: {kind} {samples[kind][-1][0]:.0f} req/s",
                      file=sys.stderr)
    finally:
        registry.stop()
        nginx.terminate()
        nginx.wait(5)
        tmp.cleanup()
    throughput = {kind: benchlib.median([s[0] for s in runs]) for kind, runs in samples.items()}
    for kind, name in (("lookup", f"lookup_{{}}_threads{threads}"),
                       ("claim", f"claim_{{}}_threads{threads}"),
                       ("nginx", f"nginx_fixed_{{}}_workers{threads}")):
        benchlib.emit(BENCH, name.format("throughput"), throughput[kind], "req/s")
        for p in ("50", "99"):
            benchlib.emit(BENCH, name.format(f"p{p}"),
                          benchlib.median([s[1][p] for s in samples[kind]]), "ms")
        errors = sum(s[2] for s in samples[kind])
        if errors and kind != "nginx":
            print(f"{kind}: {errors} non-2xx answers", file=sys.stderr)
            benchlib.emit(BENCH, name.format("errors"), errors, "responses")
    benchlib.emit(BENCH, f"lookup_vs_nginx_ratio_threads{threads}",
                  throughput["lookup"] / throughput["nginx"], "ratio")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"# registry-load on {benchlib.machine()}", file=sys.stderr)
    for threads in [int(t) for t in args.threads.split(",")]:
        run(threads, args.duration, args.connections, args.rounds)


if __name__ == "__main__":
    main()
