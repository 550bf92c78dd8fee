"""What one Yjs update from a user without write changes, decided before the room sees it.

pycrdt cannot read an update without applying it, and an update applied to a room
cannot be taken back. So each room where someone without ``project:write`` sends
updates keeps a :class:`Shadow`: a second document mirrored from the room's (each
room change is applied to it too). An incoming update is applied to the shadow
first; the events it fires say which fields it touched, and :func:`judge_events`
decides on them. An allowed update then goes to the room (its echo into the
shadow changes nothing); after a refused one the shadow is rebuilt from the room,
so what was refused never stays anywhere.

The shadow is made on the first update of someone without write (about 0.1 s for
a large notebook), not for rooms where only Editors type: they pay nothing here.

What users who may run but not edit (``project:execute``) may change in a
notebook (the rule of the merge-save, :mod:`...notebook.merge`):

- a code cell's outputs, execution count and execution state;
- view-only cell metadata (:func:`...notebook.merge.is_view_metadata`); a cell's
  ``trusted`` mark only taken away: every client renders a trusted cell's outputs
  with their scripts, so outputs sent by people without write must never be marked
  (their lab extension leaves the mark out);
- the source of the cell tagged ``parameters``, when the result keeps its names and
  changes only literal values, or is such a change being typed: a syntax error that
  becomes one once a digit, quote or bracket is added
  (:func:`...notebook.cells.names_while_typing`), so values can be typed key by key
  and nothing that reaches the file or the others runs as other code;
- the kernel the notebook ran in (``kernelspec``, ``language_info``), which
  JupyterLab records when a kernel starts;
- the document's state as every client sets it (``dirty``, its room id).

Users who may only read change nothing but that state. An update whose
parts cannot all be applied (they wait for parts the shadow does not have) is
refused: they would be applied later, unseen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Doc, Map, MapEvent, Subscription, Text, TextEvent, get_state

from ...notebook.cells import PARAMETERS_TAG, names_while_typing
from ...notebook.merge import is_view_metadata

CELL_KEYS = frozenset({"execution_count", "execution_state"})  # set on a cell by running it
# notebook metadata JupyterLab writes when a kernel starts for whoever runs the notebook
KERNEL_METADATA = frozenset({"kernelspec", "language_info"})
MAX_KERNEL_METADATA = 4096  # bytes of JSON per value
# the shared types of each document type (jupyter_ydoc): the shadow observes all of them,
# and an update that touches any other root is refused
ROOTS: dict[str, dict[str, type[Any]]] = {
    "notebook": {"cells": Array, "meta": Map, "state": Map},
    "file": {"source": Text, "state": Map},
    "blob": {"source": Map, "state": Map},
}


class Refused(Exception):
    """An update changes what its sender may not change; ``str()`` says what, briefly."""


@dataclass(frozen=True)
class Seen:
    """One change an update made to the shadow: under which root, at which path."""

    root: str
    path: tuple[Any, ...]
    event: Any


class Shadow:
    """The room's document, mirrored, to try updates on before the room gets them."""

    def __init__(self, room_doc: Doc[Any], file_type: str) -> None:
        self.room_doc = room_doc
        self.roots = ROOTS.get(file_type, {})
        self._seen: list[Seen] = []
        self._doc: Doc[Any] = Doc()
        self._subscriptions: list[tuple[Any, Subscription]] = []
        self._mirror: Subscription | None = room_doc.observe(self._mirrored)
        self._build()

    def _build(self) -> None:
        """A new shadow from the room's document, observed on every root it may have."""
        for shared, subscription in self._subscriptions:
            shared.unobserve(subscription)
        self._subscriptions = []
        self._doc = Doc()
        self._doc.apply_update(self.room_doc.get_update())
        for name, kind in self.roots.items():
            shared = self._doc.get(name, type=kind)
            self._subscriptions.append((shared, shared.observe_deep(self._recorder(name))))

    def _recorder(self, root: str) -> Callable[[list[Any]], None]:
        def record(events: list[Any]) -> None:
            self._seen.extend(Seen(root, tuple(e.path), e) for e in events)

        return record

    def _mirrored(self, event: Any) -> None:
        self._doc.apply_update(event.update)

    def close(self) -> None:
        """Stop mirroring the room."""
        if self._mirror is not None:
            self.room_doc.unobserve(self._mirror)
            self._mirror = None

    def rebuild(self) -> None:
        """Forget everything tried and not taken: the shadow becomes the room again."""
        self._build()

    def attempt(self, update: bytes) -> list[Seen]:
        """Apply ``update`` to the shadow; the changes it made (raises :class:`Refused`
        when part of it waits for parts not here, or it touches a root not observed)."""
        self._seen = []
        self._doc.apply_update(update)
        seen, self._seen = self._seen, []
        if not self.roots or set(self._doc.keys()) - self.roots.keys():
            raise Refused("this document is changed by Editors only")
        if not _covers(decode_state(self._doc.get_state()), decode_state(get_state(update))):
            raise Refused("the update depends on changes this server does not have")
        return seen


def decode_state(state: bytes) -> dict[int, int]:
    """A Yjs state vector (client id -> next clock)."""
    found: dict[int, int] = {}
    pos, count = _var_uint(state, 0)
    for _ in range(count):
        pos, client = _var_uint(state, pos)
        pos, clock = _var_uint(state, pos)
        found[client] = clock
    return found


def _var_uint(data: bytes, pos: int) -> tuple[int, int]:
    num, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        num |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return pos, num


def _covers(have: dict[int, int], wanted: dict[int, int]) -> bool:
    return all(have.get(client, 0) >= clock for client, clock in wanted.items())


def judge_events(
    seen: Iterable[Seen], room_doc: Doc[Any], may_contribute: bool, room_id: str = ""
) -> None:
    """Raise :class:`Refused` unless every change is one the sender may make.

    ``may_contribute``: the sender may run code (outputs, counts, view metadata and
    parameter values of a notebook, the kernel it ran in); otherwise only the
    document's state as every client sets it (``dirty``, and ``document_id``: the
    room's id). ``room_doc`` is the document before the update, for the parameters
    check.
    """
    for change in seen:
        if change.root == "state":
            _state_change(change, room_id)
        elif change.root == "cells" and may_contribute:
            _cell_change(change, room_doc)
        elif change.root == "meta" and may_contribute and change.path == ("metadata",):
            _kernel_metadata(change)
        else:
            raise Refused(_what(change))


def _what(change: Seen) -> str:
    if change.root == "cells" and len(change.path) >= 2 and change.path[1] == "source":
        return "editing code or text needs write access"
    if change.root == "cells" and not change.path:
        return "changing the cell list needs write access"
    keys = ", ".join(sorted(_keys(change.event)))
    where = "/".join(str(p) for p in (change.root, *change.path))
    return f"this change ({where}{': ' + keys if keys else ''}) needs write access"


def _state_change(change: Seen, room_id: str) -> None:
    """Every client marks the document dirty and names its room (jupyter-docprovider)."""
    event = change.event
    if change.path or not isinstance(event, MapEvent):
        raise Refused("the document state is the server's")
    for key, what in _keys(event).items():
        value = what.get("newValue")
        if key == "dirty" and isinstance(value, bool):
            continue
        if key == "document_id" and room_id and value == room_id:
            continue
        raise Refused(f"the document's {key} is the server's")


def _kernel_metadata(change: Seen) -> None:
    """The kernel a notebook runs in, as JupyterLab records it when the kernel starts."""
    for key, what in _keys(change.event).items():
        value = _plain(what.get("newValue"))
        if (
            key not in KERNEL_METADATA
            or not isinstance(value, dict)
            or len(json.dumps(value, default=str)) > MAX_KERNEL_METADATA
        ):
            raise Refused(f"notebook metadata ({key}) needs write access")


def _cell_change(change: Seen, room_doc: Doc[Any]) -> None:
    path, event = change.path, change.event
    if len(path) >= 2 and path[1] == "outputs":
        return  # outputs of a cell, at any depth
    if len(path) == 1 and isinstance(event, MapEvent):
        for key, what in _keys(event).items():
            if key == "outputs":
                continue
            if key not in CELL_KEYS or not _plain_value(_plain(what.get("newValue"))):
                raise Refused(f"a cell's {key} is changed by Editors only")
        return
    if len(path) == 2 and path[1] == "metadata" and isinstance(event, MapEvent):
        for key, what in _keys(event).items():
            if key == "trusted":
                if what.get("newValue", False) is not False:
                    raise Refused("only Editors' outputs are trusted")
                continue
            for side in ("oldValue", "newValue"):
                if side in what and not is_view_metadata(key, _plain(what[side])):
                    raise Refused(f"cell metadata ({key}) needs write access")
        return
    if len(path) == 2 and path[1] == "source" and isinstance(event, TextEvent):
        _parameters_change(int(path[0]), event, room_doc)
        return
    raise Refused(_what(change))


def _parameters_change(index: int, event: TextEvent, room_doc: Doc[Any]) -> None:
    """A source edit: only of the ``parameters`` cell, and only to literal values."""
    cells = room_doc.get("cells", type=Array)
    if index >= len(cells):
        raise Refused("editing code or text needs write access")
    before_cell = cells[index]
    if not isinstance(before_cell, Map) or PARAMETERS_TAG not in _tags(before_cell):
        raise Refused("editing code or text needs write access")
    before = before_cell.get("source")
    after = getattr(event, "target", None)
    if not isinstance(before, Text) or not isinstance(after, Text):
        raise Refused("editing code or text needs write access")
    names = names_while_typing(str(before))
    if names is None or names_while_typing(str(after)) != names:
        raise Refused("only the values of the parameters may change")


def _keys(event: Any) -> dict[str, dict[str, Any]]:
    """A map event's changed keys: key -> {action, oldValue, newValue}; a key set again
    to the value it had is no change (JupyterLab writes a cell's whole metadata back
    when one key changes)."""
    keys = getattr(event, "keys", None)
    if not isinstance(keys, dict):
        return {}
    return {
        key: what
        for key, what in keys.items()
        if not (
            "oldValue" in what
            and "newValue" in what
            and _plain(what["oldValue"]) == _plain(what["newValue"])
        )
    }


def _plain_value(value: Any) -> bool:
    """An execution count or state: a number, a short word, or nothing."""
    if isinstance(value, str):
        return len(value) <= 16
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _tags(cell: Map[Any]) -> list[Any]:
    metadata = cell.get("metadata")
    plain = _plain(metadata)
    tags = plain.get("tags") if isinstance(plain, dict) else None
    return tags if isinstance(tags, list) else []


def _plain(value: Any) -> Any:
    """A shared value as plain Python (maps, arrays and texts converted)."""
    to_py = getattr(value, "to_py", None)
    return to_py() if callable(to_py) else value
