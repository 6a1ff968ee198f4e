#!/usr/bin/python3
"""The invariant of DESIGN.md ("Contract, second part"), checked the way
Jepsen checks a database: random operations and faults drawn from a seed,
then a settle, then what every PC last said about every phone compared
with what the registry holds (checker.py says exactly what is compared,
and what is not a claim).

One real registry (SQLite, a fixed port, so restarts keep it), a delaying
proxy in front of it (tests/support/delayproxy.py: some requests held
1–2.5 s, past the daemons' 1 s request timeout, and delivered even after
the daemon gave up),
three PCs (pc_agent.py: a process each, with its own testbed, bus and
phonebindd) and five phones, of which each is on one PC at a time.
Operations: attach, detach, Forget, Retry, SIGKILL and restart of the
registry or of a daemon, pauses. A round is a run of operations, then
the settle (registry and daemons up, the proxy drained, every attached
phone decided and nothing new for 2 s), then the check; rounds go on
while the time allows.

    PHONEBIND_SEED=N               the seed (default: a fresh one, printed)
    PHONEBIND_INVARIANT_SECONDS=S  time budget (default 20)
    PHONEBIND_INVARIANT_ROUNDS=R   exactly R rounds, whatever the time
    PHONEBIND_INVARIANT_FAULTS=…   which faults: a comma list of hold (the
                                   proxy), registry, daemon (SIGKILLs);
                                   default all, "none" for none

The same seed makes the same choices of operations (with the same number
of rounds); the system's timing, and so what the proxy happens to hold and
what each operation meets, still differs from run to run.
"""
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

import checker
import pbtest
import delayproxy as proxy

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = int(os.environ.get("PHONEBIND_SEED") or random.SystemRandom().randrange(1, 2**31))
SECONDS = float(os.environ.get("PHONEBIND_INVARIANT_SECONDS") or 20)
ROUNDS = int(os.environ.get("PHONEBIND_INVARIANT_ROUNDS") or 0)
FAULTS = set((os.environ.get("PHONEBIND_INVARIANT_FAULTS") or "hold,registry,daemon").split(","))
PCS = ("pc1", "pc2", "pc3")
PHONES = tuple(f"PBINV{n:04d}" for n in range(1, 6))
DAEMON_ARGS = ("--registry-timeout", "1000")
SETTLE_LIMIT = 20.0  # an attached phone undecided (or pending) longer than this is stuck
SLOW_CALL = 20.0     # a method call unanswered this long is a hang (pc_agent gives up at 30)
QUIET = 2.0


def terminal_id(serial):
    return f"usb:18d1:{serial}"


def quiet_port():
    """A free loopback port below the ephemeral range: the registry is
    restarted on it, and an outgoing connection must not take it
    meanwhile."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    return pbtest.free_port()


class AgentError(Exception):
    pass


class Agent:
    """The test's end of one pc_agent.py."""

    def __init__(self, tmp, name, registry_url):
        self.name = name
        self.dir = tmp.join(name)
        self.stderr_path = tmp.join(f"{name}-agent.log")
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "pc_agent.py"), self.dir, name,
                 registry_url] + list(DAEMON_ARGS),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.answers = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.answers.put(line)
        self.answers.put(None)

    def _answer(self, timeout):
        try:
            line = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise AgentError(f"{self.name}: no answer within {timeout} s") from None
        if line is None:
            raise AgentError(f"{self.name}: the agent exited:\n{self.stderr_tail()}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise AgentError(f"{self.name}: {answer['error']}")
        return answer

    def wait_ready(self):
        return self._answer(60)

    def ask(self, cmd, timeout=60, **args):
        self.proc.stdin.write(json.dumps(dict(args, cmd=cmd)) + "\n")
        self.proc.stdin.flush()
        return self._answer(timeout)

    def stderr_tail(self, lines=30):
        with open(self.stderr_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def daemon_log_tail(self, lines=40):
        try:
            with open(os.path.join(self.dir, f"phonebindd-{self.name}.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


class World:
    """What the test itself decided: where each phone is, what is down.
    The operations are chosen from this and the seed alone, never from
    what the system answered, so a seed replays the same choices."""

    def __init__(self, faults):
        self.faults = faults
        self.where = {serial: None for serial in PHONES}
        self.daemon_up = {pc: True for pc in PCS}
        self.registry_up = True

    def choose(self, rng):
        """The next operation, applied to the model."""
        free = [s for s in PHONES if self.where[s] is None]
        plugged = [s for s in PHONES if self.where[s] is not None]
        weights = {"pause": 3}
        if not self.registry_up:
            weights["start_registry"] = 4
        elif "registry" in self.faults:
            weights["kill_registry"] = 1
        if free:
            weights["attach"] = 5
        if plugged:
            weights.update(detach=3, forget=5, retry=2)
        if any(self.daemon_up.values()) and "daemon" in self.faults:
            weights["kill_daemon"] = 1
        if not all(self.daemon_up.values()):
            weights["start_daemon"] = 3
        names = sorted(weights)
        op = rng.choices(names, [weights[n] for n in names])[0]
        if op == "attach":
            serial, pc = rng.choice(free), rng.choice(PCS)
            self.where[serial] = pc
            return {"op": op, "serial": serial, "pc": pc}
        if op in ("detach", "forget", "retry"):
            serial = rng.choice(plugged)
            pc = self.where[serial]
            if op == "detach":
                self.where[serial] = None
            return {"op": op, "serial": serial, "pc": pc}
        if op == "kill_daemon":
            pc = rng.choice([p for p in PCS if self.daemon_up[p]])
            self.daemon_up[pc] = False
            return {"op": op, "pc": pc}
        if op == "start_daemon":
            pc = rng.choice([p for p in PCS if not self.daemon_up[p]])
            self.daemon_up[pc] = True
            return {"op": op, "pc": pc}
        if op in ("kill_registry", "start_registry"):
            self.registry_up = op == "start_registry"
            return {"op": op}
        return {"op": "pause", "seconds": round(rng.uniform(0.05, 0.8), 3)}


def describe(op):
    words = [op["op"]] + [str(op[k]) for k in ("serial", "pc", "seconds") if k in op]
    return " ".join(words)


class Run:
    def __init__(self, seed, seconds, rounds, faults):
        self.seed, self.seconds, self.rounds, self.faults = seed, seconds, rounds, faults
        self.rng = random.Random(seed)
        self.world = World(faults)
        self.ops = []          # {"t", "op", ..., "result"}
        self.round_starts = []
        self.rounds_done = 0
        self.operations = 0
        self.violations = []
        self.failures = []     # not the invariant: crashes, exit codes, the harness
        self.slow_calls = set()
        self.tmp = pbtest.TempDir(prefix="phonebind-invariant-")
        self.registry = None
        self.proxy = None
        self.agents = {}
        self.t0 = time.monotonic()

    def rel(self, t):
        return t - self.t0

    # --- set-up and tear-down -----------------------------------------------------------

    def start(self):
        self.registry = pbtest.Registry(self.tmp, port=quiet_port()).start()
        self.proxy = proxy.DelayingProxy(self.registry.port, seed=self.seed * 7919 + 1,
                                         hold=None if "hold" in self.faults else {}).start()
        for pc in PCS:
            self.agents[pc] = Agent(self.tmp, pc, self.proxy.url)
        for agent in self.agents.values():
            agent.wait_ready()

    def close(self):
        for pc, agent in self.agents.items():
            if agent.proc.poll() is None:
                try:
                    code = agent.ask("stop", timeout=30)["code"]
                    if code not in (0, None):  # None: killed by the test, not started again
                        self.failures.append(f"{pc}: phonebindd exited with {code}:\n"
                                             + agent.daemon_log_tail())
                except AgentError as e:
                    self.failures.append(str(e))
            agent.close()
        if self.proxy:
            self.proxy.stop()
        if self.registry and self.registry.proc:
            code = self.registry.stop()
            if code != 0:
                self.failures.append(f"the registry exited with {code}:\n"
                                     + self.registry.read_log()[-3000:])
        if self.failures or self.violations:
            os.environ["PHONEBIND_KEEP_TMP"] = "1"
        self.tmp.cleanup()

    # --- operations ---------------------------------------------------------------------

    def start_registry(self):
        for attempt in range(10):
            try:
                self.registry.start()
                return
            except RuntimeError:
                if attempt == 9:
                    raise
                self.registry.stop()
                time.sleep(0.3)

    def perform(self, op):
        entry = dict(op, t=time.monotonic())
        self.ops.append(entry)
        name = op["op"]
        if name == "pause":
            time.sleep(op["seconds"])
            return
        if name == "kill_registry":
            self.registry.stop(signal.SIGKILL)
            return
        if name == "start_registry":
            self.start_registry()
            return
        agent = self.agents[op["pc"]]
        args = {"serial": op["serial"]} if "serial" in op else {}
        answer = agent.ask(name, **args)
        for key in ("call", "path", "code"):
            if key in answer:
                entry[key] = answer[key]

    def one_round(self):
        self.round_starts.append(time.monotonic())
        self.proxy.set_holding(True)
        count = self.rng.randint(12, 24)
        for _ in range(count):
            self.perform(self.world.choose(self.rng))
            self.operations += 1
        histories = self.settle()
        if histories is not None:
            self.check(histories)
        self.rounds_done += 1
        return count

    # --- settle and check ---------------------------------------------------------------

    def histories(self):
        return {pc: agent.ask("history") for pc, agent in self.agents.items()}

    def settle(self):
        """Faults off, every held request delivered, every attached phone
        decided by its PC's running daemon; the histories then, or None
        when the run cannot go on."""
        began = time.monotonic()
        self.ops.append({"op": "settle", "t": began})
        if not self.world.registry_up:
            self.perform({"op": "start_registry"})
            self.world.registry_up = True
        for pc in PCS:
            if not self.world.daemon_up[pc]:
                self.perform({"op": "start_daemon", "pc": pc})
                self.world.daemon_up[pc] = True
        if not self.proxy.drain(timeout=20):
            self.failures.append(f"the proxy could not deliver what it held: {self.proxy.stats()}")
            return None
        deadline = time.monotonic() + 40
        while True:
            histories = self.histories()
            open_calls = [(pc, c) for pc, h in histories.items() for c in h["calls"]
                          if c["end"] is None]
            if not open_calls:
                self.note_slow_calls(histories)
                break
            if time.monotonic() > deadline:
                for pc, c in open_calls:
                    self.violations.append(checker.Violation(
                        "unanswered", c["serial"], pc,
                        f"{c['method']} called at {self.rel(c['start']):.3f} never answered"))
                return histories
            time.sleep(0.1)
        decided_by = time.monotonic() + SETTLE_LIMIT
        last_count, quiet_since = None, time.monotonic()
        while True:
            histories = self.histories()
            for pc, history in histories.items():
                if not history["alive"]:
                    self.failures.append(f"{pc}: phonebindd died (exit status "
                                         f"{history['returncode']}) without being killed:\n"
                                         + self.agents[pc].daemon_log_tail())
                    return None
            count = sum(len(h["events"]) for h in histories.values())
            if count != last_count:
                last_count, quiet_since = count, time.monotonic()
            unsettled = {}
            for serial, pc in self.world.where.items():
                if pc is not None:
                    state = checker.settle_state(histories[pc], serial)
                    if state is None or state["decision"] == "pending":
                        unsettled[serial] = (pc, state)
            now = time.monotonic()
            if not unsettled and now - quiet_since >= QUIET:
                self.ops.append({"op": "settled", "t": now})
                return histories
            if now > decided_by:
                for serial, (pc, state) in unsettled.items():
                    what = (f"still {state['decision']} ({state['reason']})" if state
                            else "no decision from the running daemon")
                    self.violations.append(checker.Violation(
                        "stuck", serial, pc, f"{what} {SETTLE_LIMIT:.0f} s after the faults "
                        "stopped"))
                if not unsettled:
                    self.violations.append(checker.Violation(
                        "restless", "-", None, f"signals still coming {SETTLE_LIMIT:.0f} s after "
                        "the faults stopped"))
                return histories
            time.sleep(0.2)

    def note_slow_calls(self, histories):
        """A daemon that never answers shows as NoReply when pc_agent's
        call times out: not an unknown outcome to excuse, a hang."""
        for pc, history in histories.items():
            for c in history["calls"]:
                if c["end"] - c["start"] >= SLOW_CALL and (pc, c["id"]) not in self.slow_calls:
                    self.slow_calls.add((pc, c["id"]))
                    self.violations.append(checker.Violation(
                        "unanswered", c["serial"], pc,
                        f"{c['method']} #{c['id']} answered only after "
                        f"{c['end'] - c['start']:.1f} s ({c['error'] or 'ok'})", c["start"]))

    def registry_view(self, tokens):
        http = self.registry.http(timeout=5)
        view = {}
        for pc, token in tokens.items():
            for serial in PHONES:
                if token is None:
                    view[(pc, serial)] = None
                    continue
                encoded = urllib.parse.quote(terminal_id(serial), safe="")
                status, body, raw = http.request("GET", f"/v1/terminals/{encoded}", token=token)
                view[(pc, serial)] = body["status"] if status == 200 and body else f"HTTP {status}"
        return view

    def check(self, histories):
        tokens = {pc: agent.ask("account_token")["token"] for pc, agent in self.agents.items()}
        self.tokens = tokens
        view = self.registry_view(tokens)
        attached = {s: pc for s, pc in self.world.where.items() if pc is not None}
        found = checker.check(histories, view, attached, self.round_starts)
        self.violations += found
        self.last_histories, self.last_view = histories, view

    # --- the run ------------------------------------------------------------------------

    def go(self):
        try:
            self.start()
            self.rounds_loop()
        except (AgentError, RuntimeError, TimeoutError, OSError) as e:
            self.failures.append(f"the run stopped: {type(e).__name__}: {e}\n"
                                 + self.ops_text())

    def rounds_loop(self):
        last_round = 0.0
        while not self.violations and not self.failures:
            if self.rounds:
                if self.rounds_done >= self.rounds:
                    break
            elif self.rounds_done and (time.monotonic() - self.t0) + last_round > self.seconds:
                break
            began = time.monotonic()
            count = self.one_round()
            last_round = time.monotonic() - began
            stats = self.proxy.stats()
            print(f"round {self.rounds_done}: {count} operations, {last_round:.1f} s, "
                  f"proxy held {stats['held']} of {stats['requests']} requests so far "
                  f"({stats['held_late']} answered to nobody), "
                  f"{len(self.violations)} violation(s)", flush=True)

    # --- the report ---------------------------------------------------------------------

    def rerun(self):
        faults = "" if self.faults == {"hold", "registry", "daemon"} else \
            f"PHONEBIND_INVARIANT_FAULTS={','.join(sorted(self.faults))} "
        return (f"PHONEBIND_SEED={self.seed} PHONEBIND_INVARIANT_ROUNDS={self.rounds_done} {faults}"
                f"PHONEBIND_BUILD_DIR={pbtest.BUILD_DIR} PYTHONPATH={os.path.dirname(HERE)}"
                f"/support /usr/bin/python3 {os.path.join(HERE, 'test_invariant.py')}")

    def report(self):
        lines = [f"invariant violated with seed {self.seed} (round {self.rounds_done}):"]
        for v in self.violations:
            said = f" (said at {self.rel(v.since):.3f} s)" if v.since not in (None, float("inf")) \
                else ""
            lines.append(f"  {v}{said}")
        lines.append(f"rerun the same choices (the timing will differ): {self.rerun()}")
        lines.append(f"kept: {self.tmp.path}")
        lines.append(self.ops_text())
        for serial in sorted({v.serial for v in self.violations if v.serial in PHONES}):
            lines.append(f"what happened to {serial} ({terminal_id(serial)}):")
            lines += [f"  {line}" for line in self.timeline(serial)]
            lines.append("  registry now: " + ", ".join(
                f"{pc} {self.last_view.get((pc, serial))}" for pc in PCS))
        return "\n".join(lines)

    def ops_text(self):
        lines = ["operations (seconds from the start):"]
        for op in self.ops:
            extra = "".join(f" {k}={op[k]}" for k in ("call", "code") if k in op)
            lines.append(f"  {self.rel(op['t']):8.3f}  {describe(op)}{extra}")
        return "\n".join(lines)

    def timeline(self, serial):
        """Everything about one phone, from every source, in time order."""
        rows = []
        for op in self.ops:
            if op.get("serial") == serial or op["op"] in ("kill_registry", "start_registry",
                                                           "kill_daemon", "start_daemon",
                                                           "settle", "settled"):
                rows.append((op["t"], "test", describe(op)))
        for pc, history in self.last_histories.items():
            paths = checker.paths_of(history, serial)
            for e in history["events"]:
                if e["path"] in paths:
                    what = e["kind"] if e["kind"] != "Decision" else \
                        f"Decision {e['decision']} ({e['reason']})"
                    rows.append((e["t"], pc, f"{what} [from {e['sender']}]"))
            for c in checker.calls_of(history, serial, "Forget") + \
                    checker.calls_of(history, serial, "Retry"):
                rows.append((c["start"], pc, f"{c['method']} #{c['id']} called"))
                if c["end"] is not None:
                    rows.append((c["end"], pc, f"{c['method']} #{c['id']} answered "
                                 f"{c['error'] or 'ok'} ({checker.call_outcome(history, c)})"))
        owners = {f"Bearer {t}": pc for pc, t in self.tokens.items() if t}
        encoded = urllib.parse.quote(terminal_id(serial), safe="")
        for r in self.proxy.snapshot():
            if encoded in r["path"] or terminal_id(serial) in r["path"]:
                who = owners.get(r["auth"], "another account")
                if r.get("seq"):
                    who += f" seq {r['seq']}"
                held = f", held {r['hold']:.2f} s" if r["hold"] else ""
                rows.append((r["t_in"], "proxy", f"{r['method']} from {who}{held}"))
                if "t_out" in r:
                    gone = " (client gone)" if r.get("client_gone") else ""
                    rows.append((r.get("t_done", r["t_out"]), "proxy",
                                 f"{r['method']} from {who} → {r.get('status', '?')}{gone}"))
        rows.sort(key=lambda row: row[0])
        return [f"{self.rel(t):8.3f}  {who:6} {what}" for t, who, what in rows]


class Invariant(unittest.TestCase):
    def test_invariant(self):
        print(f"invariant: seed {self.seed_text()}", flush=True)
        run = Run(SEED, SECONDS, ROUNDS, FAULTS)
        try:
            run.go()
            if run.violations:
                print(run.report(), flush=True)
        finally:
            run.close()
        print(f"invariant: seed={SEED} rounds={run.rounds_done} "
              f"operations={run.operations} violations={len(run.violations)}",
              flush=True)
        self.assertEqual(run.failures, [], "\n".join(run.failures))
        self.assertEqual(run.violations, [], f"the invariant does not hold (seed {SEED}); "
                         "see the report above")

    @staticmethod
    def seed_text():
        how = "from PHONEBIND_SEED" if os.environ.get("PHONEBIND_SEED") else "fresh"
        return (f"{SEED} ({how}); budget {SECONDS:.0f} s" + (f", {ROUNDS} rounds" if ROUNDS
                                                             else "")
                + f"; faults: {','.join(sorted(FAULTS))}")


if __name__ == "__main__":
    unittest.main()
