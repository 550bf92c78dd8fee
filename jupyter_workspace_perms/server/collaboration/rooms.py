"""What a collaboration room is about, and what its user may do there now.

A room id is not a path: ``json:notebook:<file id>`` names a document by its id in
jupyter_server_fileid's database, a fork id names a copy of a document room, and
``JupyterLab:globalAwareness`` is the one room every JupyterLab joins. The
Authorizer (:mod:`..authz.collaboration`) and the room handler both go from the id
to the document's path here, so both decide on the same file.

Without jupyter-collaboration nothing here is used (its modules are looked up,
never imported, so the extension runs without it).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ...identity.provider import WorkspaceUser
from ...paths import Level, Location, PathRefused, locate_in, served_root
from ...policy import PolicySnapshot, check_project
from ..authz.access import decide_location

GLOBAL_AWARENESS = "JupyterLab:globalAwareness"
UNKNOWN_ROOM = "not found (or not visible to you)"
TOKEN_GONE = "your sign-in token was revoked or has expired"
NO_ACCESS = "you no longer have access to this document"


class RoomKind(IntEnum):
    """Which sort of room: a document, a fork of one, or the global awareness."""

    document = 0
    fork = 1
    global_awareness = 2


@dataclass(frozen=True)
class Room:
    """A room's kind and, but for global awareness, its document's path."""

    kind: RoomKind
    path: str = ""
    file_type: str = ""

    @property
    def notebook(self) -> bool:
        """Whether the document is a notebook (whose outputs others may change)."""
        return self.kind is RoomKind.document and self.file_type == "notebook"


def forks() -> dict[str, dict[str, str]]:
    """jupyter_server_ydoc's forks (fork id -> info with ``root_roomid``), if loaded."""
    handlers = sys.modules.get("jupyter_server_ydoc.handlers")
    found = getattr(handlers, "FORK_ROOMS", None)
    return found if isinstance(found, dict) else {}


def file_path(settings: Any, file_id: str) -> str | None:
    """The path (relative to ``root_dir``) of a file id, or None when unknown."""
    manager = settings.get("file_id_manager")
    path = None if manager is None else manager.get_path(file_id)
    if not isinstance(path, str):
        return None
    if os.path.isabs(path):
        root = os.path.realpath(served_root(settings))
        path = os.path.relpath(os.path.realpath(path), root)
        if path.startswith(".."):
            return None
    return path.replace(os.sep, "/")


def room_of(settings: Any, room_id: str) -> Room:
    """The room a room id names; unknown ids raise :class:`PathRefused` (404)."""
    if room_id == GLOBAL_AWARENESS:
        return Room(RoomKind.global_awareness)
    if room_id.count(":") >= 2:
        _format, file_type, file_id = room_id.split(":", 2)
        path = file_path(settings, file_id)
        if path is None:
            raise PathRefused(UNKNOWN_ROOM, "not_found")
        return Room(RoomKind.document, path, file_type)
    fork = forks().get(room_id)
    if fork is not None:
        parent = room_of(settings, str(fork.get("root_roomid", "")))
        if parent.kind is RoomKind.document:
            return Room(RoomKind.fork, parent.path, parent.file_type)
    raise PathRefused(UNKNOWN_ROOM, "not_found")


class Rights(IntEnum):
    """What a user may do in a room, from the permission table (:data:`PERMISSIONS`)."""

    none = 0
    read = 1  # sync and awareness only
    contribute = 2  # project:execute: outputs, counts, view metadata, parameter values
    write = 3  # project:write: anything


# the highest first: a room's rights are the first permission the user holds on its project
PERMISSIONS = (
    (Rights.write, "project:write"),
    (Rights.contribute, "project:execute"),
    (Rights.read, "project:read"),
)


@dataclass(frozen=True)
class Access:
    """A user's level in a room, why when it is none, and until when it holds."""

    level: Rights
    reason: str = ""
    until: float = float("inf")


def location(snap: PolicySnapshot, settings: Any, path: str, handler: Any) -> Location:
    """Where ``path`` is under the served root."""
    return locate_in(snap, served_root(settings), path, handler)


def decide(
    snap: PolicySnapshot | None, user: WorkspaceUser, room: Room, settings: Any, handler: Any
) -> Access:
    """The user's access to a room under ``snap`` now."""
    if snap is None:
        return Access(Rights.none, "the workspace policy is not loaded")
    now = time.time()
    until = float("inf")
    if user.token_id is not None:
        token = snap.tokens_by_id.get(user.token_id)
        if token is None or token.user_id != user.user_id or not token.usable(now):
            return Access(Rights.none, TOKEN_GONE)
        until = token.expires_at or until
    if room.kind is RoomKind.global_awareness:
        return Access(Rights.read, until=until)  # what it tells is filtered per recipient
    try:
        loc = location(snap, settings, room.path, handler)
    except PathRefused:
        return Access(Rights.none, NO_ACCESS)
    if loc.level is not Level.project_file:
        # a document directly in a workspace folder: reading or writing it, nothing between
        if not decide_location(snap, user.subject, loc, "read", now).allowed:
            return Access(Rights.none, NO_ACCESS)
        writes = decide_location(snap, user.subject, loc, "write", now).allowed
        return Access(Rights.write if writes else Rights.read, until=until)
    assert loc.workspace is not None and loc.project is not None
    ws_id = snap.workspaces_by_slug[loc.workspace]
    project_id = snap.projects_by_name[(ws_id, loc.project)]
    grant = snap.grants.get((project_id, user.user_id))
    if grant is not None and grant.expires_at is not None and grant.expires_at > now:
        until = min(until, grant.expires_at)
    for level, permission in PERMISSIONS:
        if check_project(snap, user.subject, project_id, permission, now).allowed:
            return Access(level, until=until)
    return Access(Rights.none, NO_ACCESS, until)
