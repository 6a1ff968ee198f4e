#!/usr/bin/python3
"""udev-rules/70-phonebind.rules against recorded property sets of real
phones and non-phones (devices.json).

Why an evaluator and not udev: systemd 252's `udevadm test` reads rules only
from the system's rules directories and needs a running system's /sys; a
test must not install rules into the real system. So this file evaluates
exactly the rule syntax the rule uses (ACTION, SUBSYSTEM, ENV{}, ATTR{} with
== and !=, glob patterns with '|' alternatives, GOTO/LABEL, ENV{}= and +=,
TAG+=) and refuses any other key, so a rule that grows new syntax fails here
until the evaluator learns it. Faults tried: the actions that must not
mark (remove), interfaces, hubs, other classes, other Apple devices.
"""
import fnmatch
import json
import os
import re
import unittest

SOURCE = os.environ.get("PHONEBIND_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
RULE = os.path.join(SOURCE, "udev-rules", "70-phonebind.rules")
DEVICES = os.path.join(os.path.dirname(__file__), "devices.json")

TOKEN = re.compile(r'\s*([A-Z]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|=)\s*"([^"]*)"\s*(,|$)')


def parse(path):
    rules = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            tokens, pos = [], 0
            while pos < len(line):
                m = TOKEN.match(line, pos)
                if not m:
                    raise ValueError(f"{path}:{number}: cannot parse: {line[pos:]}")
                tokens.append(m.groups()[:4])
                pos = m.end()
            rules.append((number, tokens))
    return rules


def matches(value, pattern):
    return any(fnmatch.fnmatchcase(value or "", p) for p in pattern.split("|"))


def evaluate(rules, device):
    """Returns the device's properties and tags after the rules ran."""
    env = dict(device["env"])
    env["ACTION"] = device["action"]
    attr = device["attr"]
    tags = set()
    labels = {tok[3]: i for i, (_, toks) in enumerate(rules) for tok in toks if tok[0] == "LABEL"}
    i = 0
    while i < len(rules):
        number, tokens = rules[i]
        goto, matched = None, True
        for key, arg, op, value in tokens:
            if op in ("==", "!="):
                if key in ("ACTION", "SUBSYSTEM"):
                    actual = env.get(key)
                elif key == "ENV":
                    actual = env.get(arg)
                elif key == "ATTR":
                    actual = attr.get(arg)
                else:
                    raise ValueError(f"line {number}: match key {key} not known to this test")
                if matches(actual, value) != (op == "=="):
                    matched = False
                    break
        if matched:
            for key, arg, op, value in tokens:
                if op in ("==", "!="):
                    continue
                if key == "GOTO":
                    goto = value
                elif key == "LABEL":
                    pass
                elif key == "ENV" and op == "=":
                    env[arg] = value
                elif key == "ENV" and op == "+=":
                    env[arg] = (env.get(arg, "") + " " + value).strip()
                elif key == "TAG" and op == "+=":
                    tags.add(value)
                else:
                    raise ValueError(f"line {number}: {key}{op} not known to this test")
        if goto is not None:
            i = labels[goto]
        i += 1
    return env, tags


class UdevRule(unittest.TestCase):
    def test_recorded_devices(self):
        rules = parse(RULE)
        with open(DEVICES) as f:
            devices = json.load(f)["devices"]
        self.assertGreaterEqual(sum(d["expect"] for d in devices), 5)
        for device in devices:
            env, tags = evaluate(rules, device)
            marked = env.get("PHONEBIND_CANDIDATE") == "1"
            self.assertEqual(marked, device["expect"], device["name"])
            if marked:
                self.assertIn("systemd", tags, device["name"])
                self.assertIn("phonebindd.service", env.get("SYSTEMD_WANTS", "").split(),
                              device["name"])

    def test_evaluator_catches_a_broken_rule(self):
        """The evaluator is not a rubber stamp: the rule without its
        ACTION=="remove" guard marks a phone that is being removed."""
        rules = [r for r in parse(RULE) if not any(t[0] == "ACTION" for t in r[1])]
        with open(DEVICES) as f:
            removed = [d for d in json.load(f)["devices"] if d["action"] == "remove"][0]
        self.assertEqual(evaluate(rules, removed)[0].get("PHONEBIND_CANDIDATE"), "1")

if __name__ == "__main__":
    unittest.main()
