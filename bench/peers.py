#!/usr/bin/python3
"""phonebindd against its best peer and against the floor, in one run:
the same bursts (stormlib.py) into phonebindd (registry on loopback),
boltd (Debian's bolt: Thunderbolt devices, DeviceAdded as its decision)
and the floor (floor.c: a libudev monitor and one sd-bus signal per
uevent; floor2, two signals per uevent as phonebindd's contract has).
For each N (1 = fifty devices one at a time, then bursts) and round,
the daemons take turns, the order rotated every round so that the
machine's noise falls on all of them alike; each run is a fresh daemon.

Prints every round's figures (with "round"), then the medians of the
rounds per daemon and the ratios of the medians: phonebind/boltd and
phonebind/floor for p50, p99, the burst's first uevent to last decision,
peak RSS and RssAnon. phonebind's "new" phase (a registry round trip) and
"known" phase (the local store) are each set against the other daemons'
phase of the same place (first plug, replug), which for them do the same
work."""
import argparse
import collections
import os
import sys

import fakephone
fakephone.ensure_umockdev()

import benchlib  # noqa: E402
import stormlib  # noqa: E402
import targets  # noqa: E402

BENCH = "peers"
MAKERS = {"phonebind": targets.Phonebind, "boltd": targets.Bolt, "floor": targets.Floor,
          "floor2": targets.Floor2}

# (what, phonebind's metric, the other's metric, against, at most)
TARGETS = [
    ("known phone p50", "known_n1_p50", "known_n1_p50", "boltd", 0.6),
    ("known phone p99", "known_n1_p99", "known_n1_p99", "boltd", 1.0),
    ("known phone p50", "known_n1_p50", "known_n1_p50", "floor", 1.3),
    ("known phone p99", "known_n1_p99", "known_n1_p99", "floor", 1.3),
    ("known phone p50 (two-signal floor)", "known_n1_p50", "known_n1_p50", "floor2", 1.3),
    ("known phone p99 (two-signal floor)", "known_n1_p99", "known_n1_p99", "floor2", 1.3),
    ("new phone p50", "new_n1_p50", "new_n1_p50", "boltd", 1.0),
    ("1000 known, first uevent to last decision", "known_n1000_all_decided",
     "known_n1000_all_decided", "boltd", 0.6),
    ("1000 new, first uevent to last decision", "new_n1000_all_decided",
     "new_n1000_all_decided", "boltd", 1.0),
    ("RssAnon after 1000", "n1000_rss_anon", "n1000_rss_anon", "boltd", 1.0),
    ("peak RSS, 1000", "n1000_peak_rss", "n1000_peak_rss", "boltd", 1.3),
]


def ratio_metrics(n):
    names = []
    for phase in ("new", "known"):
        names += [f"{phase}_n{n}_p50", f"{phase}_n{n}_p99"]
        if n > 1:
            names.append(f"{phase}_n{n}_all_decided")
    return names + [f"n{n}_peak_rss", f"n{n}_rss_anon"]


def make(name, callgrind, run, baseline):
    """The daemon and its hooks: under callgrind when asked, its dumps in
    a directory of the run's own. "baseline" is phonebindd of another
    build (--baseline)."""
    kwargs = {"build_dir": baseline} if name == "baseline" else {}
    maker = MAKERS["phonebind" if name == "baseline" else name]
    if not callgrind:
        return maker(**kwargs), stormlib.NoHooks()
    hooks = stormlib.Callgrind(os.path.join(callgrind, run), name)
    return maker(wrapper=hooks.wrapper(), **kwargs), hooks


def instructions(hooks, n, count, units, samples, name):
    """Instructions per device of each phase, from callgrind's dumps."""
    totals = hooks.totals()
    for label, total in totals.items():
        if label.startswith("before-"):
            continue
        metric = f"{label}_instructions_per_device"
        samples[name][metric].append(total / count)
        units[metric] = "instructions"
    first = totals.get(f"before-new_n{n}")
    if first is not None:
        samples[name][f"n{n}_startup_instructions"].append(first)
        units[f"n{n}_startup_instructions"] = "instructions"


def run_rounds(sizes, rounds, daemons, callgrind=None, baseline=None):
    """{daemon: {metric: [value per round]}} and the units."""
    samples = collections.defaultdict(lambda: collections.defaultdict(list))
    units = {}
    for r in range(rounds):
        for n in sizes:
            order = daemons[r % len(daemons):] + daemons[:r % len(daemons)]
            for name in order:
                print(f"# round {r + 1}, N = {n}: {name}", file=sys.stderr)
                target, hooks = make(name, callgrind, f"{name}-n{n}-round{r + 1}", baseline)
                timeout = 1200 if callgrind else 120
                for metric, (value, unit) in stormlib.measure(target, n, hooks, timeout).items():
                    samples[name][metric].append(value)
                    units[metric] = unit
                    benchlib.emit(BENCH, f"{name}_{metric}", value, unit, round=r + 1)
                if callgrind:
                    instructions(hooks, n, 50 if n == 1 else n, units, samples, name)
    return samples, units


def summarise(samples, units, sizes):
    medians = {name: {m: benchlib.median(v) for m, v in metrics.items()}
               for name, metrics in samples.items()}
    for name, metrics in medians.items():
        for metric, value in metrics.items():
            benchlib.emit(BENCH, f"{name}_{metric}_median", value, units[metric])
    ours = medians.get("phonebind", {})
    for other in ("boltd", "floor", "floor2", "baseline"):
        theirs = medians.get(other)
        if not theirs:
            continue
        for n in sizes:
            for metric in ratio_metrics(n) + [f"{phase}_n{n}_instructions_per_device"
                                              for phase in ("new", "known")]:
                if metric in ours and theirs.get(metric):
                    benchlib.emit(BENCH, f"{metric}_phonebind_vs_{other}",
                                  ours[metric] / theirs[metric], "ratio")
    print("# targets (ratios of the medians):", file=sys.stderr)
    for what, mine, their, other, limit in TARGETS:
        if mine not in ours or not medians.get(other, {}).get(their):
            continue
        value = ours[mine] / medians[other][their]
        verdict = "met" if value <= limit else "NOT met"
        print(f"#   {what}: {value:.2f}x {other} (target <= {limit}): {verdict}",
              file=sys.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--daemons", default="phonebind,boltd,floor,floor2")
    parser.add_argument("--baseline", metavar="BUILD_DIR",
                        help="also phonebindd of another build (a tree before a change) as "
                        "\"baseline\", in the rotation; ratios phonebind/baseline")
    parser.add_argument("--callgrind", metavar="DIR",
                        help="each daemon under callgrind, its dumps in DIR/<daemon>-n<N>-round<R>/:"
                        " instructions per device of each phase (latencies are then callgrind's,"
                        " not the daemon's)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    daemons = args.daemons.split(",") + (["baseline"] if args.baseline else [])
    print(f"# peers on {benchlib.machine()}", file=sys.stderr)
    with stormlib.raised_dgram_qlen():
        samples, units = run_rounds(sizes, args.rounds, daemons, args.callgrind, args.baseline)
    summarise(samples, units, sizes)


if __name__ == "__main__":
    main()
