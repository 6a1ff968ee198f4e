#!/usr/bin/python3
"""The registry at scale, shown: a PostgreSQL primary with a synchronous
standby, two registry instances on it with one key, HAProxy in front, and
two PCs' daemons (each on a private bus, simulated phones through
umockdev) talking to HAProxy. One instance is SIGKILLed, then the primary,
while phones are attached; the standby is promoted; every decision a
desktop client receives is printed. Called by scripts/demo-scale.sh.
Everything listens on 127.0.0.1 and is stopped at the end."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "support"))
os.environ.setdefault("PHONEBIND_BUILD_DIR",
                      os.path.join(os.path.dirname(__file__), "..", "build"))

import fakephone  # noqa: E402
fakephone.ensure_umockdev()
# Only the daemons need umockdev's preload: PostgreSQL, HAProxy and the
# registries run without it (it takes paths under /dev for device nodes).
PRELOAD = os.environ.pop("LD_PRELOAD")

import haproxy  # noqa: E402
import pbdaemon  # noqa: E402
import pbtest  # noqa: E402
import pgcluster  # noqa: E402

OUTAGE = 3.0  # seconds from the primary's death to the promotion
BOLD, PLAIN = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")


def say(text):
    print(f"\n{BOLD}== {text}{PLAIN}", flush=True)


def note(text):
    print(f"   {text}", flush=True)


class Pc:
    def __init__(self, name, tmp, testbed, registry_url):
        self.name = name
        self.bus = pbtest.PrivateBus(tmp).start()
        self.listener = pbdaemon.Listener(self.bus)
        self.daemon = pbdaemon.Daemon(tmp, self.bus, testbed, registry_url,
                                      name=name.replace(" ", "-").lower(),
                                      env={"PHONEBIND_LOG_LEVEL": "info", "LD_PRELOAD": PRELOAD})
        self.shown = 0

    def show_new(self):
        """Prints what this PC's desktop client received since last time."""
        events = self.listener.events[self.shown:]
        self.shown += len(events)
        for event in events:
            note(f"{self.name} desktop client got: {event[0]}({', '.join(event[1:])})")
        if not events:
            note(f"{self.name} desktop client got nothing new")

    def wait_decisions(self, count, timeout=30):
        self.listener.wait_decision(count=count, timeout=timeout)
        time.sleep(0.2)

    def stop(self):
        self.daemon.stop()
        self.listener.close()
        self.bus.stop()


def show_balancer(lb):
    states = lb.states()
    note("HAProxy sees: " + ", ".join(f"{name} {state}" for name, state in sorted(states.items())))


def main():
    for reason in (pgcluster.available(), haproxy.available()):
        if reason:
            sys.exit(f"demo-scale: {reason}")
    tmp = pbtest.TempDir(prefix="phonebind-demo-scale-")
    cluster = pgcluster.PgCluster(tmp)
    registries, lb, pcs = [], None, []
    testbed = fakephone.Testbed()
    try:
        say("PostgreSQL: a primary and a synchronous standby (pg_basebackup -R)")
        cluster.start()
        note(f"primary on 127.0.0.1:{cluster.primary.port}, "
             f"standby on 127.0.0.1:{cluster.standby.port}, "
             f"synchronous_standby_names = '{pgcluster.STANDBY_NAME}'")
        uri = cluster.uri()
        say("two registry instances on it, one key; HAProxy in front of them")
        key = tmp.join("terminal-id.key")
        for _ in range(2):
            registries.append(pbtest.Registry(tmp, database=uri, extra_args=[
                "--key-file", key, "--log-level", "info"]).start(timeout=30))
        note("database: " + uri.replace(cluster.password, "****"))
        for i, registry in enumerate(registries):
            note(f"r{i + 1}: {registry.url} (pid {registry.proc.pid})")
        lb = haproxy.HaProxy(tmp, [r.port for r in registries]).start()
        note(f"HAProxy: {lb.url}")
        show_balancer(lb)

        # One testbed for both PCs: only the daemon that opened its uevent
        # socket last receives hot-plug events, so PC A takes the first
        # phones and PC B, started later, the last (see DESIGN.md).
        a = Pc("PC A", tmp, testbed, lb.url)
        b = Pc("PC B", tmp, testbed, lb.url)
        pcs += [a, b]
        say("PC A: phonebindd starts; a phone is plugged in (serial R58M41SCALE1)")
        a.daemon.start()
        testbed.add_phone(serial="R58M41SCALE1", model="Pixel 7")
        a.wait_decisions(1)
        a.show_new()

        say("SIGKILL of registry instance r1 while the phone is attached")
        registries[0].stop(signal.SIGKILL)
        lb.wait_states({"r1": "DOWN"})
        show_balancer(lb)
        say("a second phone into PC A (serial R58M41SCALE2): served by r2")
        testbed.add_phone(serial="R58M41SCALE2", model="Pixel 8")
        a.wait_decisions(2)
        a.show_new()

        say("PC B starts with both phones attached (it sees them at coldplug)")
        b.daemon.start()
        b.wait_decisions(2)
        b.show_new()

        say("SIGKILL of the PostgreSQL primary (every process of it) with phones attached")
        cluster.primary.kill()
        killed = time.monotonic()
        lb.wait_states({"r2": "DOWN"})
        show_balancer(lb)
        note("HAProxy now answers 503 with Retry-After itself: " + answer_of(lb))
        say("a third phone into PC B (serial R58M41SCALE3) during the outage")
        testbed.add_phone(serial="R58M41SCALE3", model="Galaxy S23", vendor="04e8",
                          vendor_name="Samsung")
        b.wait_decisions(3)
        b.show_new()

        say("PC A's phones stay connected: their decisions were made, nothing is taken back")
        a.show_new()
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - killed)))
        say(f"{OUTAGE:.0f} s later (a failover tool's detection time), pg_ctl promote on the "
            "standby: the registries find it by themselves")
        cluster.standby.promote()
        note(f"promoted {time.monotonic() - killed:.1f} s after the primary died")
        b.wait_decisions(4, timeout=60)
        note(f"the pending phone was decided {time.monotonic() - killed:.1f} s after the kill")
        b.show_new()
        lb.wait_states({"r2": "UP"}, timeout=30)
        show_balancer(lb)

        say("r1 is started again on its port; HAProxy takes it back")
        registries[0].start(timeout=30)
        lb.wait_states({"r1": "UP", "r2": "UP"}, timeout=30)
        show_balancer(lb)

        say("nothing changed for PC A meanwhile")
        a.show_new()
        note("bindings on the promoted standby: " + cluster.standby.psql(
            "SELECT count(*) FROM bindings", database=pgcluster.DATABASE, check=False))
    finally:
        for pc in pcs:
            pc.stop()
        if lb:
            lb.stop()
        for registry in registries:
            registry.stop()
        cluster.stop()
        testbed.reset()
        tmp.cleanup()


def answer_of(lb):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", lb.port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = response.read().decode()
        return f"{response.status}, Retry-After: {response.getheader('Retry-After')}, {body}"
    finally:
        conn.close()


if __name__ == "__main__":
    main()
