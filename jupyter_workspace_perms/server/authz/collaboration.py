"""Targets of jupyter-collaboration's routes and of jupyter_server_fileid's.

Every one is decided on the document it is about, found as the room handler finds
it (:func:`..collaboration.rooms.room_of`: a room id through its file id, a fork
through the room it was made from):

- joining a room (the websocket) reads the document; what each message may change
  is then the room handler's call (:mod:`..collaboration.handler`);
- the global awareness room is open to everyone signed in (what it tells is filtered
  per recipient);
- ``PUT /api/collaboration/session/{path}`` only looks up or makes the file id:
  a read (upstream asks for write, which would keep Viewers out of every room);
- ``GET /api/collaboration/timeline/{path}`` replays the document's history: a read;
- forks: listing them reads the document; making, deleting or merging one
  (``DELETE ?merge=true`` applies the fork to the document) and undo/redo write it;
- ``/api/fileid/id?path=`` and ``/api/fileid/path?id=``: the path asked or found
  must be readable; an id that names nothing, or a file the user may not know,
  answers 404 alike.
"""

from __future__ import annotations

from ...paths import PathRefused
from ..collaboration.rooms import UNKNOWN_ROOM, RoomKind, file_path, forks, room_of
from .targets import Request, Target


def _room_id(req: Request) -> str:
    """The room id as jupyter_server_ydoc reads it: the raw path's last part."""
    return str(req.handler.request.path).split("/")[-1]


def _arg(req: Request) -> str:
    args = req.handler.path_args
    return str(args[0]) if args else ""


def room(req: Request) -> list[Target]:
    """The room websocket: read the room's document. The global awareness room is open
    to everyone signed in: each recipient hears only of people who share a project
    with them, and only of the documents they may read (:mod:`..collaboration.handler`)."""
    found = room_of(req.handler.settings, _room_id(req))
    if found.kind is RoomKind.global_awareness:
        return []
    return [Target("read", req.locate(found.path))]


def session(req: Request) -> list[Target]:
    """``PUT /api/collaboration/session/{path}`` and ``GET …/timeline/{path}``: a read."""
    return [Target("read", req.locate(_arg(req)))]


def fork(req: Request) -> list[Target]:
    """Forks: GET lists a room's forks (read); PUT makes one of a room, DELETE drops or
    merges one (write on the document)."""
    room_id = _arg(req)
    if req.method == "DELETE":
        info = forks().get(room_id)
        if info is None:
            raise PathRefused(UNKNOWN_ROOM, "not_found")
        room_id = str(info.get("root_roomid", ""))
    found = room_of(req.handler.settings, room_id)
    if found.kind is not RoomKind.document:
        raise PathRefused(UNKNOWN_ROOM, "not_found")
    intent = "read" if req.method in ("GET", "HEAD") else "write"
    return [Target(intent, req.locate(found.path))]


def undo_redo(req: Request) -> list[Target]:
    """``PUT /api/collaboration/undo_redo/{room}``: changes the document's history."""
    found = room_of(req.handler.settings, _arg(req))
    if found.kind is not RoomKind.document:
        raise PathRefused(UNKNOWN_ROOM, "not_found")
    return [Target("write", req.locate(found.path))]


def file_id(req: Request) -> list[Target]:
    """``GET /api/fileid/id?path=``: the path must be readable."""
    path = req.handler.get_query_argument("path", None)
    if path is None:
        raise PathRefused(UNKNOWN_ROOM, "not_found")
    return [Target("read", req.locate(path))]


def file_id_path(req: Request) -> list[Target]:
    """``GET /api/fileid/path?id=``: the file the id names must be readable."""
    found = file_path(req.handler.settings, req.handler.get_query_argument("id", ""))
    if found is None:
        raise PathRefused(UNKNOWN_ROOM, "not_found")
    return [Target("read", req.locate(found))]
