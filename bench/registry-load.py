#!/usr/bin/python3
"""Throughput and latency of phonebind-registry (SQLite) under wrk: lookups
(GET /v1/terminals/{id}, distinct ids) and claims (PUT …/binding, a new id
each, so every one is a real insert), with 1 and 2 HTTP threads; and, in
the same run, nginx answering a fixed JSON body with as many workers, as the
ceiling of an HTTP server on this machine, in alternating rounds. Reports
medians and the ratio of the medians."""
import argparse
import os
import re
import subprocess
import sys

import benchlib
import pbtest

BENCH = "registry-load"
HERE = os.path.dirname(os.path.abspath(__file__))

NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir};
  proxy_temp_path {dir};
  fastcgi_temp_path {dir};
  uwsgi_temp_path {dir};
  scgi_temp_path {dir};
  server {{
    listen 127.0.0.1:{port} reuseport;
    location / {{
      default_type application/json;
      return 200 '{{"status":"unbound"}}\\n';
    }}
  }}
}}
"""


def wrk(url, script, duration, token, connections):
    env = dict(os.environ, PHONEBIND_TOKEN=token or "")
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-s", os.path.join(HERE, script), url],
                         capture_output=True, text=True, env=env, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    lat = {}
    for p in ("50", "99"):
        m = re.search(rf"^\s+{p}%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        lat[p] = float(m.group(1)) * scale
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat, int(non2xx.group(1)) if non2xx else 0


def start_nginx(tmp, workers):
    port = pbtest.free_port()
    conf = os.path.join(tmp, f"nginx-{workers}.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(workers=workers, dir=tmp, port=port))
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stderr=subprocess.DEVNULL)
    http = pbtest.Http(port, timeout=1)
    pbtest.wait_until(lambda: _ok(http), what="nginx")
    return proc, f"http://127.0.0.1:{port}"


def _ok(http):
    try:
        return http.request("GET", "/")[0] == 200
    except OSError:
        return False


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
