#!/usr/bin/python3
"""The shape of the code, read from its #include graph (docs/architecture.md).

A module is a .c file and its .h (a header NAME_private.h belongs to NAME).
Faults it catches:
- a cycle among modules (the daemon's hub and its edges used to call each
  other in a circle: account.c, bus.c, main.c, terminal.c);
- the decision machine (daemon/decide.c) reaching an I/O header (udev,
  curl, sd-bus, SQLite, libevent, libpq, OpenSSL), directly or through
  another header;
- lib/ including a program's header; ctl/ and notify/ (clients of the
  daemon's D-Bus API) including the daemon's or the registry's;
- an edge of the daemon including the hub (terminal.h, terminals.h,
  hub.h), and struct terminal named outside the hub.
The checker checks itself first on graphs made up to fail.
"""
import os
import re
import unittest

SOURCE_DIR = os.environ.get("PHONEBIND_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
DIRS = ("lib", "daemon", "server", "ctl", "notify")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
IO_HEADERS = ("libudev.h", "curl/", "systemd/", "sqlite3.h", "event2/", "libpq-fe.h",
              "openssl/")
HUB = ("terminal.h", "terminals.h", "hub.h")
HUB_FILES = {"daemon/terminal.c", "daemon/terminal.h", "daemon/terminals.c",
             "daemon/terminals.h", "daemon/hub.h"}
EDGES = ("bus", "bus_manager", "bus_terminals", "account", "udev_watch", "store",
         "registry_client", "identity_helper", "polkit", "release", "seq")


def source_files():
    for directory in DIRS:
        for name in sorted(os.listdir(os.path.join(SOURCE_DIR, directory))):
            if name.endswith((".c", ".h")):
                yield f"{directory}/{name}"


def includes_of(path):
    """(quoted project headers as repo paths, angle-bracket headers) of a file."""
    with open(os.path.join(SOURCE_DIR, path)) as f:
        text = f.read()
    local, system = [], []
    directory = os.path.dirname(path)
    for kind, name in INCLUDE.findall(text):
        if kind == "<":
            system.append(name)
            continue
        for candidate in (f"{directory}/{name}", f"lib/{name}"):
            if os.path.exists(os.path.join(SOURCE_DIR, candidate)):
                local.append(candidate)
                break
        else:
            system.append(name)  # generated (version.h) or from a library
    return local, system


def module_of(path):
    base = os.path.splitext(path)[0]
    return base[:-len("_private")] if base.endswith("_private") else base


def module_graph(files):
    graph = {}
    for path in files:
        local, _ = includes_of(path)
        edges = graph.setdefault(module_of(path), set())
        edges.update(module_of(p) for p in local if module_of(p) != module_of(path))
    return graph


def find_cycle(graph):
    """A cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def reached(path, seen=None):
    """Every header a file reaches, project paths and system names alike."""
    seen = set() if seen is None else seen
    local, system = includes_of(path)
    seen.update(system)
    for header in local:
        if header not in seen:
            seen.add(header)
            reached(header, seen)
    return seen


class Checker(unittest.TestCase):
    def test_finds_a_made_up_cycle(self):
        self.assertEqual(find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}), ["a", "b", "c", "a"])
        self.assertIsNone(find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}))
        self.assertEqual(module_of("daemon/bus_private.h"), "daemon/bus")


class Architecture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = list(source_files())

    def test_no_cycle(self):
        cycle = find_cycle(module_graph(self.files))
        self.assertIsNone(cycle, " → ".join(cycle or ()))

    def test_decisions_reach_no_io(self):
        io = sorted(h for h in reached("daemon/decide.c") if h.startswith(IO_HEADERS))
        self.assertEqual(io, [], "daemon/decide.c reaches I/O headers")

    def test_layers(self):
        for path in self.files:
            local, _ = includes_of(path)
            with self.subTest(file=path):
                if path.startswith("lib/"):
                    self.assertEqual([p for p in local if not p.startswith("lib/")], [],
                                     "lib/ includes a program's header")
                if path.startswith(("ctl/", "notify/")):
                    self.assertEqual([p for p in local if p.startswith(("daemon/", "server/"))],
                                     [], "a client includes the daemon's or the registry's")

    def test_edges_do_not_know_the_hub(self):
        for path in self.files:
            if not path.startswith("daemon/") or os.path.basename(module_of(path)) not in EDGES:
                continue
            with self.subTest(file=path):
                hub = [h for h in reached(path) if os.path.basename(h) in HUB]
                self.assertEqual(hub, [], "an edge includes the hub")

    def test_struct_terminal_stays_in_the_hub(self):
        for path in self.files:
            if not path.startswith("daemon/") or path in HUB_FILES:
                continue
            with open(os.path.join(SOURCE_DIR, path)) as f:
                named = [f"{path}:{n}" for n, text in enumerate(f, 1)
                         if re.search(r"struct terminal\b", text)]
            self.assertEqual(named, [], "struct terminal outside the hub")


if __name__ == "__main__":
    unittest.main()
