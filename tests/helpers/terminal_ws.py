"""A small terminal websocket client: type a command line, read what the shell printed.

terminado's protocol is JSON arrays: the client sends ``["stdin", text]`` and
``["set_size", rows, cols, ...]``; the server sends ``["setup", {}]``, then
``["stdout", text]`` as the shell writes, and ``["disconnect", 1]`` when it ends.

A command's output is found between two markers the shell prints. The markers are
typed with their halves quoted apart (``"@@""END"``), so the terminal's echo of the
typed line never matches them. Assertions here are not rewritten by pytest, so
each carries its own message.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

from tornado.websocket import WebSocketClientConnection

from tests.helpers.world import World

TIMEOUT = 30.0  # seconds for one command: a shell starts in a sandbox quickly


@dataclass
class Ran:
    """What one command line printed (lines, without carriage returns) and its status."""

    output: str
    status: int


class TerminalSocket:
    """One websocket to a running terminal, as one of the world's people."""

    def __init__(self, ws: WebSocketClientConnection) -> None:
        self.ws = ws
        self.seen = ""  # everything the terminal printed so far

    @classmethod
    async def open(cls, ws_fetch: Any, world: World, who: str, name: str) -> TerminalSocket:
        """Connect (raises ``HTTPClientError`` when refused)."""
        ws = await ws_fetch("terminals", "websocket", name, headers=world.auth(who))
        socket = cls(ws)
        socket.ws.write_message(json.dumps(["set_size", 24, 200]))
        return socket

    async def run(self, command: str) -> Ran:
        """Type ``command`` and return its output once the shell says it finished."""
        tag = uuid.uuid4().hex[:8]
        begin, end = f"@@BEGIN-{tag}", f"@@END-{tag}"
        typed = f'echo "@@""BEGIN-{tag}"; {command}; echo "@@""END-{tag}:$?"\r'  # quoted apart
        self.ws.write_message(json.dumps(["stdin", typed]))
        start = len(self.seen)
        while True:
            text = self.seen[start:].replace("\r", "")
            if begin in text and end in text.split(begin, 1)[1]:
                inside = text.split(begin, 1)[1]
                output, _, rest = inside.partition(end)
                status = rest.lstrip(":").split("\n", 1)[0].strip()
                assert status.isdigit(), f"no exit status after {command!r}: {rest[:80]!r}"
                return Ran(output.strip("\n"), int(status))
            message = await asyncio.wait_for(self.ws.read_message(), TIMEOUT)
            assert message is not None, f"the terminal closed while running {command!r}"
            kind, *rest_of = json.loads(message)
            if kind == "stdout":
                self.seen += str(rest_of[0])
            elif kind == "disconnect":
                raise AssertionError(f"the terminal ended while running {command!r}")

    async def closed_by_the_server(self, timeout: float = 5.0) -> None:
        """Wait until the server closes the socket (an assertion error after ``timeout``)."""

        async def drain() -> None:
            while await self.ws.read_message() is not None:
                pass

        try:
            await asyncio.wait_for(drain(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"the socket is still open after {timeout} s") from None

    def close(self) -> None:
        self.ws.close()
