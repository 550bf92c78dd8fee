"""Pausing Python's cycle collector around work that builds many acyclic objects.

Loading a policy snapshot (about 10^5 objects that are all kept) or parsing a stored
notebook for a merge-save (tens of MB, all freed by reference counting) makes the
collector start full collections over every live object for nothing; a third of a
snapshot reload was spent there (``benchmarks/policy.py``, ``benchmarks/kernel_hook.py``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside; afterwards it runs again if it ran before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
