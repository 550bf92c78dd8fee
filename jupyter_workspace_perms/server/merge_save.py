"""Saves by users who may run but not edit: what the contents manager needs around the merge.

The rule itself is pure (:mod:`..notebook.merge`); this module adds the server's side:

- :class:`Bases`: what the server last served to (or accepted from) each user for
  each notebook, so edits an Editor saved meanwhile are kept instead of refused.
  It lives in this process only, bounded, least recently used first out: after a
  restart, or for a base pushed out, the stored file is the base (stricter, never
  looser: the base only decides between keeping a stored cell and refusing);
- :class:`SaveLocks`: one lock per notebook, so a merge's read, merge and write are
  never interleaved with another save of the same file by this server;
- :func:`merged`: the stored notebook parsed once and merged, the merge's refusals
  turned into the project's HTTP errors (403 naming the cells).
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections import OrderedDict
from typing import Any

from tornado import web

from ..gc_pause import collector_paused
from ..notebook.merge import Base, InvalidNotebook, MergeRefused, base_of, merge_contributor_save

MAX_BASES = 4096  # (user, notebook) pairs remembered
MAX_BASE_CELLS = 250_000  # cells over all bases: a cell costs about 200 bytes, so ~50 MB
REFUSED = "merge_refused"
NEEDS_WRITE = (
    "saving this file needs write access; without it only a notebook's outputs and "
    "parameter values can be saved"
)


class Bases:
    """The base of each (username, path): bounded in pairs and in cells, least recently
    used first out."""

    def __init__(self, capacity: int = MAX_BASES, max_cells: int = MAX_BASE_CELLS) -> None:
        self.capacity = capacity
        self.max_cells = max_cells
        self._bases: OrderedDict[tuple[str, str], Base] = OrderedDict()
        self._cells = 0

    def get(self, username: str, path: str) -> Base | None:
        """The remembered base, or None (the merge then uses the stored file)."""
        key = (username, path.strip("/"))
        base = self._bases.get(key)
        if base is not None:
            self._bases.move_to_end(key)
        return base

    def remember(self, username: str, path: str, notebook: Any) -> None:
        """``notebook`` is what the user now has; a notebook the merge cannot read
        (cells without ids, …) leaves no base."""
        key = (username, path.strip("/"))
        self._forget(key)
        try:
            base = base_of(notebook)
        except (InvalidNotebook, MergeRefused):
            return
        if len(base.order) > self.max_cells:
            return
        self._bases[key] = base
        self._cells += len(base.order)
        while len(self._bases) > self.capacity or self._cells > self.max_cells:
            self._forget(next(iter(self._bases)))

    def _forget(self, key: tuple[str, str]) -> None:
        base = self._bases.pop(key, None)
        if base is not None:
            self._cells -= len(base.order)

    def __len__(self) -> int:
        return len(self._bases)


class SaveLocks:
    """One :class:`asyncio.Lock` per path, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, path: str) -> asyncio.Lock:
        key = path.strip("/")
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


def merged(os_path: str, sent: Any, base: Base | None) -> dict[str, Any]:
    """The notebook to write: the stored one at ``os_path``, parsed once, merged with
    ``sent``.

    The parsed stored notebook (tens of MB of outputs for a big notebook) is dropped on
    return, so it is not alive while the stock save serializes the result. The cyclic
    garbage collector is paused meanwhile (about 0.1 s for 50 MB): the parse builds
    only acyclic containers, all freed by reference counting on return, but counting
    them would start full collections over every live object, the sent notebook
    included (``benchmarks/README.md``, ``merge_save``).
    """
    with collector_paused():
        return merge(read_stored(os_path), sent, base)


def read_stored(os_path: str) -> dict[str, Any]:
    """The stored notebook, parsed once (no nbformat validation: only its cells are read)."""
    try:
        with open(os_path, "rb") as f:
            stored = json.loads(f.read())
    except (OSError, ValueError):
        raise web.HTTPError(403, NEEDS_WRITE, reason=REFUSED) from None
    if not isinstance(stored, dict) or not isinstance(stored.get("cells"), list):
        raise web.HTTPError(403, NEEDS_WRITE, reason=REFUSED)
    return stored


def merge(stored: dict[str, Any], sent: Any, base: Base | None) -> dict[str, Any]:
    """The notebook to write, or the HTTP error that refuses the save."""
    try:
        return merge_contributor_save(stored, sent, base)
    except MergeRefused as e:
        raise web.HTTPError(403, e.message, reason=REFUSED) from None
    except InvalidNotebook as e:
        raise web.HTTPError(400, str(e), reason="invalid_notebook") from None
