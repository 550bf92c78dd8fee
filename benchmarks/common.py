"""What every benchmark script shares: progress, percentiles, the machine's load, a
process's CPU time and a target's verdict."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def log(message: str) -> None:
    """Progress on stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, or "n/a" where the platform has none."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) of one process from ``/proc``, or NaN elsewhere
    (a server's kernels are other processes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Target:
    """One target with its verdict (PASS, FAIL or SKIP) and the measured value."""

    name: str
    status: str
    measured: str
