"""What every benchmark shares: figures as JSON lines, percentiles,
/proc readings of a process, the machine's description."""
import json
import os
import statistics


def emit(bench, metric, value, unit, **extra):
    """One figure as a JSON line; extra fields (round=…) after the four."""
    print(json.dumps({"bench": bench, "metric": metric, "value": round(value, 4),
                      "unit": unit, **extra}), flush=True)


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


def median(values):
    return statistics.median(values) if values else float("nan")


def proc_status(pid):
    """VmHWM, VmRSS, RssAnon in KiB, and voluntary context switches."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "voluntary_ctxt_switches",
                       "nonvoluntary_ctxt_switches"):
                fields[key] = int(rest.split()[0])
    return fields


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / ticks  # utime + stime


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return f"{os.cpu_count()} cores ({model}), {mem_kib / 1048576:.0f} GiB"
