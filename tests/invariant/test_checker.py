#!/usr/bin/python3
"""The invariant's checker alone, on histories written by hand: what it
must find, and (as much) what it must not call a violation."""
import unittest

import checker

P = "/org/phonebind1/terminal/aaaa"
S = "PBINV0001"
OWNER = ":1.2"


class Pc:
    """A history as pc_agent.py records it, built a line at a time."""

    def __init__(self):
        self.h = {"events": [], "paths": {P: S}, "plugs": [], "calls": [], "daemons": [],
                  "owner": OWNER}

    def plug(self, t, kind="attach"):
        self.h["plugs"].append({"t": t, "kind": kind, "serial": S})
        if kind == "attach":
            self.h["events"].append({"t": t + 0.001, "kind": "TerminalAttached", "path": P,
                                     "sender": OWNER})
        return self

    def said(self, t, decision, reason="x", sender=OWNER):
        self.h["events"].append({"t": t, "kind": "Decision", "path": P, "decision": decision,
                                 "reason": reason, "sender": sender})
        return self

    def call(self, method, start, end, error=None):
        self.h["calls"].append({"id": len(self.h["calls"]), "method": method, "serial": S,
                                "path": P, "start": start, "end": end, "error": error})
        return self

    def daemon(self, t, kind):
        self.h["daemons"].append({"t": t, "kind": kind})
        return self


def kinds(histories, registry, attached=None, round_starts=(0,)):
    view = {(pc, S): status for pc, status in registry.items()}
    return sorted(v.kind for v in checker.check({pc: h.h for pc, h in histories.items()}, view,
                                                attached or {}, list(round_starts)))


UNREACHABLE = "org.phonebind1.Error.RegistryUnreachable"
NO_REPLY = "org.freedesktop.DBus.Error.NoReply"
NO_DAEMON = "org.freedesktop.DBus.Error.ServiceUnknown"
NO_TERMINAL = "org.phonebind1.Error.NoSuchTerminal"


class Connect(unittest.TestCase):
    def test_owner_holds(self):
        a = Pc().plug(1).said(2, "connect")
        self.assertEqual(kinds({"a": a}, {"a": "bound-to-you"}, {S: "a"}), [])

    def test_not_owner(self):
        a = Pc().plug(1).said(2, "connect")
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}, {S: "a"}), ["connect-not-owner"])
        self.assertEqual(kinds({"a": a}, {"a": "bound-to-other"}), ["connect-not-owner"])

    def test_unplugged_still_owner(self):
        a = Pc().plug(1).said(2, "connect").plug(3, "detach")
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), ["connect-not-owner"])

    def test_pending_is_no_claim(self):
        a = Pc().plug(1).said(2, "connect").said(3, "pending")
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}, {S: "a"}), [])

    def test_forget_of_unknown_outcome_voids_it(self):
        for error in (NO_REPLY, "org.phonebind1.Error.ReleaseUnconfirmed",
                      "org.freedesktop.DBus.Error.Failed"):
            a = Pc().plug(1).said(2, "connect").call("Forget", 3, 4, error)
            self.assertEqual(kinds({"a": a}, {"a": "unbound"}), [], error)
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, None)  # never answered
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), [])

    def test_claim_made_while_a_forget_was_running_is_void_too(self):
        """The connect arrived after the Forget was sent but before it was
        answered (the daemon was killed meanwhile): which came first at the
        daemon is not known."""
        a = Pc().plug(1).call("Forget", 2, 4, NO_REPLY).said(3, "connect")
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), [])

    def test_claim_after_unknown_forget_counts(self):
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 4, NO_REPLY).said(5, "connect")
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), ["connect-not-owner"])

    def test_registry_unreachable_means_nothing_changed(self):
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 4, UNREACHABLE)
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), ["connect-not-owner"])

    def test_no_such_terminal(self):
        """Before the call: nothing done. Unplugged while it ran: a DELETE
        may be on its way."""
        a = Pc().plug(1).said(2, "connect").plug(2.5, "detach").call("Forget", 3, 3.1,
                                                                     NO_TERMINAL)
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), ["connect-not-owner"])
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 3.5, NO_TERMINAL).plug(3.2,
                                                                                    "detach")
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), [])
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 3.5, NO_TERMINAL).daemon(3.2,
                                                                                      "kill")
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), [])

    def test_killed_daemons_decisions_stand(self):
        a = Pc().plug(1).said(2, "connect", sender=":1.1").daemon(3, "kill")
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), ["connect-not-owner"])

    def test_two_owners(self):
        a = Pc().plug(1).said(2, "connect").plug(3, "detach")
        b = Pc().plug(4).said(5, "connect")
        self.assertEqual(kinds({"a": a, "b": b}, {"a": "bound-to-you", "b": "bound-to-you"},
                               {S: "b"}), ["two-owners"])


class Released(unittest.TestCase):
    def test_released_and_unbound(self):
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 4).said(4.1, "released")
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}, {S: "a"}), [])
        self.assertEqual(kinds({"a": a}, {"a": "bound-to-other"}, {S: "a"}), [])

    def test_bound_again_behind_its_back(self):
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 4).said(4.1, "released")
        self.assertEqual(kinds({"a": a}, {"a": "bound-to-you"}, {S: "a"}),
                         ["released-but-bound"])

    def test_forget_reply_without_its_signal(self):
        """Killed between the reply and the Decision: the reply said it."""
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 4).daemon(4.05, "kill")
        self.assertEqual(kinds({"a": a}, {"a": "bound-to-you"}), ["released-but-bound"])
        self.assertEqual(kinds({"a": a}, {"a": "unbound"}), [])

    def test_attached_again_since(self):
        a = (Pc().plug(1).said(2, "connect").call("Forget", 3, 4).said(4.1, "released")
             .plug(5, "detach").plug(6))
        self.assertEqual(kinds({"a": a}, {"a": "bound-to-you"}), [])

    def test_retried_since(self):
        base = Pc().plug(1).said(2, "connect").call("Forget", 3, 4).said(4.1, "released")
        self.assertEqual(kinds({"a": base.call("Retry", 5, 5.1)}, {"a": "bound-to-you"}), [])
        # a Retry that raced the Forget may have been handled after it
        a = Pc().plug(1).said(2, "connect").call("Retry", 2.9, 3.05).call("Forget", 3, 4) \
            .said(4.1, "released")
        self.assertEqual(kinds({"a": a}, {"a": "bound-to-you"}), [])

    def test_retries_that_did_nothing(self):
        a = (Pc().plug(1).said(2, "connect").call("Retry", 2.1, 2.2).call("Forget", 3, 4)
             .said(4.1, "released").call("Retry", 5, 5.1, NO_DAEMON))
        self.assertEqual(kinds({"a": a}, {"a": "bound-to-you"}), ["released-but-bound"])


class KeepExisting(unittest.TestCase):
    def test_attached_here(self):
        b = Pc().plug(5).said(6, "keep-existing")
        self.assertEqual(kinds({"b": b}, {"b": "bound-to-other"}, {S: "b"}), [])
        self.assertEqual(kinds({"b": b}, {"b": "unbound"}, {S: "b"}),
                         ["keep-existing-not-other"])
        self.assertEqual(kinds({"b": b}, {"b": "bound-to-you"}, {S: "b"}),
                         ["keep-existing-not-other"])

    def test_not_attached_here_is_not_checked(self):
        b = Pc().plug(5).said(6, "keep-existing").plug(7, "detach")
        self.assertEqual(kinds({"b": b}, {"b": "unbound"}), [])

    def test_owner_released_after_this_attach(self):
        """A's Forget was sent while the phone was on A and answered after
        it moved to B: B's lookup may have come first."""
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 6).plug(3.5, "detach")
        b = Pc().plug(4).said(5, "keep-existing")
        self.assertEqual(kinds({"a": a, "b": b}, {"a": "unbound", "b": "unbound"}, {S: "b"}),
                         [])

    def test_owner_released_before_this_attach(self):
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 3.2).said(3.3, "released") \
            .plug(3.5, "detach")
        b = Pc().plug(4).said(5, "keep-existing")
        self.assertEqual(kinds({"a": a, "b": b}, {"a": "unbound", "b": "unbound"}, {S: "b"}),
                         ["keep-existing-not-other"])

    def test_owner_forget_of_unknown_outcome(self):
        a = Pc().plug(1).said(2, "connect").call("Forget", 3, 3.2, NO_REPLY).plug(3.5, "detach")
        b = Pc().plug(4).said(5, "keep-existing")
        self.assertEqual(kinds({"a": a, "b": b}, {"a": "unbound", "b": "unbound"}, {S: "b"}),
                         [])
        # ... in an earlier round: whatever it did had landed before this one began
        self.assertEqual(kinds({"a": a, "b": b}, {"a": "unbound", "b": "unbound"}, {S: "b"},
                               round_starts=(0, 3.9)), ["keep-existing-not-other"])


class Outcomes(unittest.TestCase):
    def test_call_outcome(self):
        h = Pc().h
        for error, outcome in ((None, "done"), (UNREACHABLE, "nothing"), (NO_DAEMON, "nothing"),
                               ("org.phonebind1.Error.Busy", "nothing"), (NO_REPLY, "unknown"),
                               ("org.freedesktop.DBus.Error.Failed", "unknown")):
            call = {"serial": S, "method": "Forget", "start": 1, "end": 2, "error": error}
            self.assertEqual(checker.call_outcome(h, call), outcome, error)

    def test_settle_state(self):
        a = Pc().plug(1).said(2, "connect", sender=":1.1").daemon(3, "kill")
        self.assertIsNone(checker.settle_state(a.h, S), "the killed daemon's decision")
        a.said(4, "pending").said(5, "connect")
        self.assertEqual(checker.settle_state(a.h, S)["t"], 5)
        a.plug(6, "detach").plug(7)
        self.assertIsNone(checker.settle_state(a.h, S), "a decision of the stay before")


if __name__ == "__main__":
    unittest.main()
