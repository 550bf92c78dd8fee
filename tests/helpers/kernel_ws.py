"""A small kernel websocket client for the kernel hook tests, speaking both protocols.

- ``v1``: the binary subprotocol ``v1.kernel.websocket.jupyter.org`` (JupyterLab's);
- ``legacy``: JSON text frames, used when no subprotocol is requested.

Messages are built with :class:`jupyter_client.session.Session`, as a client builds
them; the server signs them for the kernel. Assertions here are not rewritten by
pytest, so each carries its own message.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    deserialize_msg_from_ws_v1,
    serialize_msg_to_ws_v1,
)
from tornado.websocket import WebSocketClientConnection

from tests.helpers.world import World

V1 = "v1.kernel.websocket.jupyter.org"
PROTOCOLS = ("v1", "legacy")
TIMEOUT = 60.0  # generous: kernels start slowly on a busy machine


@dataclass
class Exchange:
    """What came back for one request: the reply and the iopub messages up to idle."""

    reply: dict[str, Any] | None
    iopub: list[dict[str, Any]] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.iopub
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m["content"] for m in self.iopub if m["msg_type"] == "error"]

    @property
    def status(self) -> str | None:
        return None if self.reply is None else self.reply["content"].get("status")

    def __repr__(self) -> str:
        reply = None if self.reply is None else (self.reply["msg_type"], self.reply["content"])
        kinds = [m["msg_type"] for m in self.iopub]
        return f"Exchange(reply={reply!r}, iopub={kinds!r}, stdout={self.stdout!r})"


class KernelSocket:
    """One websocket to a kernel, as one of the world's people."""

    def __init__(self, ws: WebSocketClientConnection, protocol: str, username: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.session = Session(key=b"", username=username)
        self.pending: list[tuple[str, dict[str, Any]]] = []

    @classmethod
    async def open(
        cls,
        ws_fetch: Any,
        world: World,
        who: str,
        kernel_id: str,
        protocol: str,
        session_id: str | None = None,
    ) -> KernelSocket:
        """Connect (raises ``HTTPClientError`` when refused)."""
        kwargs: dict[str, Any] = {}
        if protocol == "v1":
            kwargs["subprotocols"] = [V1]
        ws = await ws_fetch(
            "api",
            "kernels",
            kernel_id,
            "channels",
            headers=world.auth(who),
            params={"session_id": session_id or uuid.uuid4().hex},
            **kwargs,
        )
        assert ws.selected_subprotocol == (V1 if protocol == "v1" else None), protocol
        return cls(ws, protocol, who)

    # -- sending -------------------------------------------------------------------------

    def send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        parent: dict[str, Any] | None = None,
    ) -> str:
        """Send one message (in reply to ``parent``, a header); its msg_id."""
        msg = self.session.msg(
            msg_type, content=content or {}, metadata=metadata or {}, parent=parent
        )
        if self.protocol == "v1":
            self.ws.write_message(serialize_msg_to_ws_v1(msg, channel, self.session.pack), True)
        else:
            msg["channel"] = channel
            self.ws.write_message(json.dumps(msg, default=json_default))
        return str(msg["header"]["msg_id"])

    def send_raw(self, data: bytes | str) -> None:
        """Send a frame as it is (for malformed messages)."""
        self.ws.write_message(data, isinstance(data, bytes))

    # -- receiving -----------------------------------------------------------------------

    def _decode(self, frame: bytes | str) -> tuple[str, dict[str, Any]]:
        if self.protocol == "v1":
            assert isinstance(frame, bytes), "v1 frames are binary"
            channel, parts = deserialize_msg_from_ws_v1(frame)
            header, parent, metadata, content = (self.session.unpack(p) for p in parts[:4])
            msg = {"header": header, "parent_header": parent, "metadata": metadata}
            msg.update(content=content, msg_type=header["msg_type"], buffers=parts[4:])
            return channel, msg
        raw = deserialize_binary_message(frame) if isinstance(frame, bytes) else json.loads(frame)
        channel = raw.pop("channel")
        raw["msg_type"] = raw["header"]["msg_type"]
        return channel, raw

    async def receive(self, timeout: float = TIMEOUT) -> tuple[str, dict[str, Any]] | None:
        """The next message, or None when the socket closed."""
        frame = await asyncio.wait_for(self.ws.read_message(), timeout)
        return None if frame is None else self._decode(frame)

    async def exchange(self, channel: str, msg_id: str, expect_reply: bool = True) -> Exchange:
        """Collect the reply to ``msg_id`` and its iopub messages until ``idle``."""
        result = Exchange(None)
        idle = False
        keep: list[tuple[str, dict[str, Any]]] = []
        backlog, self.pending = self.pending, []
        while not (idle and (result.reply is not None or not expect_reply)):
            got = backlog.pop(0) if backlog else await self.receive()
            assert got is not None, f"the socket closed while waiting for {msg_id}: {result!r}"
            got_channel, msg = got
            if msg["parent_header"].get("msg_id") != msg_id:
                keep.append(got)
                continue
            if got_channel == "iopub":
                result.iopub.append(msg)
                state = msg["content"].get("execution_state")
                idle = idle or (msg["msg_type"] == "status" and state == "idle")
            elif got_channel == channel:
                result.reply = msg
        self.pending = backlog + keep
        return result

    async def request(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Exchange:
        """Send a request and wait for its reply and idle status."""
        msg_id = self.send(channel, msg_type, content, metadata)
        return await self.exchange(channel, msg_id)

    async def execute(
        self,
        code: str,
        cell_id: str | None = None,
        channel: str = "shell",
        user_expressions: dict[str, str] | None = None,
    ) -> Exchange:
        """Run ``code`` the way JupyterLab does (``metadata.cellId`` when given)."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": user_expressions or {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        metadata = {"cellId": cell_id} if cell_id is not None else {}
        return await self.request(channel, "execute_request", content, metadata)

    async def closed(self, within: float) -> bool:
        """Whether the server closes the socket within ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.ws.close_code is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                frame = await asyncio.wait_for(self.ws.read_message(), remaining)
            except asyncio.TimeoutError:
                return False
            if frame is None:
                return True
        return True

    def close(self) -> None:
        self.ws.close()


# -- the notebook ----------------------------------------------------------------------

SETUP = "x = 1\nprint('ready', x)"
PARAMS = "alpha = 2\nlabel = 'first'  # shown by the next cell"
USE = "print('alpha is', alpha, label)"
SLIDER = (
    "import ipywidgets as widgets\n"
    "moved = []\n"
    "slider = widgets.IntSlider(value=1)\n"
    "slider.observe(lambda change: moved.append(change['new']), names='value')\n"
    "print('model', slider.model_id)"
)
REPORT = "print('moved', moved, slider.value)"
CELLS = {"setup": SETUP, "params": PARAMS, "use": USE, "slider": SLIDER, "report": REPORT}


def write_notebook(path: Path, cells: dict[str, str] | None = None) -> None:
    """A notebook of code cells with fixed ids (by default :data:`CELLS`); the cell with
    id ``params`` is tagged ``parameters``."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Demo"))
    for cell_id, source in (CELLS if cells is None else cells).items():
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = cell_id
        if cell_id == "params":
            cell["metadata"]["tags"] = ["parameters"]
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
