"""Awareness messages: who is here, their cursor, what they have open.

Upstream forwards each client's awareness as it was sent, so anyone can appear
as someone else, and the global awareness room (``JupyterLab:globalAwareness``)
tells every user which documents every other user has open, in every project.
Here:

- :func:`as_sender` replaces the ``user`` a client claims with the server's
  identity of the socket, and keeps only the client ids this socket owns (a
  client id is owned by the first socket that used it in the room), so nobody
  speaks for another client;
- :func:`for_recipient` removes from another client's state, for one recipient,
  the open documents (``current``, ``documents``) that recipient may not read.

An awareness update is ``varuint count``, then per client ``varuint client id,
varuint clock, varstring JSON state`` (``null`` when the client left).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Decoder, Encoder, create_awareness_message

USER_FIELDS = ("username", "name", "display_name", "initials", "avatar_url", "color")
MAX_STATE = 64 * 1024  # bytes of one client's JSON state


class BadAwareness(ValueError):
    """An awareness message that cannot be read."""


@dataclass
class Entry:
    """One client's awareness state in an update."""

    client: int
    clock: int
    state: Any  # the parsed JSON state, None when the client left


def read(message: bytes) -> list[Entry]:
    """The entries of an awareness message (``[1, varbuf(update)]``)."""
    try:
        update = Decoder(message[1:]).read_message()
        if update is None:
            raise BadAwareness("no update")
        decoder = Decoder(update)
        entries = []
        for _ in range(decoder.read_var_uint()):
            client = decoder.read_var_uint()
            clock = decoder.read_var_uint()
            text = decoder.read_var_string()
            if len(text) > MAX_STATE:
                raise BadAwareness("an awareness state too large")
            entries.append(Entry(client, clock, json.loads(text)))
        return entries
    except (ValueError, IndexError, TypeError, UnicodeDecodeError) as e:
        raise BadAwareness(str(e)) from None


def write(entries: list[Entry]) -> bytes:
    """An awareness message with ``entries``."""
    encoder = Encoder()
    encoder.write_var_uint(len(entries))
    for entry in entries:
        encoder.write_var_uint(entry.client)
        encoder.write_var_uint(entry.clock)
        encoder.write_var_string(json.dumps(entry.state, separators=(",", ":")))
    return create_awareness_message(encoder.to_bytes())


def identity_of(user: Any) -> dict[str, Any]:
    """The ``user`` field the server states for a signed-in user."""
    return {name: getattr(user, name, None) for name in USER_FIELDS}


def as_sender(
    entries: list[Entry], identity: dict[str, Any], may_use: Callable[[int], bool]
) -> list[Entry]:
    """The entries a socket may send: client ids it owns, ``user`` as the server knows it."""
    kept = []
    for entry in entries:
        if not may_use(entry.client):
            continue
        if isinstance(entry.state, dict):
            entry.state = {**entry.state, "user": identity}
        elif entry.state is not None:
            entry.state = {"user": identity}
        kept.append(entry)
    return kept


def for_recipient(entries: list[Entry], readable: Callable[[str], bool]) -> list[Entry]:
    """``entries`` with the open documents the recipient may not read left out."""
    shown = []
    for entry in entries:
        state = entry.state
        if isinstance(state, dict) and ("current" in state or "documents" in state):
            state = dict(state)
            current = state.get("current")
            if current is not None and not (
                isinstance(current, str) and readable(_path_of(current))
            ):
                state["current"] = None
            documents = state.get("documents")
            if documents is not None:
                state["documents"] = (
                    [d for d in documents if isinstance(d, str) and readable(_path_of(d))]
                    if isinstance(documents, list)
                    else []
                )
        shown.append(Entry(entry.client, entry.clock, state))
    return shown


def _path_of(name: str) -> str:
    """The file path in a layout name (``notebook:a/b.ipynb``) or a drive path
    (``RTC:a/b.ipynb``): the part after the first colon, when there is one."""
    return name.split(":", 1)[1] if ":" in name else name
