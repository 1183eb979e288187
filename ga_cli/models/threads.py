"""How many CPU threads a local model computes with: GA_THREADS (or `--threads`, which sets
it), else the machine's physical cores. Hyper-threads share one core's arithmetic units, so
using them slows matrix work down rather than up."""

from __future__ import annotations

import os
from pathlib import Path

from ga_cli.errors import GaError

ENV = "GA_THREADS"


def physical_cores(cpuinfo: str | None = None) -> int:
    """Distinct (package, core) pairs in /proc/cpuinfo; the logical CPU count where it says
    nothing about cores (other systems, some virtual machines)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    cores, package, core = set(), "0", None
    for line in cpuinfo.splitlines() + [""]:
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "physical id":
            package = value
        elif key == "core id":
            core = value
        elif not line.strip():
            if core is not None:
                cores.add((package, core))
            package, core = "0", None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(len(cores) or (usable or 1), usable or 1))


def count() -> int:
    """The thread count to use: GA_THREADS when set, else the physical cores."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return physical_cores()
    if not raw.isdigit() or int(raw) < 1:
        raise GaError(f"{ENV}={raw!r} is not a positive whole number", f"unset it or set {ENV}=2")
    return int(raw)
