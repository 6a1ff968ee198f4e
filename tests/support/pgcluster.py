"""A real PostgreSQL primary and a synchronous standby for phonebind's
scale tests, benchmarks and demo, built on pgtest.py's server.

Both servers run from Debian's binaries in directories of the caller's
temporary directory, listen on 127.0.0.1 ports chosen free at run time and
keep their sockets beside their data; as root, as the unprivileged
`postgres` user (pgtest.run_as).

The standby is made with `pg_basebackup -R` and named in the primary's
`synchronous_standby_names`, so a commit the primary reports has been
flushed on the standby too: a claim the registry answered 201 survives
the primary's death and the standby's promotion. Faults: kill() is the
primary's machine dying (SIGKILL of the postmaster and every backend at
once, no shutdown checkpoint); promote() is `pg_ctl promote`.

    cluster = PgCluster(tmp).start()
    cluster.uri()      # multi-host, target_session_attrs=read-write
    cluster.primary.kill(); cluster.standby.promote()
    cluster.stop()
"""
import os
import subprocess

import pbtest
import pgtest

PG_BIN = pgtest.BIN
SUPERUSER = pgtest.SUPERUSER
ROLE = pgtest.ROLE
DATABASE = pgtest.DATABASE
STANDBY_NAME = "standby1"

# Every server of a cluster: a standby copies the primary's roles, so its
# password too; dead peers are seen within seconds, not at TCP timeouts.
CLUSTER_SETTINGS = {
    "wal_level": "replica",
    "max_wal_senders": "5",
    "hot_standby": "on",
    "synchronous_commit": "on",
    "wal_sender_timeout": "'5s'",
    "wal_receiver_timeout": "'5s'",
}


def available():
    """Why PostgreSQL cannot run here, or None when it can."""
    if not os.access(os.path.join(PG_BIN, "postgres"), os.X_OK):
        return f"no PostgreSQL in {PG_BIN} (scripts/deps.sh installs it)"
    try:
        pgtest.server_user()
    except RuntimeError as error:
        return str(error)
    return None


class PgServer(pgtest.PostgreSQL):
    """pgtest's server, with what a cluster needs besides."""

    def psql(self, sql, database="postgres", user=SUPERUSER, check=True):
        """sql over the Unix socket (trusted) as user, the superuser by
        default; psql -At's output without the final newline."""
        result = subprocess.run(
            [os.path.join(PG_BIN, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h",
             self.socket_dir, "-p", str(self.port), "-U", user, "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise RuntimeError(f"psql on {self.name} failed: {result.stderr.strip()}")
        return result.stdout.rstrip("\n")

    def promote(self, timeout=30):
        """pg_ctl promote; returns once the server accepts writes."""
        self.pg_ctl("promote", "-w", "-t", str(timeout))
        pbtest.wait_until(lambda: not self.in_recovery(), timeout,
                          what=f"{self.name} out of recovery")
        return self

    def in_recovery(self):
        return self.psql("SELECT pg_is_in_recovery()") == "t"


class PgCluster:
    """A primary and (unless standby=False) one synchronous standby."""

    def __init__(self, tmp, fsync=False, standby=True, settings=None):
        self.tmp = tmp
        self.settings = dict(CLUSTER_SETTINGS, fsync="on" if fsync else "off",
                             **(settings or {}))
        self.with_standby = standby
        self.primary = self.standby = None

    @property
    def servers(self):
        return [s for s in (self.primary, self.standby) if s]

    @property
    def password(self):
        return self.primary.password

    def start(self):
        """initdb, the registry's role and database, then the standby from a
        base backup; returns when the standby streams as synchronous."""
        reason = available()
        if reason:
            raise RuntimeError(reason)
        try:
            self.primary = PgServer(self.tmp, "pg-primary", settings=self.settings)
            if self.with_standby:
                self._start_standby()
                # Only now: a primary that names a standby not yet there
                # waits in every commit.
                self.primary.psql(
                    f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME}'")
                self.primary.psql("SELECT pg_reload_conf()")
                self.wait_synchronous()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_standby(self):
        standby = PgServer(self.tmp, "pg-standby", initialise=False)
        standby.password = self.primary.password
        conninfo = (f"host=127.0.0.1 port={self.primary.port} user={SUPERUSER} "
                    f"password={self.primary.password} application_name={STANDBY_NAME}")
        pgtest.run_as([os.path.join(PG_BIN, "pg_basebackup"), "-D", standby.data_dir, "-d",
                       conninfo, "-R", "-X", "stream", "-c", "fast", "--no-sync"])
        # Its own port and socket; and no synchronous standby of its own:
        # promoted, it is alone, and a primary that waits for a standby
        # nobody runs accepts no commit. (Patroni's synchronous mode does
        # the same on a promotion.)
        standby.conf({"port": str(standby.port),
                      "unix_socket_directories": f"'{standby.socket_dir}'",
                      "synchronous_standby_names": "''"})
        self.standby = standby
        standby.start()

    def wait_synchronous(self, timeout=30):
        """Until the primary names the standby as its synchronous one."""
        query = ("SELECT sync_state FROM pg_stat_replication "
                 f"WHERE application_name = '{STANDBY_NAME}'")
        pbtest.wait_until(lambda: self.primary.psql(query) == "sync", timeout,
                          what="the standby streaming as synchronous")

    def uri(self, extra=""):
        """The registry's multi-host URI: whichever server accepts writes."""
        hosts = ",".join(s.host_spec for s in self.servers)
        # no connect_timeout: the registry's own (5 s) is what deployments
        # get, and a dead server on loopback refuses at once anyway
        query = "target_session_attrs=read-write" + (f"&{extra}" if extra else "")
        return f"postgresql://{ROLE}:{self.password}@{hosts}/{DATABASE}?{query}"

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
            server.stop("immediate")

    def logs(self):
        return "\n".join(f"--- {s.name}\n{s.read_log()}" for s in self.servers)
