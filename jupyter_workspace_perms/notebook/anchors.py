"""Where a comment thread stands after a save: pure, like the rest of :mod:`..notebook`.

A thread on a notebook cell is anchored to the cell's id and the SHA-256 of its
normalized source when it was posted; a thread on a text file may quote a range of it.
Given the content just saved and the stored anchors, these functions say which threads
change state (``current``, ``outdated``, ``orphaned``), so the store writes only those.
Line endings never count: ``\\r\\n`` and ``\\n`` give the same hash and the same quote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from .cells import normalize

QUOTE_CHARS = 200  # a thread without a range quotes the start of its cell or file
MAX_QUOTE_CHARS = 2_000  # a quoted range longer than this is cut
STATES = ("current", "outdated", "orphaned")


def source_hash(source: str | Sequence[str]) -> str:
    """SHA-256 (hex) of a cell's or file's normalized source (``\\n`` line endings)."""
    return hashlib.sha256(normalize(source).encode("utf-8", "surrogatepass")).hexdigest()


def quote_of(source: str, anchor: tuple[int, int] | None) -> str:
    """The text a thread quotes: the anchored range, else the start of the source."""
    if anchor is None:
        return source[:QUOTE_CHARS]
    return source[anchor[0] : anchor[1]][:MAX_QUOTE_CHARS]


def notebook_states(rows: Sequence[Sequence[Any]], cells: Sequence[Any]) -> dict[str, list[int]]:
    """The threads whose state a saved notebook changes, by new state.

    ``rows`` are ``(id, cell_id, source_hash, anchor_state)`` of the file's threads. A
    thread whose cell is gone is ``orphaned``; one whose cell's hash differs
    ``outdated``; one whose cell is as it was (again) ``current``. Only the cells that
    carry threads are hashed. Threads on the whole notebook follow moves and deletes only.
    """
    wanted = {row[1] for row in rows if row[1] is not None}
    hashes: dict[str, str] = {}
    for cell in cells:
        if not isinstance(cell, Mapping):
            continue
        cell_id = cell.get("id")
        if isinstance(cell_id, str) and cell_id in wanted and cell_id not in hashes:
            hashes[cell_id] = source_hash(cell.get("source") or "")
    changes: dict[str, list[int]] = {}
    for comment_id, cell_id, stored_hash, state in rows:
        if cell_id is None:
            continue
        found = hashes.get(cell_id)
        new = "orphaned" if found is None else "current" if found == stored_hash else "outdated"
        if new != state:
            changes.setdefault(new, []).append(comment_id)
    return changes


def text_states(rows: Sequence[Sequence[Any]], text: str) -> dict[str, list[int]]:
    """The threads whose state a saved text file changes, by new state.

    ``rows`` are ``(id, cell_id, anchor_state, quote)``: a thread with a quote is
    ``current`` while the quote appears in the file, else ``outdated``.
    """
    text = normalize(text)
    changes: dict[str, list[int]] = {}
    for comment_id, cell_id, state, quote in rows:
        if cell_id is not None or not quote:
            continue
        new = "current" if normalize(quote) in text else "outdated"
        if new != state:
            changes.setdefault(new, []).append(comment_id)
    return changes
