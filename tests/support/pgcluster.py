"""A real PostgreSQL primary and a synchronous standby for phonebind's
scale tests, benchmarks and demo.

Both servers run from Debian's binaries (/usr/lib/postgresql/15/bin) in
directories of the caller's temporary directory, listen on 127.0.0.1
ports chosen free at run time and keep their sockets beside their data.
PostgreSQL refuses to run as root: when the caller is root, every server
command runs as the unprivileged `postgres` user (runuser).

The standby is made with `pg_basebackup -R` and named in the primary's
`synchronous_standby_names`, so a commit the primary reports has been
flushed on the standby too: a claim the registry answered 201 survives
the primary's death and the standby's promotion. Faults: kill() is the
primary's machine dying (SIGKILL of the postmaster and every backend at
once, no shutdown checkpoint); promote() is `pg_ctl promote`.

    cluster = PgCluster(tmp).start()
    cluster.uri        # multi-host, target_session_attrs=read-write
    cluster.primary.kill(); cluster.standby.promote()
    cluster.stop()
"""
import os
import pwd
import signal
import subprocess

import pbtest

PG_BIN = os.environ.get("PHONEBIND_PG_BIN", "/usr/lib/postgresql/15/bin")
SERVER_USER = "postgres"
SUPERUSER = "postgres"
ROLE = "phonebind"
PASSWORD = "pb-test-secret"
DATABASE = "phonebind"
STANDBY_NAME = "standby1"


def available():
    """Why PostgreSQL cannot run here, or None when it can."""
    if not os.access(os.path.join(PG_BIN, "postgres"), os.X_OK):
        return f"no PostgreSQL in {PG_BIN} (scripts/deps.sh installs it)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no '{SERVER_USER}' user to run PostgreSQL"
    return None


def _as_server_user(args):
    """The command as the unprivileged user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SERVER_USER, "--"] + args
    return args


def _give_to_server_user(path):
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _children(pid):
    """The pids whose parent is pid (a postmaster's backends and workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


class PgServer:
    """One PostgreSQL server: its data directory, port and log."""

    def __init__(self, tmp, name, port=None):
        self.tmp, self.name = tmp, name
        self.port = port or pbtest.free_port()
        self.datadir = tmp.join(f"pg-{name}")
        self.sockdir = tmp.join(f"pg-{name}-sock")
        self.logfile = tmp.join(f"pg-{name}.log")
        self.running = False

    # -- commands ---------------------------------------------------------

    def run(self, args, check=True, timeout=60):
        """A PostgreSQL program as the server's user; returns its output."""
        proc = subprocess.run(_as_server_user([os.path.join(PG_BIN, args[0])] + args[1:]),
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n"
                               f"{proc.stdout}{proc.stderr}\n{self.read_log()}")
        return proc.stdout

    def psql(self, sql, database="postgres", user=SUPERUSER, check=True, timeout=30):
        """One SQL text over the server's Unix socket; unaligned rows, one a
        line, fields separated by '|'."""
        proc = subprocess.run(
            _as_server_user([os.path.join(PG_BIN, "psql"), "-X", "-q", "-At", "-v",
                             "ON_ERROR_STOP=1", "-h", self.sockdir, "-p", str(self.port),
                             "-U", user, "-d", database, "-c", sql]),
            capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"psql on {self.name} failed: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def read_log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- life -------------------------------------------------------------

    def _make_dirs(self):
        os.chmod(self.tmp.path, 0o711)  # the server's user must reach its directories
        for path in (self.datadir, self.sockdir):
            os.makedirs(path, mode=0o700, exist_ok=True)
            _give_to_server_user(path)
        with open(self.logfile, "a"):
            pass
        _give_to_server_user(self.logfile)

    def configure(self, settings):
        """Appends settings to postgresql.conf (later lines win)."""
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write(f"\n# {self.name}, by pgcluster.py\n")
            for key, value in settings.items():
                f.write(f"{key} = '{value}'\n")

    def base_settings(self, fsync):
        return {
            "listen_addresses": "127.0.0.1",
            "port": self.port,
            "unix_socket_directories": self.sockdir,
            "wal_level": "replica",
            "max_wal_senders": 5,
            "max_connections": 200,
            "hot_standby": "on",
            "fsync": "on" if fsync else "off",
            "full_page_writes": "on" if fsync else "off",
            # a dead peer is seen within seconds, not at the TCP timeout
            "wal_sender_timeout": "5s",
            "wal_receiver_timeout": "5s",
            "log_min_messages": "warning",
            "logging_collector": "off",
        }

    def initdb(self, fsync=False, settings=None):
        self._make_dirs()
        pwfile = self.tmp.join(f"pg-{self.name}.pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        _give_to_server_user(pwfile)
        self.run(["initdb", "-D", self.datadir, "-U", SUPERUSER, "--pwfile", pwfile,
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync", "--no-instructions"])
        os.remove(pwfile)
        self.configure(dict(self.base_settings(fsync), **(settings or {})))
        return self

    def start(self, timeout=60):
        self.run(["pg_ctl", "-D", self.datadir, "-l", self.logfile, "-w", "-t", str(timeout),
                  "start"], timeout=timeout + 10)
        self.running = True
        return self

    def postmaster_pid(self):
        with open(os.path.join(self.datadir, "postmaster.pid")) as f:
            return int(f.readline())

    def kill(self):
        """The machine dies: SIGKILL to the postmaster and all its children
        at once, nothing flushed or checkpointed, no goodbye to clients.
        (SIGKILL of the postmaster alone leaves backends finishing their
        statements.)"""
        pid = self.postmaster_pid()
        for victim in [pid] + _children(pid):
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        pbtest.wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 10,
                          what=f"{self.name}'s postmaster to die")
        self.running = False

    def stop(self, mode="fast"):
        if not self.running:
            return
        self.run(["pg_ctl", "-D", self.datadir, "-m", mode, "-w", "stop"], check=False)
        self.running = False

    def promote(self, timeout=30):
        """pg_ctl promote; returns once the server accepts writes."""
        self.run(["pg_ctl", "-D", self.datadir, "-w", "-t", str(timeout), "promote"],
                 timeout=timeout + 10)
        pbtest.wait_until(lambda: self.psql("SELECT pg_is_in_recovery()") == "f", timeout,
                          what=f"{self.name} out of recovery")
        return self

    def in_recovery(self):
        return self.psql("SELECT pg_is_in_recovery()") == "t"

    def dsn(self, database=DATABASE, user=ROLE):
        """A libpq URI of this server alone, password included."""
        return f"postgresql://{user}:{PASSWORD}@127.0.0.1:{self.port}/{database}"


class PgCluster:
    """A primary and one synchronous standby (see the module's text)."""

    def __init__(self, tmp, fsync=False, standby=True):
        self.tmp = tmp
        self.fsync = fsync
        self.primary = PgServer(tmp, "primary")
        self.standby = PgServer(tmp, "standby") if standby else None

    @property
    def servers(self):
        return [s for s in (self.primary, self.standby) if s]

    def start(self):
        """initdb, the registry's role and database, then the standby from a
        base backup; returns when the standby streams as synchronous."""
        reason = available()
        if reason:
            raise RuntimeError(reason)
        try:
            self.primary.initdb(self.fsync, {"synchronous_commit": "on"}).start()
            self.primary.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
            self.primary.psql(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
            if self.standby:
                self._start_standby()
                # Only now: a primary that names a standby not yet there
                # waits forever in every commit.
                self.primary.psql("ALTER SYSTEM SET synchronous_standby_names = "
                                  f"'{STANDBY_NAME}'")
                self.primary.psql("SELECT pg_reload_conf()")
                self.wait_synchronous()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_standby(self):
        standby = self.standby
        standby._make_dirs()
        conninfo = (f"host=127.0.0.1 port={self.primary.port} user={SUPERUSER} "
                    f"password={PASSWORD} application_name={STANDBY_NAME}")
        standby.run(["pg_basebackup", "-D", standby.datadir, "-d", conninfo, "-R",
                     "-X", "stream", "-c", "fast", "--no-sync"], timeout=120)
        # Its own port and socket; and no synchronous standby of its own:
        # promoted, it is alone, and a primary that waits for a standby
        # nobody runs accepts no commit. (Patroni's synchronous mode does
        # the same on a promotion.)
        standby.configure(dict(standby.base_settings(self.fsync),
                               synchronous_standby_names=""))
        standby.start()

    def wait_synchronous(self, timeout=30):
        """Until the primary names the standby as its synchronous one."""
        query = ("SELECT sync_state FROM pg_stat_replication "
                 f"WHERE application_name = '{STANDBY_NAME}'")
        pbtest.wait_until(lambda: self.primary.psql(query) == "sync", timeout,
                          what="the standby streaming as synchronous")

    def uri(self, extra=""):
        """The registry's multi-host URI: whichever server accepts writes."""
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.servers)
        query = "target_session_attrs=read-write&connect_timeout=2" + (
            f"&{extra}" if extra else "")
        return f"postgresql://{ROLE}:{PASSWORD}@{hosts}/{DATABASE}?{query}"

    def writer(self):
        """The server that accepts writes now, or None."""
        for server in self.servers:
            if server.running and not server.in_recovery():
                return server
        return None

    def failover(self):
        """The primary dies and the standby is promoted: the usual sequence."""
        self.primary.kill()
        self.standby.promote()

    def stop(self):
        for server in self.servers:
            try:
                server.stop("immediate")
            except (OSError, subprocess.SubprocessError):
                pass

    def logs(self):
        return "\n".join(f"--- {s.name}\n{s.read_log()}" for s in self.servers)


def wait_accepting(server, timeout=30):
    """Until the server answers a query (after a start or a restart)."""
    def up():
        try:
            return server.psql("SELECT 1", check=False) == "1"
        except subprocess.TimeoutExpired:
            return False
    pbtest.wait_until(up, timeout, interval=0.1, what=f"{server.name} to accept queries")

