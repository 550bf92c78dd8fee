"""Merge a notebook saved by a user who may run but not edit onto the stored notebook.

Pure: no I/O, no Jupyter imports. Such a user (``project:execute`` without
``project:write``, e.g. a Contributor) runs the saved cells and may keep what
they produced, so their save *contributes* only:

- the outputs and execution count of code cells whose input they did not change;
- view-only cell metadata (``collapsed``, ``scrolled``, ``execution``, and
  ``jupyter`` holding only ``outputs_hidden``/``source_hidden``);
- the new source of a cell tagged ``parameters`` when it passes
  :func:`.cells.parameter_values_only`.

Everything else comes from the stored file: the other cells' sources, types,
metadata and attachments, the cell order, and the notebook-level metadata (the
kernelspec, widget state, …, whatever the sent notebook says). Cells the user
added, removed, moved or edited are refused with :class:`MergeRefused`, which
names them.

Editors may save the same notebook meanwhile. To keep their edits while still
refusing the user's own, the server remembers a :class:`Base` per user and
path: what it last served to (or accepted from) that user. A sent cell that
equals its base version but not the stored one was changed by someone else:
the stored cell is kept. A stored cell missing from both the base and the sent
notebook was added by someone else: kept. A sent cell missing from the stored
file but present in the base was deleted by someone else: dropped. Without a
base (e.g. after a server restart) the stored notebook is the base, which only
makes the merge stricter.

The base never makes contributed content reach the file: it only decides
between "keep the stored cell" and "refuse". Contributed content is written
only for cells whose input equals the stored input.

Cell ``metadata.trusted`` (set by the server when it serves a notebook) is
neither compared nor kept: outputs a user without write sends are never
trusted, so the server does not sign a notebook they saved.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cells import PARAMETERS_TAG, normalize, parameter_values_only

PREFIX = "Contributors can only change outputs and parameter values"
NO_IDS = (
    "this notebook has cells without ids (nbformat 4.4 or older); an Editor must save it "
    "once with a current JupyterLab before it can be saved without write access"
)
# view-only cell metadata: how the user looks at the cell, taken from the save
VIEW_KEYS = frozenset({"collapsed", "scrolled", "execution", "jupyter"})
JUPYTER_VIEW_KEYS = frozenset({"outputs_hidden", "source_hidden"})
# execution timing as JupyterLab records it: {"iopub.status.busy": "2026-…Z", …}
TIMING_PREFIXES = ("iopub.", "shell.")
MAX_TIMING_KEYS = 8
MAX_TIMESTAMP = 40
IGNORED_KEYS = frozenset({"trusted"})
# cell keys compared as a whole (besides type, source and metadata)
CONTRIBUTED_KEYS = frozenset({"id", "source", "metadata", "outputs", "execution_count"})
OUTPUT_TYPES = frozenset({"stream", "display_data", "execute_result", "error"})
MAX_NAMED = 5  # cells named in one refusal message
EXCERPT = 20  # characters of a cell's first line quoted in a refusal message


class InvalidNotebook(ValueError):
    """The sent notebook is not a notebook this merge can read (a bad request)."""


class MergeRefused(Exception):
    """The save changes more than outputs and parameter values.

    ``cells`` are the ids of the offending cells; ``message`` names them as people
    see them: their 1-based position among all cells (markdown included) and their
    first line, e.g. ``cell 3 ("forecast = [round(...") was edited``.
    """

    def __init__(self, cells: list[str], message: str) -> None:
        super().__init__(message)
        self.cells = cells
        self.message = message


@dataclass(frozen=True)
class Base:
    """What a user last saw of a notebook: each cell's fingerprint, and the cell order."""

    order: tuple[str, ...]
    prints: Mapping[str, str] = field(default_factory=dict)  # cell id -> fingerprint


def base_of(notebook: Mapping[str, Any]) -> Base:
    """The base of a notebook as served to (or accepted from) a user."""
    cells = _cells(notebook, "notebook")
    return Base(tuple(c["id"] for c in cells), {c["id"]: fingerprint(c) for c in cells})


def fingerprint(cell: Mapping[str, Any]) -> str:
    """A digest of everything a user without write may not change in ``cell``."""
    text = json.dumps([_shape(cell), normalize(_source(cell))], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def merge_contributor_save(
    stored: Mapping[str, Any], sent: Mapping[str, Any], base: Base | None
) -> dict[str, Any]:
    """The notebook to write: ``stored`` with what ``sent`` may contribute.

    Raises :class:`MergeRefused` naming every offending cell, or
    :class:`InvalidNotebook` when ``sent`` is malformed. The notebook-level
    metadata, ``nbformat`` and ``nbformat_minor`` are always the stored ones.
    """
    stored_cells = _cells(stored, "stored notebook")
    sent_cells = _cells(sent, "saved notebook")
    if base is None:  # the stored cells, with no fingerprint a sent cell could match
        order = tuple(c["id"] for c in stored_cells)
        base = Base(order, dict.fromkeys(order, ""))
    merge = _Merge(stored_cells, sent_cells, base)
    merged = merge.run()
    if merge.problems:
        ids = list(dict.fromkeys(cell_id for cell_id, _ in merge.problems))
        named = [text for _, text in merge.problems]
        more = len(named) - MAX_NAMED
        listed = ", ".join(named[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")
        raise MergeRefused(ids, f"{PREFIX}; {listed}")
    return {**stored, "cells": merged}


class _Merge:
    """One merge: the verdict for every cell, collected before anything is refused."""

    def __init__(
        self, stored: list[dict[str, Any]], sent: list[dict[str, Any]], base: Base
    ) -> None:
        self.stored = stored
        self.sent = sent
        self.base = base
        self.sent_by_id = {c["id"]: (n, c) for n, c in enumerate(sent, start=1)}
        self.stored_ids = {c["id"] for c in stored}
        self.base_rank = {cell_id: n for n, cell_id in enumerate(base.order)}
        self.problems: list[tuple[str, str]] = []  # (cell id, 'cell 3 ("x = 1") was edited')

    def refuse(self, cell: Mapping[str, Any], position: int, what: str) -> None:
        """Refuse ``cell`` (as the user has it), at ``position`` among all their cells."""
        self.problems.append((cell["id"], f"cell {position} {_excerpt(cell)} {what}"))

    def run(self) -> list[dict[str, Any]]:
        """The merged cells in the stored order; problems are collected on the way."""
        merged = [m for m in (self.cell(c) for c in self.stored) if m is not None]
        for position, cell in enumerate(self.sent, start=1):
            if cell["id"] not in self.stored_ids and cell["id"] not in self.base.prints:
                self.refuse(cell, position, "was added")
        self.check_order()
        return merged

    def cell(self, stored: dict[str, Any]) -> dict[str, Any] | None:
        """The merged version of one stored cell."""
        cell_id = stored["id"]
        found = self.sent_by_id.get(cell_id)
        if found is None:
            if cell_id in self.base.prints:
                self.refuse(stored, self.base_rank[cell_id] + 1, "was removed")
            return _without_trust(stored)  # added by someone else meanwhile
        position, sent = found
        same_shape = _shape(stored) == _shape(sent)
        if same_shape and normalize(_source(stored)) == normalize(_source(sent)):
            return _take(stored, sent, position)
        if self.base.prints.get(cell_id) == fingerprint(sent):
            return _without_trust(stored)  # changed by someone else meanwhile
        if same_shape and _parameters_only(stored, sent):
            return _take(stored, sent, position, source=normalize(_source(sent)))
        self.refuse(sent, position, _what_changed(stored, sent))
        return None

    def check_order(self) -> None:
        """The cells the user saw and still sends must keep the order they saw."""
        rank = self.base_rank
        common = [(n, c) for n, c in enumerate(self.sent, start=1) if c["id"] in rank]
        kept = _in_order([rank[cell["id"]] for _, cell in common])
        for position, cell in common:
            if rank[cell["id"]] not in kept:
                self.refuse(cell, position, "was moved")


# -- cells ---------------------------------------------------------------------------------


def _excerpt(cell: Mapping[str, Any]) -> str:
    """The cell's first non-blank line, quoted and cut short: how people recognize it."""
    source = normalize(_source(cell))
    line = next((ln.strip() for ln in source.split("\n") if ln.strip()), "")
    if not line:
        return "(empty)"
    if len(line) > EXCERPT:
        line = line[:EXCERPT] + "..."
    return f'("{line}")'


def _cells(notebook: Mapping[str, Any], what: str) -> list[dict[str, Any]]:
    """The cells of ``notebook``, each with a unique string id."""
    if not isinstance(notebook, Mapping) or not isinstance(notebook.get("cells"), list):
        raise InvalidNotebook(f"the {what} has no list of cells")
    cells: list[dict[str, Any]] = notebook["cells"]
    seen: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise InvalidNotebook(f"cell {position} of the {what} is not an object")
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not cell_id:
            raise MergeRefused([], f"{PREFIX}; {NO_IDS}")
        if cell_id in seen:
            raise InvalidNotebook(f"cell {position} of the {what} repeats the id {cell_id}")
        seen.add(cell_id)
        if not isinstance(cell.get("source", ""), (str, list)):
            raise InvalidNotebook(f"cell {position} (id {cell_id}) has no text source")
    return cells


def _source(cell: Mapping[str, Any]) -> str | Sequence[str]:
    source = cell.get("source", "")
    return source if isinstance(source, (str, list)) else ""


def is_view_metadata(key: str, value: Any) -> bool:
    """Whether ``key: value`` is view-only cell metadata: what users without write may
    set (taken from their saves here, let through from their live edits by the
    collaboration guard).

    Only the shapes JupyterLab writes: flags, and ``execution`` timing (a few
    ``iopub.*``/``shell.*`` time stamps), so a save cannot smuggle data in them.
    """
    if key == "jupyter":
        return (
            isinstance(value, dict)
            and set(value) <= JUPYTER_VIEW_KEYS
            and all(isinstance(v, bool) for v in value.values())
        )
    if key == "execution":
        return (
            isinstance(value, dict)
            and len(value) <= MAX_TIMING_KEYS
            and all(
                isinstance(k, str)
                and k.startswith(TIMING_PREFIXES)
                and isinstance(v, str)
                and len(v) <= MAX_TIMESTAMP
                for k, v in value.items()
            )
        )
    return key in VIEW_KEYS and (isinstance(value, bool) or value == "auto")


def _metadata(cell: Mapping[str, Any]) -> dict[str, Any]:
    metadata = cell.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _kept_metadata(cell: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata a user without write may not change (view-only and trust left out)."""
    return {
        k: v
        for k, v in _metadata(cell).items()
        if k not in IGNORED_KEYS and not is_view_metadata(k, v)
    }


def _shape(cell: Mapping[str, Any]) -> dict[str, Any]:
    """Everything but the source that must stay as stored: type, metadata, attachments, …"""
    shape = {k: v for k, v in cell.items() if k not in CONTRIBUTED_KEYS and v != {}}
    shape["metadata"] = _kept_metadata(cell)
    return shape


def _parameters_only(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    tags = _metadata(stored).get("tags")
    return (
        stored.get("cell_type") == "code"
        and isinstance(tags, list)
        and PARAMETERS_TAG in tags
        and parameter_values_only(normalize(_source(stored)), normalize(_source(sent)))
    )


def _what_changed(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> str:
    if stored.get("cell_type") != sent.get("cell_type"):
        return "changed its type"
    if _kept_metadata(stored) != _kept_metadata(sent):
        return "changed its metadata"
    return "was edited"


def _without_trust(cell: dict[str, Any]) -> dict[str, Any]:
    metadata = _metadata(cell)
    if "trusted" not in metadata:
        return cell
    return {**cell, "metadata": {k: v for k, v in metadata.items() if k != "trusted"}}


def _take(
    stored: dict[str, Any], sent: Mapping[str, Any], position: int, source: str | None = None
) -> dict[str, Any]:
    """``stored`` with the contributed parts of ``sent``: outputs, count, view metadata."""
    metadata = _kept_metadata(stored)
    metadata.update((k, v) for k, v in _metadata(sent).items() if is_view_metadata(k, v))
    cell = {**stored, "metadata": metadata}
    if source is not None:
        cell["source"] = source
    if stored.get("cell_type") == "code":
        cell["outputs"] = _outputs(sent, position)
        cell["execution_count"] = _execution_count(sent, position)
    return cell


def _outputs(cell: Mapping[str, Any], position: int) -> list[Any]:
    outputs = cell.get("outputs", [])
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and o.get("output_type") in OUTPUT_TYPES for o in outputs
    ):
        raise InvalidNotebook(f"cell {position} (id {cell['id']}) has malformed outputs")
    return outputs


def _execution_count(cell: Mapping[str, Any], position: int) -> int | None:
    count = cell.get("execution_count")
    if count is None or (isinstance(count, int) and not isinstance(count, bool) and count >= 0):
        return count
    raise InvalidNotebook(f"cell {position} (id {cell['id']}) has a malformed execution_count")


# -- order ---------------------------------------------------------------------------------


def _in_order(ranks: list[int]) -> set[int]:
    """The ranks of a longest increasing run in ``ranks``: the cells that were not moved."""
    if ranks == sorted(ranks):  # the usual case: nothing moved
        return set(ranks)
    tails: list[int] = []  # tails[k]: the smallest last rank of an increasing run of k + 1
    previous: dict[int, int | None] = {}
    for r in ranks:
        k = bisect.bisect_left(tails, r)
        previous[r] = tails[k - 1] if k else None
        if k == len(tails):
            tails.append(r)
        else:
            tails[k] = r
    kept: set[int] = set()
    node = tails[-1] if tails else None
    while node is not None:
        kept.add(node)
        node = previous[node]
    return kept
