"""The room websocket: every incoming message judged against the socket's user, now.

jupyter_server_ydoc authorizes a room socket once, as a *read* of the document,
and then applies whatever the client sends to the shared document, which it
saves. :class:`GuardedRoomHandler` replaces its ``YDocWebSocketHandler`` on the
room route (:func:`install`) and judges each message with the user's rights in
the room under the policy in force at that moment (:mod:`.rooms`):

- sync requests (``SYNC_STEP1``) pass for everyone who may read;
- updates (``SYNC_STEP2``, ``SYNC_UPDATE``) pass as they are for ``project:write``;
  from anyone else they are tried on the room's shadow (:mod:`.updates`) and pass
  only when every change is one they may make; a refused update closes the socket
  with a reason the browser shows ("Refused: … Reload to resync."), and
  nothing of it reaches the room, the other clients, the store or the file;
- awareness passes with the ``user`` the server knows, for the client ids the
  socket owns (:mod:`.awareness`); in the global awareness room (open to everyone
  signed in) each recipient hears only of people who share a project with them, and
  only of the documents it may read;
- a client's ``save`` request passes for those who may contribute; the room's
  saves run without the request context of whoever typed last (see :meth:`open`),
  so the contents manager makes a stock save on behalf of the room and never signs
  the notebook (outputs of people without write must not become trusted).

:class:`RoomWatcher` closes the sockets of users whose rights dropped (a role
change, an expired grant or token, a revoked token, enforced SSO) within a
fraction of a second.
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

from jupyter_server import CallContext
from jupyter_server_ydoc.handlers import YDocWebSocketHandler
from pycrdt import Decoder, YMessageType, YSyncMessageType
from tornado import web

from ...identity.provider import WorkspaceUser
from ...paths import PathRefused
from ...policy import PolicySnapshot, readable_project_ids
from ...watching import SocketWatcher
from ..authz.access import decide_location
from ..gates import replace_handler
from . import awareness
from .context import ROOM_SAVE
from .rooms import Access, Rights, Room, RoomKind, decide, location, room_of
from .updates import Refused, Shadow, judge_events

CLOSE_RELOAD = 1003  # jupyter-docprovider shows the JSON reason in a dialog and stops
MAX_REASON = 123  # bytes of a websocket close reason
# jupyter-docprovider shows ``errorReason`` in a dialog: why, then what to do
REFUSED = "Refused: {why}."
LOST = "Your access changed: {why}."
RELOAD = " Reload to resync."
CHAT = 125  # jupyter-collaboration's chat messages: not used by JupyterLab, refused


def close_reason(text: str) -> str:
    """The close payload jupyter-docprovider reads: JSON of at most 123 bytes, ``text``
    shortened (never its advice to reload) to fit."""
    for limit in range(len(text), -1, -1):
        shown = text if limit == len(text) else text[: max(limit - 1, 0)] + "…"
        payload = json.dumps(
            {"reason": "refused", "reloadable": True, "errorReason": shown + RELOAD},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        if len(payload.encode()) <= MAX_REASON:
            return payload
    return '{"reason":"refused","reloadable":true}'


class GuardedRoomHandler(YDocWebSocketHandler):  # type: ignore[misc]
    """jupyter_server_ydoc's room socket with each message judged against its sender."""

    _watched: ClassVar[weakref.WeakSet[GuardedRoomHandler]] = weakref.WeakSet()
    # room -> shadow document, made on the first update from someone without write
    _shadows: ClassVar[weakref.WeakKeyDictionary[Any, Shadow]] = weakref.WeakKeyDictionary()
    # room -> awareness client id -> the socket that owns it
    _owners: ClassVar[weakref.WeakKeyDictionary[Any, dict[int, Any]]] = weakref.WeakKeyDictionary()

    _guard_room: Room | None = None
    _guard_access: tuple[PolicySnapshot | None, Access] | None = None
    _opened_rights: Rights = Rights.none
    _closing = False

    # -- opening -----------------------------------------------------------------------

    async def prepare(self) -> None:
        """Refuse a room id that names nothing before upstream makes a room for it (it
        would answer 500 for an unknown file id, and keep a new empty room for any other
        name); whether the user may read it is decided when the socket opens (``get``)."""
        try:
            room_of(self.settings, self.request.path.split("/")[-1])
        except PathRefused as e:
            raise web.HTTPError(404, e.message, reason="not_found") from None
        await super().prepare()

    async def open(self, room_id: str) -> None:
        """Find the room's document, then open as upstream does, outside this request.

        The room's loads and saves run in tasks made here; without the request
        context they are the server's own (a stock save of what the guard let in),
        and ``ROOM_SAVE`` tells the contents manager not to sign the notebook.
        """
        user = self.current_user
        try:
            self._guard_room = room_of(self.settings, self._room_id)
        except PathRefused:
            self._close_with(REFUSED.format(why="this room is unknown"))
            return
        access = self._access()
        if not isinstance(user, WorkspaceUser) or access.level is Rights.none:
            self._close_with(LOST.format(why=access.reason or "unknown user"))
            return
        self._opened_rights = access.level
        CallContext.set(CallContext.JUPYTER_HANDLER, None)
        ROOM_SAVE.set(True)
        self._watched.add(self)
        await super().open(room_id)

    def _close_with(self, text: str) -> None:
        self._closing = True
        self._watched.discard(self)
        self.close(CLOSE_RELOAD, close_reason(text))

    # -- rights ------------------------------------------------------------------------

    def _access(self) -> Access:
        """The user's rights here under the policy in force now (cached per snapshot,
        until the earliest expiry that matters)."""
        store = self.settings.get("workspace_perms_store")
        snap = None if store is None else store.snapshot
        cached = self._guard_access
        if cached is not None and cached[0] is snap and cached[1].until > _now():
            return cached[1]
        user, room = self.current_user, self._guard_room
        if not isinstance(user, WorkspaceUser) or room is None:
            return Access(Rights.none, "unknown user")
        access = decide(snap, user, room, self.settings, None)
        self._guard_access = (snap, access)
        return access

    def revoke_if_lost(self) -> bool:
        """Close the socket when the user's rights dropped below those it opened with."""
        if self._closing:
            return False
        access = self._access()
        if access.level >= self._opened_rights:
            return False
        why = access.reason or "your role changed"
        self.log.info("closing room socket of %s: %s", self._who, why)
        self._close_with(LOST.format(why=why))
        return True

    @property
    def _who(self) -> str:
        user = self.current_user
        return str(getattr(user, "username", "?"))

    # -- incoming ----------------------------------------------------------------------

    async def on_message(self, message: Any) -> None:
        """Pass what this user may send, now; refuse the rest (see the module doc)."""
        if self._closing or not isinstance(message, bytes) or not message:
            return
        access = self._access()
        if access.level is Rights.none:
            self.revoke_if_lost()
            return
        kind = message[0]
        try:
            if kind == YMessageType.SYNC:
                passed = self._sync(message, access.level)
            elif kind == YMessageType.AWARENESS:
                passed = self._awareness(message)
            elif kind == 2:  # RAW: a "save" request
                passed = message if access.level >= Rights.contribute else None
            else:
                passed = None
        except Refused as e:
            self.log.info("refused a room update from %s in %s: %s", self._who, self.path, e)
            self._close_with(REFUSED.format(why=e))
            return
        except (awareness.BadAwareness, ValueError, IndexError) as e:
            self.log.warning("dropped a malformed room message from %s: %s", self._who, e)
            return
        if passed is not None:
            await super().on_message(passed)

    def _sync(self, message: bytes, rights: Rights) -> bytes | None:
        if len(message) < 2:
            return None
        step = message[1]
        if step == YSyncMessageType.SYNC_STEP1:
            return message
        if step not in (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE):
            return None
        room = self._guard_room
        assert room is not None
        if room.kind is RoomKind.global_awareness:
            return None  # the awareness room's document is nobody's to write
        if rights is Rights.write:
            return message
        update = Decoder(message[2:]).read_message()
        if update is None:
            return None
        shadow = self._shadow(room)
        try:
            seen = shadow.attempt(update)
            judge_events(
                seen,
                self.room.ydoc,
                rights >= Rights.contribute and room.notebook,
                self._room_id,
            )
        except Refused:
            shadow.rebuild()
            raise
        except Exception as e:  # pycrdt could not apply it: nothing of it is kept either
            shadow.rebuild()
            raise Refused("the update cannot be read") from e
        return message

    def _shadow(self, room: Room) -> Shadow:
        found = self._shadows.get(self.room)
        if found is None:
            found = self._shadows[self.room] = Shadow(self.room.ydoc, room.file_type)
        return found

    def _awareness(self, message: bytes) -> bytes | None:
        entries = awareness.read(message)
        owners = self._owners.setdefault(self.room, {})
        user = self.current_user

        def may_use(client: int) -> bool:
            return owners.setdefault(client, self) is self

        kept = awareness.as_sender(entries, awareness.identity_of(user), may_use)
        return awareness.write(kept) if kept else None

    # -- outgoing ----------------------------------------------------------------------

    async def send(self, message: bytes) -> None:
        """Send to this client; global awareness only of documents it may read."""
        room = self._guard_room
        if (
            room is not None
            and room.kind is RoomKind.global_awareness
            and message[:1] == bytes([YMessageType.AWARENESS])
        ):
            try:
                entries = awareness.read(message)
            except awareness.BadAwareness:
                return
            shown = [e for e in entries if self._may_see(e.client)]
            if not shown:
                return
            message = awareness.write(awareness.for_recipient(shown, self._readable()))
        await super().send(message)

    def _may_see(self, client: int) -> bool:
        """Whether this socket's user hears of an awareness client: its own, or one of a
        person who shares a project with them (nobody else's name reaches them)."""
        owner = self._owners.get(self.room, {}).get(client)
        if owner is self:
            return True
        if owner is None:
            return False
        store = self.settings.get("workspace_perms_store")
        snap = None if store is None else store.snapshot
        mine, theirs = self.current_user, owner.current_user
        if snap is None or not isinstance(mine, WorkspaceUser):
            return False
        if not isinstance(theirs, WorkspaceUser):
            return False
        now = _now()
        shared = readable_project_ids(snap, mine.subject, now)
        return bool(shared & readable_project_ids(snap, theirs.subject, now))

    def _readable(self) -> Callable[[str], bool]:
        """Whether this socket's user may read a path, under the policy now."""
        store = self.settings.get("workspace_perms_store")
        snap = None if store is None else store.snapshot
        user = self.current_user
        now = _now()

        def readable(path: str) -> bool:
            if snap is None or not isinstance(user, WorkspaceUser):
                return False
            try:
                loc = location(snap, self.settings, path, None)
            except PathRefused:
                return False
            return decide_location(snap, user.subject, loc, "read", now).allowed

        return readable

    # -- closing -----------------------------------------------------------------------

    def on_close(self) -> None:
        """Stop being watched, free this socket's awareness ids, close as upstream."""
        self._watched.discard(self)
        room = getattr(self, "room", None)
        owners = None if room is None else self._owners.get(room)
        if owners:
            for client in [c for c, owner in owners.items() if owner is self]:
                del owners[client]
        super().on_close()
        if room is not None and not room.clients - {self}:
            shadow = self._shadows.pop(room, None)
            if shadow is not None:
                shadow.close()


def _now() -> float:
    return time.time()


class RoomWatcher(SocketWatcher):
    """Closes room sockets whose user's rights dropped (see
    :class:`~...watching.SocketWatcher`)."""

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(lambda: GuardedRoomHandler._watched, "a room socket", interval)


def install() -> None:
    """Serve jupyter_server_ydoc's room route with :class:`GuardedRoomHandler`."""
    replace_handler(YDocWebSocketHandler, GuardedRoomHandler)
