"""The kernel websocket filter in-process: what reaches the kernel, and which notebook counts.

A real :class:`WorkspaceKernelConnection` on the test world's policy and a real session
table, without a kernel: the session's ``send_raw``/``send`` keep what would go to the
kernel, and the handler keeps what the client would get.

- a user without write gets to the kernel exactly what the judge read: the content is
  always packed again, the header and metadata whenever another JSON parser could read
  them differently (an escaped or duplicated key), and the judge reads no other key of
  the metadata than ``cellId``;
- parts parse as ``json.loads`` reads them;
- the notebook is followed as it changes on disk, and a project folder replaced by a
  link elsewhere is resolved again.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from jupyter_client.session import Session
from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
from jupyter_server.services.sessions.sessionmanager import SessionManager
from traitlets.config import Configurable

from jupyter_workspace_perms.identity.provider import WorkspaceIdentityProvider
from jupyter_workspace_perms.kernel.connection import V1, WorkspaceKernelConnection
from jupyter_workspace_perms.kernel.frames import json_object
from jupyter_workspace_perms.kernel.judge import RULES, Access, judge
from jupyter_workspace_perms.notebook.cells import NotebookIndex
from tests.helpers.kernel_ws import SETUP, write_notebook
from tests.helpers.world import World

NOTEBOOK = "acme/public/demo.ipynb"
CLIENT = Session(key=b"", username="client")


def first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a parser that keeps the first of duplicate keys reads it."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        found.setdefault(key, value)
    return found


class Kernel(Configurable):  # what the connection reads of a kernel manager
    kernel_id = ""


class Kernels(Configurable):  # ... and of the multi-kernel manager
    allowed_message_types: list[str] = []

    def __init__(self, project_id: int) -> None:
        super().__init__()
        self.project_id = project_id

    def project_of(self, kernel_id: str) -> int:
        return self.project_id


@dataclass
class Socket:
    """A connection, what it sent to the kernel and what it wrote to the client."""

    connection: WorkspaceKernelConnection
    sent: list[Any] = field(default_factory=list)
    written: list[Any] = field(default_factory=list)

    def forwarded(self, data: bytes | str) -> Any:
        """What reached the kernel for one frame (None: nothing did)."""
        self.sent.clear()
        self.connection.handle_incoming_message(data)
        return self.sent[0] if self.sent else None


class Harness:
    """The demo notebook's kernel session, and connections to it as the world's people."""

    def __init__(self, world: World) -> None:
        self.world = world
        write_notebook(world.root / NOTEBOOK)
        self.sessions = SessionManager(database_filepath=":memory:")
        self.kernel_id = uuid.uuid4().hex  # the module's caches are keyed by kernel id
        self.sessions.cursor.execute(
            "INSERT INTO session VALUES (?, ?, ?, ?, ?)",
            ("s1", NOTEBOOK, "demo.ipynb", "notebook", self.kernel_id),
        )
        snap = world.store.snapshot
        project = snap.project_named("acme", "public")
        assert project is not None
        self.kernel = Kernel(parent=Kernels(project.id))
        self.kernel.kernel_id = self.kernel_id
        self.settings = {
            "workspace_perms_store": world.store,
            "server_root_dir": str(world.root),
            "session_manager": self.sessions,
        }
        self.identity = WorkspaceIdentityProvider()
        self.identity.store = world.store

    def connect(self, who: str, protocol: str | None = V1) -> Socket:
        user = self.identity.user_for_token(self.world.tokens[who])
        settings = self.settings
        written: list[Any] = []

        class Handler(KernelWebsocketHandler):  # type: ignore[misc]
            selected_subprotocol = protocol

            def __init__(self) -> None:  # never served
                pass

            @property
            def settings(self) -> dict[str, Any]:
                return settings

            def write_message(self, message: Any, binary: bool = False) -> None:
                written.append(message)

        connection = WorkspaceKernelConnection(
            parent=self.kernel, websocket_handler=Handler(), session=Session(key=b"k")
        )
        connection._user = user  # what ``prepare`` sets when the socket opens
        connection.channels = {name: name for name in ("shell", "control", "stdin", "iopub")}
        socket = Socket(connection, written=written)
        connection.session.send_raw = lambda _stream, parts: socket.sent.append(parts)
        connection.session.send = lambda _stream, msg: socket.sent.append(msg)
        return socket


@pytest.fixture
def harness(wsp_world: World) -> Harness:
    return Harness(wsp_world)


def parts_of(msg_type: str, content: dict[str, Any], metadata: dict[str, Any]) -> list[bytes]:
    """The packed header, parent header, metadata and content of a client message."""
    msg = CLIENT.msg(msg_type, content=content, metadata=metadata)
    return [CLIENT.pack(msg[k]) for k in ("header", "parent_header", "metadata", "content")]


def v1(parts: list[bytes]) -> bytes:
    return bytes(serialize_msg_to_ws_v1(parts, "shell"))


def execute(code: str) -> dict[str, Any]:
    return {"code": code, "silent": False, "store_history": True, "user_expressions": {}}


def test_a_jupyterlab_message_keeps_its_header_and_metadata_bytes(harness: Harness) -> None:
    cora = harness.connect("contributor")
    parts = parts_of("execute_request", execute(SETUP), {"cellId": "setup", "deletedCells": []})
    sent = cora.forwarded(v1(parts))
    assert sent is not None
    assert sent[0] == parts[0] and sent[2] == parts[2]  # no escapes, one key: as they came
    assert json.loads(sent[3]) == execute(SETUP)  # the content is always packed again


@pytest.mark.parametrize(
    "header",
    [
        # ours keeps the last msg_type (allowed), another parser the first
        b'{"msg_id": "m1", "msg_type": "execute_request", "msg_type": "comm_msg"}',
        # the same key, spelled with an escape
        b'{"msg_id": "m1", "msg\\u005ftype": "execute_request", "msg_type": "comm_msg"}',
    ],
)
def test_a_header_another_parser_reads_otherwise_is_packed_again(
    harness: Harness, header: bytes
) -> None:
    # a widget state request: allowed for anyone who may run code
    parts = parts_of("comm_msg", {"comm_id": "c", "data": {"method": "request_state"}}, {})
    parts[0] = header
    sent = harness.connect("contributor").forwarded(v1(parts))
    assert sent is not None, "a state request is allowed"
    assert json.loads(sent[0], object_pairs_hook=first_wins)["msg_type"] == "comm_msg"
    # with write, anything goes: the parts go as they came
    sent = harness.connect("editor").forwarded(v1(parts))
    assert sent is not None and sent[0] == header


def test_metadata_another_parser_reads_otherwise_is_packed_again(harness: Harness) -> None:
    parts = parts_of("execute_request", execute(SETUP), {})
    parts[2] = b'{"cellId": "other", "cellId": "setup"}'
    sent = harness.connect("contributor").forwarded(v1(parts))
    assert sent is not None
    assert json.loads(sent[2], object_pairs_hook=first_wins) == {"cellId": "setup"}


def test_content_another_parser_reads_otherwise_never_reaches_the_kernel(
    harness: Harness,
) -> None:
    parts = parts_of("execute_request", {}, {"cellId": "setup"})
    parts[3] = f'{{"code": "import os", "code": {json.dumps(SETUP)}}}'.encode()
    sent = harness.connect("contributor").forwarded(v1(parts))
    assert sent is not None
    assert json.loads(sent[3], object_pairs_hook=first_wins)["code"] == SETUP


def test_legacy_messages_are_sent_as_parsed(harness: Harness) -> None:
    cora = harness.connect("contributor", protocol=None)
    msg = CLIENT.msg("execute_request", content=execute(SETUP), metadata={"cellId": "setup"})
    sent = cora.forwarded(json.dumps({**msg, "channel": "shell"}, default=str))
    assert isinstance(sent, dict) and sent["content"]["code"] == SETUP


def test_the_notebook_is_followed_on_disk(harness: Harness, wsp_world: World) -> None:
    cora = harness.connect("contributor")

    def runs(code: str, cell_id: str) -> bool:
        parts = parts_of("execute_request", execute(code), {"cellId": cell_id})
        return cora.forwarded(v1(parts)) is not None

    assert runs(SETUP, "setup")
    write_notebook(wsp_world.root / NOTEBOOK, {"setup": "print('changed')"})
    assert not runs(SETUP, "setup")
    assert runs("print('changed')", "setup")
    # the project folder replaced by a link to another folder: resolved again
    public = wsp_world.root / "acme" / "public"
    os.rename(public, wsp_world.root / "acme" / "moved")
    elsewhere = wsp_world.root / "acme" / "elsewhere"
    write_notebook(elsewhere / "demo.ipynb", {"setup": "print('elsewhere')"})
    public.symlink_to(elsewhere)
    assert runs("print('elsewhere')", "setup")
    assert not runs("print('changed')", "setup")
    # a notebook that leads out of the project is no notebook of it
    os.unlink(elsewhere / "demo.ipynb")
    outside = wsp_world.root / "acme" / "locked" / "demo.ipynb"
    write_notebook(outside, {"setup": "print('locked')"})
    (elsewhere / "demo.ipynb").symlink_to(outside)
    assert not runs("print('locked')", "setup")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1}',
        b' {"a": [1, 2.5, null, true, {"b": "\\u00e9\\n"}]} \n',
        '{"é": "ü"}'.encode(),
        b'{"a": 1} x',
        b'{"a": 1}{"b": 2}',
        b"\xef\xbb\xbf{}",
        b'{"a": "\xff"}',
        b"[1]",
        b"",
        b"   ",
        b'{"a": NaN}',
        b"{" * 100_000,
    ],
)
def test_parts_parse_as_json_loads_reads_them(raw: bytes) -> None:
    try:
        expected: Any = json.loads(raw.decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError):
        expected = None
    try:
        found: Any = json_object(raw, "part")
    except ValueError:
        found = None
    assert json.dumps(found) == json.dumps(expected if isinstance(expected, dict) else None)


def test_judged_content_that_cannot_be_packed_is_dropped(harness: Harness) -> None:
    parts = parts_of("comm_msg", {}, {})
    parts[3] = b'{"comm_id": "\\ud800", "data": {}}'  # a lone surrogate: no UTF-8 for it
    assert harness.connect("contributor").forwarded(v1(parts)) is None


class Reads(dict[str, Any]):
    """A message part that remembers which keys were read."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


def test_the_judge_reads_only_the_cell_id_of_the_metadata() -> None:
    """What lets ``_forward`` keep a metadata part whose ``cellId`` reads one way only."""
    index = NotebookIndex.from_notebook(
        {"cells": [{"cell_type": "code", "id": "setup", "source": SETUP, "metadata": {}}]}
    )
    contributor = Access(can_write=False, can_execute=True)
    for channel, msg_type in RULES:
        metadata = Reads({"cellId": "setup", "deletedCells": [], "recordTiming": False})
        content = {"code": SETUP, "target_name": "jupyter.widget", "restart": True}
        judge(channel, msg_type, content, metadata, contributor, lambda: [index])
        assert metadata.read <= {"cellId"}, (channel, msg_type, metadata.read)
