"""Debian's HAProxy in front of several phonebind-registry instances, as a
deployment runs them: round robin, GET /healthz checked every 200 ms (an
instance is out after two failures, back after one success), short
timeouts. Its configuration and stats socket live in the caller's
temporary directory; it listens on a free 127.0.0.1 port.

When no instance is up (all killed, or each answering /healthz with 503
because the database is gone) HAProxy answers itself: 503 with
Retry-After and the registry's JSON error shape, so a daemon behind it
backs off as it would before a registry that lost its database.

    lb = HaProxy(tmp, [r1.port, r2.port]).start()
    lb.url; lb.states() -> {"r1": "UP", "r2": "DOWN"}; lb.stop()
"""
import os
import socket
import subprocess

import pbtest

CONFIG = """global
  maxconn 4096
  stats socket {stats} mode 600 level admin
  # the registry's answers are small; one thread per core is plenty here
  nbthread {threads}

defaults
  mode http
  option dontlognull
  timeout connect 1s
  timeout client 10s
  timeout server 10s
  timeout http-request 5s
  timeout http-keep-alive 10s
  timeout queue 2s
  # a connection refused by a killed instance is tried on another
  retries 2
  option redispatch 1

frontend registry
  bind 127.0.0.1:{port}
  default_backend registries

backend registries
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  default-server inter 200ms fastinter 100ms downinter 200ms fall 2 rise 1
  http-error status 503 content-type application/json hdr Retry-After {retry_after} string "{{\\"error\\":\\"unavailable\\",\\"message\\":\\"no registry instance is available\\"}}"
{servers}
"""


def available():
    """Why HAProxy cannot run here, or None when it can."""
    for path in ("/usr/sbin/haproxy", "/usr/bin/haproxy"):
        if os.access(path, os.X_OK):
            return None
    return "haproxy is not installed (scripts/deps.sh installs it)"


def binary():
    for path in ("/usr/sbin/haproxy", "/usr/bin/haproxy"):
        if os.access(path, os.X_OK):
            return path
    raise FileNotFoundError("haproxy")


class HaProxy:
    def __init__(self, tmp, backend_ports, port=None, threads=1, retry_after=1, name="lb"):
        self.tmp = tmp
        # as pbtest.Registry: a port we picked and lost is picked again
        self.port_given = port is not None
        self.port = port or pbtest.free_port()
        self.backend_ports = list(backend_ports)
        self.threads, self.retry_after = threads, retry_after
        self.config_path = tmp.join(f"haproxy-{name}.cfg")
        self.stats_path = tmp.join(f"haproxy-{name}.sock")
        self.log_path = tmp.join(f"haproxy-{name}.log")
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def http(self, timeout=10.0):
        return pbtest.Http(self.port, timeout=timeout)

    def server_names(self):
        return [f"r{i + 1}" for i in range(len(self.backend_ports))]

    def write_config(self):
        servers = "\n".join(f"  server {name} 127.0.0.1:{port} check"
                            for name, port in zip(self.server_names(), self.backend_ports))
        with open(self.config_path, "w") as f:
            f.write(CONFIG.format(stats=self.stats_path, threads=self.threads, port=self.port,
                                  retry_after=self.retry_after, servers=servers))

    def start(self, wait_up=True, timeout=10.0):
        for _ in range(5):
            if self._start_once(timeout):
                break
            self.port = pbtest.free_port()
        else:
            raise RuntimeError("haproxy: every port picked was taken first: " + self.read_log())
        if wait_up:
            self.wait_states({name: "UP" for name in self.server_names()}, timeout)
        return self

    def _start_once(self, timeout):
        """True once it listens; False when another program took the port
        picked before HAProxy could bind it."""
        self.write_config()
        check = subprocess.run([binary(), "-c", "-q", "-f", self.config_path],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy rejects its configuration: {check.stderr}")
        self.log = open(self.log_path, "ab")
        self.log_offset = self.log.tell()
        self.proc = subprocess.Popen([binary(), "-db", "-f", self.config_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if pbtest.wait_until(self._listening, timeout, what="haproxy listening") == "taken":
            self.proc.wait()
            self.log.close()
            return False
        pbtest.wait_until(self._stats_ready, timeout, what="haproxy's stats socket")
        self.port_given = True  # a restart keeps it
        return True

    def _listening(self):
        """HAProxy itself holds the port (a connection accepted there may
        be another program's)."""
        if self.proc.poll() is not None:
            if not self.port_given and pbtest.address_in_use(self.read_log(since_start=True)):
                return "taken"
            raise RuntimeError(f"haproxy exited with {self.proc.returncode}: {self.read_log()}")
        return pbtest.listens_on(self.proc.pid, self.port)

    def _stats_ready(self):
        """HAProxy binds the frontend's port and the stats socket one after
        the other: a port that accepts says nothing of the socket yet."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"haproxy exited with {self.proc.returncode}: {self.read_log()}")
        try:
            return self.command("show info").startswith("Name:")
        except OSError:
            return False

    def command(self, line):
        """One command on the stats socket; its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(self.stats_path)
            s.sendall(line.encode() + b"\n")
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def states(self):
        """Each instance's state as HAProxy sees it: UP, DOWN, …"""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        found = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == "registries" and row.get("svname") in self.server_names():
                found[row["svname"]] = row["status"].split()[0]
        return found

    def wait_states(self, wanted, timeout=10.0):
        """Until every named instance is in the wanted state."""
        seen = {}

        def reached():
            seen.clear()
            seen.update(self.states())
            return all(seen.get(name) == state for name, state in wanted.items())
        try:
            pbtest.wait_until(reached, timeout, interval=0.05, what=f"haproxy states {wanted}")
        except TimeoutError as error:
            # the states at the end, not when the wait began
            raise TimeoutError(f"{error} (last seen {seen})") from None

    def read_log(self, since_start=False):
        try:
            with open(self.log_path, "rb") as f:
                if since_start:
                    f.seek(self.log_offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
