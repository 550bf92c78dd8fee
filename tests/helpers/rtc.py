"""A real Yjs client of a collaboration room: a pycrdt document synced over the websocket.

It speaks the y-websocket protocol as JupyterLab does: answers the server's sync
request, asks for the server's state, applies what the server sends, and sends
its own edits as updates. A refused edit closes the socket; :attr:`RoomClient.closed`
then holds the close code and reason.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from pycrdt import (
    Decoder,
    Doc,
    Encoder,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tests.helpers.missing import missing

try:
    from jupyter_ydoc import YNotebook
except ImportError:  # pragma: no cover - the test extra installs it
    missing("jupyter-collaboration (the test extra) is needed for these tests", module=True)

TIMEOUT = 10.0


class RoomClient:
    """One person's socket to a room and their copy of the document."""

    def __init__(self, ws: WebSocketClientConnection, who: str) -> None:
        self.ws = ws
        self.who = who
        self.doc: Doc[Any] = Doc()
        self.notebook = YNotebook(self.doc)
        self.closed: tuple[int | None, str | None] | None = None
        self.synced = False  # the server answered our sync request
        self.awareness: list[dict[str, Any]] = []  # every awareness entry received

    @classmethod
    async def join(
        cls, base: str, headers: dict[str, str], room: str, who: str, sync: bool = True
    ) -> RoomClient:
        """Connect to ``{base}api/collaboration/room/{room}`` (the room id unescaped, as
        JupyterLab sends it) and sync; raises ``HTTPClientError`` when refused."""
        request = HTTPRequest(f"{base}api/collaboration/room/{room}", headers=headers)
        ws = await websocket_connect(request)
        client = cls(ws, who)
        client.ws.write_message(create_sync_message(client.doc), binary=True)
        if sync:
            await client.until(lambda: client.synced)
        return client

    async def pump(self, seconds: float) -> None:
        """Apply what arrives for ``seconds`` (or until the socket closes)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while self.closed is None and loop.time() < end:
            await self._receive(end - loop.time())

    async def until(self, done: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
        """Apply what arrives until ``done()`` holds; whether it did."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not done():
            if self.closed is not None or loop.time() >= end:
                return done()
            await self._receive(min(0.2, end - loop.time()))
        return True

    async def _receive(self, timeout: float) -> None:
        try:
            message = await asyncio.wait_for(self.ws.read_message(), max(timeout, 0.01))
        except asyncio.TimeoutError:
            return
        if message is None:
            self.closed = (self.ws.close_code, self.ws.close_reason)
            return
        assert isinstance(message, bytes)
        if message[0] == YMessageType.SYNC:
            self.synced = self.synced or message[1] == YSyncMessageType.SYNC_STEP2
            reply = handle_sync_message(message[1:], self.doc)
            if reply is not None:
                self.ws.write_message(reply, binary=True)
        elif message[0] == YMessageType.AWARENESS:
            self.awareness.extend(read_awareness(message))

    def edit(self, change: Callable[[], Any]) -> None:
        """Make a change to the local copy and send it as one update."""
        before = self.doc.get_state()
        change()
        self.ws.write_message(create_update_message(self.doc.get_update(before)), binary=True)

    def say(self, client_id: int, state: dict[str, Any]) -> None:
        """Send an awareness state for ``client_id``."""
        encoder = Encoder()
        encoder.write_var_uint(1)
        encoder.write_var_uint(client_id)
        encoder.write_var_uint(1)
        encoder.write_var_string(json.dumps(state))
        self.ws.write_message(create_awareness_message(encoder.to_bytes()), binary=True)

    def cell(self, index: int) -> dict[str, Any]:
        """A cell of the local copy, as plain data."""
        found: dict[str, Any] = self.notebook.get_cell(index)
        return found

    def close(self) -> None:
        """Close the socket."""
        self.ws.close()


def read_awareness(message: bytes) -> list[dict[str, Any]]:
    """The entries of an awareness message: client, clock, state."""
    update = Decoder(message[1:]).read_message()
    assert update is not None
    decoder = Decoder(update)
    entries = []
    for _ in range(decoder.read_var_uint()):
        client = decoder.read_var_uint()
        clock = decoder.read_var_uint()
        state = json.loads(decoder.read_var_string())
        entries.append({"client": client, "clock": clock, "state": state})
    return entries
