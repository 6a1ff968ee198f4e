"""A real PostgreSQL 15 server for a test, in a temporary directory.

    pg = pgtest.start(tmp)          # initdb, start; a role and database "phonebind"
    pg.uri                          # postgresql://phonebind:PASSWORD@127.0.0.1:PORT/phonebind
    pg.psql("SELECT count(*) FROM bindings")   # -> "3" (psql -At, as the superuser)
    pg.create_database("t1")        # -> the URI of a fresh database of the same server
    pg.stop(); pg.start()           # the same data directory, the same port
    pg.kill()                       # SIGKILL of the postmaster (a crash)
    pg.stop()                       # always, at the end (tmp.cleanup() removes the files)

The server runs from Debian's /usr/lib/postgresql/15/bin as an unprivileged
user: as root, initdb and pg_ctl run through `runuser -u postgres` (or
nobody where there is no postgres user). It listens on 127.0.0.1 on a free
port only; its Unix socket sits in its own directory (pg.socket_dir), where
local connections are trusted; TCP connections need the password. Nothing
outside the temporary directory is touched, and no server that the test did
not start is assumed.

For clusters (tests/support/pgcluster.py): pg.data_dir, pg.port,
pg.socket_dir, pg.log_path, pg.conf(settings) appends to postgresql.conf,
pg.hba(line) to pg_hba.conf, run_as([...]) runs a command as the server's
user, BIN is the binaries' directory, and PostgreSQL(tmp, name,
initialise=False) makes an object for a data directory made some other way
(pg_basebackup).
"""
import os
import pwd
import signal
import subprocess
import time

import pbtest

BIN = os.environ.get("PHONEBIND_PG_BIN", "/usr/lib/postgresql/15/bin")
DATABASE = "phonebind"
ROLE = "phonebind"
SUPERUSER = "postgres"

# Small and fast: a test's data need no durability against a power cut
# (fsync only; commits still wait for the WAL write and for synchronous
# standbys, which is what the registry's promises rest on).
DEFAULT_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "shared_buffers": "'16MB'",
    "max_connections": "200",
    "log_min_messages": "warning",
    "log_connections": "off",
    "unix_socket_permissions": "0777",
}


def server_user():
    """The user the server runs as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user (postgres, nobody) to run PostgreSQL as")


def run_as(args, check=True, **kwargs):
    """Runs args as the server's user (through runuser when we are root)."""
    user = server_user()
    prefix = ["runuser", "-u", user, "--"] if user else []
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    result = subprocess.run(prefix + list(args), **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): "
                           f"{result.stdout}{result.stderr}")
    return result


def children_of(pid):
    """The pids whose parent is pid."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(entry))
    return children


def give_to_server_user(path):
    user = server_user()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


class PostgreSQL:
    """One server: its data directory, socket directory and log under
    tmp/<name>. Not started by the constructor (see start())."""

    def __init__(self, tmp, name="pg", port=None, initialise=True, settings=None):
        if not os.path.isfile(os.path.join(BIN, "postgres")):
            raise FileNotFoundError(f"PostgreSQL is not installed in {BIN} "
                                    "(scripts/deps.sh installs it)")
        self.tmp = tmp
        self.name = name
        # as pbtest.Registry: a port picked here and taken by another
        # program before the first start is picked again
        self.port_given = port is not None
        self.port = port or pbtest.free_port()
        self.password = "pb-test-" + os.urandom(8).hex()
        # the server's user must reach its directories through tmp
        os.chmod(tmp.path, 0o711)
        self.root = tmp.join(name)
        self.data_dir = os.path.join(self.root, "data")
        self.socket_dir = os.path.join(self.root, "run")
        self.log_path = os.path.join(self.root, "server.log")
        if not os.path.isdir(self.root):
            os.makedirs(self.socket_dir)
            for path in (self.root, self.socket_dir):
                os.chmod(path, 0o755)
                give_to_server_user(path)
        self.running = False
        if initialise:
            self.initialise(settings)

    @property
    def uri(self):
        """The libpq URI the registry is given (with the password: tests only)."""
        return f"postgresql://{ROLE}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def uri_for(self, database):
        """The URI of another database of this server, owned by the role."""
        return f"postgresql://{ROLE}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name):
        """A fresh, empty database owned by the role; returns its URI."""
        self.psql(f"CREATE DATABASE {name} OWNER {ROLE}", database="postgres")
        return self.uri_for(name)

    def stored_files(self):
        """Every file the server keeps data in (after a checkpoint): for
        tests that search them for what must never be stored."""
        self.psql("CHECKPOINT", database="postgres")
        found = []
        for sub in ("base", "global", "pg_wal"):
            for directory, _, files in os.walk(os.path.join(self.data_dir, sub)):
                found.extend(os.path.join(directory, name) for name in files)
        return found

    @property
    def host_spec(self):
        """host:port, for multi-host URIs built by the caller."""
        return f"127.0.0.1:{self.port}"

    def initialise(self, settings=None):
        """initdb, then a role and a database owned by it."""
        pwfile = os.path.join(self.root, "superuser.pw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        give_to_server_user(pwfile)
        run_as([os.path.join(BIN, "initdb"), "-D", self.data_dir, "-U", SUPERUSER,
                "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C", "--no-sync"])
        os.remove(pwfile)
        merged = dict(DEFAULT_SETTINGS)
        merged.update(settings or {})
        merged["port"] = str(self.port)
        merged["unix_socket_directories"] = f"'{self.socket_dir}'"
        self.conf(merged)
        self.start()
        self.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{self.password}'", database="postgres")
        self.psql(f"CREATE DATABASE {DATABASE} OWNER {ROLE}", database="postgres")

    def conf(self, settings):
        """Appends settings (a dict) to postgresql.conf; takes effect at the
        next start (or reload, for those that allow it)."""
        with open(os.path.join(self.data_dir, "postgresql.conf"), "a") as f:
            for key, value in settings.items():
                f.write(f"{key} = {value}\n")

    def hba(self, line):
        """Appends a line to pg_hba.conf (replication entries, say)."""
        with open(os.path.join(self.data_dir, "pg_hba.conf"), "a") as f:
            f.write(line + "\n")

    def pg_ctl(self, *args, check=True):
        return run_as([os.path.join(BIN, "pg_ctl"), "-D", self.data_dir] + list(args),
                      check=check)

    def start(self, timeout=30):
        """Starts the server on its port and waits until it accepts connections."""
        for _ in range(5):
            offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            started = self.pg_ctl("start", "-w", "-t", str(timeout), "-l", self.log_path,
                                  check=False)
            if started.returncode == 0:
                self.port_given = True  # a restart keeps it
                self.running = True
                return self
            if self.port_given or not pbtest.address_in_use(self.read_log(offset)):
                raise RuntimeError(f"pg_ctl start failed ({started.returncode}): "
                                   f"{started.stdout}{started.stderr}{self.read_log(offset)}")
            self.port = pbtest.free_port()
            self.conf({"port": str(self.port)})
        raise RuntimeError("PostgreSQL: every port picked was taken first: " + self.read_log())

    def stop(self, mode="fast"):
        """Stops the server if it runs (pg_ctl stop -m mode); safe to repeat."""
        if self.running or os.path.exists(os.path.join(self.data_dir, "postmaster.pid")):
            self.pg_ctl("stop", "-w", "-m", mode, check=False)
        self.running = False

    def pid(self):
        """The postmaster's pid, or None when it does not run."""
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                return int(f.readline())
        except (FileNotFoundError, ValueError):
            return None

    def kill(self):
        """SIGKILL of the postmaster and every process of the server at once,
        as when its machine dies; returns once they are all gone."""
        pid = self.pid()
        if pid:
            victims = [pid] + children_of(pid)
            for victim in victims:
                try:
                    os.kill(victim, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            pbtest.wait_until(lambda: not any(os.path.exists(f"/proc/{v}") for v in victims),
                              what="the killed server's processes gone")
        self.running = False

    def psql(self, sql, database=DATABASE, check=True):
        """Runs sql as the superuser over the Unix socket; returns psql -At's
        output without the final newline."""
        result = subprocess.run(
            [os.path.join(BIN, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h",
             self.socket_dir, "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-c", sql],
            capture_output=True, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.rstrip("\n")

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run([os.path.join(BIN, "pg_isready"), "-q", "-h", self.socket_dir,
                                    "-p", str(self.port)])
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        raise TimeoutError(f"PostgreSQL {self.name} not ready after {timeout}s")

    def read_log(self, offset=0):
        """The server's log, from byte offset on."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""


def start(tmp, name="pg", port=None, settings=None):
    """A new server, initialised and running. The caller stops it."""
    return PostgreSQL(tmp, name=name, port=port, settings=settings)
