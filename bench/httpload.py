"""What the HTTP benchmarks share: wrk with one of bench/*.lua, read into
(requests/s, {"50": ms, "99": ms}, non-2xx answers), and nginx answering a
fixed JSON body, the ceiling of an HTTP server on this machine."""
import os
import re
import subprocess
import threading

import pbtest

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


def wrk_each(urls, script, duration, token, connections):
    """One wrk per URL at the same time, the connections shared out: the
    summed rate, the worst of their percentiles, the summed errors."""
    results = [None] * len(urls)

    def one(i):
        results[i] = wrk(urls[i], script, duration, token, max(1, connections // len(urls)))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(urls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (sum(r[0] for r in results),
            {p: max(r[1][p] for r in results) for p in ("50", "99")},
            sum(r[2] for r in results))


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
