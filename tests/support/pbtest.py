"""Shared helpers for phonebind's integration tests.

Everything here starts real programs: the registry built in this tree, a
private dbus-daemon standing in for the system bus, and (through umockdev)
fake phones. Nothing touches the real system bus, udev or network: servers
listen on 127.0.0.1 ports chosen free at run time.
"""

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD_DIR = os.environ.get("PHONEBIND_BUILD_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE_DIR = os.environ.get("PHONEBIND_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))


def under_valgrind(tmp, name):
    """The command prefix that runs a program of ours under memcheck when
    PHONEBIND_VALGRIND is set (scripts/check.sh --valgrind): its exit
    status is 99 on any error or definite leak, and its report goes to a
    file beside the test's logs. Empty otherwise."""
    if not os.environ.get("PHONEBIND_VALGRIND"):
        return []
    return ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            "--track-fds=no", f"--log-file={tmp.join(name)}-valgrind.%p.log"]


def check_valgrind(code, tmp, name):
    """Under memcheck, exit status 99 is an error or a definite leak: fail
    with the report."""
    if code != 99 or not os.environ.get("PHONEBIND_VALGRIND"):
        return
    reports = []
    for entry in sorted(os.listdir(tmp.path)):
        if entry.startswith(f"{name}-valgrind."):
            with open(tmp.join(entry)) as f:
                reports.append(f.read())
    raise AssertionError(f"valgrind found errors in {name}:\n" + "\n".join(reports))


def slowdown():
    """How much longer to wait for our programs: 10 under valgrind."""
    return 10 if os.environ.get("PHONEBIND_VALGRIND") else 1


def program(name):
    """Path of a program built in this tree (server/, daemon/ or ctl/)."""
    for sub in ("server", "daemon", "ctl", ""):
        path = os.path.join(BUILD_DIR, sub, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(f"{name} is not built in {BUILD_DIR}")


def free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_inodes(port):
    """The inodes of the TCP sockets listening on `port` (any address).
    Through ss (sock_diag, filtered in the kernel): /proc/net/tcp lists
    every TIME_WAIT socket too, thousands on a machine running load tests."""
    out = subprocess.run(["ss", "-Hltne", f"sport = :{port}"], capture_output=True,
                         text=True, check=True).stdout
    return {field[4:] for field in out.split() if field.startswith("ino:")}


def process_tree(pid):
    """pid and every process descended from it (a wrapper's children)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return tree


def listens_on(pid, port):
    """Whether the socket listening on `port` is held by pid or a process
    it started: a free port picked by free_port() may be taken by another
    program before ours binds it, and that program's answers are not ours."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return False
    for member in process_tree(pid):
        try:
            fds = os.listdir(f"/proc/{member}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{member}/fd/{fd}") in wanted:
                    return True
            except OSError:
                continue
    return False


def address_in_use(log_text):
    """Whether a program of ours says it could not bind its port."""
    return "address already in use" in log_text.lower()


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class TempDir:
    """A temporary directory removed at exit unless PHONEBIND_KEEP_TMP is set."""

    def __init__(self, prefix="phonebind-test-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def cleanup(self):
        if os.environ.get("PHONEBIND_KEEP_TMP"):
            print(f"keeping {self.path}", file=sys.stderr)
            return
        shutil.rmtree(self.path, ignore_errors=True)


class Http:
    """Minimal HTTP/1.1 client over http.client for one host:port."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0, tls=None):
        """tls: an ssl.SSLContext for HTTPS."""
        self.host, self.port, self.timeout, self.tls = host, port, timeout, tls

    def connection(self):
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self.tls)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, body=None, token=None, headers=None, raw_body=None):
        conn = self.connection()
        hdrs = dict(headers or {})
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
        finally:
            conn.close()
        parsed = None
        if payload and resp.getheader("Content-Type", "").startswith("application/json"):
            parsed = json.loads(payload)
        return resp.status, parsed, payload


def small_filesystem(directory, size):
    """A command prefix that runs a program with a tmpfs of `size` on
    `directory`, in a mount namespace of its own; None where this machine
    does not allow one."""
    os.makedirs(directory, exist_ok=True)
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "mount", "-t",
                            "tmpfs", "-o", f"size={size}", "pbtest", directory],
                           capture_output=True)
    if probe.returncode != 0:
        return None
    return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
            f'mount -t tmpfs -o size={size} pbtest "$0" && exec "$@"', directory]


class Registry:
    """The real phonebind-registry on a loopback port."""

    def __init__(self, tmp, database=None, port=None, extra_args=(), wrapper=(), tls=None):
        """wrapper: a command the registry's command line is appended to.
        tls: (certificate file, key file, ssl context that trusts it):
        the registry serves HTTPS."""
        self.tmp = tmp
        self.tls = tls
        # a port we picked may be taken before the registry first binds it:
        # then start() picks another; a port the caller gave, or one served
        # on before (a restart), is kept
        self.port_given = port is not None
        self.port = port or free_port()
        self.database = database or tmp.join("registry.db")
        self.extra_args = list(extra_args)
        self.wrapper = list(wrapper)
        self.proc = None
        self.log_path = tmp.join(f"registry-{self.port}.log")

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout=10.0):
        """Starts it and waits until it answers /healthz on its port."""
        for _ in range(5):
            if self._start_once(timeout * slowdown()):
                return self
            # another program took the port we picked first: another one
            self.port = free_port()
            self.log_path = self.tmp.join(f"registry-{self.port}.log")
        raise RuntimeError("registry: every port picked was taken first: " + self.read_log())

    def _start_once(self, timeout):
        """True once serving; False when the port it was to take was taken
        first and start() may pick another."""
        # a wrapper that is valgrind already (helgrind) gets no memcheck inside
        wrapped = bool(self.wrapper) and os.path.basename(self.wrapper[0]) == "valgrind"
        args = self.wrapper + ([] if wrapped else under_valgrind(self.tmp, "registry")) + [
            program("phonebind-registry"), "--listen",
                               f"127.0.0.1:{self.port}", "--database", self.database]
        if self.tls:
            args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        # Every test client is one address (127.0.0.1) and a load test one
        # account: neither is an abuser. The limits have a test of their own.
        for limit in ("--rate-accounts", "--rate-requests"):
            if limit not in self.extra_args:
                args += [limit, "0"]
        args += self.extra_args
        self.log = open(self.log_path, "ab")
        self.log_offset = self.log.tell()
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        http_client = self.http(timeout=1.0)

        def healthy():
            if self.proc.poll() is not None:
                if not self.port_given and address_in_use(self.read_log(since_start=True)):
                    return "taken"
                raise RuntimeError(f"registry exited with {self.proc.returncode}: "
                                   + self.read_log())
            try:
                if http_client.request("GET", "/healthz")[0] != 200:
                    return False
            except OSError:
                return False
            # the answer was from our registry, not another on the port
            return listens_on(self.proc.pid, self.port)
        if wait_until(healthy, timeout, what="registry /healthz") == "taken":
            self.proc.wait()
            self.log.close()
            return False
        self.port_given = True  # others know it now: a restart keeps it
        return True

    def read_log(self, since_start=False):
        with open(self.log_path, "rb") as f:
            if since_start:
                f.seek(self.log_offset)
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout * slowdown())
        code = self.proc.returncode if self.proc else None
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
        check_valgrind(code, self.tmp, "registry")
        return code

    def http(self, timeout=10.0):
        return Http(self.port, timeout=timeout, tls=self.tls[2] if self.tls else None)

    def reset(self):
        """Stops the registry and starts it again on an empty database with
        a new key: every token the daemons hold is unknown to it now."""
        self.stop()
        directory = os.path.dirname(self.database)
        for name in os.listdir(directory):
            if name.startswith(os.path.basename(self.database)) or name == "terminal-id.key":
                os.remove(os.path.join(directory, name))
        self.start()

    def new_account(self):
        status, body, _ = self.http().request("POST", "/v1/accounts")
        assert status == 201, (status, body)
        return body["account"], body["token"]


class PrivateBus:
    """A private dbus-daemon that stands in for the system bus.

    Started with a permissive configuration so tests can own names and call
    methods; policy tests start their own daemon on the project's policy.
    """

    CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    <allow user="*"/>
  </policy>
</busconfig>
"""

    def __init__(self, tmp, config=None):
        self.tmp = tmp
        # other users (tests call as nobody) must reach the socket
        os.chmod(tmp.path, 0o711)
        self.socket = tmp.join(f"bus-{os.getpid()}-{id(self)}.sock")
        self.config_path = tmp.join(f"bus-{id(self)}.conf")
        with open(self.config_path, "w") as f:
            f.write((config or self.CONFIG).replace("{socket}", self.socket))
        self.proc = None

    @property
    def address(self):
        return f"unix:path={self.socket}"

    def start(self):
        """Returns once the bus accepts connections: dbus-daemon prints its
        address only after listen(). (The socket file alone is not enough:
        it exists from bind() on, and a connect before listen() is refused.)"""
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--nofork", "--nopidfile", "--print-address=1",
             f"--config-file={self.config_path}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        printed = self.proc.stdout.readline()
        self.proc.stdout.close()
        if not printed:
            self.proc.wait(5)
            raise RuntimeError("dbus-daemon failed: " + self.proc.stderr.read().decode())
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        if self.proc:
            self.proc.stderr.close()
        self.proc = None

    def env(self, base=None):
        env = dict(base if base is not None else os.environ)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        return env


@contextlib.contextmanager
def http_server(handler):
    """A stand-in HTTP peer (http.server handler class) on a loopback port,
    for faults the real registry does not make; yields its base URL."""
    import http.server
    import threading
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def temp_dir():
    tmp = TempDir()
    try:
        yield tmp
    finally:
        tmp.cleanup()
