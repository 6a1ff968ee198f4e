"""The invariant's checker: plain functions over what the PCs recorded and
what the registry answers once everything has settled. No I/O here, so
every rule is tested by a table of histories (test_checker.py).

The invariant (DESIGN.md, "Contract, second part"): a phone is bound to at
most one client, and every PC tells the truth about it. What a PC last
said about a phone (its latest *statement*) is checked against the
registry, asked with that PC's token after the proxy has delivered every
request it held:

- `connect` ⇒ `bound-to-you`, attached or not: nobody else can take the
  phone until this PC releases it;
- `keep-existing`, while the phone is attached to this PC ⇒
  `bound-to-other`;
- `released` (a `released` Decision, or a Forget's success reply) with no
  attach of the phone on this PC and no Retry of it since ⇒ not
  `bound-to-you`;
- at most one PC's latest statement about a phone is `connect`.

What is *not* a claim, and so never checked: `pending` (a PC waiting for
the registry says nothing of it), and a Forget whose outcome is unknown
(no answer, the daemon killed during it, ReleaseUnconfirmed, the phone
unplugged meanwhile): from its end on, whatever the PC said before is
void until it speaks again. A killed daemon's decisions stand until its
successor decides again.

A history is one PC's record (pc_agent.py "history"): `events` (signals:
kind, path, decision, reason, t, sender), `paths` (object path → serial),
`plugs` (attach/detach of a serial, t), `calls` (Forget/Retry: serial,
start, end, error), `daemons` (start/kill, t). Times are CLOCK_MONOTONIC,
shared by every process.
"""

DAEMON_ABSENT = {"org.freedesktop.DBus.Error.ServiceUnknown",
                 "org.freedesktop.DBus.Error.NameHasNoOwner"}
# Answers after which the call certainly changed nothing on the registry
# (RegistryUnreachable: DESIGN.md says so, and a daemon that answers it
# after a DELETE that landed is wrong: the checker holds it to its word).
NOTHING_DONE = DAEMON_ABSENT | {"org.phonebind1.Error.RegistryUnreachable",
                                "org.phonebind1.Error.Busy",
                                "org.phonebind1.Error.Unidentified",
                                "org.phonebind1.Error.NotOwner",
                                "org.freedesktop.DBus.Error.AccessDenied",
                                "org.freedesktop.DBus.Error.UnknownObject"}
NO_SUCH_TERMINAL = "org.phonebind1.Error.NoSuchTerminal"

CLAIMS = ("connect", "keep-existing", "released")


class Violation:
    def __init__(self, kind, serial, pc, message, since=None):
        self.kind, self.serial, self.pc, self.message = kind, serial, pc, message
        self.since = since  # when the statement found false was made

    def __str__(self):
        where = f"{self.pc}: " if self.pc else ""
        return f"[{self.kind}] {self.serial}: {where}{self.message}"

    def __repr__(self):
        return f"Violation({self})"


def call_outcome(history, call):
    """'done' (answered without error), 'nothing' (certainly did nothing)
    or 'unknown'."""
    if call["end"] is None:
        return "unknown"
    if call["error"] is None:
        return "done"
    if call["error"] in NOTHING_DONE:
        return "nothing"
    if call["error"] == NO_SUCH_TERMINAL:
        # unplugged before the call: nothing; unplugged (or the daemon
        # killed) while the daemon worked on it: a DELETE may be on the wire
        for plug in history["plugs"]:
            if plug["serial"] == call["serial"] and call["start"] <= plug["t"] <= call["end"]:
                return "unknown"
        for daemon in history["daemons"]:
            if call["start"] <= daemon["t"] <= call["end"]:
                return "unknown"
        return "nothing"
    return "unknown"


def paths_of(history, serial):
    return {p for p, s in history["paths"].items() if s == serial}


def calls_of(history, serial, method):
    return [c for c in history["calls"] if c["serial"] == serial and c["method"] == method]


def statements(history, serial):
    """What the PC said about the phone, in order: (t, what, source) with
    what a decision name, or 'unknown' (an earlier claim is void)."""
    paths = paths_of(history, serial)
    said = [(e["t"], e["decision"], e) for e in history["events"]
            if e["kind"] == "Decision" and e["path"] in paths]
    for call in calls_of(history, serial, "Forget"):
        outcome = call_outcome(history, call)
        if outcome == "done":
            said.append((call["end"], "released", call))
        elif outcome == "unknown":
            said.append((call["end"] if call["end"] is not None else float("inf"), "unknown",
                         call))
    said.sort(key=lambda s: s[0])
    return said


def latest(history, serial):
    said = statements(history, serial)
    return said[-1] if said else None


def attaches_since(history, serial, t):
    """Attaches of the phone on this PC after t: plugged in, or announced
    (a daemon's coldplug after a restart is an attach too)."""
    paths = paths_of(history, serial)
    found = [p["t"] for p in history["plugs"]
             if p["serial"] == serial and p["kind"] == "attach" and p["t"] > t]
    found += [e["t"] for e in history["events"]
              if e["kind"] == "TerminalAttached" and e["path"] in paths and e["t"] > t]
    return found


def current_attach(history, serial):
    """When the phone's current stay on this PC began."""
    times = [p["t"] for p in history["plugs"] if p["serial"] == serial and p["kind"] == "attach"]
    return max(times) if times else None


def release_excused(history, serial, t):
    """Why a `released` at t need not hold any more (None if it must)."""
    forgets = [c for c in calls_of(history, serial, "Forget") if c["start"] <= t]
    since = max(c["start"] for c in forgets) if forgets else t
    if attaches_since(history, serial, since):
        return "attached again since"
    for call in calls_of(history, serial, "Retry"):
        if call_outcome(history, call) != "nothing" and (call["end"] is None
                                                          or call["end"] > since):
            return "Retry called since"
    return None


def keep_excused(histories, pc, serial, t, round_starts):
    """Why another PC's binding may have gone since this PC's
    `keep-existing` at t was decided (None if it must still be there):
    that PC's Forget of the phone, answered after this stay began, or of
    unknown outcome in the round of t (its DELETE may land late; by the
    end of a round every late request has landed)."""
    began = current_attach(histories[pc], serial)
    round_start = max([r for r in round_starts if r <= t], default=float("-inf"))
    for name, history in histories.items():
        if name == pc:
            continue
        for call in calls_of(history, serial, "Forget"):
            if call["start"] >= t:
                continue
            outcome = call_outcome(history, call)
            if outcome == "done" and began is not None and call["end"] > began:
                return f"{name}'s Forget was answered after this attach"
            if outcome == "unknown" and call["start"] >= round_start:
                return f"{name}'s Forget of unknown outcome ({call['error']})"
    return None


def check(histories, registry, attached_now, round_starts):
    """Violations of the invariant.

    histories: {pc: history}; registry: {(pc, serial): status} as the
    registry answers each PC's token; attached_now: {serial: pc};
    round_starts: when each round so far began (after the previous
    settle), for keep_excused.
    """
    violations = []
    serials = sorted({s for (_, s) in registry})
    for serial in serials:
        connected = []
        for pc in sorted(histories):
            history = histories[pc]
            last = latest(history, serial)
            if last is None:
                continue
            t, what, _ = last
            status = registry.get((pc, serial))
            if what == "connect":
                connected.append(pc)
                if status != "bound-to-you":
                    violations.append(Violation(
                        "connect-not-owner", serial, pc,
                        f"latest statement connect, but the registry says {status}",
                        t))
            elif what == "keep-existing" and attached_now.get(serial) == pc:
                if status != "bound-to-other" and not keep_excused(histories, pc, serial, t,
                                                                   round_starts):
                    violations.append(Violation(
                        "keep-existing-not-other", serial, pc,
                        f"latest statement keep-existing, attached here, but the registry "
                        f"says {status}", t))
            elif what == "released":
                if status == "bound-to-you" and not release_excused(history, serial, t):
                    violations.append(Violation(
                        "released-but-bound", serial, pc,
                        "latest statement released, not attached or retried since, but the "
                        "registry says bound-to-you", t))
            elif what == "unidentified":
                violations.append(Violation("unidentified", serial, pc,
                                            "a phone with a usable serial called unidentified",
                                            t))
        if len(connected) > 1:
            violations.append(Violation("two-owners", serial, None,
                                        "latest statement connect on " + ", ".join(connected)))
    return violations


def settle_state(history, serial):
    """For an attached phone: the latest Decision of the running daemon
    since the phone's current attach — None while there is none."""
    paths = paths_of(history, serial)
    began = current_attach(history, serial)
    mine = [e for e in history["events"]
            if e["kind"] == "Decision" and e["path"] in paths and e["sender"] == history["owner"]
            and (began is None or e["t"] >= began)]
    return mine[-1] if mine else None
